"""Pure Brand DNA editing for the TUI: the kinds of items, validation with a reason, edits, change summaries.

No Textual here: the pane and its dialogs (tui.brand, tui.brand_dialogs) call these and show the
strings they return.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

from brand_dna.dna import LIST_KEYS, MAX_STATEMENT_CHARS, BrandDNA

KINDS = LIST_KEYS  # every list of the brand file, in the order the editor shows them
KIND_LABEL = {
    "dna": "DNA",
    "positioning": "Positioning",
    "audience": "Audience",
    "avoid": "Avoid",
    "allow": "Allow",
    "entities": "Entity",
}
KIND_STYLE = {
    "dna": "bold cyan",
    "positioning": "cyan",
    "audience": "blue",
    "avoid": "bold red",
    "allow": "yellow",
    "entities": "magenta",
}
KIND_HELP = {
    "dna": "What the brand is. Trends are scored against these statements.",
    "positioning": "Partnerships, campaigns, products: scored like DNA.",
    "audience": "Who the brand talks to (kept in the file for people; not scored).",
    "avoid": "Topics this brand never rides: a trend mentioning one is risky.",
    "allow": "Risk topics this brand may touch: the risk is shown as overridden.",
    "entities": "Names that alone signal fit (athletes, products, places).",
}
THRESHOLD_HELP = "extra fit to alert; 0 = every fit"
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def clean_item(text: str) -> str:
    """What the brand file loader keeps of an item: whitespace collapsed."""
    return " ".join(text.split())


def validate_item(brand: BrandDNA, kind: str, text: str, editing: tuple[str, int] | None = None) -> str | None:
    """Why `text` cannot be saved as a `kind` item (replacing item `editing`), or None when it can."""
    t = clean_item(text)
    if not t:
        return f"{KIND_LABEL[kind]} items cannot be empty."
    if len(t) > MAX_STATEMENT_CHARS:
        return f"Keep it under {MAX_STATEMENT_CHARS} characters (now {len(t)})."
    items: tuple[str, ...] = getattr(brand, kind)
    others = [s for i, s in enumerate(items) if (kind, i) != editing]
    if t in others:
        return f"Already in {KIND_LABEL[kind]}."
    if editing is not None and editing[0] == "dna" and kind != "dna" and len(brand.dna) == 1:
        return "The brand needs at least one DNA statement."
    return None


def parse_threshold(text: str) -> tuple[float | None, str | None]:
    """(value, None) or (None, reason). Empty means 0, the default."""
    t = text.strip()
    if not t:
        return 0.0, None
    try:
        value = float(t)
    except ValueError:
        return None, "Alert threshold: a number such as 0.1."
    if not math.isfinite(value) or not -1 <= value <= 1:
        return None, "Alert threshold: between -1 and 1."
    return value, None


def parse_language(text: str) -> tuple[str | None, str | None]:
    """(code or None for no language, None) or (None, reason)."""
    t = text.strip()
    if not t:
        return None, None
    if not _LANGUAGE.match(t):
        return None, "Language: a code such as it or en."
    return t.lower(), None


def edit_item(brand: BrandDNA, kind: str, index: int | None, text: str | None) -> BrandDNA:
    """Text None removes item `index`; index None appends; otherwise replaces. Never leaves a duplicate."""
    items = list(getattr(brand, kind))
    if text is None:
        if index is not None:
            del items[index]
    elif index is None:
        items.append(clean_item(text))
    else:
        items[index] = clean_item(text)
    return brand.with_lists(**{kind: list(dict.fromkeys(items))})


def move_item(brand: BrandDNA, kind: str, index: int, new_kind: str, text: str) -> BrandDNA:
    """Edit item `index` of `kind` into `text`, moving it to the end of `new_kind` when that differs."""
    if new_kind == kind:
        return edit_item(brand, kind, index, text)
    return edit_item(edit_item(brand, kind, index, None), new_kind, None, text)


def with_settings(brand: BrandDNA, *, language: str | None, alert_threshold: float) -> BrandDNA:
    return replace(brand, language=language, alert_threshold=alert_threshold)


def changes(before: BrandDNA, after: BrandDNA) -> list[str]:
    """One short line per changed part: "DNA: 1 added, 1 removed", "alert threshold 0 → 0.1"."""
    out: list[str] = []
    for kind in KINDS:
        old: tuple[str, ...] = getattr(before, kind)
        new: tuple[str, ...] = getattr(after, kind)
        if old == new:
            continue
        added = sum(1 for s in new if s not in old)
        removed = sum(1 for s in old if s not in new)
        parts = [f"{added} added"] * bool(added) + [f"{removed} removed"] * bool(removed)
        out.append(f"{KIND_LABEL[kind]}: {', '.join(parts) or 'reordered'}")
    if before.language != after.language:
        out.append(f"language {before.language or '(none)'} → {after.language or '(none)'}")
    if before.alert_threshold != after.alert_threshold:
        out.append(f"alert threshold {before.alert_threshold:g} → {after.alert_threshold:g}")
    return out
