from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlite_pragmas import pragma

from monitor.evidence import (
    AvoidEvidence,
    FactCheckEvidence,
    FitEvidence,
    LexiconEvidence,
    PrototypeEvidence,
    TermCount,
)
from monitor.explain import risk_reasons
from monitor.models import FactCheck, FactCheckWrite, RiskAssessment, RiskFlag, Trend, Verdict
from monitor.storage import MIGRATIONS, SourceHealth, Storage, StorageError, read_factchecks

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def make_trend(tid: str = "t1", seen: datetime = T0) -> Trend:
    return Trend(
        id=tid,
        title="Sinner vince le ATP Finals",
        lang="it",
        first_seen=seen,
        last_seen=seen,
        context=["Sinner campione a Torino"],
        urls=["https://www.ansa.it/x"],
        sources=["google_trends", "rss"],
        traffic=50000,
        momentum=1.5,
        mentions=[(seen, 3)],
    )


def test_sqlite_is_a_wal_file(tmp_path: Path) -> None:
    db = Storage(tmp_path / "onda.db")
    assert pragma(db, "journal_mode") == "wal" and db.kind == "sqlite"


def test_schema_version_and_reopen(store_target: str) -> None:
    db = Storage(store_target)
    assert db.schema_version == len(MIGRATIONS)
    db.save_trend(make_trend())
    db.close()
    again = Storage(store_target)
    trend = again.get_trend("t1")
    assert trend is not None and trend.corroboration == 2 and trend.mentions == [(T0, 3)]


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "onda.db"
    Storage(path).close()
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version={len(MIGRATIONS) + 5}")
    con.close()
    with pytest.raises(StorageError, match="newer"):
        Storage(path)


def test_v3_verdicts_keep_level_and_categories_after_the_evidence_migration(tmp_path: Path) -> None:
    path = tmp_path / "onda.db"
    con = sqlite3.connect(path)
    for script in MIGRATIONS[:3]:
        con.executescript(script)
    con.execute("PRAGMA user_version=3")
    risk = '{"level": "high", "categories": ["tragedy"], "reasons": ["lexicon · tragedy/death: \'morti\'"]}'
    con.execute(
        "INSERT INTO verdicts(trend_id, brand, verdict, fit, matched, risk, why, scored_at) VALUES (?,?,?,?,?,?,?,?)",
        ("t1", "Lavazza", "risky", 0.2, "stmt", risk, "risky: lexicon · tragedy/death", T0.isoformat()),
    )
    con.commit()
    con.close()
    got = Storage(path).get_verdict("t1", "Lavazza")
    assert got is not None and got.verdict == "risky" and got.fit_evidence is None
    assert got.risk == RiskAssessment("high", ("tragedy",))
    assert risk_reasons(got.risk) == ["do not ride (tragedy): scored before evidence was kept"]


def test_v4_feedback_log_becomes_one_current_mark_per_brand_and_story(tmp_path: Path) -> None:
    path = tmp_path / "onda.db"
    con = sqlite3.connect(path)
    for script in MIGRATIONS[:4]:
        con.executescript(script)
    con.execute("PRAGMA user_version=4")
    rows = [  # the old log: both kinds piled up on t1, the latest is "not_for_us"
        ("t1", "Lavazza", "used", "2026-11-20T10:00:00.000000+00:00"),
        ("t1", "Lavazza", "not_for_us", "2026-11-21T10:00:00.000000+00:00"),
        ("t2", "Lavazza", "not_for_us", "2026-11-20T09:00:00.000000+00:00"),
        ("t2", "Lavazza", "used", "2026-11-22T09:00:00.000000+00:00"),
        ("t1", "Acme", "used", "2026-11-19T09:00:00.000000+00:00"),
    ]
    con.executemany("INSERT INTO feedback(trend_id, brand, kind, at) VALUES (?,?,?,?)", rows)
    con.commit()
    con.close()
    db = Storage(path)
    assert db.schema_version == len(MIGRATIONS) == 7
    assert db.marks("Lavazza", ["t1", "t2", "t3"]) == {"t1": "not_for_us", "t2": "used"}
    assert db.mark_for("t1", "Acme") == "used"
    assert db.used_trends("Lavazza") == {"t2"}


