"""Wikimedia "top articles" of yesterday (UTC) for one project, e.g. it.wikipedia.

The day's list is published some hours after midnight UTC; until then the API
answers 404 problem+json "not yet available", which is normal: we fall back to the
day before, and if that is missing too the poll is `NotModified`, not an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

from monitor.config import Settings
from monitor.models import SourceItem
from monitor.sources.base import NotModified, PollContext, SourceError
from monitor.sources.http import FetchResult, endpoint
from monitor.sources.polling import fetch_parsed
from monitor.text import MAX_TITLE_CHARS, clean_text

NAME = "wikipedia"
DEFAULT_BASE = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top"
TOP_N = 50

# Pages that are never news: main pages and non-article namespaces (it + en names).
_MAIN_PAGES = {"pagina principale", "main page", "-", "wikipedia"}
_NAMESPACES = {
    "speciale",
    "special",
    "file",
    "immagine",
    "image",
    "wikipedia",
    "aiuto",
    "help",
    "categoria",
    "category",
    "portale",
    "portal",
    "template",
    "progetto",
    "project",
    "utente",
    "user",
    "discussione",
    "talk",
    "mediawiki",
    "modulo",
    "module",
    "wp",
    "bozza",
    "draft",
}


def is_article(title: str) -> bool:
    t = title.replace("_", " ").strip()
    if not t or t.casefold() in _MAIN_PAGES:
        return False
    if ":" in t:
        prefix = t.split(":", 1)[0].strip().casefold()
        if prefix in _NAMESPACES or prefix.startswith("discussion") or prefix.endswith(" talk"):
            return False
    return True


def _utf8_ok(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_top(res: FetchResult, *, project: str, source: str = NAME, top_n: int = TOP_N) -> list[SourceItem]:
    data = res.json()
    if not isinstance(data, dict) or not isinstance(data.get("items"), list) or not data["items"]:
        raise SourceError("unexpected JSON (no 'items')")
    first = data["items"][0]
    articles = first.get("articles") if isinstance(first, dict) else None
    if not isinstance(articles, list):
        raise SourceError("unexpected JSON (no 'articles')")
    lang = project.split(".")[0].lower() if "." in project else None
    day: datetime | None = None
    try:
        day = datetime(int(first["year"]), int(first["month"]), int(first["day"]), tzinfo=UTC)
    except (KeyError, TypeError, ValueError, OverflowError):  # JSON allows 1e400 -> inf
        day = None
    items: list[SourceItem] = []
    for art in articles:
        if len(items) >= top_n:
            break
        if not isinstance(art, dict) or not isinstance(art.get("article"), str):
            continue
        raw = art["article"][:1000]
        if not is_article(raw) or not _utf8_ok(raw):  # a lone surrogate ("\ud800") cannot go into a URL
            continue
        title = clean_text(raw.replace("_", " "), MAX_TITLE_CHARS)
        if not title:
            continue
        views = art.get("views")
        url = f"https://{project}.org/wiki/{quote(raw, safe='()_,:')}" if lang else None
        items.append(
            SourceItem(
                source=source,
                title=title,
                url=url,
                urls=(url,) if url else (),
                lang=lang,
                traffic=views if isinstance(views, int) and not isinstance(views, bool) and views >= 0 else None,
                published=day,
                item_id=raw,
            )
        )
    return items


@dataclass
class WikipediaSource:
    """Yesterday's most-read articles of one Wikipedia project."""

    base: str
    project: str = "it.wikipedia"
    interval_s: float = 3600.0
    name: str = NAME

    @classmethod
    def from_settings(cls, settings: Settings, base_url_override: str | None = None) -> WikipediaSource:
        s = settings.sources.wikipedia
        return cls(base=endpoint(s.url, DEFAULT_BASE, base_url_override), project=s.project, interval_s=s.interval_s)

    def url_for(self, day: date) -> str:
        return f"{self.base.rstrip('/')}/{quote(self.project)}/all-access/{day:%Y/%m/%d}"

    def parse(self, res: FetchResult) -> list[SourceItem]:
        return parse_top(res, project=self.project, source=self.name)

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        yesterday = ctx.now().astimezone(UTC).date() - timedelta(days=1)
        for day in (yesterday, yesterday - timedelta(days=1)):
            try:
                return await fetch_parsed(
                    ctx.fetcher, self.url_for(day), self.parse, name=self.name, accept="application/json"
                )
            except SourceError as exc:
                if exc.status == 404:
                    continue  # "not yet available": normal early in the UTC day
                raise
        raise NotModified(f"{self.name}: top list for {yesterday} not yet published")
