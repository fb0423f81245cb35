"""`onda db migrate` and `onda db copy`: create or upgrade a store, and move one install's data to another store.

A store is a SQLite path (`sqlite:PATH` or a plain path) or a `postgresql://` URL. Messages name a
URL with its password as *** (monitor.db.describe_target); a bad URL, an unreachable server or a
refused login is one line on stderr and exit 2.
"""

from __future__ import annotations

from monitor.commands.common import EXIT_OK, UserError
from monitor.config import Settings


def cmd_db_migrate(settings: Settings, url: str | None, db: str | None = None) -> int:
    """Create or upgrade the store (`--url`, else the configured one) and print its schema version."""
    from monitor.storage import Storage, StorageError

    target = url or settings.store_target(db)
    try:
        with Storage(target) as storage:
            print(f"{storage.path}: schema v{storage.schema_version} ({storage.kind})")
    except StorageError as exc:
        raise UserError(str(exc)) from None
    return EXIT_OK


def cmd_db_copy(source: str, target: str, *, force: bool = False, batch: int = 1000) -> int:
    """Copy every table of `source` into `target`, one transaction per table, rows already there skipped.

    Refuses a target that already holds trends unless `force` (then only missing rows are added, so
    running it twice adds nothing twice). Prints one line per table.
    """
    from monitor.db import sqlite_path
    from monitor.storage import Storage, StorageError

    path = sqlite_path(source)
    if path is not None and not path.exists():
        raise UserError(f"database not found: {path}")
    try:
        with Storage(source) as src, Storage(target) as dst:
            if dst.count_trends() and not force:
                raise UserError(
                    f"{dst.path} already holds {dst.count_trends()} trend(s); "
                    "copy into it anyway with --force (rows already there are kept, not copied twice)"
                )
            wanted = set(dst.tables())
            for table in src.tables():
                if table not in wanted:
                    print(f"{table}: skipped (no such table in {dst.path})")
                    continue
                read = added = 0
                with dst.transaction():
                    for rows in src.table_rows(table, batch):
                        read += len(rows)
                        added += dst.add_rows(table, rows)
                print(f"{table}: {added} copied, {read - added} already there")
            print(f"copied {src.path} -> {dst.path}")
    except StorageError as exc:
        raise UserError(str(exc)) from None
    return EXIT_OK
