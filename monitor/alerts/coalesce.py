"""Coalesced background runs of one async job: never two at once, never a pile-up of requests.

`request()` starts the job in the background, or, while it runs, makes it run once more after the
current run; however many requests arrive meanwhile, that is one more run. A failing run is reported
to `on_error` (called inside the `except` block, so `log.exception` has the traceback); the next
request tries again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class Coalesced:
    """One background task for `job`, re-run once for the requests that arrived while it ran."""

    def __init__(self, job: Callable[[], Awaitable[None]], on_error: Callable[[Exception], None], *, name: str) -> None:
        self._job = job
        self._on_error = on_error
        self._name = name
        self._task: asyncio.Task[None] | None = None
        self._again = False  # requested while it ran: run once more
        self._stopped = False

    def request(self) -> None:
        """There is work: run in the background, or once more after the run in progress."""
        if self._stopped:
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._loop(), name=self._name)

    async def drain(self) -> None:
        """Run once more and wait until no run is in progress or requested."""
        self.request()
        while self._task is not None and not self._task.done():
            await asyncio.wait({self._task})

    async def stop(self) -> None:
        """No more runs: cancel the one in progress and wait for it to end."""
        self._stopped = True
        running, self._task = self._task, None
        if running is not None and not running.done():
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            self._again = False
            try:
                await self._job()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._on_error(exc)
            if not self._again or self._stopped:
                return
