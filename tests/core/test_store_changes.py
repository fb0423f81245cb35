"""ChangeListener: batches notifications onto the loop; after the listening connection broke it re-reads all."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

from monitor.storage import StorageError
from monitor.store_changes import ALL_KINDS, ChangeListener


class FlakyNotifications:
    """Stands in for a PostgreSQL Storage's `listen_changes` (the real one is tested in test_storage_postgres):
    the first connection hears two changes and breaks, the second hears one more."""

    def __init__(self) -> None:
        self.connections = 0

    def listen_changes(self, stop: threading.Event, poll_s: float = 0.25) -> Iterator[str]:
        self.connections += 1
        if self.connections == 1:
            yield "trend"
            yield "trend"
            raise StorageError("server closed the connection unexpectedly")
        yield "mark"
        stop.wait()


async def test_changes_arrive_batched_and_a_broken_connection_makes_everything_re_read() -> None:
    batches: list[frozenset[str]] = []
    store = FlakyNotifications()
    listener = ChangeListener(store, batches.append, settle_s=0.05, retry_s=0.2)  # type: ignore[arg-type]
    listener.start()
    try:
        for _ in range(100):
            if any("mark" in b for b in batches):
                break
            await asyncio.sleep(0.02)
    finally:
        await listener.stop()
    assert store.connections == 2
    assert batches[0] == {"trend"}  # two notifications, one callback
    assert set().union(*batches[1:]) >= set(ALL_KINDS)  # after the reconnect: re-read all, marks included

