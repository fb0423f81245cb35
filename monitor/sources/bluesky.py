"""Bluesky trending topics (public AppView, no login): `app.bsky.unspecced.getTrendingTopics`.

Two response shapes exist in the wild: old `{topic, link}` and newer
`{topic, displayName, description, link}`; both are read. `suggested` feeds are
not news and are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.config import Settings
from monitor.models import SourceItem
from monitor.sources._text import clean_url
from monitor.sources.base import PollContext, SourceError
from monitor.sources.http import FetchResult, endpoint
from monitor.sources.polling import fetch_parsed
from monitor.text import MAX_CONTEXT_CHARS, MAX_TITLE_CHARS, clean_text

NAME = "bluesky"
DEFAULT_URL = "https://public.api.bsky.app/xrpc/app.bsky.unspecced.getTrendingTopics"
WEB = "https://bsky.app"


def parse_topics(res: FetchResult, *, source: str = NAME) -> list[SourceItem]:
    data = res.json()
    if not isinstance(data, dict) or not isinstance(data.get("topics"), list):
        raise SourceError("unexpected JSON (no 'topics' list)")
    items: list[SourceItem] = []
    for t in data["topics"][:100]:
        if not isinstance(t, dict):
            continue
        title = clean_text(t.get("displayName"), MAX_TITLE_CHARS) or clean_text(t.get("topic"), MAX_TITLE_CHARS)
        if not title:
            continue
        link = t.get("link")
        url = None
        if isinstance(link, str) and link.startswith("/") and not link.startswith("//"):
            url = clean_url(WEB + link)
        elif isinstance(link, str):
            url = clean_url(link)
        description = clean_text(t.get("description"), MAX_CONTEXT_CHARS)
        items.append(
            SourceItem(
                source=source,
                title=title,
                url=url,
                context=(description,) if description else (),
                urls=(url,) if url else (),
                item_id=clean_text(t.get("topic"), 200) or title,
            )
        )
    return items


@dataclass
class BlueskySource:
    """Trending topics on Bluesky."""

    url: str
    interval_s: float = 600.0
    name: str = NAME

    @classmethod
    def from_settings(cls, settings: Settings, base_url_override: str | None = None) -> BlueskySource:
        s = settings.sources.bluesky
        return cls(url=endpoint(s.url, DEFAULT_URL, base_url_override), interval_s=s.interval_s)

    def parse(self, res: FetchResult) -> list[SourceItem]:
        return parse_topics(res, source=self.name)

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        return await fetch_parsed(
            ctx.fetcher, self.url, self.parse, name=self.name, accept="application/json", params={"limit": "25"}
        )
