"""What `monitor.storage.Storage` needs from a database engine: the `Backend` protocol and its errors.

A backend owns one connection and speaks its engine's dialect; `Storage` writes every statement
once, with `?` placeholders and portable SQL, and leaves the rest to the backend: placeholder and
DDL translation, transactions and the writer lock, the schema version, the row lock of a claim,
change notifications, and turning the driver's errors into `BackendError` (which `Storage` words).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from threading import Event
from typing import Any, Protocol


class StorageError(Exception):
    """The database cannot be opened, read or written (read-only path, disk full, corruption, newer schema).

    `code` is SQLite's error name when there is one (`SQLITE_FULL`, `SQLITE_CORRUPT`, ...), PostgreSQL's
    SQLSTATE (`57P01`, ...) or `PG_CONNECT` when the server cannot be reached or refuses the login.
    """

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code

    @property
    def disk_full(self) -> bool:
        """Out of space: writes work again once space returns (nothing is wrong with the file)."""
        return self.code == "SQLITE_FULL"

    @property
    def corrupt(self) -> bool:
        return self.code in ("SQLITE_CORRUPT", "SQLITE_NOTADB")


class StorageCorrupt(StorageError):
    """The file fails SQLite's integrity check: Onda will not run on it (the message says how to start afresh)."""


class BackendError(Exception):
    """A statement failed in the engine; `Storage` turns it into a StorageError naming the store and the verb."""

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


class Result(Protocol):
    """What a statement gives back (a DB-API cursor): rows read by column name or position, rows changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Backend(Protocol):
    """One connection to one store. Every method raises BackendError (or StorageError when opening)."""

    kind: str
    """"sqlite" or "postgresql"."""
    label: str
    """How messages name the store: the SQLite path, or the URL with its password replaced by ***."""
    supports_notify: bool
    """Whether `notify` reaches `listen` of other connections (PostgreSQL LISTEN/NOTIFY)."""
    row_lock: str
    """Appended to the SELECT that picks rows to claim: '' (SQLite's one writer) or ' FOR UPDATE SKIP LOCKED'."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result: ...

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run `sql` and read all its rows (errors while reading count too: SQLite runs RETURNING as it reads)."""
        ...

    def batches(self, sql: str, size: int) -> Iterator[list[Any]]:
        """The rows of `sql`, `size` at a time."""
        ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """Run `sql` once per row; returns the number of rows changed."""
        ...

    def transaction(self, *, exclusive: bool = False) -> AbstractContextManager[None]:
        """BEGIN … COMMIT, rolled back on any error. Nested calls join the outer transaction.

        `exclusive`: also hold the store-wide writer lock until the end (migrations).
        """
        ...

    def schema_version(self) -> int: ...

    def set_schema_version(self, version: int) -> None:
        """Record the schema version (inside the migration's transaction)."""
        ...

    def run_script(self, script: str) -> None:
        """Run a migration script (statements separated by ';'), DDL translated to the engine's types."""
        ...

    def tables(self) -> list[str]:
        """Onda's tables in this store, in creation order (schema bookkeeping excluded)."""
        ...

    def after_bulk_insert(self, table: str) -> None:
        """Rows were inserted with explicit ids: let the table's id generator continue after the largest."""
        ...

    def notify(self, channel: str, payload: str) -> None: ...

    def listen(self, channel: str, stop: Event, poll_s: float) -> Iterator[str]:
        """Payloads notified on `channel` by any connection, until `stop` is set (a dedicated connection)."""
        ...

    def close(self) -> None: ...


_PASSWORD_PARAM = re.compile(r"(?i)(password=)[^&;#\s]*")


def redact(url: str) -> str:
    """`url` with its password replaced by *** (postgresql://user:***@host:5432/db); other text unchanged.

    Not parsed as a URL (libpq accepts what urlsplit does not, e.g. an unencoded '#' or '/' in the
    password): everything between '://' and the last '@' becomes `user:***`, and a `password=`
    parameter is masked too.
    """
    scheme, userinfo, host = _split_userinfo(url)
    if userinfo:
        user = userinfo.split(":", 1)[0]
        url = f"{scheme}://{user}:***@{host}" if ":" in userinfo else f"{scheme}://{user}@{host}"
    return _PASSWORD_PARAM.sub(r"\1***", url)


def password_of(url: str) -> str:
    """The password a store URL carries (in the user part or as a `password=` parameter); '' when none."""
    found = _PASSWORD_PARAM.search(url)
    if found is not None:
        return url[found.end(1) : found.end()]
    userinfo = _split_userinfo(url)[1]
    return userinfo.split(":", 1)[1] if ":" in userinfo else ""


def _split_userinfo(url: str) -> tuple[str, str, str]:
    """(scheme, everything between '://' and the last '@', the rest); userinfo '' when the URL has none."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return scheme, "", rest
    userinfo, _, host = rest.rpartition("@")
    return scheme, userinfo, host
