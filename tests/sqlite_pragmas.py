"""PRAGMAs on a Storage's own connection, through its public `transaction()` (no private attributes).

The disk-full tests cap the file with `max_page_count`, a per-connection setting, so it must be set
on the connection the store writes with.
"""

from __future__ import annotations

from monitor.storage import Storage

UNLIMITED_PAGES = 1_073_741_823


def pragma(storage: Storage, statement: str) -> object:
    """`PRAGMA <statement>` on the store's connection; the first column of its first row (None if no row)."""
    with storage.transaction() as con:
        row = con.execute(f"PRAGMA {statement}").fetchone()
    return None if row is None else row[0]


def page_count(storage: Storage) -> int:
    return int(str(pragma(storage, "page_count")))


def cap_pages(storage: Storage, pages: int) -> None:
    """From now on the file may not grow past `pages` pages: writes that need more fail with SQLITE_FULL."""
    pragma(storage, f"max_page_count = {pages}")


def uncap_pages(storage: Storage) -> None:
    """Space comes back (the disk was cleaned up)."""
    cap_pages(storage, UNLIMITED_PAGES)
