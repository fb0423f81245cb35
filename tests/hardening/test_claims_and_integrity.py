"""Outbox claims and source leases between two connections on one store; integrity checks at start and during a run.

Two `Storage` objects on one SQLite file (or one PostgreSQL database) are two independent connections,
exactly what two processes have; the multi-process drill itself is in test_multiprocess.py.
"""

from __future__ import annotations

import asyncio
import shlex
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fakes import KeywordScorer
from hardening_support import PYTHON, REPO, onda_env
from sqlite_pragmas import page_count, pragma
from test_faults_storage import trend

from brand_dna.dna import BrandDNA
from monitor.clustering import Clusterer
from monitor.compose import HttpConnections
from monitor.config import Settings
from monitor.events import Event, StatusEvent
from monitor.service import MonitorService
from monitor.storage import Storage, StorageCorrupt, StorageError


def a_minute_on() -> datetime:
    """A minute after now: after the rows the test has just queued (they use the real clock)."""
    return datetime.now(UTC) + timedelta(minutes=1)


def queue(storage: Storage, n: int) -> list[int]:
    ids = []
    for i in range(n):
        alert_id = storage.enqueue_alert(
            dedupe_key=f"k{i}", brand="Acme", trend_id=f"t{i}", kind="opportunity", channel="slack", payload={}
        )
        assert alert_id is not None
        ids.append(alert_id)
    return ids


def test_a_row_is_claimed_by_one_connection_and_recorded_only_by_its_claimant(store_target: str) -> None:
    now = a_minute_on()
    a, b = Storage(store_target), Storage(store_target)
    ids = queue(a, 3)
    until = now + timedelta(seconds=60)
    got_a = a.claim_alerts(ids[:2], "A", until, now)
    got_b = b.claim_alerts(ids, "B", until, now)
    assert [r.id for r in got_a] == ids[:2] and [r.id for r in got_b] == [ids[2]]
    assert {r.id for r in b.due_alerts(now)} == set()  # claimed rows are nobody else's candidates
    assert not b.mark_sent(ids[0], now, claimant="B")  # not B's claim: nothing changes
    assert a.mark_sent(ids[0], now, claimant="A")
    assert not a.mark_sent(ids[0], now, claimant="A")  # sent once, recorded once
    # A dies holding ids[1]; once the claim expires B takes it over, and A's late answer is refused
    later = until + timedelta(seconds=1)
    assert [r.id for r in b.due_alerts(later)] == ids[1:]  # both claims have expired by now
    assert [r.id for r in b.claim_alerts([ids[1]], "B", later + timedelta(seconds=60), later)] == [ids[1]]
    assert not a.mark_sent(ids[1], later, claimant="A")
    assert b.mark_retry(ids[1], "HTTP 503", later, claimant="B")
    assert b.release_claims("B") == 1  # ids[2] goes back on a clean stop
    statuses = {r.id: (r.status, r.claimed_by) for r in a.outbox()}
    assert statuses == {ids[0]: ("sent", None), ids[1]: ("pending", None), ids[2]: ("pending", None)}
    a.close()
    b.close()


def test_one_process_leases_a_source_until_it_expires_or_is_released(store_target: str) -> None:
    now = a_minute_on()
    a, b = Storage(store_target), Storage(store_target)
    until = now + timedelta(seconds=60)
    assert a.acquire_lease("rss", "A", until, now) == "A"
    assert b.acquire_lease("rss", "B", until, now) == "A"
    assert a.acquire_lease("rss", "A", until + timedelta(seconds=30), now + timedelta(seconds=30)) == "A"  # renewal
    assert b.acquire_lease("rss", "B", until, until + timedelta(seconds=1)) == "A"  # renewed: still A's
    assert b.acquire_lease("rss", "B", until + timedelta(hours=1), until + timedelta(seconds=31)) == "B"
    assert b.lease_holders(until + timedelta(seconds=32)) == {"rss": "B"}
    assert b.release_leases("B") == 1
    assert a.acquire_lease("rss", "A", until, now) == "A"
    a.close()
    b.close()


def corrupt_middle(path: Path) -> None:
    """Fill a page in the middle of the file (not the header) with garbage, as a bad sector would."""
    storage = Storage(path)
    for i in range(300):
        storage.save_trend(trend(i, size=400))
    page_size = int(str(pragma(storage, "page_size")))
    pages = page_count(storage)
    storage.close()  # checkpoints the WAL into the file
    with path.open("r+b") as f:
        f.seek(page_size * (pages // 2))
        f.write(b"\xa5\x5a" * (page_size // 2))


def test_a_file_corrupted_in_the_middle_is_refused_at_start_with_the_backup_command(tmp_path: Path) -> None:
    path = tmp_path / "data dir" / "onda.db"
    corrupt_middle(path)
    with pytest.raises(StorageCorrupt) as info:
        Storage(path)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg and "corrupted" in msg
    command = msg.split("start afresh run: ", 1)[1]
    subprocess.run(command, shell=True, check=True)  # the command in the message works as printed
    assert not path.exists()
    kept = [p for p in path.parent.iterdir() if p.is_dir() and p.name.startswith("onda-corrupt-")]
    assert len(kept) == 1 and (kept[0] / "onda.db").exists()
    fresh = Storage(path)  # afresh
    assert fresh.recent_trends() == []
    fresh.close()
    assert shlex.split(command)[0] == "mkdir"


def test_watch_on_a_corrupted_file_exits_2_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "onda.db"
    corrupt_middle(path)
    proc = subprocess.run(
        [PYTHON, "-m", "monitor", "watch", "--offline", "--once", "--db", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=onda_env(tmp_path),
    )
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("onda watch: ") and str(path) in lines[0] and "mv -- " in lines[0]


def test_reads_raise_storage_error_only(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "onda.db")
    storage.save_trend(trend(1))
    with storage.transaction() as con:
        con.execute("DROP TABLE trends")  # a damaged schema: the read fails inside SQLite
    with pytest.raises(StorageError, match="cannot read database"):
        storage.recent_trends()
    with pytest.raises(StorageError):
        storage.get_trend("t1")
    storage.close()


async def test_a_store_that_keeps_failing_ends_in_a_fatal_status(tmp_path: Path, brand: BrandDNA) -> None:
    now = a_minute_on()
    settings = Settings()
    storage = Storage(tmp_path / "onda.db")
    scorer = KeywordScorer([brand])
    service = MonitorService(
        settings,
        storage=storage,
        scorer=scorer,
        connections=HttpConnections(settings, storage, sources=[]),
        clusterer=Clusterer(scorer.embedder, storage, lambda: now),
        store_failure_limit_s=0.3,
    )
    events: list[Event] = []
    service.subscribe(events.append)
    await service.start()
    try:
        with storage.transaction() as con:
            con.execute("DROP TABLE source_health")  # every health write fails from now on
        with pytest.raises(StorageError):
            storage.all_health()
        assert service.check_store() is None  # one failure is not fatal yet
        await asyncio.sleep(0.6)
        fatal = [e for e in events if isinstance(e, StatusEvent) and e.kind == "fatal"]
        assert len(fatal) == 1 and str(tmp_path / "onda.db") in fatal[0].message
    finally:
        await service.stop()
        storage.close()


@pytest.fixture
def brand() -> BrandDNA:
    return BrandDNA(name="Acme", dna=("caffè",))
