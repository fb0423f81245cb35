"""Prototype layer: GARM-style categories described by bilingual example headlines, judged by embedding.

A trend is flagged when it is closer to a category's examples than to the SAFE examples
(mean of top-3 cosines, category minus safe) and close enough in absolute terms. Comparing to
the safe set is what keeps "Italy wins the final" away from "Dozens dead in final collapse":
both are near *something*, only one is nearer to harm than to harmless news.
"""

from __future__ import annotations

import hashlib
import threading
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brand_dna.embedder import Embedder, Vectors
from brand_dna.index import StatementIndex
from monitor.evidence import PrototypeEvidence
from monitor.models import RiskCategory, RiskFlag, RiskLevel, level_rank
from monitor.text import normalise_lang

DATA_FILE = Path(__file__).with_name("data") / "prototypes.toml"
TOP_K = 3
MAX_FLAGS = 2  # prototype flags kept per trend


@dataclass(frozen=True, slots=True)
class PrototypeThresholds:
    """Margins (category top-3 mean minus safe top-3 mean) and absolute floors for medium / high."""

    medium_margin: float
    medium_floor: float
    high_margin: float
    high_floor: float


# Per embedding model (`monitor.profiles`, section "prototypes"): "en" for English text, "other" for
# the rest. With the English-only MiniLM, Italian text lands close to *everything* (cosines 0.4-0.6)
# with small margins, so it needs its own numbers; a multilingual model can share one pair.
def thresholds_table(model_id: str) -> dict[str, PrototypeThresholds]:
    from monitor.profiles import profile_for

    section = profile_for(model_id).section("prototypes")
    return {key: PrototypeThresholds(**{k: float(v) for k, v in section[key].items()}) for key in ("en", "other")}



def thresholds_for(lang: str | None, table: dict[str, PrototypeThresholds]) -> PrototypeThresholds:
    """English numbers for "en", the non-English ones for a known other language; unknown -> the stricter of both."""
    key = normalise_lang(lang)
    if key == "en":
        return table["en"]
    if key:
        return table["other"]
    en, other = table["en"], table["other"]
    return PrototypeThresholds(
        medium_margin=max(en.medium_margin, other.medium_margin),
        medium_floor=min(en.medium_floor, other.medium_floor),
        high_margin=max(en.high_margin, other.high_margin),
        high_floor=min(en.high_floor, other.high_floor),
    )


@dataclass(frozen=True, slots=True)
class Category:
    """A risk category described by example sentences, the prototypes trends are compared with."""

    name: str
    risk: RiskCategory
    max_level: RiskLevel
    examples: tuple[str, ...]


def load_prototypes(path: Path = DATA_FILE) -> tuple[list[Category], tuple[str, ...]]:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    cats = [
        Category(
            name=str(c["name"]),
            risk=c["risk"],
            max_level=c.get("max_level", "high"),
            examples=tuple(str(e) for e in c["examples"]),
        )
        for c in data.get("category", [])
    ]
    safe = tuple(str(e) for e in data.get("safe", {}).get("examples", []))
    if not cats or not safe:
        raise ValueError(f"{path}: needs [[category]] tables and [safe] examples")
    return cats, safe


@dataclass(slots=True)
class _Built:
    index: StatementIndex
    matrix: Vectors  # all examples, rows in index-id order
    columns: list[np.ndarray]  # per category, the rows of its examples
    safe_columns: np.ndarray


_CACHE: dict[tuple[str, str], _Built] = {}
_CACHE_LOCK = threading.Lock()


