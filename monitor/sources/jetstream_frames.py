"""Bluesky Jetstream frames -> `Post`s: decoding untrusted JSON, and the dedupe of a resumed stream.

A Jetstream event is one JSON object per websocket text frame:
`{"did", "time_us", "kind": "commit"|"identity"|"account", "commit": {"operation", "collection",
"rkey", "record": {...}}}`. Only created `app.bsky.feed.post` records in the wanted languages
become posts; every other well-formed event still moves the cursor. Anything malformed, of an
unknown kind, huge, not UTF-8 or full of control characters is a counted skip, never an error.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass
from typing import Any

from monitor.bursts.model import Post
from monitor.sources._text import clean_url
from monitor.text import MAX_TITLE_CHARS, clean_text, normalise_lang

POST_COLLECTION = "app.bsky.feed.post"
KINDS = frozenset({"commit", "identity", "account"})
MAX_FRAME_BYTES = 256 * 1024  # real events are a few KB; larger frames are refused by the websocket too
MAX_TEXT_CHARS = 10_000  # a post text beyond this is not a post a person wrote (Bluesky caps at 300 graphemes)
POST_CHARS = 1000  # kept of a post's text
MAX_TAGS = 10
MAX_LINKS = 10
_TAG = re.compile(r"(?<![\w#])#([^\W_][\w]{0,63})")
_LINK_FACET = "app.bsky.richtext.facet#link"
_TAG_FACET = "app.bsky.richtext.facet#tag"


@dataclass(frozen=True, slots=True)
class Frame:
    """What one frame was: its time (moves the cursor) and a post, or the reason it was skipped."""

    time_us: int | None = None
    post: Post | None = None
    skipped: str | None = None  # malformed, non_utf8, too_big, unknown_kind, huge; None for a post or a non-post event


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _facets(record: dict[str, Any]) -> tuple[list[str], list[str]]:
    tags: list[str] = []
    links: list[str] = []
    facets = record.get("facets")
    if not isinstance(facets, list):
        return tags, links
    for facet in facets[:50]:
        features = facet.get("features") if isinstance(facet, dict) else None
        if not isinstance(features, list):
            continue
        for feature in features[:10]:
            if not isinstance(feature, dict):
                continue
            kind = feature.get("$type")
            if kind == _TAG_FACET and isinstance(feature.get("tag"), str):
                tags.append(clean_text(feature["tag"], 64).lstrip("#"))
            elif kind == _LINK_FACET:
                url = clean_url(feature.get("uri"))
                if url:
                    links.append(url)
    return tags, links


def _external(record: dict[str, Any]) -> tuple[str | None, str]:
    """The link card of a post (`app.bsky.embed.external`, also inside recordWithMedia): url, title."""
    embed = record.get("embed")
    if isinstance(embed, dict) and isinstance(embed.get("media"), dict):
        embed = embed["media"]
    external = embed.get("external") if isinstance(embed, dict) else None
    if not isinstance(external, dict):
        return None, ""
    return clean_url(external.get("uri")), clean_text(external.get("title"), MAX_TITLE_CHARS)


def _post(event: dict[str, Any], time_us: int, langs: frozenset[str]) -> Frame:
    commit = event.get("commit")
    if not isinstance(commit, dict):
        return Frame(skipped="malformed")
    if commit.get("operation") != "create" or commit.get("collection") != POST_COLLECTION:
        return Frame(time_us=time_us)  # likes, reposts, follows, deletes: the cursor moves, nothing else
    did, rkey, record = event.get("did"), commit.get("rkey"), commit.get("record")
    if not isinstance(did, str) or not isinstance(rkey, str) or not isinstance(record, dict):
        return Frame(time_us=time_us, skipped="malformed")
    raw = record.get("text")
    if not isinstance(raw, str):
        return Frame(time_us=time_us, skipped="malformed")
    if len(raw) > MAX_TEXT_CHARS:
        return Frame(time_us=time_us, skipped="huge")
    post_langs = record.get("langs")
    codes = [normalise_lang(x) for x in post_langs[:5]] if isinstance(post_langs, list) else []
    lang = next((c for c in codes if c and (not langs or c in langs)), None)
    if langs and lang is None:
        return Frame(time_us=time_us)  # not a language we watch
    text = clean_text(raw, POST_CHARS)
    tags, links = _facets(record)
    tags += _TAG.findall(text)
    url, title = _external(record)
    if url:
        links.append(url)
    post = Post(
        uid=f"{clean_text(did, 200)}/{clean_text(rkey, 100)}",
        author=clean_text(did, 200),
        time_us=time_us,
        text=text,
        lang=lang,
        tags=tuple(dict.fromkeys(t for t in tags if t))[:MAX_TAGS],
        links=tuple(dict.fromkeys(links))[:MAX_LINKS],
        link_title=title,
    )
    return Frame(time_us=time_us, post=post)


def decode_frame(data: str | bytes, langs: frozenset[str]) -> Frame:
    """One websocket message -> a `Frame`; never raises. `langs` empty: every language."""
    if len(data) > MAX_FRAME_BYTES:
        return Frame(skipped="too_big")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            return Frame(skipped="non_utf8")
    try:
        event = json.loads(data)
    except (ValueError, RecursionError):
        return Frame(skipped="malformed")
    if not isinstance(event, dict):
        return Frame(skipped="malformed")
    time_us = _int(event.get("time_us"))
    if time_us is None:
        return Frame(skipped="malformed")
    kind = event.get("kind")
    if kind not in KINDS:
        return Frame(time_us=time_us, skipped="unknown_kind")
    if kind != "commit":
        return Frame(time_us=time_us)
    try:
        return _post(event, time_us, langs)
    except (TypeError, ValueError, AttributeError):  # anything else odd in a record: skip it, keep streaming
        return Frame(time_us=time_us, skipped="malformed")


class Dedupe:
    """Post ids seen within `window_us` of the newest one: a rewound cursor replays no post twice."""

    def __init__(self, window_us: int, max_ids: int = 200_000) -> None:
        self.window_us = window_us
        self.max_ids = max_ids
        self._seen: set[str] = set()
        self._order: deque[tuple[int, str]] = deque()
        self._newest = 0

    def first_time(self, uid: str, time_us: int) -> bool:
        """True the first time `uid` is seen (and remember it); False for a replayed post."""
        if uid in self._seen:
            return False
        self._seen.add(uid)
        self._order.append((time_us, uid))
        self._newest = max(self._newest, time_us)
        horizon = self._newest - self.window_us
        while self._order and (self._order[0][0] < horizon or len(self._order) > self.max_ids):
            self._seen.discard(self._order.popleft()[1])
        return True