def test_one_mark_per_brand_and_story_replaced_and_cleared(store_target: str) -> None:
    db = Storage(store_target)
    db.set_mark("t1", "Lavazza", "used")
    db.set_mark("t1", "Lavazza", "not_for_us")  # replaces, does not pile up
    db.set_mark("t1", "Acme", "used")  # another brand's mark is its own
    assert db.mark_for("t1", "Lavazza") == "not_for_us"
    assert db.used_trends("Lavazza") == set()
    db.set_mark("t1", "Lavazza", None)
    assert db.mark_for("t1", "Lavazza") is None
    assert db.marks("Acme", ["t1"]) == {"t1": "used"}
    db.set_mark("t1", "Lavazza", None)  # clearing nothing is fine
    many = [f"t{i}" for i in range(1200)]  # more ids than SQLite binds in one statement
    for tid in many[::300]:
        db.set_mark(tid, "Lavazza", "used")
    assert db.marks("Lavazza", many) == dict.fromkeys(many[::300], "used")


def test_read_only_location_gives_clear_error(tmp_path: Path) -> None:
    # Tests may run as root, where permission bits do not stop writes: use a file as "directory".
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="cannot open database"):
        Storage(blocker / "onda.db")


def test_verdict_round_trip_and_prune(store_target: str) -> None:
    db = Storage(store_target)
    db.save_trend(make_trend("old", T0 - timedelta(days=30)))
    db.save_trend(make_trend("new", T0))
    morti = RiskFlag("tragedy", "high", "Death, Injury or Military Conflict", LexiconEvidence("death", (TermCount("morti", 2, "death"),)))
    debunk = FactCheckEvidence("https://f.example/x", "Falso", "Facta", rating="Falso", published=T0.date(), score=0.8)
    hoax = RiskFlag("misinformation", "high", "Misinformation", debunk, strength=0.8)
    avoid = RiskFlag("tragedy", "high", "Death, Injury or Military Conflict", AvoidEvidence("lutti", morti.evidence))
    allowed = RiskFlag("polarizing", "low", "Debated Sensitive Social Issues", PrototypeEvidence("x", 0.3, 0.1), 0.3, "politica")
    risk = RiskAssessment.from_flags([morti, hoax, avoid, allowed], avoid_hit="lutti")
    fit = FitEvidence(threshold=0.26, semantic_z=1.5, cosine=0.2, shared_terms=1, names=("Sinner",))
    db.save_verdict("Lavazza", Verdict("old", "risky", 0.2, "stmt", risk, fit_evidence=fit))
    got = db.get_verdict("old", "Lavazza")
    assert got is not None and got.verdict == "risky" and got.fit_evidence == fit
    # The evidence comes back as data, most decisive first: the same reasons can be worded again.
    assert got.risk == RiskAssessment(risk.level, risk.categories, risk.ranked(), "lutti")
    assert risk_reasons(got.risk) == risk_reasons(risk)
    assert db.prune_trends(T0 - timedelta(days=14)) == 1
    assert db.get_verdict("old", "Lavazza") is None
    assert [t.id for t in db.recent_trends()] == ["new"]


def test_outbox_dedupe_and_lifecycle(store_target: str) -> None:
    db = Storage(store_target)
    args = dict(dedupe_key="Lavazza:t1:opportunity", brand="Lavazza", trend_id="t1", kind="opportunity",
                channel="slack", payload={"title": "x"})
    first = db.enqueue_alert(**args)  # type: ignore[arg-type]
    assert first is not None
    assert db.enqueue_alert(**args) is None  # type: ignore[arg-type]
    due = db.due_alerts()
    assert [r.id for r in due] == [first]
    later = datetime.now(UTC) + timedelta(minutes=5)
    db.mark_retry(first, "HTTP 503", later)
    assert db.due_alerts() == []
    assert db.due_alerts(now=later + timedelta(seconds=1))[0].attempts == 1
    db.mark_sent(first)
    assert db.outbox("sent")[0].sent_at is not None
    assert db.count_sent_since(datetime.now(UTC) - timedelta(minutes=1)) == 1


def test_health_and_http_cache(store_target: str) -> None:
    db = Storage(store_target)
    db.save_health(SourceHealth("gdelt", last_error="HTTP 500", last_error_at=T0, consecutive_failures=2))
    h = db.get_health("gdelt")
    assert h is not None and not h.ok and h.consecutive_failures == 2
    db.save_http_cache("https://x/feed", '"abc"', None)
    assert db.get_http_cache("https://x/feed") == ('"abc"', None)
    assert db.get_http_cache("https://y") == (None, None)


