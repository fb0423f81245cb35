"""Publisher RSS/Atom feeds (any number), parsed by feedparser off the event loop.

One bad feed must not spoil the others: the feeds are the parts of one poll (`gather_parts`),
fetched concurrently, each feed's items handed over as soon as that feed is parsed
(`PollContext.deliver`) and each feed's outcome reported on its own (`PollContext.report_part`,
keyed by host/path), so the service keeps a health entry per feed. Only when every feed fails
does the poll raise `SourceError`.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser

from monitor.config import Settings
from monitor.models import SourceItem
from monitor.sources._text import clean_url
from monitor.sources.base import PollContext, SourceError
from monitor.sources.http import FetchResult
from monitor.sources.polling import Part, gather_parts
from monitor.text import MAX_CONTEXT_CHARS, MAX_TITLE_CHARS, clean_text, normalise_lang

NAME = "rss"
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
MAX_ENTRIES_PER_FEED = 100


def _struct_to_dt(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def parse_feed(body: bytes, *, content_type: str = "", source: str = NAME) -> list[SourceItem]:
    """Blocking: parse one RSS/Atom document. bozo with entries = keep them; bozo without = SourceError."""
    if not body.strip():
        raise SourceError("empty body")
    if b"<!ENTITY" in body:
        raise SourceError("feed with entity declarations refused")
    try:
        parsed = feedparser.parse(body, response_headers={"content-type": content_type or "application/xml"})
    except Exception as exc:  # feedparser is robust, but the input is hostile: never let it escape
        raise SourceError(f"feed parser failed: {type(exc).__name__}") from None
    entries = list(parsed.get("entries") or [])
    if not entries:
        if parsed.get("bozo"):
            reason = clean_text(str(parsed.get("bozo_exception") or "malformed"), 120)
            raise SourceError(f"not a valid feed: {reason}")
        if not parsed.get("version"):
            raise SourceError("not an RSS/Atom feed")
        return []
    feed_meta = parsed.get("feed") or {}
    lang = normalise_lang(feed_meta.get("language"))
    items: list[SourceItem] = []
    for entry in entries[:MAX_ENTRIES_PER_FEED]:
        title = clean_text(entry.get("title"), MAX_TITLE_CHARS, strip_tags=True)
        if not title:
            continue
        link = clean_url(entry.get("link"))
        summary = clean_text(entry.get("summary"), MAX_CONTEXT_CHARS, strip_tags=True)
        published = _struct_to_dt(entry.get("published_parsed") or entry.get("updated_parsed"))
        item_id = clean_text(entry.get("id"), 500) or link or title
        items.append(
            SourceItem(
                source=source,
                title=title,
                url=link,
                context=(summary,) if summary and summary != title else (),
                urls=(link,) if link else (),
                lang=normalise_lang(entry.get("language")) or lang,
                published=published,
                item_id=item_id,
            )
        )
    if not items and parsed.get("bozo"):
        reason = clean_text(str(parsed.get("bozo_exception") or "malformed"), 120)
        raise SourceError(f"not a valid feed (no usable entries): {reason}")
    return items


@dataclass
class RssSource:
    """Headlines from a list of RSS / Atom news feeds."""

    feeds: list[str]
    interval_s: float = 900.0
    name: str = NAME
    concurrency: int = 4
    last_errors: dict[str, str] = field(default_factory=dict)
    """Per-feed failures of the last poll (feed URL → one line); empty when all feeds worked."""

    @classmethod
    def from_settings(cls, settings: Settings, base_url_override: str | None = None) -> RssSource:
        s = settings.sources.rss
        if base_url_override:
            from monitor.offline import OFFLINE_FEEDS

            feeds = [f"{base_url_override.rstrip('/')}{path}" for path in OFFLINE_FEEDS]
        else:
            feeds = list(s.feeds)
        return cls(feeds=feeds, interval_s=s.interval_s)

    def parse(self, res: FetchResult) -> list[SourceItem]:
        """Blocking (feedparser): run in a worker thread."""
        return parse_feed(res.body, content_type=res.content_type, source=self.name)

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        if not self.feeds:
            raise SourceError(f"{self.name}: no feeds configured (sources.rss.feeds)")
        parts = [Part(url, self.parse) for url in self.feeds]
        gathered = await gather_parts(ctx, parts, accept=ACCEPT, in_thread=True, concurrency=self.concurrency)
        self.last_errors = {url: str(error) for url, error in gathered.errors.items()}
        return gathered.items_or_raise(self.name, "feeds")
