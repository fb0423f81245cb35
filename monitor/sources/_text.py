"""Small, dependency-free helpers every parser uses on untrusted payload text."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from monitor.text import clean_text

MAX_TITLE = 300
MAX_CONTEXT = 300
MAX_CONTEXT_ITEMS = 12
MAX_URL = 2048

_TAG = re.compile(r"<[^>]{0,500}>")


def clean(value: Any, max_chars: int = MAX_TITLE, *, strip_tags: bool = False) -> str:
    """Any value → one safe line (see monitor.text.clean_text), optionally without HTML tags."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if strip_tags:
        text = _TAG.sub(" ", " ".join(text.split())[: max_chars * 8])  # collapse before cutting
    return clean_text(text, max_chars)


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


LANGUAGE_NAMES = {
    "italian": "it",
    "english": "en",
    "french": "fr",
    "german": "de",
    "spanish": "es",
    "portuguese": "pt",
    "dutch": "nl",
    "russian": "ru",
    "chinese": "zh",
    "japanese": "ja",
    "arabic": "ar",
    "korean": "ko",
    "polish": "pl",
    "romanian": "ro",
    "greek": "el",
    "turkish": "tr",
    "ukrainian": "uk",
}


def lang_code(value: Any) -> str | None:
    """'Italian' / 'it-IT' / 'en_GB' → 'it' / 'it' / 'en'; None when unknown."""
    if not isinstance(value, str) or not value.strip():
        return None
    v = value.strip().lower()
    if v in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[v]
    code = v.replace("_", "-").split("-")[0]
    return code if 2 <= len(code) <= 3 and code.isalpha() else None
