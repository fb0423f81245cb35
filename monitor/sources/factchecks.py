"""Fact-checker feeds as a polled source: fills the risk gate's FactCheckStore.

It yields no trends. It is scheduled like any source (interval, backoff, health), and
when new debunks arrive the service re-scores recent trends, so a story that a
fact-checker debunks after it started trending turns `risky` (and a trend the team
already used raises a "pull the post?" alert).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from monitor.models import SourceItem
from monitor.risk.factcheck import FactCheck, FactCheckStore, poll_factcheck_feeds
from monitor.sources.base import PollContext, SourceError

log = logging.getLogger(__name__)


class FactCheckSink(Protocol):
    """Where polled debunks are kept so they survive a restart (monitor.storage.Storage)."""

    def save_factchecks(self, items: Sequence[FactCheck], origin: str) -> int: ...


class FactCheckSource:
    name = "factchecks"
    refreshes_risk = True  # the service re-scores recent trends when `last_new` > 0

    def __init__(
        self, store: FactCheckStore, urls: Sequence[str], interval_s: float, sink: FactCheckSink | None = None
    ) -> None:
        self.store = store
        self.sink = sink
        self.urls = list(urls)
        self.interval_s = interval_s
        self.last_new = 0

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        async def fetch(url: str) -> bytes:
            return (await ctx.fetcher.get(url, conditional=False)).body

        items = await poll_factcheck_feeds(fetch, self.urls)
        if not items and self.urls:
            raise SourceError(f"no fact-check could be read from {len(self.urls)} feeds")
        self.last_new = self.store.add(items, ctx.now().date())
        if self.sink is not None and items:
            from monitor.storage import StorageError

            try:
                self.sink.save_factchecks(items, "feed")
            except StorageError as exc:  # still matched from memory; stored on a later poll
                log.warning("could not store %d fact-check(s): %s", len(items), exc)
        return []
