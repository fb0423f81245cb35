"""Fault drills: the real `onda watch` against misbehaving loopback servers; one table of alerts kept and lost.

Every drill starts the shipped command as a subprocess (`python -m monitor --config DRILL.toml watch`,
real model, real sources, real outbox, real Slack sender) with the Slack webhook pointed at a fake
Slack on 127.0.0.1 and the RSS source pointed at a feed server on 127.0.0.1; every other source is
off. Counts come from the fake Slack's side (POSTs received, 200 answers per alert) and from the
outbox (alerts queued). "lost" = an alert that was queued, or that a good story should have queued,
and never got a 200; a permanent refusal (HTTP 404) is "failed", not lost.

    python bench/fault_drills.py [--only NAME[,NAME]] [--keep]

Servers and processes are bounded: at most two `onda watch` and three servers at a time, every
wait has a deadline, everything listens on 127.0.0.1 only. The disk-full drill mounts a small
tmpfs when it can (root, `mount -t tmpfs`) and says which method was used.

The fake Slack, the loopback server and the process wrapper are the test suite's
(tests/alerts/alerts_support.py, tests/hardening/hardening_support.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from _common import REPO, load_avg, md_table, write_result

sys.path.insert(0, str(REPO / "tests" / "hardening"))
sys.path.insert(0, str(REPO / "tests" / "alerts"))
from aiohttp import web
from alerts_support import FakeSlack
from hardening_support import PYTHON, LoopbackServer, Proc, flood, onda_env

BRAND = REPO / "examples" / "brands" / "lavazza.toml"
# Stories that are each their own trend and a clear fit for the Lavazza example brand (fit 0.74-0.99 with
# the default model); every drill serves them from its good feed.
STORIES = [
    "World Barista Championship winner",
    "Calendario Lavazza 2027",
    "moka o espresso",
    "coffee farmers adapt to climate change",
    "colazione perfetta",
]
LATE_STORIES = [
    "Campionato italiano baristi 2026",
    "Australian Open 2027 schedule",
]  # disk-full drill: arrive while full
SECRET_PARTS = ("T0DRILL42", "B0DRILL42", "XXdrillSECRETtoken4242")
SLACK_PATH = "/services/" + "/".join(SECRET_PARTS)
TIMEOUT_S = 2.0  # [http] total_timeout_s in every drill: hung Slack POSTs and slowloris feeds give up after 2 s
FLUSH_TICK_S = 5.0  # MonitorService's alert flush interval: a retry waits for the next tick
CONTEXT_RE = re.compile(r"trend (\S+)$")


# -- feeds ------------------------------------------------------------------------------------------------------
def rss(titles: list[str]) -> bytes:
    items = "".join(
        f"<item><title>{t}</title><link>https://example.com/{abs(hash(t))}</link><guid>{abs(hash(t))}</guid></item>"
        for t in titles
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>drill</title><language>it</language>'
        f"{items}</channel></rss>"
    ).encode()


async def malformed(request: web.Request) -> web.StreamResponse:
    return web.Response(body=b"\x00\xff<rss><channel><item><title>\x01\x02 no end", content_type="application/rss+xml")


_BOMB: list[bytes] = []


def gzip_bomb() -> bytes:
    """256 MiB of zeros gzipped to ~250 KB (built once)."""
    if not _BOMB:
        comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
        zeros = b"\0" * (1 << 20)
        _BOMB.append(b"".join([*(comp.compress(zeros) for _ in range(256)), comp.flush()]))
    return _BOMB[0]


async def bomb(request: web.Request) -> web.StreamResponse:
    return web.Response(body=gzip_bomb(), headers={"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"})


async def redirect_loop(request: web.Request) -> web.StreamResponse:
    there = "/bad2.xml" if request.path == "/bad.xml" else "/bad.xml"
    raise web.HTTPFound(there)


async def slowloris(request: web.Request) -> web.StreamResponse:
    """Headers at once, then one byte every 0.3 s, forever: only a total deadline ends it."""
    resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
    await resp.prepare(request)
    try:
        await resp.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
        for _ in range(600):
            await asyncio.sleep(0.3)
            await resp.write(b" ")
    except (ConnectionError, RuntimeError):
        pass
    return resp


BAD_FEEDS: dict[str, tuple[Callable[[web.Request], Awaitable[web.StreamResponse]], str]] = {
    "malformed": (malformed, "binary junk with an unclosed <rss>"),
    "huge": (flood, "10 MB streamed, no Content-Length (cap 5 MB)"),
    "gzip-bomb": (bomb, "250 KB gzip inflating to 256 MiB"),
    "redirect-loop": (redirect_loop, "302 /bad.xml <-> /bad2.xml"),
    "slowloris": (slowloris, "1 byte / 0.3 s, never ends"),
}


# -- results -------------------------------------------------------------------------------------------------------
@dataclass
class Row:
    drill: str
    what: str
    queued: int = 0  # outbox rows
    posts: int = 0  # POSTs the fake Slack received
    delivered: int = 0  # distinct alerts answered 200
    duplicates: int = 0  # alerts answered 200 more than once
    lost: int = 0  # queued (or due) alerts never answered 200, not failed for good
    resent: int = 0  # at-least-once re-sends: POSTed again after a crash cut the first POST short
    failed: int = 0  # refused for good (4xx): reported, not retried, not lost
    checks: list[str] = field(default_factory=list)
    ok: bool = True
    skipped: bool = False
    seconds: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)

    def check(self, cond: bool, text: str) -> None:
        self.checks.append(text if cond else f"FAILED: {text}")
        self.ok = self.ok and cond


def slack_key(body: bytes) -> str:
    """The alert a Slack message is for: `kind:trend_id` from the message's context line."""
    try:
        msg = json.loads(body)
        context = msg["blocks"][-1]["elements"][0]["text"]
        kind = context.split(" · ")[1]
        m = CONTEXT_RE.search(context)
        return f"{kind}:{m.group(1) if m else '?'}"
    except (ValueError, KeyError, IndexError, TypeError):
        return "?"


