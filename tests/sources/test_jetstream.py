"""The Jetstream client against a loopback websocket server replaying recorded frames.

Frames are Jetstream v1 events (one JSON object per text frame), written here in the real format.
The server honours `cursor` (it sends the events from that time on) and can drop the socket.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from monitor.bursts import BurstConfig, Post
from monitor.config import Settings
from monitor.offline.server import ReplayServer
from monitor.sources import build_sources
from monitor.sources.base import NotModified, PollContext, SourceError, StreamSource
from monitor.sources.jetstream import JetstreamSource, JetstreamStream, StreamConfig
from monitor.sources.jetstream_frames import MAX_FRAME_BYTES, decode_frame

T0 = 1_783_175_888_000_000  # microseconds: 2026-07-04, the time of the real capture


def post_frame(n: int, text: str = "", *, lang: str = "it", time_us: int | None = None) -> str:
    return json.dumps(
        {
            "did": f"did:plc:author{n:04d}",
            "time_us": time_us if time_us is not None else T0 + n * 1000,
            "kind": "commit",
            "commit": {
                "rev": f"rev{n}",
                "operation": "create",
                "collection": "app.bsky.feed.post",
                "rkey": f"rkey{n:05d}",
                "record": {
                    "$type": "app.bsky.feed.post",
                    "createdAt": "2026-07-04T14:38:06.240Z",
                    "langs": [lang],
                    "text": text or f"Messaggio numero {n} dalla stazione di Bologna",
                },
                "cid": f"bafyrei{n}",
            },
        }
    )


def like_frame(n: int) -> str:
    return json.dumps(
        {
            "did": f"did:plc:liker{n:04d}",
            "time_us": T0 + n * 1000,
            "kind": "commit",
            "commit": {
                "rev": f"rev{n}",
                "operation": "create",
                "collection": "app.bsky.feed.like",
                "rkey": f"like{n}",
                "record": {"$type": "app.bsky.feed.like", "subject": {"cid": "x", "uri": "at://did:plc:x/p/1"}},
            },
        }
    )


def _time(frame: str | bytes) -> int:
    try:
        return int(json.loads(frame)["time_us"])
    except (ValueError, KeyError, TypeError):
        return 0


@dataclass
class Replay:
    """A Jetstream-like websocket: sends `frames` from the cursor on; drops the first socket after `drop_after`."""

    frames: list[str | bytes]
    drop_after: int | None = None
    cursors: list[str | None] = field(default_factory=list)
    raw: list[tuple[int, bytes]] = field(default_factory=list)  # (index, bytes) sent as invalid TEXT frames
    reconnected: asyncio.Event = field(default_factory=asyncio.Event)  # set by the second connection

    async def handler(self, request: web.Request) -> web.WebSocketResponse:
        cursor = request.query.get("cursor")
        self.cursors.append(cursor)
        if len(self.cursors) > 1:
            self.reconnected.set()
        assert request.query.get("wantedCollections") == "app.bsky.feed.post"
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        first = len(self.cursors) == 1
        sent = 0
        at = 0  # a frame with no readable time belongs where it stands: at the time of the one before
        for i, frame in enumerate(self.frames):
            at = _time(frame) or at
            if cursor is not None and at < int(cursor):
                continue
            if first and self.drop_after is not None and sent >= self.drop_after:
                await ws.close()
                return ws
            if isinstance(frame, bytes):
                if any(i == j for j, _ in self.raw):
                    await ws.send_frame(frame, WSMsgType.TEXT)  # invalid UTF-8 in a text frame
                else:
                    await ws.send_bytes(frame)
            else:
                await ws.send_str(frame)
            sent += 1
        async for _ in ws:
            pass
        return ws


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Replay], Any]]:
    runners: list[web.AppRunner] = []

    async def start(replay: Replay) -> str:
        app = web.Application()
        app.router.add_get("/subscribe", replay.handler)
        runner = web.AppRunner(app, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/subscribe"

    yield start
    for runner in runners:
        await runner.cleanup()


def _config(*urls: str, **kw: Any) -> StreamConfig:
    base: dict[str, Any] = {
        "langs": frozenset({"it", "en"}),
        "rewind_s": 0.005,
        "reconnect_s": 0.05,
        "idle_timeout_s": 5.0,
        "batch_s": 0.05,
    }
    base.update(kw)
    return StreamConfig(urls=urls, **base)


def _collector(want: int) -> tuple[list[Post], asyncio.Event, Callable[[Post], None]]:
    """A list the stream appends to, and an event set once it holds `want` posts."""
    posts: list[Post] = []
    done = asyncio.Event()

    def on_post(post: Post) -> None:
        posts.append(post)
        if len(posts) >= want:
            done.set()

    return posts, done, on_post


async def _run(stream: JetstreamStream, done: asyncio.Event) -> None:
    stream.start()
    try:
        async with asyncio.timeout(10.0):
            await done.wait()
    finally:
        await stream.close()


async def test_reads_posts_and_skips_other_collections(serve: Callable[[Replay], Any]) -> None:
    frames: list[str | bytes] = [post_frame(i) if i % 2 else like_frame(i) for i in range(20)]
    url = await serve(Replay(frames))
    posts, done, on_post = _collector(10)
    stream = JetstreamStream(_config(url), on_post)
    await _run(stream, done)
    assert [p.uid for p in posts] == [f"did:plc:author{i:04d}/rkey{i:05d}" for i in range(1, 20, 2)]
    assert posts[0].lang == "it" and posts[0].text.startswith("Messaggio numero 1")
    assert stream.cursor_us == T0 + 19 * 1000 and stream.counts["posts"] == 10


async def test_a_dropped_socket_resumes_by_cursor_with_no_gap_and_no_duplicate(serve: Callable[[Replay], Any]) -> None:
    frames: list[str | bytes] = [post_frame(i) for i in range(100)]
    replay = Replay(frames, drop_after=40)
    url = await serve(replay)
    posts, done, on_post = _collector(100)
    # rewind 5 ms: 5 frames back; a batch longer than the test: the frames held when the socket drops are
    # decoded before it is reopened, so the cursor covers them
    stream = JetstreamStream(_config(url, rewind_s=0.005, batch_s=60.0), on_post)
    await _run(stream, done)
    assert [p.uid for p in posts] == [f"did:plc:author{i:04d}/rkey{i:05d}" for i in range(100)]
    assert replay.cursors == [None, str(T0 + 39 * 1000 - 5000)]  # the last event seen, rewound
    assert stream.counts["duplicates"] == 6 and stream.connects == 2  # frames 34..39 came twice


async def test_a_post_the_detector_fails_on_is_counted_and_the_stream_goes_on(serve: Callable[[Replay], Any]) -> None:
    url = await serve(Replay([post_frame(i) for i in range(6)]))
    posts, done, collect = _collector(5)

    def on_post(post: Post) -> None:
        if post.uid.endswith("rkey00002"):
            raise RuntimeError("a bug in the detector")
        collect(post)

    stream = JetstreamStream(_config(url), on_post)
    await _run(stream, done)
    assert len(posts) == 5 and "rkey00002" not in " ".join(p.uid for p in posts)
    assert stream.counts["failed"] == 1 and stream.counts["posts"] == 6


async def test_fails_over_to_the_next_instance(serve: Callable[[Replay], Any]) -> None:
    url = await serve(Replay([post_frame(i) for i in range(5)]))
    dead = "http://127.0.0.1:9/subscribe"  # nothing listens on the discard port
    posts, done, on_post = _collector(5)
    stream = JetstreamStream(_config(dead, url), on_post)
    await _run(stream, done)
    assert len(posts) == 5 and stream.connects == 1
    assert stream.last_error is None  # cleared once connected


async def test_bad_frames_never_stop_the_stream(serve: Callable[[Replay], Any]) -> None:
    control = "Ciao\x00 a\x1b[31m tutti\u202e da Napoli, che giornata"
    frames: list[str | bytes] = [
        post_frame(0),
        "{not json",
        "[1, 2, 3]",
        json.dumps({"did": "did:plc:x", "kind": "commit"}),  # no time_us
        json.dumps({"did": "did:plc:x", "time_us": T0 + 2000, "kind": "labels", "labels": []}),  # unknown kind
        post_frame(3, "parola " * 5000),  # a huge post
        post_frame(4, control),
        b"\xff\xfe not utf-8 in a binary frame",
        json.dumps(
            {
                "did": 5,
                "time_us": T0 + 5000,
                "kind": "commit",
                "commit": {"operation": "create", "collection": "app.bsky.feed.post", "rkey": [], "record": "x"},
            }
        ),
        post_frame(6),
        b"\xc3\x28 invalid utf-8 in a text frame",  # index 10: the socket closes; the client resumes past it
        post_frame(11),
        "x" * (MAX_FRAME_BYTES + 10),  # refused by the websocket (too big): closed, resumed past it
        post_frame(13),
        post_frame(14, lang="ja"),  # not a language we watch
        post_frame(15),
    ]
    replay = Replay(frames, raw=[(10, b"")])
    url = await serve(replay)
    posts, done, on_post = _collector(6)
    stream = JetstreamStream(_config(url), on_post)
    await _run(stream, done)
    assert [p.uid.split("/")[1] for p in posts] == [
        "rkey00000",
        "rkey00004",
        "rkey00006",
        "rkey00011",
        "rkey00013",
        "rkey00015",
    ]
    cleaned = posts[1].text
    assert "\x00" not in cleaned and "\x1b" not in cleaned and "\u202e" not in cleaned and "Napoli" in cleaned
    c = stream.counts
    assert c["malformed"] == 4 and c["unknown_kind"] == 1 and c["huge"] == 1 and c["non_utf8"] == 2
    assert c["too_big"] == 1 and c["posts"] == 6


def test_decode_frame_reads_tags_links_and_the_link_card() -> None:
    event = json.loads(post_frame(1, "Guardate qui #Sanremo2027 www.ansa.it/x"))
    record = event["commit"]["record"]
    record["facets"] = [
        {"features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://www.ansa.it/x"}], "index": {}},
        {"features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Sanremo2027"}], "index": {}},
        "junk",
    ]
    record["embed"] = {
        "$type": "app.bsky.embed.external",
        "external": {"uri": "https://www.ansa.it/x", "title": "Sanremo\n 2027"},
    }
    frame = decode_frame(json.dumps(event), frozenset({"it"}))
    assert frame.post is not None and frame.skipped is None
    assert frame.post.tags == ("Sanremo2027",)
    assert frame.post.links == ("https://www.ansa.it/x",)
    assert frame.post.link_title == "Sanremo 2027"
    assert decode_frame(post_frame(2, lang="en"), frozenset({"it"})).post is None  # filtered, not skipped
    assert decode_frame(post_frame(2, lang="en"), frozenset()).post is not None  # no filter: every language


async def test_the_offline_source_finds_the_planted_stories_and_closes_cleanly() -> None:
    now = datetime.now(UTC)
    async with ReplayServer(now=lambda: now) as replay:
        [source] = [s for s in build_sources(Settings(), base_url=replay.base_url) if s.name == "jetstream"]
        assert isinstance(source, JetstreamSource) and isinstance(source, StreamSource)
        ctx = PollContext(fetcher=None, now=lambda: now)  # type: ignore[arg-type]  # a stream needs no fetcher
        try:
            items = await source.poll(ctx)
            with pytest.raises(NotModified):  # nothing new since
                await source.poll(ctx)
        finally:
            await source.close()
        assert not source.stream.running
    assert {i.source for i in items} == {"jetstream"}
    text = [" ".join((i.title, *i.context)).lower() for i in items]
    assert len(items) == 2
    assert any("roma" in t and "neve" in t for t in text) and any("northern lights" in t for t in text)
    assert not any("cryptobonus" in t or "fantacalcio" in t for t in text)
    for item in items:
        assert item.published is not None and now.timestamp() - 20 * 60 < item.published.timestamp() < now.timestamp()
        assert item.traffic is not None and item.traffic >= BurstConfig().min_authors


async def test_a_silent_socket_is_reopened_from_the_cursor(serve: Callable[[Replay], Any]) -> None:
    replay = Replay([post_frame(i) for i in range(3)])  # then silence: the server sends nothing more
    url = await serve(replay)
    posts, _, on_post = _collector(3)
    stream = JetstreamStream(_config(url, idle_timeout_s=1.2), on_post)
    stream.start()
    try:
        async with asyncio.timeout(10.0):
            await replay.reconnected.wait()
        await asyncio.sleep(0.3)  # the replayed frames arrive
    finally:
        await stream.close()
    assert replay.cursors[1] == str(T0 + 2000 - 5000)  # resumed from the last event, rewound
    assert len(posts) == 3 and stream.counts["duplicates"] == 3


async def test_a_poll_while_no_instance_answers_fails_with_the_connection_error() -> None:
    source = JetstreamSource(_config("http://127.0.0.1:9/subscribe"), BurstConfig(), catchup_timeout_s=0.3)
    ctx = PollContext(fetcher=None, now=lambda: datetime.now(UTC))  # type: ignore[arg-type]
    try:
        with pytest.raises(SourceError, match=r"not connected: http://127.0.0.1:9/subscribe: ClientConnectorError"):
            await source.poll(ctx)
    finally:
        await source.close()
