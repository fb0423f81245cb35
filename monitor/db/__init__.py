"""Database engines behind `monitor.storage.Storage`: SQLite (default) and PostgreSQL (a team's shared store)."""

from __future__ import annotations

from pathlib import Path

from monitor.db.base import Backend, redact
from monitor.db.sqlite import SqliteBackend

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


def describe_target(target: str | Path) -> str:
    """How messages name a store: a SQLite path as it is, a URL with its password as ***."""
    return redact(str(target)) if is_postgres(target) else str(target)


def sqlite_path(target: str | Path) -> Path | None:
    """The file of a SQLite target (`sqlite:PATH`, `sqlite:///abs/path` or a plain path); None for a URL."""
    if is_postgres(target):
        return None
    if isinstance(target, str) and target.startswith("sqlite:"):
        target = target.removeprefix("sqlite:")
        target = target.removeprefix("//") if target.startswith("///") else target
    return Path(target)


def open_backend(target: str | Path) -> Backend:
    """The backend for `target`: `postgresql://…` (or `postgres://…`), `sqlite:PATH` or a plain path.

    Raises StorageError when the store cannot be opened (the message never shows a password).
    """
    path = sqlite_path(target)
    if path is None:
        from monitor.db.postgres import PostgresBackend  # psycopg is imported only for a PostgreSQL store

        return PostgresBackend(str(target))
    return SqliteBackend(target if str(target) == ":memory:" else path)