def _digest(cats: list[Category], safe: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for c in cats:
        h.update(c.name.encode())
        for e in c.examples:
            h.update(e.encode() + b"\0")
    for e in safe:
        h.update(b"S" + e.encode() + b"\0")
    return h.hexdigest()


class PrototypeLayer:
    """The risk gate's prototype layer: flags trends close to a category's example sentences."""

    def __init__(
        self,
        embedder: Embedder,
        thresholds: dict[str, PrototypeThresholds] | None = None,
        path: Path = DATA_FILE,
        cache_dir: Path | None = None,
    ) -> None:
        self.embedder = embedder
        self.cache_dir = cache_dir
        self.thresholds = thresholds or thresholds_table(embedder.model_id)
        self.categories, self.safe = load_prototypes(path)
        self._key = (embedder.model_id, _digest(self.categories, self.safe))

    def built(self) -> _Built:
        """The FAISS index of every example, built once per (model, prototype set) and kept in memory."""
        with _CACHE_LOCK:
            hit = _CACHE.get(self._key)
            if hit is not None:
                return hit
            texts: list[str] = []
            columns: list[np.ndarray] = []
            for c in self.categories:
                columns.append(np.arange(len(texts), len(texts) + len(c.examples)))
                texts.extend(c.examples)
            safe_columns = np.arange(len(texts), len(texts) + len(self.safe))
            texts.extend(self.safe)
            if self.cache_dir is not None:  # persisted with a sidecar: rebuilt when model or examples change
                index, _ = StatementIndex.load_or_build(self.cache_dir / "risk_prototypes", texts, self.embedder)
            else:
                index = StatementIndex.build(texts, self.embedder)
            _, matrix = index.all_scores(np.eye(index.dim, dtype=np.float32))
            built = _Built(index, np.ascontiguousarray(matrix.T, dtype=np.float32), columns, safe_columns)
            _CACHE[self._key] = built
            return built

    def scores(self, vectors: Vectors) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(category top-k mean [n, C], safe top-k mean [n], argmax example per category [n, C])."""
        b = self.built()
        sims = vectors @ b.matrix.T  # [n, m]
        n = sims.shape[0]
        cat_mean = np.zeros((n, len(b.columns)), dtype=np.float32)
        cat_best = np.zeros((n, len(b.columns)), dtype=np.int64)
        for j, cols in enumerate(b.columns):
            block = sims[:, cols]
            k = min(TOP_K, block.shape[1])
            cat_mean[:, j] = np.partition(block, -k, axis=1)[:, -k:].mean(axis=1)
            cat_best[:, j] = cols[np.argmax(block, axis=1)]
        safe_block = sims[:, b.safe_columns]
        k = min(TOP_K, safe_block.shape[1])
        safe_mean = np.partition(safe_block, -k, axis=1)[:, -k:].mean(axis=1)
        return cat_mean, safe_mean, cat_best

    def assess(
        self, vectors: Vectors, langs: Sequence[str | None] | None = None, *, max_level: RiskLevel = "high"
    ) -> list[list[RiskFlag]]:
        """Flags per row; `langs` picks the calibrated thresholds (None = unknown language).

        `max_level` caps every flag (the gate passes "medium" when a trained classifier reads the same vectors).
        """
        if len(vectors) == 0:
            return []
        b = self.built()
        cat_mean, safe_mean, cat_best = self.scores(vectors)
        margins = cat_mean - safe_mean[:, None]
        out: list[list[RiskFlag]] = []
        for i in range(len(vectors)):
            t = thresholds_for(langs[i] if langs is not None else None, self.thresholds)
            flags: list[RiskFlag] = []
            for j, cat in enumerate(self.categories):
                sim, margin = float(cat_mean[i, j]), float(margins[i, j])
                level: RiskLevel
                if margin >= t.high_margin and sim >= t.high_floor:
                    level = "high"
                elif margin >= t.medium_margin and sim >= t.medium_floor:
                    level = "medium"
                else:
                    continue
                cap = min(cat.max_level, max_level, key=level_rank)
                if level_rank(level) > level_rank(cap):
                    level = cap
                example = b.index.statements[int(cat_best[i, j])]
                flags.append(
                    RiskFlag(
                        cat.risk,
                        level,
                        garm=cat.name,
                        evidence=PrototypeEvidence(example, round(sim, 4), round(margin, 4)),
                        strength=round(max(0.0, min(margin / 0.3, 1.0)), 3),
                    )
                )
            # The two closest categories are the evidence; more would only add noise to the reasons.
            flags.sort(key=lambda f: (-level_rank(f.level), -f.strength))
            out.append(flags[:MAX_FLAGS])
        return out
