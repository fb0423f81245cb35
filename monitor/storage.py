"""Onda's store: trends, verdicts, source health, HTTP cache, alert outbox, feedback marks, leases.

One `Storage` per process, on SQLite (default: a WAL file) or PostgreSQL (a team's shared store,
`postgresql://…`); the engine-specific part (connection, transactions, placeholders, DDL types,
schema version, errors) is a `monitor.db` backend, and every statement here is written once, with
`?` placeholders and SQL both engines run. All methods are synchronous and short; the service
calls them from the event loop. Schema changes go through `MIGRATIONS`, one entry per version, so
an old store is upgraded in place, never dropped. Every read and write raises `StorageError`
(never a raw driver error); a SQLite file is checked with `PRAGMA quick_check` when it is opened.

Several processes may share one store (`onda watch` workers plus `onda tui` during the day). They
coordinate through two kinds of time-limited claims, both written as single conditional statements:

- an outbox row is *claimed* (`claimed_by`, `claim_expires`) right before its POST by
  `UPDATE ... WHERE id IN (SELECT id ... WHERE status='pending' AND (claimed_by IS NULL OR
  claim_expires < now OR claimed_by = me) [FOR UPDATE SKIP LOCKED]) RETURNING *`; only the claimant
  may then mark it sent, retry or failed (`... WHERE claimed_by = me AND status='pending'`). SQLite
  runs each UPDATE under its single writer lock, so two processes can never both win one row; on
  PostgreSQL the inner SELECT locks the rows it picks and skips those another worker is claiming.
- a source is *leased* (`source_leases`) by one process: an upsert that only takes
  over a row whose holder is the caller or whose lease has expired
  (`INSERT ... ON CONFLICT(name) DO UPDATE ... WHERE holder = me OR expires < now
  RETURNING holder`). The holder renews its leases while it runs and releases them
  on a clean stop; a crashed holder's lease simply expires.

Writes of trends, verdicts and marks notify listeners on other connections at commit
(`listen_changes`, PostgreSQL only), for live dashboards.

Times are stored as ISO 8601 UTC text with microseconds, so text order is time order.

Longer than most modules on purpose: it is the one place that speaks SQL, so the schema, its
migrations and every statement on it stay together (the claims above hold only while every
writer goes through these statements).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from threading import Event
from types import TracebackType
from typing import Any, Self, cast

from monitor.db import open_backend
from monitor.db.base import Backend, BackendError, Result, StorageCorrupt, StorageError
from monitor.evidence import FitEvidence
from monitor.models import (
    MARKS,
    BrandRevision,
    FactCheck,
    FactCheckWrite,
    Mark,
    OutboxRow,
    RiskAssessment,
    SourceHealth,
    StoredBrand,
    Trend,
    Verdict,
    iso_or_none,
)

__all__ = [
    "MIGRATIONS",
    "OutboxRow",
    "SourceHealth",
    "Storage",
    "StorageCorrupt",
    "StorageError",
    "describe_holder",
    "new_holder_id",
    "read_factchecks",
]

CHANGES_CHANNEL = "onda_changes"
"""The notification channel of `Storage.listen_changes`; payloads are "trend", "verdict" or "mark"."""


def new_holder_id() -> str:
    """Who claims outbox rows and leases sources: host, pid and a random part (unique per process start)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def describe_holder(holder: str) -> str:
    """'pid 1234 on host' from a holder id, for messages."""
    parts = holder.split(":")
    return f"pid {parts[1]} on {parts[0]}" if len(parts) >= 3 else holder