def outbox(db: Path) -> list[dict[str, Any]]:
    if not db.exists():
        return []
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            rows = con.execute(
                "SELECT trend_id, kind, status, attempts, last_error, payload FROM alert_outbox ORDER BY id"
            ).fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return []
    return [
        {
            "key": f"{kind}:{tid}",
            "status": status,
            "attempts": attempts,
            "error": err,
            "title": json.loads(payload).get("title"),
        }
        for tid, kind, status, attempts, err, payload in rows
    ]


def health(db: Path) -> dict[str, tuple[int, str | None]]:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            rows = con.execute("SELECT name, consecutive_failures, last_error FROM source_health").fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return {}
    return {name: (fails, err) for name, fails, err in rows}


# -- the rig: servers, config, processes ------------------------------------------------------------------------
class Rig:
    """One drill's loopback feed server, fake Slack, config file, database and `onda watch` processes."""

    def __init__(self, root: Path, name: str, cache: Path) -> None:
        self.dir = root / name
        self.dir.mkdir(parents=True)
        self.cache = cache
        self.db = self.dir / "onda.db"
        self.stories = list(STORIES)
        self.bad: Callable[[web.Request], Awaitable[web.StreamResponse]] | None = None
        self.feed = LoopbackServer(self._feed)
        self.fake = FakeSlack()
        self.slack = LoopbackServer(self.fake.handle)
        self.procs: list[Proc] = []
        self.started = time.monotonic()

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        if request.path == "/good.xml":
            return web.Response(body=rss(self.stories), content_type="application/rss+xml")
        if self.bad is not None:
            return await self.bad(request)
        return web.Response(status=404)

    async def start(self, *, bad: bool = False, rss_interval_s: float = 900.0, db: Path | None = None) -> None:
        self.db = db or self.db
        await self.feed.start()
        await self.slack.start()
        self.fake.base_url = self.slack.base_url
        feeds = [f"{self.feed.base_url}/good.xml"] + ([f"{self.feed.base_url}/bad.xml"] if bad else [])
        off = "\n".join(
            f"[sources.{s}]\nenabled = false" for s in ("google_trends", "gdelt", "wikipedia", "mastodon", "bluesky")
        )
        (self.dir / "drill.toml").write_text(
            f"""[brand]
files = [{json.dumps(str(BRAND))}]
[sources]
jitter = 0.0
{off}
[sources.rss]
interval_s = {rss_interval_s}
feeds = {json.dumps(feeds)}
[risk]
factcheck_feeds = []
[alerts]
require_rising = false
cooldown_min = 0
max_per_hour = 1000
[http]
total_timeout_s = {TIMEOUT_S}
connect_timeout_s = 1.0
max_backoff_s = 2.0
""",
            encoding="utf-8",
        )

    @property
    def webhook(self) -> str:
        return self.slack.base_url + SLACK_PATH

    async def watch(self) -> Proc:
        env = onda_env(
            self.dir,
            ONDA_CONFIG=str(self.dir / "drill.toml"),
            ONDA_STORAGE__PATH=str(self.db),
            ONDA_MODEL__CACHE_DIR=str(self.cache),
            ONDA_SLACK__WEBHOOK_URL=self.webhook,
            PYTHONPATH=str(REPO),
        )
        proc = await asyncio.create_subprocess_exec(
            PYTHON,
            "-m",
            "monitor",
            "watch",
            cwd=str(self.dir),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        run = Proc(proc)
        self.procs.append(run)
        return run

    def settled(self, expect: list[str]) -> bool:
        """Every expected story has its alert in the outbox and no alert is still pending."""
        rows = outbox(self.db)
        titles = {r["title"] for r in rows}
        return all(t in titles for t in expect) and all(r["status"] != "pending" for r in rows)

    async def until(self, cond: Callable[[], bool], within: float) -> bool:
        deadline = time.monotonic() + within
        while not cond():
            if time.monotonic() > deadline:
                return False
            if self.procs and all(p.proc.returncode is not None for p in self.procs):
                return cond()
            await asyncio.sleep(0.2)
        return True

    async def stop(self) -> list[int | None]:
        codes: list[int | None] = []
        for run in self.procs:
            if run.proc.returncode is None:
                run.proc.send_signal(signal.SIGTERM)
        for run in self.procs:
            try:
                codes.append(await run.finish(within=30))
            except TimeoutError:
                run.proc.kill()
                await run.finish(within=10)
                codes.append(None)
        await self.feed.stop()
        await self.slack.stop()
        return codes

    def tally(self, row: Row, expect: list[str], *, cut_by_crash: set[str] | None = None) -> None:
        """Fill the counts from the fake Slack's records and the outbox."""
        rows = outbox(self.db)
        row.queued = len(rows)
        row.posts = len(self.fake.requests)
        answered = Counter(slack_key(r.body) for r in self.fake.requests if r.status == 200)
        received = Counter(slack_key(r.body) for r in self.fake.requests)
        row.delivered = len(answered)
        row.duplicates = sum(1 for n in answered.values() if n > 1)
        cut = cut_by_crash or set()
        row.resent = sum(received[k] - 1 for k in cut if received[k] > 1)
        row.failed = sum(1 for r in rows if r["status"] == "failed")
        queued_titles = {r["title"] for r in rows}
        never_queued = [t for t in expect if t not in queued_titles]
        unanswered = [r for r in rows if r["status"] != "failed" and answered[r["key"]] == 0]
        row.lost = len(never_queued) + len(unanswered)
        row.detail.update(
            {
                "outbox": [{k: r[k] for k in ("title", "status", "attempts", "error")} for r in rows],
                "never_queued": never_queued,
                "answers": [r.status for r in self.fake.requests],
            }
        )
        row.seconds = round(time.monotonic() - self.started, 1)

    def events(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for run in self.procs:
            for line in run.stdout.decode(errors="replace").splitlines():
                with contextlib.suppress(ValueError):
                    out.append(json.loads(line))
        return out

    def stderr(self) -> str:
        return "\n".join(run.stderr.decode(errors="replace") for run in self.procs)


def clean_exit(row: Row, rig: Rig, codes: list[int | None]) -> None:
    trace = "Traceback" in rig.stderr()
    row.check(all(c == 0 for c in codes) and not trace, f"exit {codes}" + (" with a traceback" if trace else ""))
    if not row.ok:
        row.detail["stderr"] = rig.stderr()[-3000:]


# -- Slack drills -------------------------------------------------------------------------------------------------
async def slack_drill(
    root: Path, cache: Path, name: str, what: str, script: list[tuple[Any, ...]], default: tuple[Any, ...] = ("ok",)
) -> Row:
    row = Row(name, what)
    rig = Rig(root, name, cache)
    rig.fake.script = list(script)
    rig.fake.default = default
    await rig.start()
    await rig.watch()
    done = await rig.until(lambda: rig.settled(STORIES), within=90)
    await asyncio.sleep(1.0)  # room for a stray second POST
    codes = await rig.stop()
    rig.tally(row, STORIES)
    row.check(done, "outbox settled")
    clean_exit(row, rig, codes)
    if default[0] == "echo":
        texts = [r["error"] or "" for r in row.detail["outbox"]] + [rig.stderr()] + [json.dumps(rig.events())]
        leaks = [part for part in (*SECRET_PARTS, rig.webhook) if any(part in t for t in texts)]
        row.check(not leaks, "no secret in outbox errors, events or logs" + (f" (found {leaks})" if leaks else ""))
        row.detail["stored_error"] = row.detail["outbox"][0]["error"] if row.detail["outbox"] else None
        row.check(row.failed == len(STORIES) and row.posts == len(STORIES), "each alert failed once, not retried")
    else:
        row.check(row.delivered == len(STORIES), f"{row.delivered}/{len(STORIES)} alerts delivered")
    return row


async def slack_down(root: Path, cache: Path) -> Row:
    """Slack not listening (connection refused) until the watcher has failed twice, then back on the same URL."""
    row = Row("slack down", "connection refused for two attempts, then up on the same port")
    rig = Rig(root, "slack-down", cache)
    await rig.start()
    port = rig.slack.port
    await rig.slack.stop()
    await rig.watch()
    refused = await rig.until(lambda: any(r["attempts"] >= 2 for r in outbox(rig.db)), within=90)
    await rig.slack.start(port)
    done = await rig.until(lambda: rig.settled(STORIES), within=60)
    await asyncio.sleep(1.0)
    codes = await rig.stop()
    rig.tally(row, STORIES)
    row.check(refused, "refused twice while down")
    row.check(done, "outbox settled")
    clean_exit(row, rig, codes)
    row.check(row.delivered == len(STORIES), f"{row.delivered}/{len(STORIES)} alerts delivered")
    return row


async def kill_mid_send(root: Path, cache: Path) -> Row:
    """kill -9 while Slack holds the third POST (Slack has the message, the answer never arrives); restart."""
    row = Row("kill -9 mid-send", "SIGKILL while POST 3 is in flight, then restart on the same DB")
    rig = Rig(root, "kill-9", cache)
    rig.fake.script = [("ok",), ("ok",), ("hang", 60)]
    await rig.start()
    first = await rig.watch()
    cut = await rig.until(lambda: len(rig.fake.requests) >= 3, within=90)
    in_flight = {slack_key(r.body) for r in rig.fake.requests if r.status == 0}
    first.proc.kill()
    await first.finish(within=10)
    killed_at = time.monotonic()
    await rig.watch()
    # The dead process's claim on the in-flight row lasts total_timeout_s + 60 s; then the restart re-sends it.
    done = await rig.until(lambda: rig.settled(STORIES), within=120)
    resend_after = round(time.monotonic() - killed_at, 1)
    await asyncio.sleep(1.0)
    codes = await rig.stop()
    rig.tally(row, STORIES, cut_by_crash=in_flight)
    row.check(cut and len(in_flight) == 1, "killed with one POST in flight")
    row.check(done, f"outbox settled {resend_after:.0f} s after the kill (the dead claim expires after 62 s)")
    row.check(codes[1:] == [0], f"restart exit {codes[1:]}")
    row.check(row.delivered == len(STORIES), f"{row.delivered}/{len(STORIES)} alerts delivered")
    row.detail["resend_after_s"] = resend_after
    return row


# -- feed drills ---------------------------------------------------------------------------------------------------
async def feed_drill(root: Path, cache: Path, mode: str) -> Row:
    handler, what = BAD_FEEDS[mode]
    row = Row(f"feed: {mode}", what)
    rig = Rig(root, f"feed-{mode}", cache)
    rig.bad = handler
    await rig.start(bad=True)
    run = await rig.watch()
    bad = "rss:127.0.0.1/bad.xml"
    done = await rig.until(lambda: rig.settled(STORIES) and bad in health(rig.db), within=90)
    await asyncio.sleep(1.0)
    alive = run.proc.returncode is None
    codes = await rig.stop()
    rig.tally(row, STORIES)
    fails, error = health(rig.db).get(bad, (0, None))
    row.check(alive, "watcher survived")
    row.check(done, "good feed alerted")
    row.check(row.delivered == len(STORIES) and row.duplicates == 0, f"good feed: {row.delivered} alerts, once each")
    row.check(fails >= 1, f"bad feed health failed: {error}")
    clean_exit(row, rig, codes)
    row.detail["bad_feed_error"] = error
    return row


# -- disk full -------------------------------------------------------------------------------------------------------
def mount_small_disk(where: Path, size: str = "8m") -> str | None:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, check=False
    )
    return None if done.returncode == 0 else (done.stderr.decode().strip() or f"exit {done.returncode}")


def umount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def fill(db: Path, ballast: Path) -> Any:
    """Empty the WAL (so the watcher's next write must grow it), then take every free block."""
    result: Any = None
    try:
        con = sqlite3.connect(db, timeout=5)
        result = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        con.close()
    except sqlite3.Error as exc:
        result = str(exc)
    with ballast.open("wb", buffering=0) as f:
        for chunk in (65536, 4096, 512):
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * chunk)
    return result


