"""Live changes from other processes sharing the store: PostgreSQL LISTEN/NOTIFY, batched onto the event loop.

Every write others should see (a trend, a verdict, a feedback mark, a brand edit) sends a
notification at commit (`Storage._notify_change`). `ChangeListener` runs the blocking
`Storage.listen_changes` in a daemon thread on its own connection and hands the kinds it hears to the
event loop, batched over `settle_s` (one poll writes dozens of trends: one callback, not dozens).
When the connection drops it reconnects after `retry_s` and then delivers every kind once
(`ALL_KINDS`): what was written while nobody listened is re-read, not lost. SQLite has no
notifications: the service's lease tick (every few seconds) is the fallback there.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from monitor.storage import Storage, StorageError

log = logging.getLogger(__name__)

ALL_KINDS = ("trend", "verdict", "mark", "brand")
"""Every kind of change a store notifies (`Storage._notify_change` callers)."""


class ChangeListener:
    """Calls `on_changes(kinds)` on the event loop when other processes commit changes to the store."""

    def __init__(
        self,
        storage: Storage,
        on_changes: Callable[[frozenset[str]], None],
        *,
        settle_s: float = 0.15,
        retry_s: float = 5.0,
    ) -> None:
        """`storage` must support notifications (`supports_notify`); the listener opens its own connection."""
        self.storage = storage
        self.on_changes = on_changes
        self.settle_s = settle_s
        self.retry_s = retry_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: set[str] = set()
        self._flush: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Start listening (inside the running loop)."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._listen, name="onda-store-listener", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Stop the thread (it checks every quarter second) and drop what was not delivered."""
        self._stop.set()
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5.0)
            self._thread = None

    # -- listener thread ---------------------------------------------------------------------------
    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                for kind in self.storage.listen_changes(self._stop):
                    self._deliver(kind)
            except StorageError as exc:
                log.warning("live updates paused, retrying in %.0f s: %s", self.retry_s, exc)
                self._stop.wait(self.retry_s)
                for kind in ALL_KINDS:  # changes made while nobody listened: re-read everything once
                    self._deliver(kind)

    def _deliver(self, kind: str) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._note, kind)
        except RuntimeError:  # the loop closed between the check and the call
            pass

    # -- event loop --------------------------------------------------------------------------------
    def _note(self, kind: str) -> None:
        self._pending.add(kind)
        if self._flush is None and self._loop is not None and not self._stop.is_set():
            self._flush = self._loop.call_later(self.settle_s, self._deliver_batch)

    def _deliver_batch(self) -> None:
        self._flush = None
        kinds, self._pending = frozenset(self._pending), set()
        if kinds and not self._stop.is_set():
            try:
                self.on_changes(kinds)
            except Exception:
                log.exception("handling store changes %s failed", sorted(kinds))