MIGRATIONS: list[str] = [
    # v1
    """
    CREATE TABLE trends (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        lang TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        data TEXT NOT NULL            -- JSON: context, urls, sources, traffic, momentum, mentions
    );
    CREATE INDEX trends_last_seen ON trends(last_seen);
    CREATE TABLE verdicts (
        trend_id TEXT NOT NULL,
        brand TEXT NOT NULL,
        verdict TEXT NOT NULL,
        fit REAL NOT NULL,
        matched TEXT,
        risk TEXT NOT NULL,           -- JSON per DESIGN.md
        why TEXT NOT NULL DEFAULT '',
        scored_at TEXT NOT NULL,
        PRIMARY KEY (trend_id, brand)
    );
    CREATE TABLE source_health (
        name TEXT PRIMARY KEY,
        last_success TEXT,
        last_error TEXT,
        last_error_at TEXT,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        next_run TEXT,
        items_last INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE http_cache (
        url TEXT PRIMARY KEY,
        etag TEXT,
        last_modified TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE alert_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        dedupe_key TEXT NOT NULL UNIQUE,  -- brand + trend cluster + kind: never two alerts for one story
        brand TEXT NOT NULL,
        trend_id TEXT NOT NULL,
        kind TEXT NOT NULL,               -- opportunity | used_turned_risky
        channel TEXT NOT NULL,            -- slack | webhook
        payload TEXT NOT NULL,            -- JSON
        status TEXT NOT NULL,             -- pending | sent | failed
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at TEXT NOT NULL,
        next_attempt_at TEXT NOT NULL,
        sent_at TEXT
    );
    CREATE INDEX outbox_status ON alert_outbox(status, next_attempt_at);
    CREATE TABLE feedback (
        trend_id TEXT NOT NULL,
        brand TEXT NOT NULL,
        kind TEXT NOT NULL,               -- used | not_for_us
        at TEXT NOT NULL,
        PRIMARY KEY (trend_id, brand, kind)
    );
    """,
    # v2: outbox claims and source leases: several processes on one store (see the module docstring)
    """
    ALTER TABLE alert_outbox ADD COLUMN claimed_by TEXT;
    ALTER TABLE alert_outbox ADD COLUMN claim_expires TEXT;
    CREATE TABLE source_leases (
        name TEXT PRIMARY KEY,            -- source name
        holder TEXT NOT NULL,             -- new_holder_id() of the polling process
        expires TEXT NOT NULL             -- ISO UTC: after it any process may take the source over
    );
    """,
    # v3: fact-checks survive restarts and can be imported (`onda data import-factchecks`)
    """
    CREATE TABLE factchecks (
        url TEXT PRIMARY KEY,             -- one debunk per fact-check article
        title TEXT NOT NULL,
        claim TEXT NOT NULL DEFAULT '',
        publisher TEXT NOT NULL DEFAULT '',
        published TEXT,                   -- ISO date
        rating TEXT NOT NULL DEFAULT '',
        origin TEXT NOT NULL,             -- feed | import:<file name>
        added_at TEXT NOT NULL
    );
    CREATE INDEX factchecks_published ON factchecks(published);
    """,
    # v4: verdicts keep evidence, not sentences (monitor.explain words them when shown): `why` becomes `evidence`,
    # JSON of the fit evidence (FitEvidence); `risk` JSON gains an `evidence` list of flags.
    """
    ALTER TABLE verdicts RENAME COLUMN why TO evidence;
    UPDATE verdicts SET evidence = '{}';
    """,
    # v5: feedback is state, not a log: one current mark per brand and story (the latest old row wins)
    """
    CREATE TABLE marks (
        trend_id TEXT NOT NULL,
        brand TEXT NOT NULL,
        mark TEXT NOT NULL CHECK (mark IN ('used', 'not_for_us')),
        at TEXT NOT NULL,
        PRIMARY KEY (trend_id, brand)
    );
    INSERT INTO marks(trend_id, brand, mark, at)
        SELECT f.trend_id, f.brand, f.kind, f.at FROM feedback f WHERE f.kind IN ('used', 'not_for_us')
        AND NOT EXISTS (SELECT 1 FROM feedback g WHERE g.trend_id = f.trend_id AND g.brand = f.brand
            AND g.kind IN ('used', 'not_for_us') AND (g.at > f.at OR (g.at = f.at AND g.kind > f.kind)));
    DROP TABLE feedback;
    """,
    # v6: brand DNA kept in the store with its history (monitor.brands); who set each feedback mark
    """
    ALTER TABLE marks ADD COLUMN by TEXT NOT NULL DEFAULT '';
    CREATE TABLE brands (
        name TEXT PRIMARY KEY,
        toml TEXT NOT NULL,               -- the brand file's text (DESIGN.md format): export writes it back
        data TEXT NOT NULL,               -- JSON: the parsed [brand] table
        version INTEGER NOT NULL,         -- 1, 2, ...: one per change of the text
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
    );
    CREATE TABLE brand_history (
        brand TEXT NOT NULL,
        version INTEGER NOT NULL,
        at TEXT NOT NULL,
        by TEXT NOT NULL,
        before TEXT,                      -- the TOML text replaced (NULL for the first version)
        after TEXT NOT NULL,
        summary TEXT NOT NULL,            -- what changed, in words ("dna +1 -0, avoid +1")
        rescore TEXT,                     -- JSON: the re-score diff, recorded by the first service that re-scored
        PRIMARY KEY (brand, version)
    );
    """,
    # v7: a fact-check whose review is now rated true is kept as withdrawn (never matched, and a feed's copy
    # of the same article cannot bring it back); a review rating it false again revives it
    """
    ALTER TABLE factchecks ADD COLUMN withdrawn_at TEXT;
    """,
]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _ts(dt: datetime) -> str:
    """Lease and claim times: UTC, always with microseconds, so text comparison is time comparison."""
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def _parse(dt: str | None) -> datetime | None:
    return datetime.fromisoformat(dt) if dt else None


