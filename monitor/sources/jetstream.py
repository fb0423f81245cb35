"""Bluesky Jetstream: a long-lived websocket of every post, bursts found by Onda itself.

`JetstreamStream` keeps one websocket open (aiohttp `ws_connect`, `wantedCollections=
app.bsky.feed.post`) to the first of several instance URLs that answers, fails over to the next
one, reconnects with backoff and resumes by `cursor` (the last `time_us` minus `rewind_s`; the
rewound posts are deduplicated by did/rkey). An idle socket (no frame for `idle_timeout_s`) is
dropped and reopened. Every post in the wanted languages goes to a `BurstDetector`.

Frames are decoded and counted in batches (held at most `batch_s` to 1.5 × `batch_s`, and always
decoded before the socket is reopened, so the cursor is never behind what arrived): on this 2-core
VM a post handled alone, between idle waits, costs three to four times what it costs inside a batch
(cold caches), and bursts are counted per minute, so a second of delay changes nothing.

`JetstreamSource` is the `Source` the runner polls like any other: the first poll opens the
stream and waits (at most `catchup_timeout_s`) until it has caught up with the present; each poll
returns the bursts found since the last one as `SourceItem`s (source "jetstream", `published` =
the first post of the rise), so they go through clustering, scoring and the risk gate like every
other item; a poll with no new burst is `NotModified`. A poll with nothing while the stream cannot
connect fails with the last connection error (health). `close()` ends the stream (the service's
connections call it on stop: a `StreamSource`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp

from monitor.bursts import Burst, BurstConfig, BurstDetector, Post
from monitor.config import Settings
from monitor.models import SourceItem
from monitor.runner import backoff_delay
from monitor.sources.base import NotModified, PollContext, SourceError
from monitor.sources.jetstream_frames import MAX_FRAME_BYTES, POST_COLLECTION, Dedupe, decode_frame
from monitor.text import ERROR_CHARS, clean_text

log = logging.getLogger(__name__)

NAME = "jetstream"
SUBSCRIBE_PATH = "/subscribe"
WATCH_S = 1.0  # how often the watchdog looks at the socket
# The websocket refused a frame (invalid UTF-8 text, too big) and closed: resume just past the last good event.
_FRAME_ERRORS = (aiohttp.WSCloseCode.INVALID_TEXT, aiohttp.WSCloseCode.MESSAGE_TOO_BIG)


@dataclass(frozen=True, slots=True)
class StreamConfig:
    """How the stream connects, resumes and notices it is live."""

    urls: tuple[str, ...]
    langs: frozenset[str]
    rewind_s: float = 5.0  # resume this much before the last event seen (instances' clocks differ)
    idle_timeout_s: float = 30.0  # no frame for this long: the socket is dead, reopen it
    reconnect_s: float = 1.0  # first retry delay; doubles per consecutive failure
    max_backoff_s: float = 60.0
    live_lag_s: float = 3.0  # an event this close to the wall clock: the stream has caught up with the present
    batch_s: float = 1.0  # frames wait this long (1.5x at most) to be decoded and counted together
    batch_bytes: int = 2 * 1024 * 1024  # ... or until this much arrived
    user_agent: str = "Onda"


class JetstreamStream:
    """The websocket loop (see the module docstring); `on_post` gets each new post once."""

    def __init__(self, config: StreamConfig, on_post: Callable[[Post], None]) -> None:
        self.config = config
        self._on_post = on_post
        self._clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._dedupe = Dedupe(window_us=int(max(60.0, 4 * config.rewind_s) * 1e6))
        self._task: asyncio.Task[None] | None = None
        self._url = 0
        self.cursor_us: int | None = None  # time_us of the last event seen
        self._skip_past = False  # the last socket died on a refused frame: resume after the last event
        self._idle = False  # the watchdog closed the socket: no frame for idle_timeout_s
        self.connected = False
        self.last_error: str | None = None
        self.last_frame = 0.0  # monotonic time of the last frame
        self.connects = 0
        self.counts: Counter[str] = Counter()  # frames, posts, duplicates and every skip reason
        self._caught_up = asyncio.Event()
        self._batch: list[str | bytes] = []  # frames received, not yet decoded
        self._batch_bytes = 0
        self._batch_since = 0.0  # monotonic time of the oldest frame in the batch

    # -- life-cycle ---------------------------------------------------------------------------------
    def start(self, clock: Callable[[], datetime] | None = None) -> None:
        """Open the stream in a task; `clock` (the service's) tells when an event is live (default: the wall clock)."""
        if clock is not None:
            self._clock = clock
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="jetstream")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def close(self) -> None:
        """Stop the stream; frames already received are still decoded (the socket's own clean-up)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self.connected = False

    async def caught_up(self, timeout_s: float) -> bool:
        """Wait until the stream is live; False when `timeout_s` passed first."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._caught_up.wait()
        except TimeoutError:
            return False
        return True

    def is_live(self) -> bool:
        """Caught up: an event since the socket opened was within `live_lag_s` of the wall clock."""
        return self._caught_up.is_set()

    # -- the loop -----------------------------------------------------------------------------------
    def url(self) -> str:
        return self.config.urls[self._url % len(self.config.urls)]

    def params(self) -> dict[str, str]:
        params = {"wantedCollections": POST_COLLECTION}
        if self.cursor_us is not None and self._skip_past:
            params["cursor"] = str(self.cursor_us + 1)
        elif self.cursor_us is not None:
            params["cursor"] = str(self.cursor_us - int(self.config.rewind_s * 1e6))
        return params

    async def _run(self) -> None:
        cfg = self.config
        failures = 0
        async with aiohttp.ClientSession(headers={"User-Agent": cfg.user_agent}) as session:
            while True:
                url = self.url()
                try:
                    got = await self._session(session, url)
                    failures = 0 if got else failures + 1
                except asyncio.CancelledError:
                    raise
                except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
                    failures += 1
                    self.last_error = clean_text(f"{url}: {type(exc).__name__}: {exc}", ERROR_CHARS)
                    if failures == 1:
                        log.warning("jetstream: %s (failing over and retrying with backoff)", self.last_error)
                finally:
                    self.connected = False
                if failures:
                    self._url += 1  # the next instance
                    delay = backoff_delay(failures, cfg.reconnect_s, cfg.max_backoff_s)
                else:
                    delay = cfg.reconnect_s / 10  # the server closed a working socket: reopen at once
                await asyncio.sleep(delay)

    async def _session(self, session: aiohttp.ClientSession, url: str) -> bool:
        """One websocket until it closes; True when it delivered at least one frame."""
        cfg = self.config
        got = False
        async with session.ws_connect(
            url,
            params=self.params(),
            heartbeat=cfg.idle_timeout_s / 2,
            max_msg_size=MAX_FRAME_BYTES,
            autoping=True,
        ) as ws:
            self.connected = True
            self.connects += 1
            self._caught_up.clear()  # a resumed stream replays from the cursor first
            self._skip_past = False
            self._idle = False
            if self.last_error is not None:
                log.info("jetstream: connected to %s again", url)
            self.last_error = None
            self.last_frame = time.monotonic()
            watchdog = asyncio.create_task(self._watch(ws), name="jetstream watchdog")
            try:
                while True:
                    msg = await ws.receive()
                    if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                        got = True
                        self._queue(msg.data)
                        continue
                    self.flush()
                    if msg.type == aiohttp.WSMsgType.ERROR:
                        self._refused(msg.data)
                    if self._idle:
                        raise TimeoutError(f"no frame for {cfg.idle_timeout_s:.0f} s")
                    return got
            finally:
                watchdog.cancel()
                self.flush()  # what arrived before the socket closed moves the cursor the next socket resumes from

    def _queue(self, data: str | bytes) -> None:
        now = time.monotonic()
        self.last_frame = now
        if not self._batch:
            self._batch_since = now
        self._batch.append(data)
        self._batch_bytes += len(data)
        if self._batch_bytes >= self.config.batch_bytes or now - self._batch_since >= self.config.batch_s:
            self.flush()

    def flush(self) -> None:
        """Decode and hand over the frames received so far (the watchdog and `poll` call it too); never raises.

        A frame whose handling fails (a bug, never bad input: `decode_frame` does not raise) is counted
        and logged, and the rest of the batch goes on.
        """
        batch, self._batch, self._batch_bytes = self._batch, [], 0
        for data in batch:
            try:
                self._frame(data)
            except Exception:
                self.counts["failed"] += 1
                log.exception("jetstream: a frame could not be handled (skipped)")

    async def _watch(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Flushes a quiet batch; closes a socket that sent no frame for `idle_timeout_s` (reopened from the cursor)."""
        while True:
            await asyncio.sleep(min(WATCH_S, self.config.batch_s / 2))
            if self._batch and time.monotonic() - self._batch_since >= self.config.batch_s:
                self.flush()
            if time.monotonic() - self.last_frame >= self.config.idle_timeout_s:
                self._idle = True
                await ws.close()
                return

    def _refused(self, exc: object) -> None:
        code = getattr(exc, "code", None)
        if code in _FRAME_ERRORS:
            self.counts["too_big" if code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG else "non_utf8"] += 1
            self._skip_past = True
            return
        raise aiohttp.ClientError(f"websocket error: {exc}")

    def _frame(self, data: str | bytes) -> None:
        self.counts["frames"] += 1
        frame = decode_frame(data, self.config.langs)
        if frame.skipped:
            self.counts[frame.skipped] += 1
        if frame.time_us is None:
            return
        self.cursor_us = max(self.cursor_us or 0, frame.time_us)
        if (
            not self._caught_up.is_set()
            and self._clock().timestamp() * 1e6 - frame.time_us <= self.config.live_lag_s * 1e6
        ):
            self._caught_up.set()
        post = frame.post
        if post is None:
            return
        if not self._dedupe.first_time(post.uid, post.time_us):
            self.counts["duplicates"] += 1
            return
        self.counts["posts"] += 1
        self._on_post(post)


def burst_item(burst: Burst, source: str = NAME) -> SourceItem:
    """A burst as a source item: its title, sample posts as context, links, authors as traffic."""
    tags = [k.removeprefix("tag:") for k in burst.keys if k.startswith("tag:")]
    context = [*burst.samples, *(f"#{t}" for t in tags[:3])]
    return SourceItem(
        source=source,
        title=burst.title,
        url=burst.links[0] if burst.links else None,
        context=tuple(context),
        urls=burst.links,
        lang=burst.lang,
        traffic=burst.posts,
        published=burst.first_seen,
        item_id=f"burst:{burst.key}:{int(burst.bucket_start.timestamp())}",
    )


class JetstreamSource:
    """Bursts found in the Jetstream firehose (see the module docstring)."""

    def __init__(
        self,
        stream: StreamConfig,
        bursts: BurstConfig,
        *,
        interval_s: float = 60.0,
        catchup_timeout_s: float = 20.0,
        name: str = NAME,
    ) -> None:
        self.name = name
        self.interval_s = interval_s
        self.catchup_timeout_s = catchup_timeout_s
        self.detector = BurstDetector(bursts)
        self.stream = JetstreamStream(stream, self.detector.add)

    @classmethod
    def from_settings(cls, settings: Settings, base_url_override: str | None = None) -> JetstreamSource:
        s = settings.sources.jetstream
        urls: Sequence[str] = [s.url] if s.url else s.urls
        if base_url_override:
            urls = [base_url_override.rstrip("/") + SUBSCRIBE_PATH]
        stream = StreamConfig(
            urls=tuple(urls),
            langs=frozenset(s.langs),
            rewind_s=s.rewind_s,
            idle_timeout_s=s.idle_timeout_s,
            user_agent=settings.http.user_agent,
        )
        bursts = BurstConfig(
            bucket_s=s.bucket_s,
            min_authors=s.min_authors,
            z_score=s.z_score,
            min_ratio=s.min_ratio,
            warmup_buckets=s.warmup_buckets,
            max_keys=s.max_keys,
        )
        return cls(stream, bursts, interval_s=s.interval_s, catchup_timeout_s=s.catchup_timeout_s)

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        """Bursts since the last poll; the first poll opens the stream and waits until it has caught up."""
        stream = self.stream
        if not stream.running:
            await asyncio.to_thread(self.detector.prepare)
            stream.start(ctx.now)
            await stream.caught_up(self.catchup_timeout_s)
        stream.flush()
        if stream.is_live():
            self.detector.advance(int(ctx.now().astimezone(UTC).timestamp() * 1e6))
        items = [burst_item(b, self.name) for b in self.detector.drain()]
        log.debug("jetstream: %s", dict(stream.counts))
        if items:
            return items
        if not stream.connected and stream.last_error:
            raise SourceError(f"not connected: {stream.last_error}")
        raise NotModified()

    @property
    def url(self) -> str:
        """The instance the stream uses (or tries) now."""
        return self.stream.url()

    async def close(self) -> None:
        """Stop streaming (service stop, or another process took the lease): the next poll starts afresh.

        The cursor and the bursts not yet handed over are dropped, so a stream reopened later starts from
        now, not with a backlog of hours replayed as if it were rising now.
        """
        await self.stream.close()
        self.stream.cursor_us = None
        self.detector.drain()