async def disk_full(root: Path, cache: Path) -> Row:
    """The database on an 8 MB tmpfs that fills up while Slack answers the second POST; space returns 8 s later.

    While full, the "sent" of the acknowledged POST cannot be written, and two new stories arrive (the
    feed is polled every 3 s). Nothing may be re-POSTed, nothing lost.
    """
    row = Row("disk full", "")
    rig = Rig(root, "disk-full", cache)
    mount = rig.dir / "small-disk"
    why = mount_small_disk(mount)
    if why is not None:
        # A subprocess's SQLite cannot be capped from outside (max_page_count is per connection) and a loop
        # file needs the same privilege: tests/alerts/test_alert_disk_full.py covers the dispatcher with
        # max_page_count in-process.
        row.what = f"cannot mount a tmpfs here ({why})"
        row.skipped = True
        row.checks.append("SKIPPED (see tests/alerts/test_alert_disk_full.py)")
        return row
    row.what = "DB on an 8 MB tmpfs (mount -t tmpfs), filled while Slack answers POST 2; 2 stories arrive while full"
    ballast = mount / "ballast"
    full_at: list[float] = []
    checkpoint: list[Any] = []
    expect = STORIES + LATE_STORIES
    try:

        def fill_on_second(request: web.Request, body: bytes) -> tuple[int, str] | None:
            if len(rig.fake.requests) == 1 and not full_at:
                checkpoint.append(fill(rig.db, ballast))
                full_at.append(time.monotonic())
                rig.stories = expect  # new stories arrive while the disk is full
            return None

        rig.fake.checker = fill_on_second
        await rig.start(rss_interval_s=3.0, db=mount / "onda.db")
        run = await rig.watch()
        await rig.until(lambda: bool(full_at), within=90)
        await asyncio.sleep(8.0)
        posts_while_full = len(rig.fake.requests)
        ballast.unlink(missing_ok=True)
        done = await rig.until(lambda: rig.settled(expect), within=60)
        await asyncio.sleep(1.0)
        alive = run.proc.returncode is None
        codes = await rig.stop()
        rig.tally(row, expect)  # before the tmpfs (and the database on it) goes away
    finally:
        umount(mount)
    row.detail["checkpoint"] = checkpoint
    events = rig.events()
    at_risk = [e for e in events if e.get("event") == "status" and "alerts at risk" in str(e.get("message"))]
    store_errors = [e for e in events if e.get("event") == "status" and e.get("kind") == "error"]
    row.detail["status_events"] = [e for e in events if e.get("event") == "status" and e.get("kind") != "model_loading"]
    at_risk_n = max((int(e.get("alerts_at_risk") or 0) for e in at_risk), default=0)
    row.check(bool(full_at), "disk filled during POST 2")
    row.check(bool(at_risk), f"'alerts at risk' reported ({at_risk_n} at first; {len(store_errors)} error events)")
    row.check(posts_while_full <= 2, f"{posts_while_full} POSTs while full (nothing new sent, nothing re-sent)")
    row.check(alive and done, "watcher survived and caught up")
    row.check(row.delivered == len(expect), f"{row.delivered}/{len(expect)} alerts delivered")
    clean_exit(row, rig, codes)
    return row


