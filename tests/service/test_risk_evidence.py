"""A RiskEvidenceSource (the fact-check feeds) that added evidence makes the service re-score recent trends."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import KeywordScorer, keyword_service, recorded

from brand_dna.dna import BrandDNA
from monitor.clustering import TextAnalyser
from monitor.compose import HttpConnections
from monitor.config import Settings
from monitor.events import TrendEvent
from monitor.models import SourceItem
from monitor.sources.base import PollContext, RiskEvidenceSource
from monitor.storage import Storage


class StorySource:
    name = "story"
    interval_s = 3600.0

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        return [SourceItem(source=self.name, title="caffè sospeso day", item_id="1")]


class EvidenceSource:
    """Yields no trends; `pending` is what its next poll reports as `last_new`."""

    interval_s = 3600.0

    def __init__(self, name: str, refreshes_risk: bool) -> None:
        self.name = name
        self.refreshes_risk = refreshes_risk
        self.last_new = 0
        self.pending = 0

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        self.last_new, self.pending = self.pending, 0
        return []


@pytest.mark.parametrize("refreshes", [True, False])
async def test_new_evidence_rescores_recent_trends(
    tmp_path: Path, brand: BrandDNA, analyser: TextAnalyser, refreshes: bool
) -> None:
    settings = Settings()
    settings.storage.path = str(tmp_path / "onda.db")
    storage = Storage(tmp_path / "onda.db")
    scorer = KeywordScorer([brand])  # "caffè sospeso day" fits the one-word brand "caffè"
    evidence = EvidenceSource("evidence", refreshes_risk=refreshes)
    assert isinstance(evidence, RiskEvidenceSource)
    svc = keyword_service(settings, storage, scorer, analyser, HttpConnections(settings, storage, sources=[StorySource(), evidence]))
    events = recorded(svc)
    await svc.start()
    try:
        await svc.run_once()
        assert [e.source for e in events if isinstance(e, TrendEvent)] == ["story"]
        scorer.risky = {"sospeso"}  # as if a debunk had arrived
        evidence.pending = 2
        await svc.poll_now("evidence")
    finally:
        await svc.stop()
    rescored = [e for e in events if isinstance(e, TrendEvent) and e.source == "evidence"]
    if refreshes:
        assert len(rescored) == 1 and rescored[0].risk_changed
        assert rescored[0].verdicts[brand.name].risk.level == "high"
    else:
        assert rescored == []