def test_factchecks_are_added_corrected_and_withdrawn_by_url(store_target: str) -> None:
    db = Storage(store_target)
    pane = FactCheck(title="Pane a 9 euro: falso", url="https://v.example/pane", publisher="V", claim="Pane a 9 euro", rating="Falso")
    pisa = FactCheck(title="Pisa tower collapsed? False", url="https://c.example/pisa", publisher="C", rating="False")
    assert db.save_factchecks([pane, pisa], "import:a.json") == FactCheckWrite(new=2)
    assert db.save_factchecks([pane, pisa], "import:a.json") == FactCheckWrite()
    corrected = replace(pane, rating="Fuorviante", published=date(2025, 3, 20))
    feed_copy = replace(pisa, title="Pisa: the photo is from 2019", rating="", published=date(2025, 3, 2))  # a feed item
    true_elsewhere = FactCheck(title="t", url="https://v.example/other", publisher="V", claim="c", rating="Vero")
    write = db.save_factchecks([corrected, feed_copy], "feed", withdrawn=[true_elsewhere, replace(pane, rating="Vero")])
    assert write == FactCheckWrite(updated=2)  # a URL in the batch is not withdrawn; an unknown one is nothing
    stored = {fc.url: fc for fc in db.load_factchecks()}
    assert (stored[pane.url].rating, stored[pane.url].published) == ("Fuorviante", date(2025, 3, 20))
    assert (stored[pisa.url].title, stored[pisa.url].rating) == ("Pisa tower collapsed? False", "False")  # kept
    assert stored[pisa.url].published == date(2025, 3, 2)  # the date it lacked is filled
    assert db.save_factchecks([], "import:b.json", withdrawn=[replace(pisa, rating="True")]) == FactCheckWrite(withdrawn=1)
    assert [fc.url for fc in db.load_factchecks()] == [pane.url] and db.count_factchecks() == 1
    assert db.save_factchecks([], "import:b.json", withdrawn=[replace(pisa, rating="True")]) == FactCheckWrite()
    db.close()


def test_debunks_are_read_from_a_store_not_migrated_to_withdrawals(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with Storage(path) as db:
        db.save_factchecks([FactCheck(title="Pane a 9 euro: falso", url="https://v.example/pane", publisher="V")], "feed")
    with sqlite3.connect(path) as raw:  # a v6 store, as `onda score --db` may meet it (it never migrates)
        raw.execute("ALTER TABLE factchecks DROP COLUMN withdrawn_at")
    assert [fc.url for fc in read_factchecks(path)] == ["https://v.example/pane"]


def test_storage_is_a_context_manager_that_closes(store_target: str) -> None:
    from monitor.compose import open_storage
    from monitor.config import Settings

    with open_storage(Settings(), store_target) as db:
        db.set_mark("t1", "Lavazza", "used")
    with pytest.raises(StorageError):  # closed on leaving the block
        db.used_trends("Lavazza")
    with Storage(store_target) as again:
        assert again.used_trends("Lavazza") == {"t1"}


def test_feedback(store_target: str) -> None:
    db = Storage(store_target)
    db.set_mark("t1", "Lavazza", "used")
    assert db.used_trends("Lavazza") == {"t1"}
    with pytest.raises(ValueError, match="mark"):
        db.set_mark("t1", "Lavazza", "love")  # type: ignore[arg-type]


def test_failed_transaction_writes_nothing(store_target: str) -> None:
    db = Storage(store_target)

    def crash_mid_write() -> None:
        with db.transaction() as con:
            con.execute("INSERT INTO marks(trend_id, brand, mark, at) VALUES ('a','b','used','now')")
            raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError, match="crash mid-write"):
        crash_mid_write()
    assert db.used_trends("b") == set()


def test_verdicts_for_reads_a_brands_verdicts_in_one_query(store_target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    db = Storage(store_target)
    for tid in ("a", "b", "c"):
        db.save_trend(make_trend(tid))
    db.save_verdict("Lavazza", Verdict("a", "fit", 0.6, "stmt", RiskAssessment()))
    db.save_verdict("Lavazza", Verdict("b", "off_brand", 0.1, "stmt", RiskAssessment()))
    db.save_verdict("Other", Verdict("c", "fit", 0.7, "stmt", RiskAssessment()))
    statements: list[str] = []
    backend_fetch = db._db.fetch

    def fetch(sql: str, params: Any = ()) -> Any:
        statements.append(sql)
        return backend_fetch(sql, params)

    monkeypatch.setattr(db._db, "fetch", fetch)
    got = db.verdicts_for("Lavazza", ["a", "b", "c"])
    monkeypatch.undo()
    assert {k: v.verdict for k, v in got.items()} == {"a": "fit", "b": "off_brand"}
    assert got["a"] == db.get_verdict("a", "Lavazza")
    assert len([s for s in statements if s.startswith("SELECT")]) == 1
    assert db.verdicts_for("Lavazza", []) == {}
