"""The one scorer stand-in for plumbing tests (service, hardening, the watch harness subprocess).

A plain module, not conftest.py: several test folders have a conftest.py, so `import conftest` is
ambiguous, and tests/hardening/watch_harness.py imports this outside pytest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from brand_dna.dna import BrandDNA
from brand_dna.embedder import Embedder, HashEmbedder
from monitor.api import Connections
from monitor.clustering import Clusterer, TextAnalyser
from monitor.config import Settings
from monitor.events import Event
from monitor.models import RiskAssessment, SourceItem, Trend, Verdict
from monitor.service import MonitorService
from monitor.sources.base import NotModified, PollContext
from monitor.storage import Storage


class OnceSource:
    """A source that yields its titles on the first poll, then nothing new (NotModified)."""

    interval_s = 60.0

    def __init__(self, name: str, titles: Sequence[str]) -> None:
        self.name = name
        self.titles = list(titles)
        self.polls = 0

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        self.polls += 1
        if self.polls > 1:
            raise NotModified()
        return [SourceItem(source=self.name, title=t, item_id=t) for t in self.titles]


class KeywordScorer:
    """Fit when a DNA keyword is in the title (no model).

    `fail` makes scoring raise; `risky` holds title words that make a trend risky (as new risk
    evidence would); `embedder` is what the clusterer borrows (default a HashEmbedder); `calls` counts scoring batches and `loaded` tells whether `load()` ran.
    """

    def __init__(self, brands: Sequence[BrandDNA], embedder: Embedder | None = None) -> None:
        self._brands = list(brands)
        self.embedder = embedder or HashEmbedder()
        self.loaded = False
        self.fail = False
        self.calls = 0
        self.risky: set[str] = set()

    @property
    def brands(self) -> list[BrandDNA]:
        return list(self._brands)

    def load(self) -> None:
        self.loaded = True

    def replace_brand(self, brand: BrandDNA) -> None:
        self._brands = [brand if b.name == brand.name else b for b in self._brands]

    def score_trends(self, trends: Sequence[Trend]) -> list[dict[str, Verdict]]:
        self.calls += 1
        if self.fail:
            raise RuntimeError("scorer exploded")
        out = []
        for t in trends:
            by_brand = {}
            for b in self._brands:
                hit = next((k for k in b.dna if k.lower() in t.title.lower()), None)
                risky = any(w in t.title.lower() for w in self.risky)
                by_brand[b.name] = Verdict(
                    id=t.id,
                    verdict="risky" if risky else "fit" if hit else "off_brand",
                    fit=0.9 if hit else 0.1,
                    matched=hit,
                    risk=RiskAssessment(level="high") if risky else RiskAssessment(),
                )
            out.append(by_brand)
        return out


def keyword_service(
    settings: Settings,
    storage: Storage,
    scorer: KeywordScorer,
    analyser: TextAnalyser,
    connections: Connections,
    **options: Any,
) -> MonitorService:
    """A MonitorService on `storage` judged by `scorer`, clustering on the wall clock with the shared `analyser`.

    `options`: any other MonitorService keyword (alerts, lease_s, user, brand_versions, ...).
    """
    clusterer = Clusterer(scorer.embedder, storage, lambda: datetime.now(UTC), analyser=analyser)
    return MonitorService(settings, storage=storage, scorer=scorer, clusterer=clusterer, connections=connections, **options)


def recorded(service: MonitorService) -> list[Event]:
    """The list every event `service` publishes from now on is appended to."""
    events: list[Event] = []
    service.subscribe(events.append)
    return events


async def wait_for(cond: Callable[[], bool], within: float = 5.0) -> None:
    """Poll `cond` every 20 ms on the running loop; AssertionError when it is still false after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while not cond():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
