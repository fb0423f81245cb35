"""Deterministic ServiceAPI for the TUI tests: the demo data plus hooks to gate, fail and inject events."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from brand_dna.dna import BrandDNA
from monitor.api import RescoreDiff
from monitor.events import Event
from monitor.models import RiskAssessment, Trend, Verdict
from tui.demo import LAVAZZA, NOW, DemoService


class FakeService(DemoService):
    """Records every call (`calls`); `gate` holds start() in "loading model" until set."""

    def __init__(
        self,
        *,
        gate: asyncio.Event | None = None,
        fail_start: str | None = None,
        fail_update: str | None = None,
        brands: list[BrandDNA] | None = None,
    ) -> None:
        super().__init__(brands=brands)
        self.gate = gate
        self.fail_start = fail_start
        self.fail_update = fail_update

    async def _load(self) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_start:
            raise RuntimeError(self.fail_start)

    async def update_brand(self, brand: BrandDNA, *, save: bool = True) -> RescoreDiff:
        if self.fail_update:
            self.calls.append(("update_brand", brand.name, brand))
            raise ValueError(self.fail_update)
        return await super().update_brand(brand, save=save)

    def push(self, event: Event) -> None:
        self.emit(event)


def make_trend(tid: str, title: str, minutes_ago: int = 5, counts: tuple[int, ...] = (1, 2, 4)) -> Trend:
    first = NOW - timedelta(minutes=minutes_ago)
    return Trend(
        id=tid,
        title=title,
        lang="en",
        first_seen=first,
        last_seen=NOW,
        sources=["gdelt", "mastodon"],
        mentions=[(first + timedelta(minutes=15 * i), c) for i, c in enumerate(counts)],
        momentum=float(counts[-1]),
    )


def fit_verdict(trend: Trend, fit: float, matched: str = LAVAZZA.dna[0], verdict: str = "fit") -> Verdict:
    return Verdict(id=trend.id, verdict=verdict, fit=fit, matched=matched, risk=RiskAssessment())  # type: ignore[arg-type]