# -- two processes -------------------------------------------------------------------------------------------------
async def two_processes(root: Path, cache: Path) -> Row:
    row = Row("two processes", "two `onda watch` on one DB, slow Slack (0.3 s per answer)")
    rig = Rig(root, "two-processes", cache)

    async def slow_ok(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.3)
        return await rig.fake.handle(request)

    rig.slack = LoopbackServer(slow_ok)
    await rig.start()
    await rig.watch()
    await rig.watch()
    done = await rig.until(lambda: rig.settled(STORIES), within=90)
    await asyncio.sleep(2.0)  # room for a duplicate
    alive = all(p.proc.returncode is None for p in rig.procs)
    codes = await rig.stop()
    rig.tally(row, STORIES)
    polls = [p for p in rig.feed.requests if p.startswith("/good.xml")]
    sent_by = [sum(1 for line in p.stdout.decode().splitlines() if '"event": "alert_sent"' in line) for p in rig.procs]
    row.check(alive and done, "both alive, outbox settled")
    row.check(len(polls) == 1, f"feed polled {len(polls)}x by two processes")
    row.check(sum(sent_by) == len(STORIES), f"alert_sent per process {sent_by}")
    row.check(row.delivered == len(STORIES), f"{row.delivered}/{len(STORIES)} alerts delivered")
    clean_exit(row, rig, codes)
    return row