class Storage:
    """Onda's store: typed reads and writes over one backend connection (SQLite file or PostgreSQL).

    `target` is a SQLite path (`Path`, a plain path or `sqlite:PATH`) or a `postgresql://` URL. The
    schema is created or upgraded on open (`MIGRATIONS`; safe with several processes opening at once).
    """

    def __init__(self, target: str | Path) -> None:
        self.failing_since: datetime | None = None
        """Start of the current run of failed reads/writes (not counting a full disk); None while healthy."""
        self.corrupted = False
        """Set for good when SQLite reports the file corrupt during the run."""
        self._db: Backend = open_backend(target)
        self.path = self._db.label
        """How messages name the store: the SQLite path, or the URL with its password as ***."""
        try:
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    @property
    def kind(self) -> str:
        """The engine: "sqlite" or "postgresql"."""
        return self._db.kind

    @property
    def supports_notify(self) -> bool:
        """Whether other processes see this store's changes as they happen (`listen_changes`; PostgreSQL)."""
        return self._db.supports_notify

    # -- schema -----------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        try:
            return self._db.schema_version()
        except BackendError as exc:
            raise self._failed("read", exc) from exc

    def _migrate(self) -> None:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise StorageError(f"database {self.path} has schema v{version}, newer than this Onda (v{len(MIGRATIONS)})")
        for target, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction(exclusive=True):
                if self.schema_version >= target:
                    continue  # another process starting on the same store migrated it while we waited for the lock
                self._db.run_script(script)
                self._db.set_schema_version(target)

    @contextmanager
    def transaction(self, *, exclusive: bool = False) -> Iterator[Backend]:
        """BEGIN … COMMIT (SQLite: BEGIN IMMEDIATE); rolled back on any error, so nothing is half-written.

        Calls inside the block join it. `exclusive` also holds the store-wide writer lock (migrations).
        Yields the backend, whose `execute(sql, params)` runs a raw statement.
        """
        try:
            with self._db.transaction(exclusive=exclusive):
                yield self._db
        except BackendError as exc:
            raise self._failed("write", exc) from exc
        self.failing_since = None

    def _failed(self, verb: str, exc: BackendError) -> StorageError:
        """Turn a backend error into StorageError and note it for the service's watchdog."""
        if exc.code in ("SQLITE_CORRUPT", "SQLITE_NOTADB"):
            self.corrupted = True
        if exc.code not in ("SQLITE_FULL", "SQLITE_BUSY", "SQLITE_LOCKED") and self.failing_since is None:
            self.failing_since = datetime.now(UTC)
        return StorageError(f"cannot {verb} database {self.path}: {exc.detail}", code=exc.code)

    def _write(self, sql: str, params: Sequence[Any] = ()) -> Result:
        try:
            cur = self._db.execute(sql, params)
        except BackendError as exc:
            raise self._failed("write", exc) from exc
        self.failing_since = None
        return cur

    def _write_returning(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """One statement with RETURNING: its rows are read before the statement completes (and commits)."""
        try:
            rows = self._db.fetch(sql, params)
        except BackendError as exc:
            raise self._failed("write", exc) from exc
        self.failing_since = None
        return rows

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._db.fetch(sql, params)
        except BackendError as exc:
            raise self._failed("read", exc) from exc

    def close(self) -> None:
        """Close the connection (idempotent; on SQLite the last connection to close checkpoints the WAL)."""
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- change notifications ------------------------------------------------------------
    def _notify_change(self, kind: str) -> None:
        """Tell listeners (`listen_changes`) that a `kind` row changed; a no-op on SQLite.

        Called inside the write's transaction, so it is delivered at commit and never for a rolled-back write.
        """
        try:
            self._db.notify(CHANGES_CHANNEL, kind)
        except BackendError as exc:
            raise self._failed("write", exc) from exc

    def listen_changes(self, stop: Event, poll_s: float = 0.25) -> Iterator[str]:
        """The kinds of change ("trend", "verdict", "mark") any process commits, as they happen, until `stop`.

        Blocks between changes (run it in a thread); a dedicated connection listens. Only where
        `supports_notify` (PostgreSQL): on SQLite it raises StorageError.
        """
        try:
            yield from self._db.listen(CHANGES_CHANNEL, stop, poll_s)
        except BackendError as exc:  # not `_failed`: a broken listener is not a failing store (the watchdog)
            raise StorageError(f"cannot listen to database {self.path}: {exc}", code=exc.code) from exc

    # -- whole tables (`onda db copy`) ------------------------------------------------------
    def tables(self) -> list[str]:
        """Onda's tables in this store, in the order they were created."""
        try:
            return self._db.tables()
        except BackendError as exc:
            raise self._failed("read", exc) from exc

    def count_trends(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM trends")[0][0])

    def table_rows(self, table: str, batch: int = 1000) -> Iterator[list[dict[str, Any]]]:
        """Every row of `table` (one of `tables()`), as column -> value, `batch` rows at a time."""
        if table not in self.tables():
            raise StorageError(f"no table {table!r} in database {self.path}")
        try:
            for rows in self._db.batches(f"SELECT * FROM {table}", batch):
                # keys(): a sqlite3.Row iterates its values
                yield [{key: row[key] for key in row.keys()} for row in rows]  # noqa: SIM118
        except BackendError as exc:
            raise self._failed("read", exc) from exc

    def add_rows(self, table: str, rows: Sequence[dict[str, Any]]) -> int:
        """Insert rows into `table` (one of `tables()`) keeping their ids; rows whose key exists are skipped.

        Returns how many were added. Call it inside `transaction()` to add many batches at once.
        """
        if not rows:
            return 0
        if table not in self.tables():
            raise StorageError(f"no table {table!r} in database {self.path}")
        columns = list(rows[0])
        sql = (
            f"INSERT INTO {table}({', '.join(columns)}) VALUES ({','.join('?' * len(columns))}) "
            "ON CONFLICT DO NOTHING"
        )
        with self.transaction() as db:
            added = db.executemany(sql, [tuple(row[c] for c in columns) for row in rows])
            db.after_bulk_insert(table)
        return added

    # -- trends -------------------------------------------------------------------
    def save_trend(self, trend: Trend) -> None:
        data = {
            "context": trend.context,
            "urls": trend.urls,
            "sources": trend.sources,
            "traffic": trend.traffic,
            "momentum": trend.momentum,
            "mentions": [(iso_or_none(t), n) for t, n in trend.mentions],
            "joined": {source: at.isoformat() for source, at in trend.joined.items()},
        }
        with self.transaction():
            self._write(
                "INSERT INTO trends(id, title, lang, first_seen, last_seen, data) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET title=excluded.title, lang=excluded.lang, "
                "last_seen=excluded.last_seen, data=excluded.data",
                (
                    trend.id,
                    trend.title,
                    trend.lang,
                    trend.first_seen.isoformat(),
                    trend.last_seen.isoformat(),
                    json.dumps(data, ensure_ascii=False),
                ),
            )
            self._notify_change("trend")

    @staticmethod
    def _row_to_trend(row: Any) -> Trend:
        data = json.loads(row["data"])
        return Trend(
            id=row["id"],
            title=row["title"],
            lang=row["lang"],
            first_seen=datetime.fromisoformat(row["first_seen"]),
            last_seen=datetime.fromisoformat(row["last_seen"]),
            context=list(data.get("context", [])),
            urls=list(data.get("urls", [])),
            sources=list(data.get("sources", [])),
            traffic=data.get("traffic"),
            momentum=float(data.get("momentum", 0.0)),
            mentions=[(datetime.fromisoformat(t), int(n)) for t, n in data.get("mentions", [])],
            joined={str(s): datetime.fromisoformat(at) for s, at in data.get("joined", {}).items()},
        )

    def get_trend(self, trend_id: str) -> Trend | None:
        rows = self._read("SELECT * FROM trends WHERE id=?", (trend_id,))
        return self._row_to_trend(rows[0]) if rows else None

    def recent_trends(self, limit: int = 500, since: datetime | None = None) -> list[Trend]:
        if since is not None:
            rows = self._read(
                "SELECT * FROM trends WHERE last_seen >= ? ORDER BY last_seen DESC LIMIT ?",
                (since.isoformat(), limit),
            )
        else:
            rows = self._read("SELECT * FROM trends ORDER BY last_seen DESC LIMIT ?", (limit,))
        return [self._row_to_trend(r) for r in rows]

    def prune_trends(self, older_than: datetime) -> int:
        """Forget trends (and their verdicts) not seen since `older_than`; keeps the DB bounded."""
        with self.transaction() as db:
            ids = [r[0] for r in db.fetch("SELECT id FROM trends WHERE last_seen < ?", (older_than.isoformat(),))]
            db.executemany("DELETE FROM verdicts WHERE trend_id=?", [(i,) for i in ids])
            db.executemany("DELETE FROM trends WHERE id=?", [(i,) for i in ids])
        return len(ids)

    # -- verdicts -------------------------------------------------------------------
    def save_verdict(self, brand: str, verdict: Verdict) -> None:
        fit_evidence = verdict.fit_evidence.to_json() if verdict.fit_evidence is not None else {}
        with self.transaction():
            self._write(
                "INSERT INTO verdicts(trend_id, brand, verdict, fit, matched, risk, evidence, scored_at) "
                "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(trend_id, brand) DO UPDATE SET verdict=excluded.verdict, "
                "fit=excluded.fit, matched=excluded.matched, risk=excluded.risk, evidence=excluded.evidence, "
                "scored_at=excluded.scored_at",
                (
                    verdict.id,
                    brand,
                    verdict.verdict,
                    verdict.fit,
                    verdict.matched,
                    json.dumps(verdict.risk.to_json(), ensure_ascii=False),
                    json.dumps(fit_evidence, ensure_ascii=False),
                    _now(),
                ),
            )
            self._notify_change("verdict")

    def get_verdict(self, trend_id: str, brand: str) -> Verdict | None:
        rows = self._read("SELECT * FROM verdicts WHERE trend_id=? AND brand=?", (trend_id, brand))
        return self._row_to_verdict(rows[0]) if rows else None

    def verdicts_for(self, brand: str, trend_ids: Sequence[str]) -> dict[str, Verdict]:
        """`brand`'s stored verdicts for these trends in one query (trend id -> verdict; missing ids absent)."""
        if not trend_ids:
            return {}
        marks = ",".join("?" * len(trend_ids))
        rows = self._read(f"SELECT * FROM verdicts WHERE brand=? AND trend_id IN ({marks})", (brand, *trend_ids))
        return {row["trend_id"]: self._row_to_verdict(row) for row in rows}

    @staticmethod
    def _row_to_verdict(row: Any) -> Verdict:
        fit_evidence = json.loads(row["evidence"] or "{}")
        return Verdict(
            id=row["trend_id"],
            verdict=row["verdict"],
            fit=row["fit"],
            matched=row["matched"],
            risk=RiskAssessment.from_json(json.loads(row["risk"])),
            fit_evidence=FitEvidence.from_json(fit_evidence) if fit_evidence else None,
        )

    # -- source health and HTTP cache -----------------------------------------------
    def save_health(self, health: SourceHealth) -> None:
        self._write(
            "INSERT INTO source_health(name, last_success, last_error, last_error_at, consecutive_failures, "
            "next_run, items_last) VALUES (?,?,?,?,?,?,?) ON CONFLICT(name) DO UPDATE SET "
            "last_success=excluded.last_success, last_error=excluded.last_error, "
            "last_error_at=excluded.last_error_at, consecutive_failures=excluded.consecutive_failures, "
            "next_run=excluded.next_run, items_last=excluded.items_last",
            (
                health.name,
                iso_or_none(health.last_success),
                health.last_error,
                iso_or_none(health.last_error_at),
                health.consecutive_failures,
                iso_or_none(health.next_run),
                health.items_last,
            ),
        )

    def get_health(self, name: str) -> SourceHealth | None:
        rows = self._read("SELECT * FROM source_health WHERE name=?", (name,))
        return self._row_to_health(rows[0]) if rows else None

    def all_health(self) -> list[SourceHealth]:
        rows = self._read("SELECT * FROM source_health ORDER BY name")
        return [self._row_to_health(r) for r in rows]

    @staticmethod
    def _row_to_health(row: Any) -> SourceHealth:
        return SourceHealth(
            name=row["name"],
            last_success=_parse(row["last_success"]),
            last_error=row["last_error"],
            last_error_at=_parse(row["last_error_at"]),
            consecutive_failures=row["consecutive_failures"],
            next_run=_parse(row["next_run"]),
            items_last=row["items_last"],
        )

    def get_http_cache(self, url: str) -> tuple[str | None, str | None]:
        rows = self._read("SELECT etag, last_modified FROM http_cache WHERE url=?", (url,))
        return (rows[0]["etag"], rows[0]["last_modified"]) if rows else (None, None)

    def save_http_cache(self, url: str, etag: str | None, last_modified: str | None) -> None:
        self._write(
            "INSERT INTO http_cache(url, etag, last_modified, updated_at) VALUES (?,?,?,?) "
            "ON CONFLICT(url) DO UPDATE SET etag=excluded.etag, last_modified=excluded.last_modified, "
            "updated_at=excluded.updated_at",
            (url, etag, last_modified, _now()),
        )

    # -- alert outbox -------------------------------------------------------------------
    def enqueue_alert(
        self,
        *,
        dedupe_key: str,
        brand: str,
        trend_id: str,
        kind: str,
        channel: str,
        payload: dict[str, Any],
        not_before: datetime | None = None,
    ) -> int | None:
        """Write an alert before it is sent. Returns its id, or None if that key was already queued/sent."""
        now = _now()
        rows = self._write_returning(
            "INSERT INTO alert_outbox(dedupe_key, brand, trend_id, kind, channel, payload, status, "
            "created_at, next_attempt_at) VALUES (?,?,?,?,?,?,'pending',?,?) "
            "ON CONFLICT(dedupe_key) DO NOTHING RETURNING id",
            (
                dedupe_key,
                brand,
                trend_id,
                kind,
                channel,
                json.dumps(payload, ensure_ascii=False),
                now,
                iso_or_none(not_before) or now,
            ),
        )
        return int(rows[0]["id"]) if rows else None

    def due_alerts(self, now: datetime | None = None, channel: str | None = None) -> list[OutboxRow]:
        """Pending rows whose time has come and that nobody holds a live claim on (candidates, not claimed)."""
        at = now or datetime.now(UTC)
        sql = (
            "SELECT * FROM alert_outbox WHERE status='pending' AND next_attempt_at <= ? "
            "AND (claimed_by IS NULL OR claim_expires < ?)"
        )
        params: list[Any] = [at.isoformat(), _ts(at)]
        if channel is not None:
            sql += " AND channel=?"
            params.append(channel)
        rows = self._read(sql + " ORDER BY id", params)
        return [self._row_to_outbox(r) for r in rows]

    def claim_alerts(
        self, ids: list[int], claimant: str, until: datetime, now: datetime | None = None
    ) -> list[OutboxRow]:
        """Atomically claim those of `ids` that are pending and free; returns the rows `claimant` now holds.

        Free: unclaimed, or the claim expired, or `claimant` already holds it. The others are being
        sent by another process, or are done.
        """
        if not ids:
            return []
        at = _ts(now or datetime.now(UTC))
        marks = ",".join("?" * len(ids))
        rows = self._write_returning(
            f"UPDATE alert_outbox SET claimed_by=?, claim_expires=? WHERE id IN (SELECT id FROM alert_outbox "
            f"WHERE id IN ({marks}) AND status='pending' AND (claimed_by IS NULL OR claim_expires < ? OR claimed_by = ?)"
            f"{self._db.row_lock}) RETURNING *",
            [claimant, _ts(until), *ids, at, claimant],
        )
        return sorted((self._row_to_outbox(r) for r in rows), key=lambda r: r.id)

    def release_claims(self, claimant: str) -> int:
        """Give back every row `claimant` still holds (clean stop): another process may send them at once."""
        cur = self._write(
            "UPDATE alert_outbox SET claimed_by=NULL, claim_expires=NULL WHERE claimed_by=? AND status='pending'",
            (claimant,),
        )
        return cur.rowcount

    def outbox(self, status: str | None = None, limit: int = 200) -> list[OutboxRow]:
        if status is None:
            rows = self._read("SELECT * FROM alert_outbox ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self._read("SELECT * FROM alert_outbox WHERE status=? ORDER BY id DESC LIMIT ?", (status, limit))
        return [self._row_to_outbox(r) for r in rows]

    # The claimant's bookkeeping. "While the claim holds" means: the row is still pending and still ours.
    # An expired claim that nobody has taken over still lets its claimant record the outcome (Slack did
    # answer); once another process re-claimed the row, these return False and change nothing.
    def mark_sent(self, alert_id: int, at: datetime | None = None, *, claimant: str | None = None) -> bool:
        """Record Slack's ok. With `claimant`, only if that claimant still holds the pending row."""
        sql = (
            "UPDATE alert_outbox SET status='sent', sent_at=?, attempts=attempts+1, last_error=NULL, "
            "claimed_by=NULL, claim_expires=NULL WHERE id=? AND status='pending'"
        )
        params: list[Any] = [iso_or_none(at) or _now(), alert_id]
        if claimant is not None:
            sql += " AND claimed_by=?"
            params.append(claimant)
        return self._write(sql, tuple(params)).rowcount > 0

    def mark_retry(self, alert_id: int, error: str, next_attempt_at: datetime, *, claimant: str | None = None) -> bool:
        sql = (
            "UPDATE alert_outbox SET attempts=attempts+1, last_error=?, next_attempt_at=?, "
            "claimed_by=NULL, claim_expires=NULL WHERE id=? AND status='pending'"
        )
        params: list[Any] = [error, next_attempt_at.isoformat(), alert_id]
        if claimant is not None:
            sql += " AND claimed_by=?"
            params.append(claimant)
        return self._write(sql, tuple(params)).rowcount > 0

    def defer_alert(self, alert_id: int, next_attempt_at: datetime) -> None:
        """Hold a pending alert back (quiet hours, hourly cap, digest) without counting an attempt."""
        self._write(
            "UPDATE alert_outbox SET next_attempt_at=? WHERE id=? AND status='pending'",
            (next_attempt_at.isoformat(), alert_id),
        )

    def mark_failed(self, alert_id: int, error: str, *, claimant: str | None = None) -> bool:
        """Give up on an alert Slack will never accept (e.g. invalid_payload); kept for the log."""
        sql = (
            "UPDATE alert_outbox SET status='failed', attempts=attempts+1, last_error=?, "
            "claimed_by=NULL, claim_expires=NULL WHERE id=? AND status='pending'"
        )
        params: list[Any] = [error, alert_id]
        if claimant is not None:
            sql += " AND claimed_by=?"
            params.append(claimant)
        return self._write(sql, tuple(params)).rowcount > 0

    # -- source leases ------------------------------------------------------------------------
    def acquire_lease(self, name: str, holder: str, until: datetime, now: datetime | None = None) -> str:
        """Take or renew the lease on source `name`; returns the holder after the attempt (`holder` = ours).

        Takes over only a lease that is ours or has expired: one process polls a source at a time.
        """
        at = _ts(now or datetime.now(UTC))
        rows = self._write_returning(
            "INSERT INTO source_leases(name, holder, expires) VALUES (?,?,?) ON CONFLICT(name) DO UPDATE SET "
            "holder=excluded.holder, expires=excluded.expires "
            "WHERE source_leases.holder=excluded.holder OR source_leases.expires < ? RETURNING holder",
            [name, holder, _ts(until), at],
        )
        if rows:
            return str(rows[0]["holder"])
        current = self._read("SELECT holder FROM source_leases WHERE name=?", (name,))
        return str(current[0]["holder"]) if current else holder

    def release_leases(self, holder: str) -> int:
        """Give up every source lease of `holder` (clean stop), so another process takes over at once."""
        return self._write("DELETE FROM source_leases WHERE holder=?", (holder,)).rowcount

    def lease_holders(self, now: datetime | None = None) -> dict[str, str]:
        """Source name -> holder, live leases only."""
        rows = self._read("SELECT name, holder FROM source_leases WHERE expires >= ?", (_ts(now or datetime.now(UTC)),))
        return {str(r["name"]): str(r["holder"]) for r in rows}

    def count_sent_since(self, since: datetime, brand: str | None = None) -> int:
        sql = "SELECT COUNT(*) FROM alert_outbox WHERE status='sent' AND sent_at >= ?"
        params: list[Any] = [since.isoformat()]
        if brand is not None:
            sql += " AND brand=?"
            params.append(brand)
        return int(self._read(sql, params)[0][0])

    @staticmethod
    def _row_to_outbox(row: Any) -> OutboxRow:
        return OutboxRow(
            id=row["id"],
            dedupe_key=row["dedupe_key"],
            brand=row["brand"],
            trend_id=row["trend_id"],
            kind=row["kind"],
            channel=row["channel"],
            payload=json.loads(row["payload"]),
            status=row["status"],
            attempts=row["attempts"],
            last_error=row["last_error"],
            created_at=datetime.fromisoformat(row["created_at"]),
            next_attempt_at=datetime.fromisoformat(row["next_attempt_at"]),
            sent_at=_parse(row["sent_at"]),
            claimed_by=row["claimed_by"],
            claim_expires=_parse(row["claim_expires"]),
        )

    # -- fact-checks ----------------------------------------------------------------------
    def save_factchecks(
        self, items: Sequence[FactCheck], origin: str, withdrawn: Sequence[FactCheck] = ()
    ) -> FactCheckWrite:
        """Store debunks by URL, and withdraw the debunks whose review is now rated true (`withdrawn`).

        - A new URL is added; within one batch the last copy of a URL wins.
        - A known URL and a copy with a rating (a ClaimReview): the review's title, claim, publisher, date
          and rating replace the stored ones, where it has them (fact-checkers correct their reviews); a
          withdrawn debunk rated false again is back.
        - A known URL and a copy without a rating (a fact-checker's feed item): it only fills what the
          stored row lacks, and never brings back a withdrawn debunk.
        - `withdrawn` (reviews rated true): the stored debunk of that URL is kept as withdrawn — no longer
          loaded — unless it reviews another claim (a page that checks several claims); a URL also in
          `items` is not withdrawn.
        """
        latest = {fc.url: fc for fc in items}
        gone = {fc.url: fc for fc in withdrawn if fc.url not in latest}
        with self.transaction() as db:
            stored: dict[str, Any] = {}
            wanted = [*latest, *gone]
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for row in db.fetch(f"SELECT * FROM factchecks WHERE url IN ({marks})", chunk):
                    stored[row["url"]] = row
            new_rows, changed = [], []
            for url, fc in latest.items():
                fields = (fc.title, fc.claim, fc.publisher, fc.published.isoformat() if fc.published else None, fc.rating)
                row = stored.get(url)
                if row is None:
                    new_rows.append((url, *fields, origin, _now()))
                    continue
                kept = (row["title"], row["claim"], row["publisher"], row["published"], row["rating"])
                if fc.rating:  # a review: what it says wins
                    merged = tuple(value if value else old for value, old in zip(fields, kept, strict=True))
                    withdrawn_at = None
                else:  # a feed item: fills gaps only
                    merged = tuple(old if old else value for value, old in zip(fields, kept, strict=True))
                    withdrawn_at = row["withdrawn_at"]
                if merged != kept or withdrawn_at != row["withdrawn_at"]:
                    changed.append((*merged, withdrawn_at, url))
            added = db.executemany(
                "INSERT INTO factchecks(url, title, claim, publisher, published, rating, origin, added_at)"
                " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(url) DO NOTHING",
                new_rows,
            )
            updated = db.executemany(
                "UPDATE factchecks SET title=?, claim=?, publisher=?, published=?, rating=?, withdrawn_at=? WHERE url=?",
                changed,
            )
            retired = [
                (fc.rating, _now(), url)
                for url, fc in gone.items()
                if (row := stored.get(url)) is not None
                and row["withdrawn_at"] is None
                and (not row["claim"] or not fc.claim or row["claim"] == fc.claim)
            ]
            removed = db.executemany("UPDATE factchecks SET rating=?, withdrawn_at=? WHERE url=?", retired)
        return FactCheckWrite(new=added, updated=updated, withdrawn=removed)

    def load_factchecks(self, limit: int = 10_000) -> list[FactCheck]:
        """The most recently published debunks not withdrawn (at most `limit`), oldest first."""
        return [_row_to_factcheck(r) for r in self._read(_load_factchecks_sql(withdrawals=True), (limit,))]

    def count_factchecks(self) -> int:
        """How many debunks are stored and not withdrawn."""
        return int(self._read("SELECT COUNT(*) FROM factchecks WHERE withdrawn_at IS NULL")[0][0])

    # -- feedback marks ---------------------------------------------------------------------
    def set_mark(self, trend_id: str, brand: str, mark: Mark | None, by: str = "") -> None:
        """The brand's current mark on a story, set by user `by`; None clears it (one mark per brand and story)."""
        if mark is None:
            with self.transaction():
                self._write("DELETE FROM marks WHERE trend_id=? AND brand=?", (trend_id, brand))
                self._notify_change("mark")
            return
        if mark not in MARKS:
            raise ValueError(f"unknown feedback mark {mark!r}")
        with self.transaction():
            self._write(
                "INSERT INTO marks(trend_id, brand, mark, at, by) VALUES (?,?,?,?,?) "
                "ON CONFLICT(trend_id, brand) DO UPDATE SET mark=excluded.mark, at=excluded.at, by=excluded.by",
                (trend_id, brand, mark, _now(), by),
            )
            self._notify_change("mark")

    def mark_for(self, trend_id: str, brand: str) -> Mark | None:
        return self.marks(brand, [trend_id]).get(trend_id)

    def marks(self, brand: str, trend_ids: Sequence[str] | None = None) -> dict[str, Mark]:
        """The brand's marks by story id: of `trend_ids`, or all of them."""
        if trend_ids is None:
            rows = self._read("SELECT trend_id, mark FROM marks WHERE brand=?", (brand,))
        else:
            rows = []
            ids = list(dict.fromkeys(trend_ids))
            for start in range(0, len(ids), 500):  # SQLite caps bound parameters
                chunk = ids[start : start + 500]
                places = ",".join("?" * len(chunk))
                sql = f"SELECT trend_id, mark FROM marks WHERE brand=? AND trend_id IN ({places})"
                rows += self._read(sql, [brand, *chunk])
        return {r[0]: cast(Mark, r[1]) for r in rows}

    def used_trends(self, brand: str) -> set[str]:
        return {tid for tid, mark in self.marks(brand).items() if mark == "used"}

    def mark_authors(self, brand: str, trend_ids: Sequence[str]) -> dict[str, str]:
        """Who set the brand's current mark on each of these stories (unknown authors absent)."""
        ids = list(dict.fromkeys(trend_ids))
        found: dict[str, str] = {}
        for start in range(0, len(ids), 500):  # SQLite caps bound parameters
            chunk = ids[start : start + 500]
            places = ",".join("?" * len(chunk))
            sql = f"SELECT trend_id, by FROM marks WHERE brand=? AND by <> '' AND trend_id IN ({places})"
            found.update({str(r[0]): str(r[1]) for r in self._read(sql, [brand, *chunk])})
        return found

    # -- brands (monitor.brands decides what to write; these only read and write rows) ----------------
    def get_brand(self, name: str) -> StoredBrand | None:
        rows = self._read("SELECT * FROM brands WHERE name=?", (name,))
        return self._row_to_brand(rows[0]) if rows else None

    def stored_brands(self) -> list[StoredBrand]:
        return [self._row_to_brand(r) for r in self._read("SELECT * FROM brands ORDER BY name")]

    def brand_versions(self) -> dict[str, int]:
        """Brand name -> current version: the one cheap query a running service repeats to notice edits."""
        return {str(r[0]): int(r[1]) for r in self._read("SELECT name, version FROM brands")}

    def write_brand(
        self, name: str, *, toml: str, data: dict[str, Any], by: str, summary: str, expected_version: int
    ) -> int | None:
        """Store a new version of `name` if its current version is still `expected_version` (0: not stored yet).

        Writes the document and its history row in one transaction; returns the new version, or None
        when another process changed the brand meanwhile (read it again and retry).
        """
        now = _now()
        data_json = json.dumps(data, ensure_ascii=False)
        with self.transaction(exclusive=True):  # PostgreSQL: the version check and the write under one lock
            before = self._read("SELECT toml, version FROM brands WHERE name=?", (name,))
            current = int(before[0]["version"]) if before else 0
            if current != expected_version:
                return None
            version = current + 1
            self._write(
                "INSERT INTO brands(name, toml, data, version, updated_at, updated_by) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT(name) DO UPDATE SET toml=excluded.toml, data=excluded.data, version=excluded.version, "
                "updated_at=excluded.updated_at, updated_by=excluded.updated_by",
                (name, toml, data_json, version, now, by),
            )
            self._write(
                "INSERT INTO brand_history(brand, version, at, by, before, after, summary) VALUES (?,?,?,?,?,?,?)",
                (name, version, now, by, before[0]["toml"] if before else None, toml, summary),
            )
            self._notify_change("brand")
        return version

    def brand_had_text(self, name: str, toml: str) -> bool:
        """Whether `toml` is the text of any version `name` had (the current one included)."""
        return bool(self._read("SELECT 1 FROM brand_history WHERE brand=? AND after=? LIMIT 1", (name, toml)))

    def record_brand_rescore(self, name: str, version: int, rescore: dict[str, Any]) -> bool:
        """Keep the re-score diff of a version; only the first service to re-score it records (True)."""
        cur = self._write(
            "UPDATE brand_history SET rescore=? WHERE brand=? AND version=? AND rescore IS NULL",
            (json.dumps(rescore, ensure_ascii=False), name, version),
        )
        return cur.rowcount > 0

    def brand_history(self, name: str) -> list[BrandRevision]:
        """Every version of `name`, oldest first."""
        rows = self._read("SELECT * FROM brand_history WHERE brand=? ORDER BY version", (name,))
        return [
            BrandRevision(
                brand=r["brand"],
                version=int(r["version"]),
                at=datetime.fromisoformat(r["at"]),
                by=r["by"],
                before=r["before"],
                after=r["after"],
                summary=r["summary"],
                rescore=json.loads(r["rescore"]) if r["rescore"] else None,
            )
            for r in rows
        ]

    @staticmethod
    def _row_to_brand(row: Any) -> StoredBrand:
        return StoredBrand(
            name=row["name"],
            toml=row["toml"],
            version=int(row["version"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
            updated_by=row["updated_by"],
        )


def _load_factchecks_sql(*, withdrawals: bool) -> str:
    """The most recent debunks, oldest first; `withdrawals`: the table has `withdrawn_at` (schema v7).

    An undated debunk counts from the day Onda first stored it (`stored_on`); its date stays unknown.
    """
    active = " WHERE withdrawn_at IS NULL" if withdrawals else ""
    return (
        f"SELECT * FROM (SELECT *, COALESCE(published, substr(added_at, 1, 10)) AS day FROM factchecks{active}"
        " ORDER BY day DESC LIMIT ?) AS latest ORDER BY day"
    )


def _row_to_factcheck(row: Any) -> FactCheck:
    return FactCheck(
        title=row["title"],
        url=row["url"],
        publisher=row["publisher"],
        published=date.fromisoformat(row["published"]) if row["published"] else None,
        claim=row["claim"],
        rating=row["rating"],
        stored_on=date.fromisoformat(row["added_at"][:10]),
    )


def read_factchecks(path: str | Path, limit: int = 10_000) -> list[FactCheck]:
    """The debunks kept in a store, read without writing to it.

    No migration, no WAL switch, no new tables (`onda score --db` may point at any file). A file
    without Onda's `factchecks` table has none.
    """
    try:
        db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open database {path}: {exc}") from exc
    try:
        db.row_factory = sqlite3.Row
        columns = {row[1] for row in db.execute("PRAGMA table_info(factchecks)")}
        if not columns:
            return []
        sql = _load_factchecks_sql(withdrawals="withdrawn_at" in columns)  # a store not migrated yet has none
        return [_row_to_factcheck(r) for r in db.execute(sql, (limit,)).fetchall()]
    except sqlite3.Error as exc:
        raise StorageError(f"cannot read database {path}: {exc}") from exc
    finally:
        db.close()
