"""Google Trends "Trending now" RSS (`/trending/rss?geo=IT`), parsed leniently.

Google serves this feed with undeclared HTML entities (`&nbsp;`), unpadded days
("Fri, 3 Jul 2026") and Pacific offsets. We parse with the stdlib after replacing
undeclared entities, and refuse any DTD (no entity expansion, no external entities).
"""

from __future__ import annotations

import html.entities
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from monitor.config import Settings
from monitor.models import SourceItem
from monitor.sources._text import MAX_CONTEXT_ITEMS, clean_url, dedupe, parse_rfc822, to_int
from monitor.sources.base import PollContext, SourceError
from monitor.sources.http import FetchResult, endpoint
from monitor.sources.polling import fetch_parsed
from monitor.text import MAX_CONTEXT_CHARS, MAX_TITLE_CHARS, clean_text

NAME = "google_trends"
DEFAULT_URL = "https://trends.google.com/trending/rss"
HT = "{https://trends.google.com/trending/rss}"
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]{1,31});")
_BARE_AMP = re.compile(r"&(?!(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});)")
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


_CHAR_REF = re.compile(r"&#(?:([0-9]{1,7})|x([0-9A-Fa-f]{1,6}));")


def _xml_char_ok(cp: int) -> bool:
    return cp in (0x9, 0xA, 0xD) or 0x20 <= cp <= 0xD7FF or 0xE000 <= cp <= 0xFFFD or 0x10000 <= cp <= 0x10FFFF


def _replace_char_ref(m: re.Match[str]) -> str:
    cp = int(m.group(1)) if m.group(1) else int(m.group(2), 16)
    return m.group(0) if _xml_char_ok(cp) else " "


def _replace_entity(m: re.Match[str]) -> str:
    name = m.group(1)
    if name in _XML_ENTITIES:
        return m.group(0)
    char = html.entities.html5.get(name + ";")
    if char is None:
        return "&amp;" + name + ";"
    return "".join(f"&#{ord(c)};" for c in char)


def lenient_xml(body: bytes) -> ET.Element:
    """Parse feed XML that browsers accept but strict XML does not; SourceError if hopeless."""
    if not body.strip():
        raise SourceError("empty body")
    if _DTD.search(body[:4096]) or b"<!ENTITY" in body:
        raise SourceError("XML with a DTD/entity declarations refused")
    try:
        return ET.fromstring(body)
    except ET.ParseError:
        pass
    text = body.decode("utf-8", errors="replace")
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)  # we now hand over str: drop the encoding declaration
    text = _INVALID_XML_CHARS.sub(" ", text)
    text = _ENTITY.sub(_replace_entity, text)
    text = _CHAR_REF.sub(_replace_char_ref, text)
    text = _BARE_AMP.sub("&amp;", text)
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        raise SourceError(f"malformed XML: {exc}") from None
    except RecursionError:
        raise SourceError("malformed XML: nested too deeply") from None


def _lang_from_geo(geo: str) -> str | None:
    geo = geo.strip().upper()
    table = {
        "IT": "it",
        "SM": "it",
        "VA": "it",
        "US": "en",
        "GB": "en",
        "IE": "en",
        "AU": "en",
        "FR": "fr",
        "DE": "de",
        "AT": "de",
        "ES": "es",
        "PT": "pt",
        "BR": "pt",
        "NL": "nl",
        "KR": "ko",
        "JP": "ja",
    }
    return table.get(geo)


def _text(el: ET.Element | None) -> str:
    return "".join(el.itertext()) if el is not None else ""


def parse_trending_rss(body: bytes, *, lang: str | None, source: str = NAME) -> list[SourceItem]:
    root = lenient_xml(body)
    if root.tag != "rss" or root.find("channel") is None:
        raise SourceError(f"not a Google Trends RSS feed (root <{clean_text(root.tag, 40)}>)")
    items: list[SourceItem] = []
    for item in root.iter("item"):
        title = clean_text(_text(item.find("title")), MAX_TITLE_CHARS)
        if not title:
            continue
        context: list[str] = []
        urls: list[str] = []
        for news in item.findall(f"{HT}news_item"):
            headline = clean_text(_text(news.find(f"{HT}news_item_title")), MAX_CONTEXT_CHARS)
            if headline:
                context.append(headline)
            url = clean_url(_text(news.find(f"{HT}news_item_url")))
            if url:
                urls.append(url)
        items.append(
            SourceItem(
                source=source,
                title=title,
                url=urls[0] if urls else None,
                context=dedupe(context)[:MAX_CONTEXT_ITEMS],
                urls=dedupe(urls)[: MAX_CONTEXT_ITEMS * 2],
                lang=lang,
                traffic=to_int(_text(item.find(f"{HT}approx_traffic"))),
                published=parse_rfc822(_text(item.find("pubDate"))),
                item_id=title.casefold(),
            )
        )
    return items


@dataclass
class GoogleTrendsSource:
    """Google Trends' "Trending now" searches for one country."""

    url: str
    geo: str = "IT"
    interval_s: float = 600.0
    name: str = NAME

    @classmethod
    def from_settings(cls, settings: Settings, base_url_override: str | None = None) -> GoogleTrendsSource:
        s = settings.sources.google_trends
        return cls(url=endpoint(s.url, DEFAULT_URL, base_url_override), geo=s.geo, interval_s=s.interval_s)

    def parse(self, res: FetchResult) -> list[SourceItem]:
        return parse_trending_rss(res.body, lang=_lang_from_geo(self.geo), source=self.name)

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        return await fetch_parsed(
            ctx.fetcher,
            self.url,
            self.parse,
            name=self.name,
            params={"geo": self.geo},
            accept="application/rss+xml, application/xml;q=0.9, */*;q=0.1",
        )
