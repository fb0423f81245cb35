"""The one scorer stand-in for plumbing tests (service, hardening, the watch harness subprocess).

A plain module, not conftest.py: several test folders have a conftest.py, so `import conftest` is
ambiguous, and tests/hardening/watch_harness.py imports this outside pytest.
"""

from __future__ import annotations

from collections.abc import Sequence

from brand_dna.dna import BrandDNA
from brand_dna.embedder import Embedder, HashEmbedder
from monitor.models import RiskAssessment, SourceItem, Trend, Verdict
from monitor.sources.base import NotModified, PollContext


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
