"""Hypothesis strategies shared by the hardening tests: hostile text, JSON values, TOML documents."""

from __future__ import annotations

import json
import math
import unicodedata
from datetime import datetime
from typing import Any

from hypothesis import strategies as st

from monitor.models import SourceItem

# Characters that break naive parsers: controls, bidi overrides, BOM, XML specials, non-characters, astral.
NASTY_CHARS = st.sampled_from(
    [
        "\x00",
        "\x01",
        "\x08",
        "\x0b",
        "\x1b",
        "\x7f",
        "\x85",
        "\u200b",
        "\u202e",
        "\u2066",
        "\ufeff",
        "\ud800",  # lone surrogates: JSON "\\ud800" escapes decode to them
        "\udfff",
        "\ufffe",
        "\uffff",
        "&",
        "<",
        ">",
        '"',
        "'",
        ";",
        "#",
        "\n",
        "\r",
        "\t",
        "\\",
        "]]>",
        "😀",
        "é",
        "ß",
        " ",
    ]
)
NASTY_FRAGMENTS = st.sampled_from(
    [
        "&nbsp;",
        "&amp;",
        "&bogus;",
        "&#0;",
        "&#x1F600;",
        "&#xD800;",
        "&#65535;",
        "&#9999999;",
        "&",
        "<b>",
        "</i>",
        "<![CDATA[x]]>",
        "<!--c-->",
        "javascript:alert(1)",
        "http://",
        "https://example.com/a b",
        "https://ok.example/x",
        "Fri, 3 Jul 2026 10:00:00 -0700",
        "Mon, 99 Foo 20260 99:99:99 +9999",
        "20,000+",
        "1.000+",
        "-5",
        "NaN",
        "",
    ]
)
HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(NASTY_CHARS, NASTY_FRAGMENTS, st.text(max_size=6)), max_size=8).map("".join),
)

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    HOSTILE_TEXT,
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually the expected type of value, sometimes any JSON value at all."""
    return st.one_of(value, value, JSON_VALUES)


def json_body(obj: Any) -> bytes:
    """Raw UTF-8 or \\uXXXX escapes (deterministic per value); escapes carry lone surrogates through."""
    ascii_only = len(repr(obj)) % 2 == 0
    return json.dumps(obj, ensure_ascii=ascii_only, allow_nan=True).encode("utf-8", errors="surrogatepass")


def mutate(data: bytes, cut: int, insert: bytes, at: int) -> bytes:
    """A valid document truncated and with junk spliced in: what a broken proxy hands back."""
    if not data:
        return insert
    cut = cut % (len(data) + 1)
    at = at % (len(data) + 1)
    out = data[:at] + insert + data[at:]
    return out[: max(cut, len(out) // 2)]


def assert_clean_line(text: str, limit: int = 300) -> None:
    """One safe display line: non-empty, bounded, no control/format characters that move the cursor."""
    assert isinstance(text, str) and text
    assert len(text) <= limit
    assert text == text.strip()
    for ch in text:
        assert unicodedata.category(ch) != "Cc", repr(text)
        assert ch not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff", repr(text)
    text.encode("utf-8")  # no lone surrogates


def assert_url(url: str) -> None:
    assert url.lower().startswith(("http://", "https://")), url
    assert not any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url), url
    url.encode("utf-8")


def assert_valid_items(items: Any, source: str) -> None:
    """What every parser promises for the items it returns."""
    assert isinstance(items, list)
    for it in items:
        assert isinstance(it, SourceItem)
        assert it.source == source
        assert_clean_line(it.title)
        for c in it.context:
            assert_clean_line(c)
        if it.url is not None:
            assert_url(it.url)
        for u in it.urls:
            assert_url(u)
        assert it.traffic is None or (isinstance(it.traffic, int) and not isinstance(it.traffic, bool))
        assert it.traffic is None or it.traffic >= 0
        if it.published is not None:
            assert isinstance(it.published, datetime) and it.published.tzinfo is not None
        assert it.lang is None or (isinstance(it.lang, str) and it.lang.isalpha())
        assert isinstance(it.item_id, str)
        it.item_id.encode("utf-8")
        json.dumps([it.title, it.url, list(it.context), it.item_id], ensure_ascii=False).encode("utf-8")


# -- TOML ------------------------------------------------------------------------------------------
def toml_str(s: str) -> str:
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return toml_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_str(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def toml_document(data: dict[str, Any]) -> str:
    """Top-level scalars first, then one [table] per dict value (TOML forbids the other order)."""
    lines = [f"{toml_str(k)} = {toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for k, v in data.items():
        if isinstance(v, dict):
            lines.append(f"[{toml_str(k)}]")
            lines.extend(f"{toml_str(kk)} = {toml_value(vv)}" for kk, vv in v.items())
    return "\n".join(lines) + "\n"


TOML_SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    HOSTILE_TEXT.filter(lambda s: all(not (0xD800 <= ord(c) <= 0xDFFF) for c in s)),
)
TOML_VALUES = st.recursive(
    TOML_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)
