"""Small, dependency-free helpers parsers use on untrusted payloads: URLs, dates, counts, dedupe.

Text lines are cleaned with `monitor.text.clean_text` (limits `MAX_TITLE_CHARS`,
`MAX_CONTEXT_CHARS`) and language tags normalised with `monitor.text.normalise_lang`.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

MAX_CONTEXT_ITEMS = 12  # context lines (headlines) kept per item
MAX_URL = 2048


def clean_url(value: Any) -> str | None:
    """An http(s) URL without spaces/control characters, or None."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if len(url) > MAX_URL or not url.lower().startswith(("http://", "https://")):
        return None
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF for ch in url):
        return None
    return url


def dedupe(values: list[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for v in values:
        if v and v not in seen:
            seen[v] = None
    return tuple(seen)


def parse_rfc822(value: str | None) -> datetime | None:
    """RFC 822 dates as feeds write them (unpadded days, -0700 offsets); aware UTC datetime or None."""
    if not value or not value.strip():
        return None
    try:
        dt = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def to_int(value: Any) -> int | None:
    """'20,000+' / '1.000+' / 123 / '7' → int; None when there is no number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value >= 0 else None
    if not isinstance(value, str):
        return None
    digits = re.sub(r"[^\d]", "", value[:40])
    return int(digits) if digits else None
