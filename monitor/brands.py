"""Brand DNA kept in the store: versions with history, TOML import/export, and the brands a service scores.

The store holds each brand's current document (its TOML text, in the DESIGN.md brand file format,
and a version) and one history row per version: who, when, the text before and after, a summary
of what changed and, once a service has re-scored it, the re-score diff.

Where brands come from (one rule):

- A brand file in the config (`[brand] files`) is imported into the store when the service is built
  if its text is new to the store: never when it is the text of a version the brand already had. So a
  file nobody touched (on any machine: each has its own copy) never overwrites a newer version in the
  store (an edit made in another dashboard, or `onda brand import`); `onda brand import FILE` brings
  an old text back on purpose.
- The store is what the service scores with: the configured brands (their stored version, keeping the
  file path so the DNA screen still writes the file), then every other brand in the store.
- An edit in the DNA screen is stored as a new version (with history) and still written to its file
  when the brand has one, as before; the file's new text is what the store keeps.
- A new version is made only when the text changes: importing the same text again adds nothing.

Running services check the versions on their lease tick (`MonitorService`) and re-score a brand
another process changed, the same way as after a local edit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from brand_dna.dna import LIST_KEYS, BrandDNA, BrandFileError, brand_text, brand_values, parse_brand_text
from monitor.api import VerdictChange
from monitor.models import StoredBrand
from monitor.storage import Storage

_WRITE_ATTEMPTS = 5  # another process writing the same brand at the same moment: read again and retry


def change_summary(before: BrandDNA | None, after: BrandDNA) -> str:
    """What an edit changed, in words: "dna +1 -0, avoid +1, alert_threshold 0.0 -> 0.1" (no change: layout)."""
    if before is None:
        return f"created: {len(after.dna)} dna, {len(after.positioning)} positioning statements"
    parts: list[str] = []
    for key in LIST_KEYS:
        old, new = getattr(before, key), getattr(after, key)
        added, removed = len(set(new) - set(old)), len(set(old) - set(new))
        if added or removed:
            parts.append(f"{key} +{added} -{removed}")
        elif old != new:
            parts.append(f"{key} reordered")
    if before.language != after.language:
        parts.append(f"language {before.language or '-'} -> {after.language or '-'}")
    if before.alert_threshold != after.alert_threshold:
        parts.append(f"alert_threshold {before.alert_threshold} -> {after.alert_threshold}")
    return ", ".join(parts) or "comments or layout only"


def rescore_summary(rescored: int, changes: Sequence[VerdictChange]) -> dict[str, Any]:
    """The re-score diff kept in the history: how many trends, and counts per verdict move ("fit->off_brand")."""
    moves = Counter(f"{c.before}->{c.after}" for c in changes)
    return {"rescored": rescored, "changed": dict(sorted(moves.items()))}


@dataclass(frozen=True, slots=True)
class Saved:
    """The outcome of storing a brand: the brand as stored, its version, and whether that version is new."""

    brand: BrandDNA
    version: int
    created: bool


class BrandBook:
    """Reads and writes brands in the store for user `user`; see the module docstring for the rule."""

    def __init__(self, storage: Storage, user: str) -> None:
        self.storage = storage
        self.user = user
        self.loaded: dict[str, int] = {}
        """Brand -> the stored version `sync_files` returned (what a service built from it scores with)."""

    # -- reading ---------------------------------------------------------------------------------
    def versions(self) -> dict[str, int]:
        return self.storage.brand_versions()

    def load(self, name: str, path: Path | None = None) -> tuple[BrandDNA, StoredBrand] | None:
        """The stored brand `name` (with `path` as its file) and its stored row; None when not stored."""
        stored = self.storage.get_brand(name)
        if stored is None:
            return None
        return replace(parse_brand_text(stored.toml, f"stored brand {name!r}"), path=path), stored

    # -- writing ---------------------------------------------------------------------------------
    def record_rescore(self, name: str, version: int, rescored: int, changes: Sequence[VerdictChange]) -> bool:
        """Keep the re-score diff of `version` in its history row (the first service to re-score it wins)."""
        return self.storage.record_brand_rescore(name, version, rescore_summary(rescored, changes))

    def import_text(self, text: str, source: str) -> Saved:
        """Store a brand file's text (validated as a brand file; raises BrandFileError naming `source`)."""
        brand = parse_brand_text(text, source)
        return self._store(brand, lambda _old: text)

    def import_file(self, path: Path) -> Saved:
        return self.import_text(_read(path), str(path))

    def save_edit(self, brand: BrandDNA, file_text: str | None = None) -> Saved:
        """Store an edited brand: `file_text` when its file was just written, else the stored text edited."""
        if file_text is None:
            return self._store(brand, lambda old: brand_text(brand, old, f"brand {brand.name!r}"))
        return self._store(brand, lambda _old: file_text)

    def _store(self, brand: BrandDNA, text_for: Callable[[str | None], str]) -> Saved:
        """Write a new version unless the text is the stored one; retries when another process won the race."""
        for _ in range(_WRITE_ATTEMPTS):
            stored = self.storage.get_brand(brand.name)
            old_text = stored.toml if stored is not None else None
            text = text_for(old_text)
            if stored is not None and stored.toml == text:
                return Saved(brand, stored.version, created=False)
            version = self.storage.write_brand(
                brand.name,
                toml=text,
                data=_json_values(brand),
                by=self.user,
                summary=_summary(old_text, brand),
                expected_version=stored.version if stored is not None else 0,
            )
            if version is not None:
                return Saved(brand, version, created=True)
        raise BrandFileError(f"brand {brand.name!r} keeps changing in the store; try again")

    def sync_files(self, paths: Sequence[Path]) -> list[BrandDNA]:
        """The brands a service scores, configured files first, then the brands only the store holds.

        A file is imported when its text is new to the store: never a version the brand already had, so
        a machine whose copy of the file nobody touched does not undo a colleague's later save when it
        restarts (`onda brand import FILE` brings an old text back on purpose). Raises BrandFileError for
        a bad file.
        """
        brands: list[BrandDNA] = []
        for path in paths:
            text = _read(path)
            brand = parse_brand_text(text, str(path))
            if not self.storage.brand_had_text(brand.name, text):
                self.import_text(text, str(path))
            loaded = self.load(brand.name, path)
            if loaded is not None:
                self.loaded[brand.name] = loaded[1].version
            brands.append(loaded[0] if loaded is not None else replace(brand, path=path))
        named = {b.name for b in brands}
        for stored in self.storage.stored_brands():
            if stored.name not in named:
                brands.append(parse_brand_text(stored.toml, f"stored brand {stored.name!r}"))
                self.loaded[stored.name] = stored.version
        return brands


def _summary(old_text: str | None, brand: BrandDNA) -> str:
    """change_summary against the stored text; a stored text that no longer reads as a brand is replaced whole."""
    if old_text is None:
        return change_summary(None, brand)
    try:
        before = parse_brand_text(old_text, f"stored brand {brand.name!r}")
    except BrandFileError:
        return "replaced a stored version that did not read as a brand"
    return change_summary(before, brand)


def _json_values(brand: BrandDNA) -> dict[str, Any]:
    return dict(brand_values(brand))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BrandFileError(f"{path}: brand file not found") from None
    except UnicodeDecodeError as exc:
        raise BrandFileError(f"{path}: not valid TOML: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise BrandFileError(f"{path}: cannot read: {exc.strerror}") from None
