"""Composition root: builds the embedder, risk gate, scorer, storage and service from settings.

The CLI and the TUI both call these, so `onda watch` and `onda tui` run the same service.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from brand_dna.dna import BrandDNA, load_brand
from brand_dna.embedder import Embedder, make_embedder
from monitor.config import Settings
from monitor.models import FactCheck

if TYPE_CHECKING:
    from monitor.risk import RiskGate
    from monitor.scoring import MultiBrandScorer
    from monitor.service import MonitorService
    from monitor.storage import Storage

log = logging.getLogger(__name__)


def build_embedder(settings: Settings) -> Embedder:
    model = settings.model
    return make_embedder(
        model.backend, model.name, threads=model.threads, batch_size=model.batch_size, precision=model.precision
    )


def load_brands(settings: Settings, override: list[str] | None = None) -> list[BrandDNA]:
    paths = [Path(p) for p in override] if override else settings.brand_files()
    return [load_brand(p) for p in paths]


def build_risk_gate(settings: Settings, embedder: Embedder, factchecks: Sequence[FactCheck] = ()) -> RiskGate:
    """The risk gate; stored fact-checks given here are matched too (embedded on first use)."""
    from monitor.risk import RiskGate
    from monitor.risk.credibility import CredibilityIndex
    from monitor.risk.factcheck import FactCheckStore

    credibility = CredibilityIndex.load(settings.credibility_dir())
    store = FactCheckStore(embedder=embedder)
    store.preload(factchecks)
    return RiskGate(embedder, credibility=credibility, factchecks=store, cache_dir=settings.cache_dir())


def build_scorer(
    settings: Settings,
    brands: list[BrandDNA],
    embedder: Embedder | None = None,
    risk_gate: RiskGate | None = None,
) -> MultiBrandScorer:
    """The scorer; `risk_gate` defaults to one without stored fact-checks (build_risk_gate)."""
    from monitor.scoring import MultiBrandScorer

    embedder = embedder or build_embedder(settings)
    return MultiBrandScorer(
        brands,
        embedder,
        risk_gate=risk_gate if risk_gate is not None else build_risk_gate(settings, embedder),
        cache_dir=settings.cache_dir(),
        margin=settings.scoring.margin,
    )


def open_storage(settings: Settings, db: str | None = None) -> Storage:
    from monitor.storage import Storage

    return Storage(Path(db) if db else settings.db_path())


def build_service(settings: Settings, *, offline: bool, db: str | None = None) -> MonitorService:
    from monitor.alerts import AlertDispatcher
    from monitor.service import MonitorService

    brands = load_brands(settings)
    storage = open_storage(settings, db)
    try:
        embedder = build_embedder(settings)
        gate = build_risk_gate(settings, embedder, storage.load_factchecks())
        scorer = build_scorer(settings, brands, embedder, gate)
        alerts = AlertDispatcher(settings, storage, None, brands, fit_threshold=scorer.threshold)
        return MonitorService(
            settings, storage=storage, scorer=scorer, alerts=alerts, offline=offline, factchecks=gate.factchecks
        )
    except BaseException:
        storage.close()
        raise
