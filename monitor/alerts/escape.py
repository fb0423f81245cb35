"""Make untrusted trend text safe for Slack mrkdwn / plain_text fields.

Trend titles and headlines come from the internet. Slack treats `<...>` as
control sequences (`<!channel>`, `<@U123>`, `<#C123>`, `<!subteam^S1>`,
`<https://evil|click>`), so escaping `&`, `<`, `>` (Slack's only three
entities) makes every one of them literal text. Bare `@channel` / `@here` /
`@everyone` get an invisible word joiner after the `@` so no client or
`link_names` setting can turn them into a broadcast. Links are built only by
us, from http(s) URLs whose `|`, `<`, `>` are percent-encoded.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlsplit

from monitor.text import clean_text, has_control

HEADER_MAX = 150  # Slack header block plain_text limit
SECTION_MAX = 3000  # Slack section text limit
FIELD_MAX = 2000  # Slack section field limit
URL_MAX = 1500  # longer URLs are dropped, never truncated (a cut URL points elsewhere)

WORD_JOINER = "\u2060"
_BROADCAST = re.compile(r"@(?=(?:channel|here|everyone|group)\b)", re.IGNORECASE)
_ENTITY_TAIL = re.compile(r"&[a-z]{0,4}$")
_URL_UNSAFE = {"|": "%7C", "<": "%3C", ">": "%3E", " ": "%20", '"': "%22", "`": "%60", "\\": "%5C"}


def escape(text: object, max_chars: int = 500) -> str:
    """Clean (`clean_text`), then Slack-escape `& < >` and defuse `@channel`-style broadcasts. Safe in mrkdwn and plain_text."""
    s = clean_text(text, max_chars)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@" + WORD_JOINER, s)


def truncate(escaped: str, limit: int) -> str:
    """Shorten already-escaped text to `limit` characters without cutting an `&amp;`-style entity."""
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: max(limit - 1, 0)]
    cut = _ENTITY_TAIL.sub("", cut)
    return cut.rstrip() + "…"


def safe_url(url: object) -> str | None:
    """An http(s) URL ready to sit inside `<url|label>`, or None if it is not one we would link to."""
    if not isinstance(url, str):
        return None
    u = url.strip()
    if not u or len(u) > URL_MAX or has_control(u) or any(ch in u for ch in "\n\r\t"):
        return None
    try:
        parts = urlsplit(u)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    for ch, enc in _URL_UNSAFE.items():
        u = u.replace(ch, enc)
    return u.replace("&", "&amp;")


def link(url: object, label: object, max_label: int = 200) -> str:
    """`<url|label>` with both parts made safe; just the escaped label when the URL is not linkable."""
    text = escape(label, max_label) or "link"
    target = safe_url(url)
    return f"<{target}|{text}>" if target else text


def domain(url: object) -> str:
    """Host of a URL for use as a short link label ('' when there is none)."""
    if not isinstance(url, str):
        return ""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


REDACTED = "<redacted>"
MIN_SECRET_PART = 6  # shorter path segments ('v1', 'hooks') carry no secret and would only garble text
_PUBLIC_PARTS = frozenset({"services", "webhook", "webhooks", "hooks", "api", "hook", "incoming"})


def secret_parts(secret: str) -> list[str]:
    """The secret itself plus the pieces of it that carry the token on their own.

    For a URL: its path, each path segment (a Slack token is the last one) and each query value,
    also percent-encoded; for a plain key (the HMAC key): the key.
    """
    parts = [secret]
    try:
        url = urlsplit(secret)
    except ValueError:
        return parts
    if url.scheme and url.netloc:
        segments = [seg for seg in url.path.split("/") if seg]
        values = [v for _, v in parse_qsl(url.query, keep_blank_values=False)]
        parts.append(url.path)
        parts += [p for p in [*segments, *values] if len(p) >= MIN_SECRET_PART and p.lower() not in _PUBLIC_PARTS]
    parts += [quote(p, safe="") for p in parts]
    return [p for p in dict.fromkeys(parts) if len(p) >= MIN_SECRET_PART or p == secret]


def redact(text: str, secrets: list[str]) -> str:
    """Remove every secret (webhook URLs, their paths and each token-carrying segment, the HMAC key) from `text`.

    Call it on the whole text *before* cutting it: a cut made first can leave most of a token behind.
    """
    parts: list[str] = []
    for secret in secrets:
        if secret:
            parts += secret_parts(secret)
    out = text
    for part in sorted(set(parts), key=len, reverse=True):  # longest first: the URL before its segments
        out = out.replace(part, REDACTED)
    return out
