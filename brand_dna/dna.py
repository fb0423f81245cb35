"""Brand DNA files (TOML): load, validate, write back with a backup.

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
    alert_threshold = 0.1    # optional: extra margin above the calibrated threshold for alerts
"""

from __future__ import annotations

import shutil
import tomllib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LIST_KEYS = ("dna", "positioning", "audience", "avoid", "allow", "entities")
KNOWN_KEYS = {"name", "language", "alert_threshold", *LIST_KEYS}
MAX_STATEMENT_CHARS = 500


class BrandFileError(Exception):
    """The brand file is missing or invalid; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class BrandDNA:
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


def _toml_str(s: str) -> str:
    out = s.replace("\\", "\\\\").replace('"', '\\"')
    out = "".join(ch if ch >= " " or ch == "\t" else f"\\u{ord(ch):04x}" for ch in out)
    return f'"{out}"'


def dumps_brand(brand: BrandDNA) -> str:
    lines = ["[brand]", f"name = {_toml_str(brand.name)}"]
    if brand.language:
        lines.append(f"language = {_toml_str(brand.language)}")
    if brand.alert_threshold:
        lines.append(f"alert_threshold = {brand.alert_threshold}")
    for key in LIST_KEYS:
        values: tuple[str, ...] = getattr(brand, key)
        if not values and key != "dna":
            continue
        lines.append(f"{key} = [")
        lines.extend(f"    {_toml_str(v)}," for v in values)
        lines.append("]")
    return "\n".join(lines) + "\n"


def save_brand(brand: BrandDNA, path: str | Path | None = None) -> Path | None:
    """Write the brand back as TOML, keeping a timestamped backup of the old file. Returns the backup."""
    target = Path(path) if path is not None else brand.path
    if target is None:
        raise BrandFileError(f"brand {brand.name!r} has no file to save to")
    text = dumps_brand(brand)
    parse_brand(tomllib.loads(text), str(target))  # never write a file we could not read back
    backup: Path | None = None
    if target.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        backup = target.with_name(f"{target.name}.{stamp}.bak")
        shutil.copy2(target, backup)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return backup
