"""Publisher RSS/Atom feeds (any number), parsed by feedparser off the event loop.

One bad feed must not spoil the others: feeds are fetched concurrently, each feed's
items are handed over as soon as that feed is parsed (`PollContext.deliver`), and each
feed's outcome is reported on its own (`PollContext.report_part`, keyed by host/path),
so the service keeps a health entry per feed. Only when every feed fails does the poll
raise `SourceError`.
"""

from __future__ import annotations

import asyncio
import calendar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser

from monitor.config import Settings
from monitor.models import SourceItem
from monitor.sources._text import clean_url
from monitor.sources.base import NotModified, PollContext, SourceError
from monitor.sources.http import FetchResult, safe_location
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

    async def _one(self, ctx: PollContext, sem: asyncio.Semaphore, url: str) -> list[SourceItem]:
        async with sem:
            res: FetchResult = await ctx.fetcher.get(url, accept=ACCEPT)
        try:
            return await asyncio.to_thread(parse_feed, res.body, content_type=res.content_type, source=self.name)
        except SourceError:
            ctx.fetcher.forget(res.url)
            raise

    async def _one_reported(self, ctx: PollContext, sem: asyncio.Semaphore, url: str) -> list[SourceItem]:
        """One feed, its outcome reported to the service; its items delivered at once when the service takes them."""
        where = safe_location(url)
        try:
            items = await self._one(ctx, sem, url)
        except NotModified:
            ctx.report_part(where, None)
            raise
        except SourceError as exc:
            ctx.report_part(where, str(exc) if where in str(exc) else f"{where}: {exc}")
            raise
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            ctx.report_part(where, f"{where}: unexpected {type(exc).__name__}")
            raise
        ctx.report_part(where, None)
        if ctx.deliver is not None and items:
            ctx.deliver(items)
            return []
        return items

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        if not self.feeds:
            raise SourceError(f"{self.name}: no feeds configured (sources.rss.feeds)")
        sem = asyncio.Semaphore(self.concurrency)
        results = await asyncio.gather(*(self._one_reported(ctx, sem, u) for u in self.feeds), return_exceptions=True)
        items: list[SourceItem] = []
        errors: dict[str, str] = {}
        retry_afters: list[float] = []
        not_modified = 0
        for url, result in zip(self.feeds, results, strict=True):
            if isinstance(result, NotModified):
                not_modified += 1
            elif isinstance(result, SourceError):
                errors[url] = str(result) if safe_location(url) in str(result) else f"{safe_location(url)}: {result}"
                if result.retry_after is not None:
                    retry_afters.append(result.retry_after)
            elif isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                errors[url] = f"{safe_location(url)}: unexpected {type(result).__name__}"
            else:
                items.extend(result)
        self.last_errors = errors
        if errors and len(errors) == len(self.feeds):
            first = next(iter(errors.values()))
            more = f" (and {len(errors) - 1} more feeds failed)" if len(errors) > 1 else ""
            raise SourceError(f"{self.name}: {first}{more}", retry_after=max(retry_afters) if retry_afters else None)
        if not items and not errors and not_modified == len(self.feeds):
            raise NotModified(f"{self.name}: no feed changed")
        return items
