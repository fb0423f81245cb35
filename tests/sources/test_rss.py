"""Publisher RSS/Atom feeds: per-feed isolation, bozo handling, 304s."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiohttp import web

from monitor.sources.base import NotModified, PollContext, SourceError
from monitor.sources.rss import RssSource, parse_feed

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Testata</title><link>https://testata.example</link><language>it-IT</language>
<item><title><![CDATA[Sinner vince le ATP Finals]]></title><link>https://testata.example/a</link>
<description><![CDATA[<p>Battuto <b>Alcaraz</b> in due set</p>]]></description>
<pubDate>Sun, 22 Nov 2026 18:30:00 +0100</pubDate><guid>https://testata.example/a</guid></item>
<item><title>Maltempo in Liguria</title><link>https://testata.example/b</link></item>
<item><title></title><link>https://testata.example/no-title</link></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"><title>World</title><id>urn:x</id>
<updated>2026-11-23T08:00:00Z</updated>
<entry><title>Italy earthquake kills three</title><link href="https://world.example/q"/><id>urn:q</id>
<updated>2026-11-23T08:00:00Z</updated><summary>Dozens injured.</summary></entry></feed>"""

# Not well-formed (undeclared entity), but entries are readable: keep them.
BOZO_WITH_ENTRIES = RSS.replace("Maltempo in Liguria", "Maltempo&nbsp;in Liguria &copy")


def test_parse_rss_entries() -> None:
    items = parse_feed(RSS.encode(), content_type="application/rss+xml")
    assert [i.title for i in items] == ["Sinner vince le ATP Finals", "Maltempo in Liguria"]
    first = items[0]
    assert first.url == "https://testata.example/a"
    assert first.context == ("Battuto Alcaraz in due set",)
    assert first.lang == "it"
    assert first.published == datetime(2026, 11, 22, 17, 30, tzinfo=UTC)
    assert first.item_id == "https://testata.example/a"


def test_parse_atom_language() -> None:
    [item] = parse_feed(ATOM.encode(), content_type="application/atom+xml")
    assert item.title == "Italy earthquake kills three" and item.lang == "en"
    assert item.url == "https://world.example/q"


def test_bozo_with_entries_keeps_entries() -> None:
    items = parse_feed(BOZO_WITH_ENTRIES.encode())
    assert len(items) == 2
    assert items[1].title.startswith("Maltempo")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><head><title>404</title></head><body>Not found</body></html>",
        b"\x00\x01\x02garbage",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<rss><channel><item><title>&b;</title></item></channel></rss>",
    ],
)
def test_not_a_feed_is_an_error(body: bytes) -> None:
    with pytest.raises(SourceError):
        parse_feed(body)


def _feeds_app(etags: bool = True) -> web.Application:
    async def good(request: web.Request) -> web.Response:
        if etags and request.headers.get("If-None-Match") == '"r1"':
            return web.Response(status=304)
        return web.Response(text=RSS, content_type="application/rss+xml", headers={"ETag": '"r1"'})

    async def atom(request: web.Request) -> web.Response:
        if etags and request.headers.get("If-None-Match") == '"a1"':
            return web.Response(status=304)
        return web.Response(text=ATOM, content_type="application/atom+xml", headers={"ETag": '"a1"'})

    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html><body>Paywall</body></html>", content_type="text/html")

    async def limited(request: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": "60"})

    app = web.Application()
    app.router.add_get("/good.xml", good)
    app.router.add_get("/atom.xml", atom)
    app.router.add_get("/html", html)
    app.router.add_get("/limited", limited)
    return app


async def test_one_bad_feed_does_not_spoil_the_others(aiohttp_server, ctx: PollContext) -> None:
    server = await aiohttp_server(_feeds_app())
    bad = str(server.make_url("/html"))
    source = RssSource(feeds=[str(server.make_url("/good.xml")), bad, str(server.make_url("/atom.xml"))])
    items = await source.poll(ctx)
    titles = {i.title for i in items}
    assert titles == {"Sinner vince le ATP Finals", "Maltempo in Liguria", "Italy earthquake kills three"}
    assert list(source.last_errors) == [bad]
    assert "not" in source.last_errors[bad] and "/html" in source.last_errors[bad]


async def test_all_feeds_failing_raises_with_retry_after(aiohttp_server, ctx: PollContext) -> None:
    server = await aiohttp_server(_feeds_app())
    source = RssSource(feeds=[str(server.make_url("/html")), str(server.make_url("/limited"))])
    with pytest.raises(SourceError) as err:
        await source.poll(ctx)
    assert err.value.retry_after == 60
    assert "1 more" in str(err.value)
    assert len(source.last_errors) == 2


async def test_all_unchanged_is_not_modified_and_errors_clear(aiohttp_server, ctx: PollContext) -> None:
    server = await aiohttp_server(_feeds_app())
    source = RssSource(feeds=[str(server.make_url("/good.xml")), str(server.make_url("/atom.xml"))])
    assert len(await source.poll(ctx)) == 3
    with pytest.raises(NotModified):
        await source.poll(ctx)
    assert source.last_errors == {}


async def test_no_feeds_configured(ctx: PollContext) -> None:
    with pytest.raises(SourceError, match="no feeds"):
        await RssSource(feeds=[]).poll(ctx)
