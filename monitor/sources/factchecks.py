"""Fact-checker feeds as a polled source: fills the risk gate's FactCheckStore.

It yields no trends. It is built by the registry (when the service lends it the store, see
`SourceBuild`) and scheduled like any source (interval, backoff, health); it is a
`RiskEvidenceSource`: when a poll adds debunks (`last_new`) the service re-scores recent trends,
so a story that a fact-checker debunks after it started trending turns `risky` (and a trend the
team already used raises a "pull the post?" alert).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from monitor.models import SourceItem
from monitor.risk.factcheck import FactCheckStore
from monitor.risk.factcheck_feeds import poll_factcheck_feeds
from monitor.sources.base import FactCheckSink, PollContext, SourceBuild, SourceError
from monitor.sources.http import FetchResult
from monitor.sources.polling import fetch_parsed

log = logging.getLogger(__name__)

NAME = "factchecks"


def _body(res: FetchResult) -> bytes:
    return res.body  # poll_factcheck_feeds parses (off the loop) and skips a feed it cannot read


class FactCheckSource:
    """The `[risk] factcheck_feeds` (and Google claims:search with ONDA_FACTCHECK_API_KEY) into the store."""

    name = NAME
    refreshes_risk = True

    def __init__(
        self, store: FactCheckStore, urls: Sequence[str], interval_s: float, sink: FactCheckSink | None = None
    ) -> None:
        self.store = store
        self.sink = sink
        self.urls = list(urls)
        self.interval_s = interval_s
        self.last_new = 0  # debunks the last poll added to the store

    @classmethod
    def from_build(cls, build: SourceBuild) -> FactCheckSource:
        """From the settings' `[risk]` feeds (the replay server's copies offline) and the service's store."""
        if build.factchecks is None:
            raise ValueError("the fact-check source needs the risk gate's FactCheckStore")
        risk = build.settings.risk
        urls = risk.factcheck_feeds
        if build.base_url is not None:
            from monitor.offline import offline_settings

            urls = offline_settings(build.settings, build.base_url).risk.factcheck_feeds
        return cls(build.factchecks, urls, risk.factcheck_interval_s, sink=build.factcheck_sink)

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        async def fetch(url: str) -> bytes:
            return await fetch_parsed(ctx.fetcher, url, _body, name=self.name, conditional=False)

        items = await poll_factcheck_feeds(fetch, self.urls)
        if not items and self.urls:
            raise SourceError(f"{self.name}: no fact-check could be read from {len(self.urls)} feeds")
        self.last_new = self.store.add(items, ctx.now().date())
        if self.sink is not None and items:
            from monitor.storage import StorageError

            try:
                self.sink.save_factchecks(items, "feed")
            except StorageError as exc:  # still matched from memory; stored on a later poll
                log.warning("could not store %d fact-check(s): %s", len(items), exc)
        return []
