"""GDELT DOC 2.0 API (artlist, JSON): what news sites published in the last hour.

GDELT reports its own errors as HTTP 200 with a plain-text body (or `{}`), so any
body that is not a JSON object with an `articles` list is a `SourceError`, never
data. GDELT asks for at most one request every 5 seconds per client.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.config import Settings
from monitor.models import SourceItem
from monitor.sources._text import clean_url
from monitor.sources.base import PollContext, SourceError
from monitor.sources.http import FetchResult, endpoint
from monitor.sources.polling import fetch_parsed
from monitor.text import MAX_TITLE_CHARS, clean_text, normalise_lang

NAME = "gdelt"
DEFAULT_URL = "https://api.gdeltproject.org/api/v2/doc/doc"
MIN_INTERVAL_S = 5.0
MAX_RECORDS = 75


def parse_seendate(value: object) -> datetime | None:
    """'20240615T170000Z' → aware UTC datetime."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip(), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_artlist(res: FetchResult, *, source: str = NAME) -> list[SourceItem]:
    text = res.text().strip()
    if not text:
        raise SourceError("empty body")
    if not text.startswith("{"):
        # GDELT's errors: "Please limit requests to one every 5 seconds..." / "keywords too short..."
        msg = clean_text(text, 160)
        retry_after = MIN_INTERVAL_S if "limit requests" in text.lower() else None
        raise SourceError(f"GDELT error: {msg}", retry_after=retry_after)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise SourceError(f"not JSON: {clean_text(text, 80)!r}") from None
    if not isinstance(data, dict):
        raise SourceError("unexpected JSON (not an object)")
    articles = data.get("articles")
    if articles is None:
        if not data:
            return []  # `{}`: GDELT found nothing for the query/timespan
        raise SourceError("unexpected JSON (no 'articles')")
    if not isinstance(articles, list):
        raise SourceError("unexpected JSON ('articles' is not a list)")
    items: list[SourceItem] = []
    for art in articles[:250]:
        if not isinstance(art, dict):
            continue
        title = clean_text(art.get("title"), MAX_TITLE_CHARS)
        url = clean_url(art.get("url"))
        if not title or not url:
            continue
        domain = clean_text(art.get("domain"), 120)
        items.append(
            SourceItem(
                source=source,
                title=title,
                url=url,
                context=(domain,) if domain else (),
                urls=(url,),
                lang=normalise_lang(art.get("language")),
                published=parse_seendate(art.get("seendate")),
                item_id=url,
            )
        )
    return items


@dataclass
class GdeltSource:
    """What news sites published in the last hour, from the GDELT DOC 2.0 API."""

    url: str
    query: str = "sourcelang:italian"
    timespan: str = "1h"
    interval_s: float = 900.0
    name: str = NAME
    min_interval_s: float = MIN_INTERVAL_S

    @classmethod
    def from_settings(cls, settings: Settings, base_url_override: str | None = None) -> GdeltSource:
        s = settings.sources.gdelt
        return cls(
            url=endpoint(s.url, DEFAULT_URL, base_url_override),
            query=s.query,
            timespan=s.timespan,
            interval_s=s.interval_s,
        )

    def params(self) -> dict[str, str]:
        return {
            "query": self.query,
            "mode": "artlist",
            "format": "json",
            "timespan": self.timespan,
            "maxrecords": str(MAX_RECORDS),
            "sort": "hybridrel",
        }

    def parse(self, res: FetchResult) -> list[SourceItem]:
        return parse_artlist(res, source=self.name)

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        return await fetch_parsed(
            ctx.fetcher,
            self.url,
            self.parse,
            name=self.name,
            params=self.params(),
            accept="application/json",
            min_interval=self.min_interval_s,
        )
