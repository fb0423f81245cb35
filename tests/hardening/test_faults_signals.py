"""SIGTERM in the middle of a poll and of an alert POST: clean exit 0, outbox never loses nor repeats an alert.

`watch_harness.py` runs the shipped `onda watch` loop (run_watch: signal handlers, MonitorService,
AlertDispatcher, SQLite outbox) with a keyword scorer, as a subprocess. The source and Slack are
real aiohttp servers on 127.0.0.1 in this test process, so the test knows exactly when a request
is in flight and sends SIGTERM then.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hardening_support import PYTHON, REPO, Proc, json_response, onda_env
from pydantic import SecretStr

from monitor.alerts import AlertDispatcher
from monitor.config import Settings
from monitor.events import TrendEvent
from monitor.models import RiskAssessment, Trend, Verdict
from monitor.storage import Storage

HARNESS = Path(__file__).with_name("watch_harness.py")
TOPICS = {
    "topics": [
        {"topic": "caffè sospeso day", "link": "/profile/a/feed/1"},
        {"topic": "caffè e cornetto record", "link": "/profile/a/feed/2"},
        {"topic": "Sanremo 2027 ospiti"},
    ]
}


async def start_harness(tmp_path: Path, source_url: str, *extra: str, env: dict[str, str]) -> Proc:
    brand = tmp_path / "acme.toml"
    brand.write_text('[brand]\nname = "Acme"\ndna = ["caffè"]\n', encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        PYTHON,
        str(HARNESS),
        "--source",
        source_url,
        "--brand",
        str(brand),
        *extra,
        cwd=str(tmp_path),
        env={**env, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    return Proc(proc)


def outbox(db: Path) -> list[tuple[str, str, int]]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT dedupe_key, status, attempts FROM alert_outbox ORDER BY id").fetchall()
    finally:
        con.close()


async def test_sigterm_during_a_poll_exits_cleanly(serve: Any, tmp_path: Path) -> None:
    polled = asyncio.Event()

    async def hang(request: web.Request) -> web.StreamResponse:
        polled.set()
        await asyncio.sleep(30)
        return json_response(TOPICS)

    server = await serve(hang)
    run = await start_harness(tmp_path, server.base_url + "/xrpc/topics", "--no-analyser", env=onda_env(tmp_path))
    await asyncio.wait_for(polled.wait(), 30)
    sent_at = time.monotonic()
    run.proc.send_signal(signal.SIGTERM)
    code = await run.finish(within=15)
    stderr = run.stderr.decode()
    assert code == 0, stderr
    assert time.monotonic() - sent_at < 5, "SIGTERM waited for the hung poll"
    assert "Traceback" not in stderr and "Task was destroyed" not in stderr and "never retrieved" not in stderr
    events = run.events()
    assert events[-1] == {"event": "status", "kind": "stopped", "message": "monitor stopped"}
    assert not [e for e in events if e["event"] == "source_error"]  # a cancelled poll is not a source failure


def queue_alerts(db: Path, slack_url: str, titles: list[str]) -> None:
    """Alerts as the real policy queues them for fit trends (outbox rows, channel slack, status pending)."""
    settings = Settings()
    settings.slack.webhook_url = SecretStr(slack_url)
    storage = Storage(db)
    dispatcher = AlertDispatcher(settings, storage, None, [])
    now = datetime.now(UTC)
    for i, title in enumerate(titles):
        trend = Trend(id=f"t{i}", title=title, lang="it", first_seen=now, last_seen=now, sources=["bluesky"])
        verdict = Verdict(id=trend.id, verdict="fit", fit=0.9, matched="caffè", risk=RiskAssessment())
        assert dispatcher.consider(TrendEvent(trend=trend, verdicts={"Acme": verdict}, source="bluesky", is_new=True))
    storage.close()


async def test_sigterm_during_alert_send_then_restart_sends_each_alert_once(serve: Any, tmp_path: Path) -> None:
    received: list[str] = []  # Slack posts a message as soon as it has the request
    first_post = asyncio.Event()
    delay = {"s": 1.5}  # well inside the HTTP timeout: Slack does answer, just late

    async def slack(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        received.append(body.get("text") or json.dumps(body)[:200])
        first_post.set()
        await asyncio.sleep(delay["s"])  # Slack having a slow day: the answer comes late
        return web.Response(text="ok")

    source = await serve(lambda r: _json({"topics": []}))
    hook = await serve(slack)
    slack_url = hook.base_url + "/services/T000/B000/XXXX"
    env = onda_env(tmp_path, ONDA_SLACK__WEBHOOK_URL=slack_url)
    db = Path(env["ONDA_STORAGE__PATH"])
    queue_alerts(db, slack_url, ["caffè sospeso day", "caffè e cornetto record", "giornata del caffè"])
    assert [status for _, status, _ in outbox(db)] == ["pending"] * 3

    run = await start_harness(tmp_path, source.base_url + "/xrpc/topics", "--no-analyser", env=env)
    await asyncio.wait_for(first_post.wait(), 30)
    run.proc.send_signal(signal.SIGTERM)  # the first POST is on the wire, Slack has not answered yet
    code = await run.finish(within=20)
    stderr = run.stderr.decode()
    assert code == 0, stderr
    assert "Traceback" not in stderr and "never retrieved" not in stderr
    rows = outbox(db)
    assert {status for _, status, _ in rows} <= {"sent", "pending"}, rows
    sent_first = {key for key, status, _ in rows if status == "sent"}
    assert 1 <= len(received) < 3
    assert len(sent_first) == len(received), f"Slack got {len(received)} messages, outbox says {rows}"

    # Restart: Slack is fast again; the pending alerts go out, the sent ones do not.
    delay["s"] = 0.0
    again = await start_harness(tmp_path, source.base_url + "/xrpc/topics", "--once", "--no-analyser", env=env)
    code = await again.finish(within=30)
    assert code == 0, again.stderr.decode()
    rows = outbox(db)
    assert [status for _, status, _ in rows] == ["sent"] * 3, rows
    assert all(attempts == 1 for _, _, attempts in rows), rows
    counts = Counter(received)
    assert len(counts) == 3 and set(counts.values()) == {1}, f"Slack received {counts}"


async def _json(obj: Any) -> web.StreamResponse:
    return json_response(obj)


def test_reader_going_away_stops_watch_quietly(tmp_path: Path) -> None:
    """`onda watch | head -1`: the pipe closes under us; exit 0 without tracebacks or 'Exception ignored'."""
    import subprocess

    brand = tmp_path / "acme.toml"
    brand.write_text('[brand]\nname = "Acme"\ndna = ["caffè"]\n', encoding="utf-8")
    env = {**onda_env(tmp_path), "PYTHONPATH": str(REPO)}
    # Port 1 on loopback refuses at once: the poll fails and a source_error line is due right away.
    args = [PYTHON, str(HARNESS), "--source", "http://127.0.0.1:1/xrpc/topics", "--brand", str(brand), "--no-analyser"]
    proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line is written
    try:
        code = proc.wait(timeout=30)  # no --once: only the closed pipe can end this run
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    assert code == 0, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr and "never retrieved" not in stderr, stderr


@pytest.mark.model
async def test_real_onda_watch_offline_sigterm_mid_slack_post(serve: Any, tmp_path: Path) -> None:
    """The shipped command with the real model and replayed snapshots: SIGTERM while Slack is answering.

    Every message Slack received is marked sent; the rest stay pending for the next start.
    """
    received: list[str] = []
    first_post = asyncio.Event()

    async def slack(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        received.append(body.get("text") or "")
        first_post.set()
        await asyncio.sleep(1.5)
        return web.Response(text="ok")

    hook = await serve(slack)
    env = onda_env(tmp_path, ONDA_SLACK__WEBHOOK_URL=hook.base_url + "/services/T000/B000/XXXX")
    proc = await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        "monitor",
        "watch",
        "--offline",
        cwd=str(REPO),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    run = Proc(proc)
    try:
        await asyncio.wait_for(first_post.wait(), 120)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    code = await run.finish(within=30)
    stderr = run.stderr.decode()
    assert code == 0, stderr
    assert "Traceback" not in stderr
    events = run.events()
    assert any(e["event"] == "trend" for e in events)
    assert events[-1]["event"] == "status" and events[-1]["kind"] == "stopped"
    rows = outbox(Path(env["ONDA_STORAGE__PATH"]))
    assert rows and {status for _, status, _ in rows} <= {"sent", "pending"}, rows
    assert len([r for r in rows if r[1] == "sent"]) == len(received), (received, rows)
