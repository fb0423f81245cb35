"""Mastodon instance trends: `/api/v1/trends/tags` (hashtags) and `/api/v1/trends/links` (articles).

Both endpoints are public on most instances. A hashtag becomes "#tag" with the uses of
the last two days as traffic; a link becomes its card title with the provider as context.
The two endpoints are parts of one poll (`gather_parts`): each has its own health, and the
poll fails only when both fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from monitor.config import Settings
from monitor.models import SourceItem
from monitor.sources._text import clean_url, dedupe, to_int
from monitor.sources.base import PollContext, SourceError
from monitor.sources.http import FetchResult
from monitor.sources.polling import Part, gather_parts
from monitor.text import MAX_CONTEXT_CHARS, MAX_TITLE_CHARS, clean_text, normalise_lang

NAME = "mastodon"
TAGS_PATH = "/api/v1/trends/tags"
LINKS_PATH = "/api/v1/trends/links"


def _recent_uses(history: Any, days: int = 2) -> int | None:
    if not isinstance(history, list):
        return None
    total = 0
    seen = False
    for h in history[:days]:
        if isinstance(h, dict):
            n = to_int(h.get("uses"))
            if n is not None:
                total += n
                seen = True
    return total if seen else None


def _array(res: FetchResult) -> list[Any]:
    data = res.json()
    if not isinstance(data, list):
        raise SourceError("unexpected JSON (expected an array)")
    return data


def parse_tags(res: FetchResult, *, source: str = NAME) -> list[SourceItem]:
    items: list[SourceItem] = []
    for tag in _array(res)[:100]:
        if not isinstance(tag, dict):
            continue
        name = clean_text(tag.get("name"), 100).lstrip("#").replace(" ", "")
        if not name:
            continue
        url = clean_url(tag.get("url"))
        items.append(
            SourceItem(
                source=source,
                title=f"#{name}",
                url=url,
                urls=(url,) if url else (),
                traffic=_recent_uses(tag.get("history")),
                item_id=f"tag:{name.casefold()}",
            )
        )
    return items


def parse_links(res: FetchResult, *, source: str = NAME) -> list[SourceItem]:
    items: list[SourceItem] = []
    for card in _array(res)[:100]:
        if not isinstance(card, dict):
            continue
        title = clean_text(card.get("title"), MAX_TITLE_CHARS, strip_tags=True)
        url = clean_url(card.get("url"))
        if not title or not url:
            continue
        provider = clean_text(card.get("provider_name"), 120)
        description = clean_text(card.get("description"), MAX_CONTEXT_CHARS, strip_tags=True)
        items.append(
            SourceItem(
                source=source,
                title=title,
                url=url,
                context=dedupe([c for c in (description, provider) if c]),
                urls=(url,),
                lang=normalise_lang(card.get("language")),
                traffic=_recent_uses(card.get("history")),
                item_id=f"link:{url}",
            )
        )
    return items


@dataclass
class MastodonSource:
    """Trending tags and links of one Mastodon instance."""

    instance: str
    interval_s: float = 600.0
    name: str = NAME

    @classmethod
    def from_settings(cls, settings: Settings, base_url_override: str | None = None) -> MastodonSource:
        s = settings.sources.mastodon
        instance = base_url_override or s.url or s.instance
        return cls(instance=instance.rstrip("/"), interval_s=s.interval_s)

    def parts(self) -> list[Part]:
        return [
            Part(self.instance + TAGS_PATH, partial(parse_tags, source=self.name)),
            Part(self.instance + LINKS_PATH, partial(parse_links, source=self.name)),
        ]

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        gathered = await gather_parts(ctx, self.parts(), accept="application/json", params={"limit": "20"})
        return gathered.items_or_raise(self.name, "endpoints")
