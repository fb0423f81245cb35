"""Google Trends "Trending now" RSS: lenient parsing and the poller."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiohttp import web

from monitor.config import Settings
from monitor.sources.base import NotModified, PollContext, SourceError
from monitor.sources.google_trends import GoogleTrendsSource, parse_trending_rss

# Own fixture in the real format: undeclared &nbsp;, unpadded day, Pacific offsets, empty elements.
FEED = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?><rss xmlns:atom="http://www.w3.org/2005/Atom" \
xmlns:ht="https://trends.google.com/trending/rss" version="2.0"><channel><title>Daily Search Trends</title>
<item><title>sinner</title><ht:approx_traffic>20,000+</ht:approx_traffic><description/>
<link>https://trends.google.com/trending/rss?geo=IT</link><pubDate>Fri, 3 Jul 2026 08:40:00 -0700</pubDate>
<ht:picture>https://img.example/p1</ht:picture><ht:picture_source>Sky</ht:picture_source>
<ht:news_item><ht:news_item_title>Sinner&nbsp;vince a Wimbledon &amp; festeggia</ht:news_item_title>
<ht:news_item_snippet/><ht:news_item_url>https://news.example/sinner</ht:news_item_url>
<ht:news_item_source>ANSA</ht:news_item_source></ht:news_item>
<ht:news_item><ht:news_item_title>L&apos;azzurro in finale</ht:news_item_title><ht:news_item_snippet/>
<ht:news_item_url>javascript:alert(1)</ht:news_item_url></ht:news_item></item>
<item><title>meteo</title><ht:approx_traffic>1000+</ht:approx_traffic>
<pubDate>Mon, 9 Feb 2026 23:10:00 -0800</pubDate></item>
<item><title></title><ht:approx_traffic>500+</ht:approx_traffic></item>
<item><title>senza data</title><ht:approx_traffic/><pubDate/></item>
</channel></rss>"""


def test_lenient_parse_entities_dates_traffic() -> None:
    items = parse_trending_rss(FEED.encode(), lang="it")
    assert [i.title for i in items] == ["sinner", "meteo", "senza data"]
    sinner = items[0]
    assert sinner.traffic == 20000
    assert sinner.context == ("Sinner vince a Wimbledon & festeggia", "L'azzurro in finale")
    assert sinner.urls == ("https://news.example/sinner",)  # javascript: URL dropped
    assert sinner.url == "https://news.example/sinner"
    assert sinner.published == datetime(2026, 7, 3, 15, 40, tzinfo=UTC)
    assert sinner.lang == "it"
    assert items[1].published == datetime(2026, 2, 10, 7, 10, tzinfo=UTC)
    assert items[2].traffic is None and items[2].published is None


def test_other_undeclared_entities_and_bare_ampersands() -> None:
    body = FEED.replace("&nbsp;", "&eacute; &hellip; &bogus; R&D ").encode()
    items = parse_trending_rss(body, lang="it")
    assert items[0].context[0].startswith("Sinner")
    assert "é … &bogus; R&D" in items[0].context[0]


def test_hostile_text_is_bounded_and_cleaned() -> None:
    huge = "A" * 1_000_000
    body = FEED.replace("<title>meteo</title>", f"<title>meteo\u202e&#1;{huge}</title>").encode()
    items = parse_trending_rss(body, lang="it")
    meteo = items[1]
    assert len(meteo.title) <= 300
    assert "\u202e" not in meteo.title and "\x01" not in meteo.title


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"<html><body>Error 502</body></html>",
        b'<?xml version="1.0"?><rss><channel><item><title>Half',
        b'{"json": true}',
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><rss><channel>'
        b"<item><title>&b;</title></item></channel></rss>",
        b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss><channel><item><title>&x;</title></item>'
        b"</channel></rss>",
    ],
)
def test_malformed_or_dangerous_xml_is_a_source_error(body: bytes) -> None:
    with pytest.raises(SourceError):
        parse_trending_rss(body, lang="it")


async def test_poll_sends_geo_and_round_trips_etag(aiohttp_server, ctx: PollContext) -> None:
    geos: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        geos.append(request.query.get("geo", ""))
        if request.headers.get("If-None-Match") == '"gt1"':
            return web.Response(status=304)
        return web.Response(text=FEED, content_type="application/rss+xml", headers={"ETag": '"gt1"'})

    app = web.Application()
    app.router.add_get("/trending/rss", handler)
    server = await aiohttp_server(app)
    settings = Settings()
    settings.sources.google_trends.geo = "IT"
    source = GoogleTrendsSource.from_settings(settings, str(server.make_url("")))
    items = await source.poll(ctx)
    assert len(items) == 3 and all(i.source == "google_trends" for i in items)
    with pytest.raises(NotModified):
        await source.poll(ctx)
    assert geos == ["IT", "IT"]


def test_default_url_is_the_public_feed() -> None:
    source = GoogleTrendsSource.from_settings(Settings())
    assert source.url == "https://trends.google.com/trending/rss"
    assert source.name == "google_trends" and source.interval_s == 600
