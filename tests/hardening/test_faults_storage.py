"""The database cannot be opened or fills up: StorageError with a clear line, nothing half-written.

"Disk full" is simulated with SQLite's own `PRAGMA max_page_count` (SQLITE_FULL, exactly what a
full disk returns). The process runs as root in CI containers, so read-only is simulated with
paths no user can create a database at (a file as parent directory, a directory, /proc).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from fakes import KeywordScorer
from hardening_support import PYTHON, REPO, json_response, onda_env, utcnow
from sqlite_pragmas import cap_pages, page_count, uncap_pages

from brand_dna.dna import BrandDNA
from monitor.alerts import AlertDispatcher
from monitor.clustering import Clusterer, TextAnalyser
from monitor.compose import HttpConnections
from monitor.config import Settings
from monitor.events import StatusEvent, TrendEvent
from monitor.models import RiskAssessment, Trend, Verdict
from monitor.service import MonitorService
from monitor.sources.bluesky import BlueskySource
from monitor.storage import SourceHealth, Storage, StorageError

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def trend(i: int, size: int = 200) -> Trend:
    return Trend(
        id=f"t{i}",
        title=f"story {i}",
        lang="it",
        first_seen=NOW,
        last_seen=NOW + timedelta(minutes=i),
        context=["x" * size],
        urls=[f"https://example.com/{i}"],
        sources=["rss"],
    )


def verdict(i: int) -> Verdict:
    return Verdict(id=f"t{i}", verdict="fit", fit=0.5, matched="m", risk=RiskAssessment())


def fill_up(storage: Storage) -> None:
    """Cap the file at its current size plus a few pages, so the next big writes hit SQLITE_FULL."""
    cap_pages(storage, page_count(storage) + 4)


def fill_every_table(storage: Storage) -> None:
    """Cap the file at its size, then fill the free room of every table's pages: the disk is now full."""
    fill_up(storage)
    n = 0
    writers = [
        lambda: storage.save_trend(trend(10_000 + n, size=50)),
        lambda: storage.save_verdict("Filler", verdict(10_000 + n)),
        lambda: storage.save_health(SourceHealth(name=f"filler{n}")),
        lambda: storage.save_http_cache(f"http://127.0.0.1/{n}", "e", None),
        lambda: storage.enqueue_alert(
            dedupe_key=f"filler{n}", brand="F", trend_id="t", kind="opportunity", channel="log", payload={}
        ),
        lambda: storage.set_mark(f"filler{n}", "F", "used"),
    ]


    def write_until_full(write: Callable[[], object]) -> None:
        nonlocal n
        for _ in range(100_000):
            n += 1
            write()

    for write in writers:
        with pytest.raises(StorageError):
            write_until_full(write)


def bad_paths(tmp_path: Path) -> list[Path]:
    not_a_dir = tmp_path / "plain-file"
    not_a_dir.write_text("x")
    return [not_a_dir / "onda.db", tmp_path, Path("/proc/onda-hardening.db")]


def test_unopenable_paths_raise_storage_error(tmp_path: Path) -> None:
    for path in bad_paths(tmp_path):
        with pytest.raises(StorageError) as info:
            Storage(path)
        msg = str(info.value)
        assert msg.startswith("cannot open database ") and str(path) in msg
        assert "\n" not in msg


def test_disk_full_single_writes_are_atomic_and_clear(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "onda.db")
    storage.save_trend(trend(0))
    fill_up(storage)
    saved = 0

    def save_until_full() -> None:
        nonlocal saved
        for i in range(1, 200):
            storage.save_trend(trend(i, size=3000))
            saved = i

    with pytest.raises(StorageError) as info:
        save_until_full()
    msg = str(info.value)
    assert "full" in msg and str(tmp_path / "onda.db") in msg and msg.startswith("cannot write database")
    failed = saved + 1
    assert storage.get_trend(f"t{failed}") is None  # the failing row is not there, not even partly
    assert [t.id for t in storage.recent_trends(limit=1000)] == [f"t{i}" for i in range(saved, -1, -1)]
    # other writes fail the same documented way, reads keep working
    with pytest.raises(StorageError):
        storage.enqueue_alert(
            dedupe_key="k" * 5000,
            brand="Acme",
            trend_id="t0",
            kind="opportunity",
            channel="log",
            payload={"x": "y" * 5000},
        )
    assert storage.outbox() == []
    assert storage.get_trend("t0") is not None
    # space comes back (disk cleaned up): the same Storage writes again
    uncap_pages(storage)
    storage.save_trend(trend(failed, size=3000))
    assert storage.get_trend(f"t{failed}") is not None
    storage.close()


