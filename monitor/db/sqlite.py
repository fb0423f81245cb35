"""The SQLite backend (the default): one WAL file, `BEGIN IMMEDIATE` transactions, `PRAGMA user_version`.

The file is checked with `PRAGMA quick_check` when it is opened; a damaged one is refused with the
one shell command that moves it aside. Several processes may open one file at once (see
`SqliteBackend._open_with_retry`).
"""

from __future__ import annotations

import shlex
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from threading import Event
from typing import Any

from monitor.db.base import BackendError, StorageCorrupt, StorageError

_CORRUPT = ("SQLITE_CORRUPT", "SQLITE_NOTADB")


def error_code(exc: BaseException) -> str | None:
    """SQLite's primary error name ('SQLITE_IOERR' for 'SQLITE_IOERR_WRITE'), None when unknown."""
    name = getattr(exc, "sqlite_errorname", None)
    if not isinstance(name, str):
        return None
    return "_".join(name.split("_")[:2])


def backup_command(path: str | Path) -> str:
    """The one shell command that moves a broken database (and its -wal/-shm files) aside."""
    p = Path(path)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    aside = p.parent / f"{p.stem}-corrupt-{stamp}"  # not matched by the glob below
    return f"mkdir {shlex.quote(str(aside))} && mv -- {shlex.quote(str(p))}* {shlex.quote(str(aside))}/"


def corrupt_error(path: str, detail: str) -> StorageCorrupt:
    return StorageCorrupt(
        f"database {path} is corrupted ({' '.join(detail.split())[:200]}); "
        f"to keep it aside and start afresh run: {backup_command(path)}",
        code="SQLITE_CORRUPT",
    )


def _failed(exc: sqlite3.Error) -> BackendError:
    return BackendError(str(exc), code=error_code(exc))


class SqliteBackend:
    """Implements monitor.db.base.Backend on one sqlite3 connection (autocommit outside transactions)."""

    kind = "sqlite"
    supports_notify = False
    row_lock = ""  # one writer at a time: an UPDATE … WHERE can never be won twice

    def __init__(self, path: str | Path) -> None:
        self.label = str(path)
        self._depth = 0
        try:
            if self.label != ":memory:":
                Path(self.label).parent.mkdir(parents=True, exist_ok=True)
            self._open_with_retry()
        except StorageError:
            self.close()
            raise
        except (sqlite3.Error, OSError) as exc:
            self.close()
            if isinstance(exc, sqlite3.DatabaseError) and error_code(exc) in _CORRUPT:
                raise corrupt_error(self.label, str(exc)) from exc
            raise StorageError(f"cannot open database {self.label}: {exc}", code=error_code(exc)) from exc

    def _open_with_retry(self, patience_s: float = 15.0) -> None:
        """Connect, switch to WAL and check the file; several processes may be doing it at once.

        Switching a new file to WAL and SQLite's WAL recovery can answer "database is locked" at once,
        without waiting for the busy timeout, while another process opens the same file: wait and retry
        (for `patience_s`) instead of failing the start of a second worker.
        """
        deadline = time.monotonic() + patience_s
        while True:
            self._db = sqlite3.connect(self.label, isolation_level=None, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            try:
                self._db.execute("PRAGMA busy_timeout=5000")
                if self.label != ":memory:":
                    self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._check_integrity()
                return
            except sqlite3.OperationalError as exc:
                if error_code(exc) not in ("SQLITE_BUSY", "SQLITE_LOCKED") or time.monotonic() > deadline:
                    raise
                self.close()
                time.sleep(0.2)

    def _check_integrity(self) -> None:
        """PRAGMA quick_check (O(size), no index cross-checks): refuse a damaged file before using it."""
        if self.label == ":memory:":
            return
        rows = self._db.execute("PRAGMA quick_check").fetchall()
        problems = [str(r[0]) for r in rows if str(r[0]) != "ok"]
        if problems:
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            raise corrupt_error(self.label, problems[0] + more)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise _failed(exc) from exc

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _failed(exc) from exc

    def batches(self, sql: str, size: int) -> Iterator[list[Any]]:
        try:
            cursor = self._db.execute(sql)
            while rows := cursor.fetchmany(size):
                yield rows
        except sqlite3.Error as exc:
            raise _failed(exc) from exc

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        try:
            before = self._db.total_changes
            self._db.executemany(sql, rows)
            return self._db.total_changes - before
        except sqlite3.Error as exc:
            raise _failed(exc) from exc

    @contextmanager
    def transaction(self, *, exclusive: bool = False) -> Iterator[None]:
        """BEGIN IMMEDIATE (the file's writer lock, so `exclusive` changes nothing) … COMMIT."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except sqlite3.Error as exc:
            self._rollback()
            raise _failed(exc) from exc
        except BaseException:
            self._rollback()
            raise
        else:
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise _failed(exc) from exc
        finally:
            self._depth = 0

    def _rollback(self) -> None:
        # SQLite itself rolls back on SQLITE_FULL / IOERR; a second ROLLBACK would raise and hide the real error.
        if self._db.in_transaction:
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def schema_version(self) -> int:
        return int(self.fetch("PRAGMA user_version")[0][0])

    def set_schema_version(self, version: int) -> None:
        self.execute(f"PRAGMA user_version={int(version)}")

    def run_script(self, script: str) -> None:
        for statement in script.split(";"):
            if statement.strip():
                self.execute(statement)

    def tables(self) -> list[str]:
        rows = self.fetch(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite%' ORDER BY rowid"
        )
        return [str(r[0]) for r in rows]

    def after_bulk_insert(self, table: str) -> None:
        """Nothing to do: AUTOINCREMENT continues after the largest id inserted."""

    def notify(self, channel: str, payload: str) -> None:
        """Nothing to do: no other connection can listen on SQLite."""

    def listen(self, channel: str, stop: Event, poll_s: float) -> Iterator[str]:
        raise BackendError("change notifications need a PostgreSQL store")

    def close(self) -> None:
        """Close the connection (idempotent; the last connection to close checkpoints the WAL)."""
        db = getattr(self, "_db", None)
        if db is not None:
            try:
                db.close()
            except sqlite3.Error:
                pass