# -- main ------------------------------------------------------------------------------------------------------------
DrillFn = Callable[[Path, Path], Awaitable[Row]]


def drills() -> dict[str, DrillFn]:
    def slack(name: str, what: str, script: list[tuple[Any, ...]], default: tuple[Any, ...] = ("ok",)) -> DrillFn:
        return lambda root, cache: slack_drill(root, cache, name, what, script, default)

    out: dict[str, DrillFn] = {
        "slack-ok": slack("slack ok", "baseline: Slack answers ok", []),
        "slack-429": slack("slack 429 storm", "first 3 POSTs: 429, Retry-After: 1", [("429", 1)] * 3),
        "slack-500": slack("slack 500s", "first 3 POSTs: 500, then ok", [("status", 500, "internal_error")] * 3),
        "slack-hang": slack(
            "slack hangs", f"first 2 POSTs never answered (client timeout {TIMEOUT_S:g} s)", [("hang", 10)] * 2
        ),
        "slack-down": slack_down,
        "slack-echo-404": slack(
            "slack echo-404", "every POST: 404 whose body echoes the webhook URL", [], ("echo", 404)
        ),
    }
    for mode in BAD_FEEDS:
        out[f"feed-{mode}"] = lambda root, cache, mode=mode: feed_drill(root, cache, mode)
    out["disk-full"] = disk_full
    out["two-processes"] = two_processes
    out["kill-9"] = kill_mid_send
    return out


