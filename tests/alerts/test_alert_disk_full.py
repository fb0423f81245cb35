"""A disk that fills up mid-run: no acknowledged alert is POSTed twice, no decided alert is lost.

Two real ways to fill the disk:
- a 2 MB tmpfs holding the database, filled with a ballast file while Slack handles a POST (a real
  ENOSPC on the WAL append of "sent"); needs permission to mount, skipped otherwise;
- SQLite's `PRAGMA max_page_count` capped at the file's size (SQLITE_FULL on every insert, exactly
  what a full disk returns), which needs nothing special.
"""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from alerts_support import (
    Clock,
    Events,
    FakeSlack,
    make_dispatcher,
    make_settings,
    make_trend,
    make_verdict,
    trend_event,
)
from sqlite_pragmas import cap_pages, page_count, uncap_pages

from monitor.events import StatusEvent
from monitor.storage import Storage


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    """A full disk is a SQLite matter (a file capped with max_page_count): these tests run on SQLite only."""
    return str(tmp_path / "onda.db")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill_disk(storage: Storage, ballast: Path) -> None:
    """Empty the WAL (so the next write must grow it), then take every free block of the file system."""
    with contextlib.closing(sqlite3.connect(storage.path)) as con:  # any connection may checkpoint
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with ballast.open("wb", buffering=0) as f:
        for chunk in (65536, 4096, 512):
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * chunk)


def titles_posted(fake: FakeSlack) -> Counter[str]:
    return Counter(str(r.json["text"]) for r in fake.requests if r.status == 200)


async def test_sent_but_not_recorded_is_never_posted_again_and_unqueued_alerts_wait_for_space(
    small_disk: Path,
    slack_env: str,
    fake_slack: FakeSlack,
    session: aiohttp.ClientSession,
    events: Events,
    clock: Clock,
) -> None:
    storage = Storage(small_disk / "onda.db")
    ballast = small_disk / "ballast"

    def fill_while_slack_answers(request: web.Request, body: bytes) -> tuple[int, str] | None:
        if len(fake_slack.requests) == 0:
            fill_disk(storage, ballast)  # Slack posts the message; our "sent" write will meet a full disk
        return None

    fake_slack.checker = fill_while_slack_answers
    d = make_dispatcher(make_settings(), storage, session, events, clock)
    for i in range(3):
        d.consider(trend_event(make_trend(f"t{i}", f"Storia {i}"), make_verdict(f"t{i}")))
    await d.flush()
    assert len(fake_slack.requests) == 1, "nothing new is sent while a delivered alert is not recorded"
    assert d.alerts_at_risk == 1
    for _ in range(5):  # the old failure: every flush re-sent the acknowledged alert and blocked the rest
        clock.advance(seconds=5)
        await d.flush()
    assert len(fake_slack.requests) == 1
    # new alerts decided while the disk is full are kept in memory, not dropped
    for i in range(3, 6):
        assert d.consider(trend_event(make_trend(f"t{i}", f"Storia {i}"), make_verdict(f"t{i}"))) == []
    assert d.alerts_at_risk == 4
    at_risk = [e for e in events if isinstance(e, StatusEvent) and e.data.get("topic") == "alerts"]
    assert len(at_risk) == 1 and at_risk[0].kind == "error" and "alerts at risk" in at_risk[0].message

    ballast.unlink()  # space returns
    clock.advance(seconds=5)
    await d.flush()
    await d.close()
    rows = storage.outbox()
    assert len(rows) == 6 and {r.status for r in rows} == {"sent"}, [(r.id, r.status, r.last_error) for r in rows]
    posted = titles_posted(fake_slack)
    assert len(posted) == 6 and set(posted.values()) == {1}, posted
    notices = [e for e in events if isinstance(e, StatusEvent) and e.data.get("topic") == "alerts"]
    assert [e.kind for e in notices] == ["error", "notice"]  # one notice per episode, one on recovery
    assert notices[-1].data["alerts_at_risk"] == 0 and d.alerts_at_risk == 0
    storage.close()


async def test_alerts_that_cannot_be_queued_are_kept_bounded_and_written_when_space_returns(
    slack_env: str,
    fake_slack: FakeSlack,
    storage: Storage,
    session: aiohttp.ClientSession,
    events: Events,
    clock: Clock,
) -> None:
    settings = make_settings(alerts={"max_per_hour": 1000})
    d = make_dispatcher(settings, storage, session, events, clock, unqueued_max=30)
    d.consider(trend_event(make_trend("t0", "Storia 0"), make_verdict("t0")))
    cap_pages(storage, page_count(storage))  # the disk is full from here on
    big = ["x" * 3000]
    for i in range(1, 41):
        d.consider(trend_event(make_trend(f"t{i}", f"Storia {i}", context=big), make_verdict(f"t{i}")))
    await d.flush()
    assert d.alerts_at_risk == 30  # bounded: the 10 beyond the cap are dropped and counted
    assert len(storage.outbox()) <= 1 + 10  # whatever still fitted before the file was full
    stored_while_full = len(storage.outbox())
    at_risk = [e for e in events if isinstance(e, StatusEvent) and e.data.get("topic") == "alerts"]
    assert len(at_risk) == 1 and at_risk[0].data["alerts_at_risk"] >= 1

    uncap_pages(storage)  # space returns
    clock.advance(seconds=5)
    await d.flush()
    rows = storage.outbox()
    assert len(rows) == stored_while_full + 30
    assert {r.status for r in rows} == {"sent"}
    posted = titles_posted(fake_slack)
    assert set(posted.values()) == {1} and len(posted) == len(rows)
    recovery = [e for e in events if isinstance(e, StatusEvent) and e.data.get("topic") == "alerts"][-1]
    dropped = 40 - (len(rows) - 1)
    assert recovery.kind == "notice" and f"{dropped} alert(s) were dropped" in recovery.message
