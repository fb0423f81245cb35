"""The two poll helpers every adapter shares: fetch_parsed (errors name the source) and gather_parts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from aiohttp import web

from monitor.config import Settings
from monitor.models import SourceItem
from monitor.risk.factcheck import FactCheckStore
from monitor.sources import build_sources
from monitor.sources.base import NotModified, PollContext, SourceError
from monitor.sources.http import FetchResult, HttpFetcher, safe_location
from monitor.sources.mastodon import MastodonSource
from monitor.sources.polling import Part, fetch_parsed, gather_parts


def _lines(res: FetchResult) -> list[SourceItem]:
    """A toy parser: one item per line; a body starting with "bad" is unreadable."""
    text = res.text()
    if text.startswith("bad"):
        raise SourceError("unreadable body")
    return [SourceItem(source="toy", title=line) for line in text.splitlines() if line.strip()]


def _app(seen: list[tuple[str, str | None]]) -> web.Application:
    """/ok/{n}: n lines with an ETag; /bad: unreadable with an ETag; /e500, /e429 (Retry-After 30 or 90)."""

    async def ok(request: web.Request) -> web.Response:
        seen.append((request.path, request.headers.get("If-None-Match")))
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304)
        n = int(request.match_info["n"])
        body = "\n".join(f"{request.path} item {i}" for i in range(n))
        return web.Response(text=body, headers={"ETag": '"v1"'})

    async def bad(request: web.Request) -> web.Response:
        seen.append((request.path, request.headers.get("If-None-Match")))
        return web.Response(text="bad data", headers={"ETag": '"b1"'})

    async def e500(request: web.Request) -> web.Response:
        return web.Response(status=500, text="boom")

    async def e429(request: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": request.query.get("wait", "30")})

    async def crash(request: web.Request) -> web.Response:
        return web.Response(text="fine")

    app = web.Application()
    app.router.add_get("/ok/{n}", ok)
    app.router.add_get("/bad", bad)
    app.router.add_get("/e500", e500)
    app.router.add_get("/e429", e429)
    app.router.add_get("/crash", crash)
    return app


@pytest.fixture
def seen() -> list[tuple[str, str | None]]:
    return []


@pytest.fixture
async def base(aiohttp_server, seen: list[tuple[str, str | None]]) -> str:
    server = await aiohttp_server(_app(seen))
    return str(server.make_url("")).rstrip("/")


# -- fetch_parsed -----------------------------------------------------------------------------------------
async def test_fetch_parsed_returns_the_parsed_body(base: str, fetcher: HttpFetcher) -> None:
    items = await fetch_parsed(fetcher, f"{base}/ok/2", _lines, name="toy")
    assert [i.title for i in items] == ["/ok/2 item 0", "/ok/2 item 1"]
    with pytest.raises(NotModified):  # the ETag was kept: unchanged is not an error
        await fetch_parsed(fetcher, f"{base}/ok/2", _lines, name="toy")


async def test_fetch_parsed_in_a_thread(base: str, fetcher: HttpFetcher) -> None:
    items = await fetch_parsed(fetcher, f"{base}/ok/3", _lines, name="toy", in_thread=True)
    assert len(items) == 3


async def test_a_transport_error_names_the_source_and_keeps_status_and_retry_after(
    base: str, fetcher: HttpFetcher
) -> None:
    with pytest.raises(SourceError) as err:
        await fetch_parsed(fetcher, f"{base}/e500", _lines, name="toy")
    assert str(err.value).startswith("toy: 127.0.0.1") and "HTTP 500" in str(err.value)
    assert err.value.status == 500
    with pytest.raises(SourceError) as err:
        await fetch_parsed(fetcher, f"{base}/e429", _lines, name="toy")
    assert str(err.value).startswith("toy: ") and err.value.retry_after == 30 and err.value.status == 429


async def test_a_parse_error_names_the_source_and_forgets_the_validators(
    base: str, fetcher: HttpFetcher, seen: list[tuple[str, str | None]]
) -> None:
    for _ in range(2):
        with pytest.raises(SourceError) as err:
            await fetch_parsed(fetcher, f"{base}/bad", _lines, name="toy")
        assert str(err.value) == "toy: unreadable body"
    # The ETag of a body we could not read is not sent again: the next poll gets the document in full.
    assert seen == [("/bad", None), ("/bad", None)]


@pytest.mark.parametrize("name", ["google_trends", "rss", "gdelt", "wikipedia", "mastodon", "bluesky", "factchecks"])
async def test_every_built_in_source_names_itself_in_its_errors(
    aiohttp_server, ctx: PollContext, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(request: web.Request) -> web.Response:
        return web.Response(status=500, text="boom")

    app = web.Application()
    app.router.add_get("/{tail:.*}", down)
    server = await aiohttp_server(app)
    monkeypatch.delenv("ONDA_FACTCHECK_API_KEY", raising=False)
    built = build_sources(Settings(), base_url=str(server.make_url("")), factchecks=FactCheckStore(embedder=None))
    source = {s.name: s for s in built}[name]
    with pytest.raises(SourceError) as err:
        await source.poll(ctx)
    assert str(err.value).startswith(f"{name}: "), str(err.value)


async def test_youtube_names_itself_too(ctx: PollContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONDA_YOUTUBE_API_KEY", raising=False)
    settings = Settings()
    settings.sources.youtube.enabled = True
    [source] = [s for s in build_sources(settings) if s.name == "youtube"]
    with pytest.raises(SourceError, match=r"^youtube: ONDA_YOUTUBE_API_KEY not set"):
        await source.poll(ctx)


# -- gather_parts -----------------------------------------------------------------------------------------
class Recorder:
    """A PollContext whose report_part (and optionally deliver) calls are recorded."""

    def __init__(self, fetcher: HttpFetcher, *, deliver: bool = False) -> None:
        self.reports: dict[str, str | None] = {}
        self.delivered: list[list[SourceItem]] = []
        self.ctx = PollContext(
            fetcher=fetcher,
            now=lambda: datetime(2026, 11, 23, tzinfo=UTC),
            report_part=self.reports.__setitem__,
            deliver=self.delivered.append if deliver else None,
        )


def _parts(base: str, *paths: str) -> list[Part]:
    return [Part(f"{base}{p}", _lines) for p in paths]


async def test_one_failing_url_keeps_the_others_and_is_reported(base: str, fetcher: HttpFetcher) -> None:
    rec = Recorder(fetcher)
    parts = _parts(base, "/ok/2", "/e500", "/ok/1")
    gathered = await gather_parts(rec.ctx, parts)
    items = gathered.items_or_raise("toy", "feeds")
    assert sorted(i.title for i in items) == ["/ok/1 item 0", "/ok/2 item 0", "/ok/2 item 1"]
    bad = safe_location(parts[1].url)
    assert rec.reports == {
        safe_location(parts[0].url): None,
        bad: f"{bad}: HTTP 500 Internal Server Error",
        safe_location(parts[2].url): None,
    }
    assert list(gathered.errors) == [parts[1].url]
    assert gathered.errors[parts[1].url].status == 500


async def test_a_part_that_does_not_parse_is_reported_with_its_location(base: str, fetcher: HttpFetcher) -> None:
    rec = Recorder(fetcher)
    parts = _parts(base, "/bad", "/ok/1")
    items = (await gather_parts(rec.ctx, parts)).items_or_raise("toy", "feeds")
    assert [i.title for i in items] == ["/ok/1 item 0"]
    where = safe_location(parts[0].url)
    assert rec.reports[where] == f"{where}: unreadable body"


async def test_a_parser_bug_fails_only_its_part(base: str, fetcher: HttpFetcher) -> None:
    def buggy(res: FetchResult) -> list[SourceItem]:
        raise KeyError("title")

    rec = Recorder(fetcher)
    parts = [Part(f"{base}/crash", buggy), *_parts(base, "/ok/1")]
    items = (await gather_parts(rec.ctx, parts)).items_or_raise("toy", "feeds")
    assert len(items) == 1
    where = safe_location(parts[0].url)
    assert rec.reports[where] == f"{where}: unexpected KeyError"


async def test_delivered_parts_are_not_returned_again(base: str, fetcher: HttpFetcher) -> None:
    rec = Recorder(fetcher, deliver=True)
    gathered = await gather_parts(rec.ctx, _parts(base, "/ok/2", "/e500", "/ok/1"))
    assert gathered.items_or_raise("toy", "feeds") == []
    assert sorted(len(batch) for batch in rec.delivered) == [1, 2]


async def test_all_failing_raises_one_named_error_with_the_longest_retry_after(base: str, fetcher: HttpFetcher) -> None:
    rec = Recorder(fetcher)
    gathered = await gather_parts(rec.ctx, _parts(base, "/e429?wait=30", "/e500", "/e429?wait=90"))
    assert len(gathered.errors) == 3 and all(rec.reports.values())
    with pytest.raises(SourceError) as err:
        gathered.items_or_raise("toy", "feeds")
    msg = str(err.value)
    assert msg.startswith("toy: 127.0.0.1") and "HTTP 429" in msg and msg.endswith("(and 2 more feeds failed)")
    assert err.value.retry_after == 90


async def test_all_unchanged_is_not_modified_but_one_failure_with_the_rest_unchanged_is_not_an_error(
    base: str, fetcher: HttpFetcher
) -> None:
    rec = Recorder(fetcher)
    parts = _parts(base, "/ok/1", "/ok/2")
    assert len((await gather_parts(rec.ctx, parts)).items_or_raise("toy", "feeds")) == 3
    with pytest.raises(NotModified):
        (await gather_parts(rec.ctx, parts)).items_or_raise("toy", "feeds")
    # one part unchanged, one failing: the failing part is reported on its own, the poll succeeds empty
    gathered = await gather_parts(rec.ctx, _parts(base, "/ok/1", "/e500"))
    assert gathered.items_or_raise("toy", "feeds") == [] and len(gathered.errors) == 1


async def test_concurrency_is_bounded(aiohttp_server, fetcher: HttpFetcher) -> None:
    running = 0
    peak = 0

    async def slow(request: web.Request) -> web.Response:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        running -= 1
        return web.Response(text="x")

    app = web.Application()
    app.router.add_get("/{n}", slow)
    server = await aiohttp_server(app)
    parts = [Part(str(server.make_url(f"/{n}")), _lines) for n in range(6)]
    items = (await gather_parts(Recorder(fetcher).ctx, parts, concurrency=2)).items_or_raise("toy", "feeds")
    assert len(items) == 6 and peak == 2


async def test_mastodon_endpoints_are_parts(aiohttp_server, fetcher: HttpFetcher) -> None:
    """Mastodon uses the same gather: a failing trends endpoint is its own health problem, the other's items stay."""

    async def tags(request: web.Request) -> web.Response:
        return web.json_response([{"name": "sinner", "url": "https://m.example/tags/sinner"}])

    async def links(request: web.Request) -> web.Response:
        return web.Response(status=503, headers={"Retry-After": "60"})

    app = web.Application()
    app.router.add_get("/api/v1/trends/tags", tags)
    app.router.add_get("/api/v1/trends/links", links)
    server = await aiohttp_server(app)
    source = MastodonSource.from_settings(Settings(), str(server.make_url("")))
    rec = Recorder(fetcher)
    assert [i.title for i in await source.poll(rec.ctx)] == ["#sinner"]
    assert rec.reports["127.0.0.1/api/v1/trends/tags"] is None
    assert "HTTP 503" in (rec.reports["127.0.0.1/api/v1/trends/links"] or "")