def test_disk_full_inside_a_transaction_rolls_everything_back(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "onda.db")
    for i in range(5):
        storage.save_trend(trend(i))
        storage.save_verdict("Acme", verdict(i))
    fill_up(storage)

    def fill_in_one_transaction() -> None:
        with storage.transaction():
            storage.save_trend(trend(100))  # fits
            storage.save_verdict("Acme", verdict(100))
            for i in range(101, 200):  # does not
                storage.save_trend(trend(i, size=3000))

    with pytest.raises(StorageError, match="full"):
        fill_in_one_transaction()
    assert storage.get_trend("t100") is None and storage.get_verdict("t100", "Acme") is None
    assert len(storage.recent_trends()) == 5
    # the connection is usable afterwards (no transaction left open)
    uncap_pages(storage)
    with storage.transaction():
        storage.save_trend(trend(100))
    assert storage.get_trend("t100") is not None
    storage.close()


def test_prune_on_a_full_disk_is_all_or_nothing(tmp_path: Path) -> None:
    """Deleting needs journal pages too; if it cannot finish, no trend loses only its verdicts."""
    storage = Storage(tmp_path / "onda.db")
    for i in range(40):
        storage.save_trend(trend(i, size=2000))
        storage.save_verdict("Acme", verdict(i))
    cap_pages(storage, page_count(storage))
    try:
        pruned = storage.prune_trends(NOW + timedelta(days=1))
    except StorageError:
        pruned = 0
    ids = {t.id for t in storage.recent_trends(limit=1000)}
    with_verdict = {f"t{i}" for i in range(40) if storage.get_verdict(f"t{i}", "Acme") is not None}
    assert ids == with_verdict
    assert len(ids) in (0, 40) and (pruned == 0) == (len(ids) == 40)
    storage.close()


def test_newer_schema_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "onda.db"
    Storage(path).close()
    import sqlite3

    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(StorageError, match="newer than this Onda"):
        Storage(path)


@pytest.mark.parametrize("how", ["--db", "env"])
def test_watch_with_bad_db_path_exits_2_with_one_line(tmp_path: Path, how: str) -> None:
    bad = bad_paths(tmp_path)[0]
    args = ["watch", "--offline", "--once"] + (["--db", str(bad)] if how == "--db" else [])
    env = onda_env(tmp_path, **({"ONDA_STORAGE__PATH": str(bad)} if how == "env" else {}))
    started = time.monotonic()
    proc = subprocess.run(
        [PYTHON, "-m", "monitor", *args], capture_output=True, text=True, timeout=120, cwd=REPO, env=env
    )
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert lines[0].startswith("onda watch: ") and "cannot open database" in lines[0] and str(bad) in lines[0]
    assert proc.stdout == ""
    assert time.monotonic() - started < 60  # fails before loading the model


async def test_service_on_a_full_disk_keeps_polling_and_reporting(
    serve: Any, fast_settings: Settings, brand: BrandDNA, analyser: TextAnalyser
) -> None:
    """Writes fail (SQLITE_FULL) mid-run: trends are still scored and emitted; one clear notice per batch."""
    titles = [
        "caffè sospeso day",
        "Sanremo 2027 ospiti",
        "Sinner vince a Torino",
        "sciopero dei treni",
        "neve a Milano",
    ]
    topics = {"topics": [{"topic": t, "link": f"/profile/x/feed/{i}"} for i, t in enumerate(titles)]}

    async def ok(request: web.Request) -> web.StreamResponse:
        return json_response(topics)

    server = await serve(ok)
    storage = Storage(fast_settings.storage.path)
    scorer = KeywordScorer([brand])
    clusterer = Clusterer(scorer.embedder, storage, utcnow, analyser=analyser)
    alerts = AlertDispatcher(fast_settings, storage, None, [brand])
    source = BlueskySource(url=server.base_url + "/xrpc/topics", interval_s=3600)
    svc = MonitorService(
        fast_settings,
        storage=storage,
        scorer=scorer,
        connections=HttpConnections(fast_settings, storage, sources=[source]),
        alerts=alerts,
        clusterer=clusterer,
    )
    events: list[Any] = []
    svc.subscribe(events.append)
    fill_every_table(storage)  # from here on every write is SQLITE_FULL
    await svc.start()
    try:
        await svc.run_once()
    finally:
        await svc.stop()
    trends = [e for e in events if isinstance(e, TrendEvent)]
    assert len(trends) == 5  # scored and shown although nothing could be stored
    errors = [e.message for e in events if isinstance(e, StatusEvent) and e.kind == "error"]
    assert errors and all("full" in m and "\n" not in m for m in errors), errors
    stored_notices = [m for m in errors if "could not store" in m]
    assert len(stored_notices) == 1 and stored_notices[0].startswith("could not store 5 trend(s): "), errors
    assert svc.health()[0].ok  # the source itself is fine
    uncap_pages(storage)
    stored = {t.title for t in storage.recent_trends(limit=10_000)}
    assert not stored & set(titles)  # nothing half-written
    assert not [r for r in storage.outbox(limit=10_000) if r.trend_id in {e.trend.id for e in trends}]