async def amain(only: list[str] | None, keep: bool, jobs: int) -> list[Row]:
    table = drills()
    names = [n for n in table if not only or n in only]
    root = Path(tempfile.mkdtemp(prefix="onda-drills-"))
    cache = root / "shared-cache"  # FAISS brand index built once, reused by every drill
    rows: dict[str, Row] = {}
    try:
        gzip_bomb()
        if names:  # the first drill alone: it builds the shared index cache
            rows[names[0]] = await _run(table[names[0]], root, cache, names[0])
        # the longest drill first (kill -9 waits ~62 s for the dead process's claim), then the rest in order
        rest = sorted(names[1:], key=lambda n: n != "kill-9")
        slots = asyncio.Semaphore(max(1, jobs))

        async def one(name: str) -> None:
            async with slots:
                rows[name] = await _run(table[name], root, cache, name)

        await asyncio.gather(*(one(n) for n in rest))
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"drill files kept in {root}", file=sys.stderr)
    return [rows[n] for n in names if n in rows]


async def _run(fn: DrillFn, root: Path, cache: Path, name: str) -> Row:
    started = time.monotonic()
    print(f"[{time.strftime('%H:%M:%S')}] {name} ...", file=sys.stderr, flush=True)
    try:
        row = await fn(root, cache)
    except Exception as exc:  # a broken drill is a result, not a crash of the whole bench
        row = Row(name, "drill raised")
        row.check(False, f"{type(exc).__name__}: {exc}")
    row.seconds = round(time.monotonic() - started, 1)
    print(
        f"[{time.strftime('%H:%M:%S')}] {name}: {'ok' if row.ok else 'PROBLEM'} in {row.seconds} s; "
        + "; ".join(row.checks),
        file=sys.stderr,
        flush=True,
    )
    return row


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--only", default="", help="comma-separated drill names: " + ", ".join(drills()))
    p.add_argument("--keep", action="store_true", help="keep the drills' directories (databases, configs)")
    p.add_argument("--jobs", type=int, default=2, help="drills run side by side (default 2: one per core here)")
    args = p.parse_args()
    only = [n.strip() for n in args.only.split(",") if n.strip()] or None
    started = time.monotonic()
    load_before = load_avg()
    rows = asyncio.run(amain(only, args.keep, args.jobs))
    wall = round(time.monotonic() - started, 1)
    headers = [
        "drill",
        "what",
        "alerts queued",
        "POSTs received",
        "answered 200",
        "duplicates",
        "lost",
        "at-least-once re-sends",
        "failed (4xx)",
        "checks",
        "s",
    ]
    table = [
        [
            r.drill,
            r.what,
            r.queued,
            r.posts,
            r.delivered,
            r.duplicates,
            r.lost,
            r.resent,
            r.failed,
            ("" if r.skipped else "✓ " if r.ok else "✗ ") + "; ".join(r.checks),
            r.seconds,
        ]
        for r in rows
    ]
    print(md_table(headers, table))
    bad = [r.drill for r in rows if not r.ok or r.duplicates or r.lost]
    skipped = [r.drill for r in rows if r.skipped]
    print(
        f"\n{len(rows)} drills in {wall} s ({args.jobs} at a time), load {load_before} -> {load_avg()}; "
        + ("all passed: 0 duplicates, 0 lost" if not bad else f"PROBLEMS: {', '.join(bad)}")
        + (f"; skipped: {', '.join(skipped)}" if skipped else "")
    )
    if any(r.resent for r in rows):
        print(
            "at-least-once re-sends: a process killed while its POST is in flight never learns Slack's answer; "
            "the restart re-sends that one alert once the dead claim expires (documented window, not a duplicate)."
        )
    path = write_result(
        "fault_drills",
        {"wall_s": wall, "load_before": load_before, "load_after": load_avg(), "rows": [asdict(r) for r in rows]},
    )
    print(f"results: {path.relative_to(REPO)}")
    return 0 if not bad else 1


if __name__ == "__main__":
    raise SystemExit(main())
