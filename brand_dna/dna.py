"""Brand DNA files (TOML): load, validate, write back keeping the file's comments and layout.

Format (DESIGN.md):
    [brand]
    name = "Lavazza"
    language = "it"          # optional
    dna = ["..."]            # required, >= 1
    positioning = ["..."]    # optional, scored like dna
    audience = ["..."]       # optional
    avoid = ["politics"]     # optional: topics this brand never rides
    allow = ["death"]        # optional: risk topics this brand may touch (shown as override)
    entities = ["Sinner"]    # optional: extra names (athletes, products, places) that signal fit
    alert_threshold = 0.1    # optional: extra fit above the fit threshold before an opportunity alerts
"""

from __future__ import annotations

import glob
import hashlib
import tomllib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from brand_dna.toml_edit import Value, edit_table, write_atomic

LIST_KEYS = ("dna", "positioning", "audience", "avoid", "allow", "entities")
KNOWN_KEYS = {"name", "language", "alert_threshold", *LIST_KEYS}
MAX_STATEMENT_CHARS = 500
BACKUPS_KEPT = 10  # previous versions kept per brand file


class BrandFileError(Exception):
    """The brand file is missing or invalid; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class BrandDNA:
    """A brand as loaded from its TOML file: the statements to embed and the topics to avoid or allow."""

    name: str
    dna: tuple[str, ...]
    positioning: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    avoid: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    language: str | None = None
    alert_threshold: float = 0.0
    path: Path | None = field(default=None, compare=False)

    @property
    def statements(self) -> list[tuple[str, str]]:
        """(kind, statement) for every statement that is scored: dna first, then positioning."""
        return [("dna", s) for s in self.dna] + [("positioning", s) for s in self.positioning]

    def with_lists(self, **lists: list[str]) -> BrandDNA:
        unknown = set(lists) - set(LIST_KEYS)
        if unknown:
            raise TypeError(f"not a statement list: {sorted(unknown)}")
        changes: dict[str, Any] = {k: tuple(v) for k, v in lists.items()}
        return replace(self, **changes)


def parse_brand(data: dict[str, Any], source: str) -> BrandDNA:
    """Validate decoded TOML; raises BrandFileError naming `source` and the key."""
    brand = data.get("brand")
    if not isinstance(brand, dict):
        raise BrandFileError(f"{source}: missing [brand] table")
    extra = set(data) - {"brand"}
    if extra:
        raise BrandFileError(f"{source}: unknown top-level key {sorted(extra)[0]!r}")
    unknown = set(brand) - KNOWN_KEYS
    if unknown:
        raise BrandFileError(f"{source}: unknown key {'brand.' + sorted(unknown)[0]!r}")
    name = brand.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BrandFileError(f"{source}: key 'brand.name' must be a non-empty string")
    lists: dict[str, Any] = {}
    for key in LIST_KEYS:
        value = brand.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise BrandFileError(f"{source}: key 'brand.{key}' must be a list of strings")
        cleaned = tuple(" ".join(v.split()) for v in value if v.strip())
        for v in cleaned:
            if len(v) > MAX_STATEMENT_CHARS:
                raise BrandFileError(
                    f"{source}: key 'brand.{key}': a statement is longer than {MAX_STATEMENT_CHARS} characters"
                )
        lists[key] = tuple(dict.fromkeys(cleaned))  # drop duplicates, keep order
    if not lists["dna"]:
        raise BrandFileError(f"{source}: key 'brand.dna' needs at least one statement")
    language = brand.get("language")
    if language is not None and (not isinstance(language, str) or not language.strip()):
        raise BrandFileError(f"{source}: key 'brand.language' must be a language code such as \"it\"")
    threshold = brand.get("alert_threshold", 0.0)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not -1 <= threshold <= 1:
        raise BrandFileError(f"{source}: key 'brand.alert_threshold' must be a number between -1 and 1")
    return BrandDNA(
        name=name.strip(),
        language=language.strip().lower() if isinstance(language, str) else None,
        alert_threshold=float(threshold),
        **lists,
    )


def load_brand(path: str | Path) -> BrandDNA:
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise BrandFileError(f"{p}: brand file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise BrandFileError(f"{p}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise BrandFileError(f"{p}: not valid TOML: not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise BrandFileError(f"{p}: not valid TOML: nested too deeply") from None
    except OSError as exc:
        raise BrandFileError(f"{p}: cannot read: {exc.strerror}") from None
    return replace(parse_brand(data, str(p)), path=p)


def brand_values(brand: BrandDNA) -> dict[str, Value]:
    """The `[brand]` table of a brand file, key by key (None = key absent)."""
    return {
        "name": brand.name,
        "language": brand.language,
        "alert_threshold": brand.alert_threshold,
        **{key: list(getattr(brand, key)) for key in LIST_KEYS},
    }


def changed_values(old: BrandDNA | None, new: BrandDNA) -> dict[str, Value]:
    """The keys to write so a file holding `old` holds `new`; `old` None = a new file (defaults left out)."""
    values = brand_values(new)
    if old is None:
        return {k: v for k, v in values.items() if k in ("name", "dna") or v not in (None, [], 0.0)}
    before = brand_values(old)
    return {k: v for k, v in values.items() if before[k] != v}


def default_backup_dir() -> Path:
    """Where save_brand keeps the previous versions of brand files (never next to the file itself)."""
    return Path(platformdirs.user_data_dir("onda")) / "brand-backups"


def save_brand(
    brand: BrandDNA, path: str | Path | None = None, *, backup_dir: Path | None = None, keep: int = BACKUPS_KEPT
) -> Path | None:
    """Write the brand to its TOML file, changing only the keys that differ from what the file holds.

    Comments, order and layout of everything else are kept (brand_dna.toml_edit). The file is
    replaced atomically; the previous version is copied to `backup_dir` (default: the user data
    dir, see default_backup_dir; the newest `keep` per file are kept). Returns that copy, if any.
    """
    target = Path(path) if path is not None else brand.path
    if target is None:
        raise BrandFileError(f"brand {brand.name!r} has no file to save to")
    try:
        original: str | None = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        original = None
    except (OSError, UnicodeDecodeError) as exc:
        raise BrandFileError(f"{target}: cannot read: {exc}") from None
    text = brand_text(brand, original, str(target))
    if text == original:
        return None
    backup = _backup(target, original, backup_dir or default_backup_dir(), keep) if original is not None else None
    write_atomic(target, text)
    return backup


def brand_text(brand: BrandDNA, original: str | None, source: str) -> str:
    """The TOML text of `brand`: `original` (a file's or the store's text) with only the changed keys edited.

    Comments, order and layout of everything else are kept; `original` None starts a new document.
    Raises BrandFileError (naming `source`) when the result would not read back as `brand`.
    """
    current = _parsed(original, source)
    # a text that holds no readable brand gets every key written; a new one only those that are set
    changes = brand_values(brand) if original is not None and current is None else changed_values(current, brand)
    text = edit_table(original, "brand", changes)
    if parse_brand(tomllib.loads(text), source) != brand:
        raise BrandFileError(f"{source}: the edited text would not read back as the brand shown; nothing written")
    return text


def parse_brand_text(text: str, source: str) -> BrandDNA:
    """A brand from TOML text (a file's or the store's); raises BrandFileError naming `source`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BrandFileError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise BrandFileError(f"{source}: not valid TOML: nested too deeply") from None
    return parse_brand(data, source)


def _parsed(text: str | None, source: str) -> BrandDNA | None:
    """The brand the text holds now, or None when it holds none we can read (then every key is written)."""
    if text is None:
        return None
    try:
        return parse_brand(tomllib.loads(text), source)
    except (tomllib.TOMLDecodeError, BrandFileError):
        return None


def _backup(target: Path, text: str, folder: Path, keep: int) -> Path:
    """Copy the old text to `folder` as <stem>-<hash of the file's folder>.<UTC time>.toml; prune old copies."""
    digest = hashlib.blake2b(str(target.resolve().parent).encode("utf-8"), digest_size=4).hexdigest()
    prefix = f"{target.stem}-{digest}."
    folder.mkdir(parents=True, exist_ok=True)
    backup = folder / f"{prefix}{datetime.now(UTC):%Y%m%dT%H%M%S%f}.toml"
    write_atomic(backup, text)
    for old in sorted(folder.glob(f"{glob.escape(prefix)}*.toml"))[:-keep]:
        old.unlink(missing_ok=True)
    return backup
