"""ReplayServer: serves the bundled snapshots on 127.0.0.1 at the paths the real sources use.

Snapshots are templates: `{{OFFSET|FORMAT}}` placeholders (OFFSET like `-35m`, `-2h`,
`-1d`, `0`; FORMAT one of rfc822, rfc822pt, gdelt, iso, us, day, Y, m, d) are rendered
once at start relative to "now", so the replay looks like today and ETags stay
stable while the server runs (pollers then get 304 Not Modified, as in real life).

`JETSTREAM_PATH` is a websocket like Bluesky's Jetstream `/subscribe`: it sends the recorded hour
(`jetstream_hour.jsonl`, one event per line; only the `wantedCollections`, and from `cursor` on
when given), then an `account` event every few seconds (the real stream is never silent) until the
client leaves.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from importlib import resources

from aiohttp import WSCloseCode, web

from monitor.offline import (
    BLUESKY_PATH,
    GDELT_PATH,
    GOOGLE_TRENDS_PATH,
    JETSTREAM_PATH,
    MASTODON_LINKS_PATH,
    MASTODON_TAGS_PATH,
    WIKIMEDIA_TOP_PATH,
)

_PLACEHOLDER = re.compile(r"\{\{([+-]?\d+[smhd]|0)\|(\w+)\}\}")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_PACIFIC = timezone(timedelta(hours=-8))
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

RSS = "application/rss+xml; charset=utf-8"
JSON = "application/json; charset=utf-8"

# path → (snapshot file, content type)
STATIC_ROUTES: dict[str, tuple[str, str]] = {
    GOOGLE_TRENDS_PATH: ("google_trends_it.rss", RSS),
    GDELT_PATH: ("gdelt_artlist_it.json", JSON),
    MASTODON_TAGS_PATH: ("mastodon_trends_tags.json", JSON),
    MASTODON_LINKS_PATH: ("mastodon_trends_links.json", JSON),
    BLUESKY_PATH: ("bluesky_trending_topics.json", JSON),
    "/feeds/ansa.xml": ("feed_ansa.xml", RSS),
    "/feeds/repubblica.xml": ("feed_repubblica.xml", RSS),
    "/feeds/bbc_world.xml": ("feed_bbc_world.xml", RSS),
    "/factcheck/facta.xml": ("factcheck_facta.xml", RSS),
    "/factcheck/pagellapolitica.xml": ("factcheck_pagellapolitica.xml", RSS),
    "/factcheck/open.xml": ("factcheck_open.xml", RSS),
}
WIKIMEDIA_FILE = "wikimedia_top_it.json"
JETSTREAM_FILE = "jetstream_hour.jsonl"
JETSTREAM_KEEPALIVE_S = 5.0
REPLAY_DID = "did:plc:ondaofflinereplay"
WIKIMEDIA_404 = (
    '{"type":"about:blank","title":"Not Found","method":"get","detail":"The date(s) you used are valid, but we '
    "either do not have data for those date(s), or the project you asked for is not loaded yet. Please check "
    'documentation for more information","uri":"%s"}'
)


def _rfc822(dt: datetime) -> str:
    off = dt.utcoffset() or timedelta(0)
    sign = "-" if off < timedelta(0) else "+"
    mins = abs(int(off.total_seconds())) // 60
    # Unpadded day, as Google Trends writes it ("Fri, 3 Jul 2026").
    return (
        f"{_DAYS[dt.weekday()]}, {dt.day} {_MONTHS[dt.month - 1]} {dt.year} "
        f"{dt:%H:%M:%S} {sign}{mins // 60:02d}{mins % 60:02d}"
    )


def render_template(text: str, now: datetime) -> str:
    """Replace every `{{OFFSET|FORMAT}}` with `now + OFFSET` in FORMAT."""
    now = now.astimezone(UTC)

    def repl(m: re.Match[str]) -> str:
        off, fmt = m.group(1), m.group(2)
        delta = timedelta(0) if off == "0" else timedelta(seconds=int(off[:-1]) * _UNITS[off[-1]])
        t = now + delta
        if fmt == "rfc822":
            return _rfc822(t)
        if fmt == "rfc822pt":
            return _rfc822(t.astimezone(_PACIFIC))
        if fmt == "gdelt":
            return f"{t:%Y%m%dT%H%M%SZ}"
        if fmt == "iso":
            return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if fmt == "us":
            return str(int(t.timestamp()) * 1_000_000)
        if fmt == "day":
            midnight = datetime(t.year, t.month, t.day, tzinfo=UTC)
            return str(int(midnight.timestamp()))
        if fmt == "Y":
            return f"{t:%Y}"
        if fmt == "m":
            return f"{t:%m}"
        if fmt == "d":
            return f"{t:%d}"
        raise ValueError(f"unknown snapshot date format {fmt!r}")

    return _PLACEHOLDER.sub(repl, text)


def snapshot_text(name: str) -> str:
    """Raw (unrendered) bundled snapshot."""
    return resources.files("monitor.offline.snapshots").joinpath(name).read_text(encoding="utf-8")


def snapshot_names() -> list[str]:
    return sorted(
        p.name
        for p in resources.files("monitor.offline.snapshots").iterdir()
        if p.name.endswith((".json", ".jsonl", ".xml", ".rss"))
    )


@dataclass(frozen=True, slots=True)
class _Event:
    """One recorded Jetstream event: its time, collection (None: not a commit) and the frame sent."""

    time_us: int
    collection: str | None
    line: str


def _events(text: str) -> list[_Event]:
    """A rendered recording, one JSON event per line, in time order (the microseconds of a line keep its place)."""
    events: list[_Event] = []
    for n, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        event = json.loads(line)
        commit = event.get("commit")
        event["time_us"] += n  # distinct, increasing times, as a real stream has
        collection = commit.get("collection") if isinstance(commit, dict) else None
        events.append(_Event(event["time_us"], collection, json.dumps(event, ensure_ascii=False)))
    events.sort(key=lambda e: e.time_us)
    return events


@dataclass(frozen=True, slots=True)
class _Payload:
    body: bytes
    content_type: str
    etag: str


def _payload(body: str, content_type: str) -> _Payload:
    data = body.encode("utf-8")
    return _Payload(data, content_type, '"' + hashlib.sha256(data).hexdigest()[:20] + '"')


class ReplayServer:
    """aiohttp.web app on 127.0.0.1 (port 0 = any free port) replaying the bundled snapshots."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, now: Callable[[], datetime] | None = None) -> None:
        self.host = host
        self.port = port
        self._now = now or (lambda: datetime.now(UTC))
        self._runner: web.AppRunner | None = None
        self._payloads: dict[str, _Payload] = {}
        self._jetstream: list[_Event] = []
        self._sockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()
        self._start: datetime | None = None
        self.base_url = ""
        self.requests: list[str] = []  # paths served, for tests and `--offline` diagnostics

    # -- app ------------------------------------------------------------------------
    def _render_all(self) -> None:
        now = self._now()
        self._start = now
        self._payloads = {
            path: _payload(render_template(snapshot_text(name), now), ctype)
            for path, (name, ctype) in STATIC_ROUTES.items()
        }
        # Relative to the minute: the recorded posts fall in the same 60-second buckets whenever the replay starts.
        minute = now.replace(second=0, microsecond=0)
        self._jetstream = _events(render_template(snapshot_text(JETSTREAM_FILE), minute))

    def _respond(self, request: web.Request, payload: _Payload) -> web.Response:
        self.requests.append(request.path)
        inm = request.headers.get("If-None-Match", "")
        if payload.etag in [t.strip() for t in inm.split(",")]:
            return web.Response(status=304, headers={"ETag": payload.etag})
        return web.Response(
            body=payload.body,
            headers={"Content-Type": payload.content_type, "ETag": payload.etag, "Cache-Control": "max-age=60"},
        )

    async def _static(self, request: web.Request) -> web.StreamResponse:
        payload = self._payloads.get(request.path)
        if payload is None:
            raise web.HTTPNotFound()
        return self._respond(request, payload)

    async def _wikimedia(self, request: web.Request) -> web.StreamResponse:
        mi = request.match_info
        try:
            day = date(int(mi["y"]), int(mi["m"]), int(mi["d"]))
        except ValueError:
            raise web.HTTPBadRequest(text="invalid date") from None
        assert self._start is not None
        today = self._start.astimezone(UTC).date()
        if day >= today or day < today - timedelta(days=30):
            # What the real AQS answers for a day not yet published.
            self.requests.append(request.path)
            return web.Response(
                status=404,
                text=WIKIMEDIA_404 % request.path,
                headers={"Content-Type": "application/problem+json"},
            )
        key = f"wikimedia:{mi['project']}:{day.isoformat()}"
        if key not in self._payloads:
            at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
            body = render_template(snapshot_text(WIKIMEDIA_FILE), at).replace("__PROJECT__", mi["project"])
            self._payloads[key] = _payload(body, JSON)
        return self._respond(request, self._payloads[key])

    async def _subscribe(self, request: web.Request) -> web.StreamResponse:
        """The Jetstream websocket: the recording from `cursor`, only the wanted collections, then quiet."""
        self.requests.append(request.path)
        wanted = set(request.query.getall("wantedCollections", []))
        cursor = request.query.get("cursor", "")
        start = int(cursor) if cursor.isdigit() else 0
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        for event in self._jetstream:
            if event.time_us >= start and (not wanted or event.collection is None or event.collection in wanted):
                await ws.send_str(event.line)
        keepalive = asyncio.create_task(self._account_events(ws))
        try:
            async for _ in ws:  # the client sends nothing; wait until it (or the server) closes
                pass
        finally:
            keepalive.cancel()
        return ws

    async def _account_events(self, ws: web.WebSocketResponse) -> None:
        """After the recording, an `account` event now and then every few seconds: the real stream is live and never silent."""
        while not ws.closed:
            time_us = int(self._now().timestamp() * 1e6)
            event = {
                "did": REPLAY_DID,
                "time_us": time_us,
                "kind": "account",
                "account": {"active": True, "did": REPLAY_DID},
            }
            try:
                await ws.send_str(json.dumps(event))
            except ConnectionError:
                return
            await asyncio.sleep(JETSTREAM_KEEPALIVE_S)

    async def _close_sockets(self, app: web.Application) -> None:
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")

    def make_app(self) -> web.Application:
        self._render_all()
        app = web.Application()
        for path in STATIC_ROUTES:
            app.router.add_get(path, self._static)
        app.router.add_get(JETSTREAM_PATH, self._subscribe)
        app.on_shutdown.append(self._close_sockets)
        app.router.add_get(WIKIMEDIA_TOP_PATH + r"/{project}/{access}/{y:\d{4}}/{m:\d{2}}/{d:\d{2}}", self._wikimedia)
        return app

    # -- lifecycle --------------------------------------------------------------------
    async def start(self) -> str:
        """Start listening; returns the base URL, e.g. "http://127.0.0.1:38211"."""
        if self._runner is not None:
            return self.base_url
        runner = web.AppRunner(self.make_app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        addresses = runner.addresses
        port = int(addresses[0][1]) if addresses else self.port
        self.port = port
        self.base_url = f"http://{self.host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ReplayServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
