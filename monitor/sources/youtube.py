"""YouTube most-popular videos for a region (Data API v3). Off by default: needs a key.

The key is read from the environment (ONDA_YOUTUBE_API_KEY) and sent as the
`X-Goog-Api-Key` header, never in the URL, so it cannot leak into logs or the cache.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from monitor.config import Settings
from monitor.models import SourceItem
from monitor.sources._text import to_int
from monitor.sources.base import PollContext, SourceError
from monitor.sources.http import FetchResult, endpoint
from monitor.sources.polling import fetch_parsed
from monitor.text import MAX_TITLE_CHARS, clean_text, normalise_lang

NAME = "youtube"
DEFAULT_URL = "https://www.googleapis.com/youtube/v3/videos"
KEY_ENV = "ONDA_YOUTUBE_API_KEY"
_VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")


def parse_videos(res: FetchResult, *, source: str = NAME, default_lang: str | None = None) -> list[SourceItem]:
    data = res.json()
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise SourceError("unexpected JSON (no 'items')")
    items: list[SourceItem] = []
    for v in data["items"][:100]:
        if not isinstance(v, dict) or not isinstance(v.get("id"), str):
            continue
        snippet: dict[str, Any] = v["snippet"] if isinstance(v.get("snippet"), dict) else {}
        title = clean_text(snippet.get("title"), MAX_TITLE_CHARS)
        if not title:
            continue
        vid = v["id"]
        if not _VIDEO_ID.fullmatch(vid):  # it goes into a URL: spaces, '&', '#' or '/' would change its meaning
            continue
        url = f"https://www.youtube.com/watch?v={vid}"
        channel = clean_text(snippet.get("channelTitle"), 120)
        stats: dict[str, Any] = v["statistics"] if isinstance(v.get("statistics"), dict) else {}
        items.append(
            SourceItem(
                source=source,
                title=title,
                url=url,
                context=(channel,) if channel else (),
                urls=(url,),
                lang=normalise_lang(snippet.get("defaultAudioLanguage") or snippet.get("defaultLanguage"))
                or default_lang,
                traffic=to_int(stats.get("viewCount")),
                item_id=vid,
            )
        )
    return items


@dataclass
class YouTubeSource:
    """YouTube's most popular videos in one region (needs an API key)."""

    url: str
    region: str = "IT"
    interval_s: float = 1800.0
    name: str = NAME

    @classmethod
    def from_settings(cls, settings: Settings, base_url_override: str | None = None) -> YouTubeSource:
        s = settings.sources.youtube
        return cls(
            url=endpoint(s.url, DEFAULT_URL, base_url_override),
            region=settings.sources.google_trends.geo,
            interval_s=s.interval_s,
        )

    def parse(self, res: FetchResult) -> list[SourceItem]:
        return parse_videos(res, source=self.name, default_lang=self.region.lower())

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        key = os.environ.get(KEY_ENV, "").strip()
        if not key:
            raise SourceError(f"{self.name}: {KEY_ENV} not set")
        params = {"part": "snippet,statistics", "chart": "mostPopular", "regionCode": self.region, "maxResults": "50"}
        return await fetch_parsed(
            ctx.fetcher,
            self.url,
            self.parse,
            name=self.name,
            params=params,
            accept="application/json",
            headers={"X-Goog-Api-Key": key},
        )
