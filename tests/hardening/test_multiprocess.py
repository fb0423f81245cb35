"""Two real `onda watch` processes on one SQLite file: each alert is delivered once, each source polled once.

Both processes run the shipped watch loop (`watch_harness.py`: run_watch, MonitorService, AlertDispatcher,
outbox) against one loopback feed and one loopback fake Slack that answers slowly, so both processes'
flushes overlap. Before claims and leases the same drill gave 100 POSTs for 51 alerts.
"""

from __future__ import annotations

import asyncio
import hashlib
import signal
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

from aiohttp import web
from fakes import wait_for
from hardening_support import Proc, json_response, onda_env
from test_faults_signals import start_harness

N_TOPICS = 24


def topics() -> dict[str, Any]:
    """Unrelated stories that all fit the keyword brand: five random words each besides "caffè"
    (checked: clustering keeps them as 24 separate trends)."""
    return {"topics": [{"topic": "caffè " + " ".join(_word(i, k) for k in range(1, 6))} for i in range(N_TOPICS)]}


def _word(i: int, k: int) -> str:
    digest = hashlib.sha256(f"{i}:{k}".encode()).digest()
    return "".join(chr(97 + b % 26) for b in digest[:8])


def outbox_rows(db: Path) -> list[tuple[str, str, str | None]]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT dedupe_key, status, claimed_by FROM alert_outbox ORDER BY id").fetchall()
    finally:
        con.close()


async def test_two_watchers_on_one_db_send_each_alert_once_and_poll_each_source_once(
    serve: Any, tmp_path: Path
) -> None:
    polls: list[str] = []
    answered: Counter[str] = Counter()  # Slack message text -> 200s given

    async def feed(request: web.Request) -> web.StreamResponse:
        polls.append(request.path)
        return json_response(topics())

    async def slack(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        await asyncio.sleep(0.15)  # slow enough that the two processes' flushes overlap
        answered[str(body.get("text"))] += 1
        return web.Response(text="ok")

    source = await serve(feed)
    hook = await serve(slack)
    env = onda_env(
        tmp_path,
        ONDA_SLACK__WEBHOOK_URL=hook.base_url + "/services/T000/B000/XXXXSECRET",
        ONDA_ALERTS__MAX_PER_HOUR="1000",
        ONDA_ALERTS__REQUIRE_RISING="false",
        ONDA_ALERTS__COOLDOWN_MIN="0",
    )
    db = Path(env["ONDA_STORAGE__PATH"])
    url = source.base_url + "/xrpc/topics"
    first = await start_harness(tmp_path, url, env=env)
    second = await start_harness(tmp_path, url, env=env)
    runs: list[Proc] = [first, second]
    try:
        try:
            await wait_for(lambda: db.exists() and _sent(db) >= N_TOPICS, within=60)
        except AssertionError:
            details = await _diagnose(runs)
            raise AssertionError(f"only {_sent(db)} of {N_TOPICS} alerts sent; polls {polls}; {details}") from None
        await asyncio.sleep(6.5)  # room for any duplicate, and for the viewer's sync tick (every 5 s)
    finally:
        for run in runs:
            if run.proc.returncode is None:
                run.proc.send_signal(signal.SIGTERM)
        codes = [await run.finish(within=30) for run in runs]
    assert codes == [0, 0], [r.stderr.decode()[-2000:] for r in runs]

    rows = outbox_rows(db)
    assert len(rows) == N_TOPICS and {status for _, status, _ in rows} == {"sent"}, rows
    assert all(claimed is None for _, _, claimed in rows)  # finished rows keep no claim
    assert len(answered) == N_TOPICS, f"{len(answered)} distinct alerts reached Slack"
    assert set(answered.values()) == {1}, f"duplicates: {[t for t, n in answered.items() if n > 1]}"
    assert len(polls) == 1, f"the source was polled {len(polls)} times by two processes"

    events = [run.events() for run in runs]
    viewers = [
        i
        for i, evs in enumerate(events)
        if any(e["event"] == "status" and e.get("topic") == "leases" and e.get("viewing") for e in evs)
    ]
    assert len(viewers) == 1, "exactly one process says it is viewing the other's source"
    viewer, poller = events[viewers[0]], events[1 - viewers[0]]
    assert any(e["event"] == "trend" and e["source"] == "bluesky" for e in poller)
    # the viewer shows the poller's stored results as trend events, and alerts on none of them itself
    assert any(e["event"] == "trend" and e["source"] == "store" for e in viewer)
    assert not [e for e in viewer if e["event"] == "alert_queued"]
    sent_by = [sum(1 for e in evs if e["event"] == "alert_sent") for evs in events]
    assert sum(sent_by) == N_TOPICS, sent_by  # each alert recorded as sent by exactly one process
    assert min(sent_by) >= 1, f"the two flushes did not overlap ({sent_by}): the drill proved nothing"


def _sent(db: Path) -> int:
    try:
        con = sqlite3.connect(db, timeout=5)
        try:
            return int(con.execute("SELECT COUNT(*) FROM alert_outbox WHERE status='sent'").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


async def _diagnose(runs: list[Proc]) -> str:
    for run in runs:
        if run.proc.returncode is None:
            run.proc.send_signal(signal.SIGTERM)
        await run.finish(within=30)
    return " | ".join(f"stdout {r.stdout.decode()[-1500:]} stderr {r.stderr.decode()[-1500:]}" for r in runs)
