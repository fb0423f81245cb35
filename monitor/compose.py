"""Composition root: builds the embedder, risk gate, scorer, storage, connections and service from settings.

The CLI and the TUI both call these, so `onda watch` and `onda tui` run the same service. What
needs the running event loop (the offline replay server, the sources that poll it, the HTTP
session and its fetcher) is built by `HttpConnections.open()`, which the service calls from start().
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from brand_dna.dna import BrandDNA, load_brand
from brand_dna.embedder import Embedder, make_embedder
from monitor.config import Settings
from monitor.models import FactCheck

if TYPE_CHECKING:
    import aiohttp

    from monitor.api import Connected
    from monitor.offline.server import ReplayServer
    from monitor.risk import RiskGate
    from monitor.risk.factcheck import FactCheckStore
    from monitor.scoring import MultiBrandScorer
    from monitor.service import MonitorService
    from monitor.sources.base import Source, StreamSource
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
    store = FactCheckStore(
        embedder=embedder, max_age_days=settings.factchecks.max_age_days, lag_days=settings.factchecks.lag_days
    )
    store.preload(factchecks)
    return RiskGate(embedder, credibility=credibility, factchecks=store, cache_dir=settings.cache_dir())


def build_scorer(
    settings: Settings,
    brands: list[BrandDNA],
    embedder: Embedder | None = None,
    risk_gate: RiskGate | None = None,
) -> MultiBrandScorer:
    """The scorer; `risk_gate` defaults to one without stored fact-checks (build_risk_gate)."""
    from monitor.kinds import KindLexicon, default_kinds
    from monitor.scoring import MultiBrandScorer

    embedder = embedder or build_embedder(settings)
    lexicon = default_kinds()
    own = settings.kinds_path()
    if own is not None:  # checked when the settings were loaded
        lexicon = lexicon.extended(KindLexicon.load(own))
    return MultiBrandScorer(
        brands,
        embedder,
        risk_gate=risk_gate if risk_gate is not None else build_risk_gate(settings, embedder),
        cache_dir=settings.cache_dir(),
        margin=settings.scoring.margin,
        kind_lexicon=lexicon,
    )


def open_storage(settings: Settings, db: str | None = None) -> Storage:
    """The store (`--db`, else `[storage] url`, else the SQLite file); a context manager: open it in a `with` block."""
    from monitor.storage import Storage

    return Storage(settings.store_target(db))


class HttpConnections:
    """Implements monitor.api.Connections: the sources and the one HTTP session they poll through.

    `open()` (inside the running loop) starts the replay server when offline, builds the enabled
    sources from the registry (pointed at the replay server when offline) plus the fact-check feeds,
    and opens one aiohttp session with its HttpFetcher (conditional GETs cached in `storage`).
    Given `sources`, exactly those are polled (tests). `close()` closes the session, then the replay
    server.
    """

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        *,
        offline: bool = False,
        factchecks: FactCheckStore | None = None,
        sources: Sequence[Source] | None = None,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.offline = offline
        self.factchecks = factchecks  # the risk gate's debunks, filled by the fact-check feeds
        self._given = list(sources) if sources is not None else None
        self._session: aiohttp.ClientSession | None = None
        self._streams: list[StreamSource] = []  # sources holding a connection open: closed first
        self._replay: ReplayServer | None = None

    async def open(self) -> Connected:
        import aiohttp

        from monitor.api import Connected
        from monitor.sources import StreamSource, build_sources
        from monitor.sources.http import HttpFetcher

        try:
            base_url = await self._start_replay() if self.offline else None
            notices: list[str] = []
            if self._given is not None:
                sources = list(self._given)
            else:
                sources = build_sources(
                    self.settings,
                    base_url=base_url,
                    errors=notices,
                    factchecks=self.factchecks,
                    factcheck_sink=self.storage,
                )
            self._streams = [s for s in sources if isinstance(s, StreamSource)]
            self._session = aiohttp.ClientSession(headers={"User-Agent": self.settings.http.user_agent})
        except BaseException:
            await self.close()
            raise
        fetcher = HttpFetcher(self._session, self.settings.http, self.storage)
        return Connected(sources=sources, fetcher=fetcher, session=self._session, notices=notices)

    async def close(self) -> None:
        streams, self._streams = self._streams, []
        for stream in streams:
            try:
                await stream.close()
            except Exception:
                log.exception("closing the %s stream failed", stream.name)
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._replay is not None:
            try:
                await self._replay.stop()
            except Exception:
                log.exception("stopping the replay server failed")
            self._replay = None

    async def _start_replay(self) -> str:
        from monitor.api import ServiceError

        try:
            from monitor.offline.server import ReplayServer
        except ImportError as exc:
            raise ServiceError(
                "offline mode is not available: monitor.offline.server (the replay server) is missing"
            ) from exc
        self._replay = ReplayServer()
        return str(await self._replay.start())


def _utcnow() -> datetime:
    return datetime.now(UTC)


def build_service(settings: Settings, *, offline: bool, db: str | None = None) -> MonitorService:
    from monitor.alerts import AlertDispatcher
    from monitor.brands import BrandBook
    from monitor.clustering import Clusterer
    from monitor.service import MonitorService

    storage = open_storage(settings, db)
    try:
        # the configured files, imported into the store when they changed, then the store's other brands
        book = BrandBook(storage, settings.user_name())
        brands = book.sync_files(settings.brand_files())
        embedder = build_embedder(settings)
        gate = build_risk_gate(settings, embedder, storage.load_factchecks())
        scorer = build_scorer(settings, brands, embedder, gate)
        alerts = AlertDispatcher(settings, storage, None, brands, fit_threshold=scorer.threshold)
        return MonitorService(
            settings,
            storage=storage,
            scorer=scorer,
            clusterer=Clusterer(embedder, storage, _utcnow),
            connections=HttpConnections(settings, storage, offline=offline, factchecks=gate.factchecks),
            alerts=alerts,
            credibility_dir=settings.credibility_dir(),
            brand_versions=book.loaded,
        )
    except BaseException:
        storage.close()
        raise
