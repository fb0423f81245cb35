"""Brand-fit scoring: is this trend something the brand can ride?

A raw cosine between a trend title and a DNA statement is a weak judge (fit F1 ≈ 0.4 on
real cases, worse for Italian with an English-only model). The verdict here combines
several kinds of evidence per (trend, statement) pair, then one calibrated decision. A statement
that lists several things is also matched item by item (`statement_facets`), and statements are
embedded without their places (`monitor.entities.without_places`):

* ``sem``  – semantic similarity of the trend *with its context headlines* to the statement,
  as a z-score against the same trend's similarity to ~80 generic background topics
  (``brand_dna/data/background.toml``) and centred by how generic the statement itself is.
  This puts short Italian titles and long English headlines on one scale.
* ``ent``  – a name from the DNA (athlete, event, product; auto-extracted capitalised phrases
  that are not only a place, plus the brand file's ``entities``) appears in the trend text.
* ``kw``   – specific content lemmas shared with the statement (spaCy lookup lemmas, IT+EN),
  ignoring words common in the background topics.
* ``cos``  – the raw cosine, so a very close paraphrase still counts.
* ``kcos`` – for a bare title (no context headlines), the cosine of the title read with the kinds
  of the names it contains ("juve napoli, football club", `monitor.kinds`), so a title that only
  names a thing can meet a statement about that kind of thing. Equal to ``cos`` when no name is
  known, and when the trend has headlines: they already say what the names are.

``fit = sigmoid(w·x + b)`` for the best statement; ``fit >= threshold + margin`` is a fit (the
threshold is fitted with the weights, per embedding model). ``w``, ``b`` and the threshold come from the model's profile in ``brand_dna/data/calibration.json``,
fitted by ``bench/calibrate.py`` on the train brands of ``examples/corpus`` (held-out numbers in
the README). A trend the risk gate marks ``high`` (or that hits the brand's ``avoid``
list) is ``risky`` whatever its fit.

The names behind ``ent`` (which a brand's DNA names, how a trend text is searched for them) are in
monitor/entities.py.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np

from brand_dna.dna import BrandDNA
from brand_dna.embedder import Embedder, Vectors
from brand_dna.index import StatementIndex
from monitor.entities import GENERIC_WORDS, entity_keys, entity_pattern, extract_entities, place_words, without_places
from monitor.evidence import FitEvidence
from monitor.kinds import KindLexicon, KindMatch, default_kinds, read_with_kinds
from monitor.models import RiskAssessment, RiskFlag, StatementScore, Trend, TrendInput, Verdict, VerdictName
from monitor.risk import embedding_text, trend_text  # one definition: the risk thresholds were calibrated on it
from monitor.text import content_lemmas, guess_lang, may_match, normalise_lang, word_runs

FEATURES = ("sem", "ent", "kw", "cos", "kcos")
# Features added after calibration files were written: a file without them weighs them 0.
OPTIONAL_FEATURES = frozenset({"kcos"})


@dataclass(frozen=True, slots=True)
class Calibration:
    """Weights, bias and threshold that turn similarity features into a fit verdict."""

    weights: dict[str, float]
    bias: float
    threshold: float = 0.5
    source: str = "built-in defaults"

    @classmethod
    def load(cls, model_id: str = "", path: Path | None = None) -> Calibration:
        """The fit weights fitted for this embedding model (`monitor.profiles`), or those in a JSON file."""
        from monitor.profiles import DEFAULT_KEY, profile_for

        try:
            if path is not None:
                data = json.loads(path.read_text("utf-8"))
            else:
                data = profile_for(model_id or DEFAULT_KEY).section("fit")
            return cls(
                weights={
                    k: float(data["weights"].get(k, 0.0) if k in OPTIONAL_FEATURES else data["weights"][k])
                    for k in FEATURES
                },
                bias=float(data["bias"]),
                threshold=float(data.get("threshold", 0.5)),
                source=str(data.get("source", "calibration.json")),
            )
        except (OSError, KeyError, ValueError, TypeError):
            return cls(weights={"sem": 1.2, "ent": 3.0, "kw": 0.8, "cos": 4.0, "kcos": 0.0}, bias=-5.0)

    def logit(self, x: np.ndarray) -> np.ndarray:
        """x: [..., len(FEATURES)] → logits."""
        w = np.array([self.weights[k] for k in FEATURES], dtype=np.float32)
        return np.asarray(x @ w + self.bias)


@lru_cache(maxsize=1)
def background_statements() -> tuple[str, ...]:
    text = resources.files("brand_dna").joinpath("data/background.toml").read_text("utf-8")
    return tuple(tomllib.loads(text)["statements"])


@lru_cache(maxsize=1)
def _background_lemmas() -> frozenset[str]:
    out: set[str] = set(GENERIC_WORDS)
    for s in background_statements():
        out |= content_lemmas(s, "en") | content_lemmas(s, "it")
    return frozenset(out)


def _entities_in(model: BrandModel, lowered: str, runs: set[str]) -> list[int]:
    """Indices of the brand's entities named in a lowered trend text."""
    return [
        j
        for j, (pattern, keys) in enumerate(zip(model.entity_patterns, model.entity_keys, strict=True))
        if may_match(keys, runs) and pattern.search(lowered)
    ]


class RiskGateLike(Protocol):
    """What the scorer needs of the risk gate: per-trend flags, then a per-brand assessment."""

    def assess_base(self, trends: Sequence[TrendInput], vectors: Vectors | None) -> list[list[RiskFlag]]: ...

    def for_brand(self, flags: list[RiskFlag], trend: TrendInput, brand: BrandDNA) -> RiskAssessment: ...


_LIST_JOINERS = frozenset({"and", "or", "e", "o", "ed", "oppure"})


def statement_facets(statement: str) -> list[str]:
    """The items of a statement that lists several things, each to be matched on its own.

    "Necrologi, fiori, lapidi e cura delle tombe" -> ["Necrologi", "fiori", "lapidi", "cura delle
    tombe"]: the embedding of a list is an average that sits far from each item, so "fiori per il
    funerale" would miss the statement as a whole. Items need a word of 4+ letters; a statement
    that lists nothing has no facets. "and" between two capitalised words and "&" join a name
    ("Johnson and Johnson", "Dolce & Gabbana"), they do not list things.
    """
    parts: list[str] = []
    for chunk in re.split(r",\s*", statement):
        words = chunk.split()
        current: list[str] = []
        for k, word in enumerate(words):
            between_names = 0 < k < len(words) - 1 and words[k - 1][:1].isupper() and words[k + 1][:1].isupper()
            if word.lower() in _LIST_JOINERS and current and not between_names:
                parts.append(" ".join(current))
                current = []
            else:
                current.append(word)
        parts.append(" ".join(current))
    parts = [p for p in (q.strip() for q in parts) if any(len(w) >= 4 for w in p.split())]
    return parts if len(parts) >= 2 else []


class BrandModel:
    """One brand's statements, index, entities and lexical keys, ready for batch scoring.

    Matching is per row: each statement, then the facets of those that list several things
    (`statement_facets`); `row_statement` maps a row back to its statement, which is what a
    verdict reports.
    """

    def __init__(self, brand: BrandDNA, embedder: Embedder, bg: Vectors, cache_dir: Path | None) -> None:
        self.brand = brand
        kinds_statements = brand.statements
        self.kinds = [k for k, _ in kinds_statements]
        self.statements = [s for _, s in kinds_statements]
        facets = [(j, f) for j, st in enumerate(self.statements) for f in statement_facets(st)]
        self.rows = self.statements + [f for _, f in facets]
        self.row_statement = list(range(len(self.statements))) + [j for j, _ in facets]
        # What the brand is, without where it is: "Funeral home in Bologna" matches funerals, not Bologna.
        named = " ".join([brand.name, *brand.entities])
        embedded = [without_places(s, named) for s in self.rows]
        if cache_dir is not None:
            safe = re.sub(r"[^\w-]+", "_", brand.name.lower()) or "brand"
            self.index, _ = StatementIndex.load_or_build(cache_dir / "indexes" / safe, embedded, embedder)
        else:
            self.index = StatementIndex.build(embedded, embedder)
        _, mat = self.index.all_scores(np.eye(self.index.dim, dtype=np.float32))
        self.matrix = np.ascontiguousarray(mat.T)  # (n_rows, dim)
        # Statement genericness: how background topics score against each row.
        bg_cos = bg @ self.matrix.T  # (n_bg, n_rows)
        bg_self = bg @ bg.T
        mu_b = bg_self.mean(axis=1, keepdims=True)
        sd_b = bg_self.std(axis=1, keepdims=True) + 1e-6
        bg_z = (bg_cos - mu_b) / sd_b
        self.stmt_center = bg_z.mean(axis=0)  # (n_rows,)
        self.entities = extract_entities(brand)
        self.entity_patterns = [entity_pattern(e) for e in self.entities]
        self.entity_keys = [entity_keys(e) for e in self.entities]
        # Key terms exclude generic words and the words of names (names count once, as `ent`).
        generic = set(_background_lemmas()) | place_words(brand.name)
        for e in self.entities:
            generic |= content_lemmas(e, "en") | content_lemmas(e, "it") | set(e.lower().split())
        self.stmt_keys: list[set[str]] = []  # per row
        for s in self.rows:
            keys = (content_lemmas(s, "en") | content_lemmas(s, "it")) - generic
            self.stmt_keys.append(keys)
        lowered = [s.lower() for s in self.rows]
        self.entity_statements: list[list[int]] = []  # rows that name each entity (all rows: none does)
        for e in self.entities:
            idx = [j for j, s in enumerate(lowered) if e.lower() in s]
            self.entity_statements.append(idx or list(range(len(self.rows))))


@dataclass(frozen=True, slots=True)
class _TrendBatch:
    vectors: Vectors  # embedding_text embeddings, one row per trend
    mu: np.ndarray  # (n, 1) mean cosine to the background topics
    sd: np.ndarray  # (n, 1) their spread
    lowered: list[str]  # trend texts, lowercased (entity patterns)
    runs: list[set[str]]  # their word runs (rule entity patterns out without a search)
    keys: list[set[str]]  # content lemmas (key-term overlap)
    named: list[int]  # the bare titles that name something known
    named_vectors: Vectors  # those titles read with their kinds, one row per `named` index
    name_kinds: list[tuple[KindMatch, ...]]  # per trend, what its known names are (empty: none, or headlines)


class MultiBrandScorer:
    """Scores trends for every brand. Implements monitor.api.TrendScorer (blocking; call in a thread)."""

    def __init__(
        self,
        brands: Sequence[BrandDNA],
        embedder: Embedder,
        *,
        risk_gate: RiskGateLike | None = None,
        cache_dir: Path | None = None,
        calibration: Calibration | None = None,
        margin: float = 0.0,
        kind_lexicon: KindLexicon | None = None,
    ) -> None:
        self._brands = list(brands)
        self.embedder = embedder
        self.risk_gate = risk_gate
        self.cache_dir = cache_dir
        self.calibration = calibration or Calibration.load(embedder.model_id)
        self.margin = margin
        self.kind_lexicon = kind_lexicon if kind_lexicon is not None else default_kinds()
        self._models: dict[str, BrandModel] = {}
        self._bg: Vectors | None = None

    @property
    def brands(self) -> list[BrandDNA]:
        return list(self._brands)

    @property
    def threshold(self) -> float:
        return min(0.99, max(0.01, self.calibration.threshold + self.margin))

    def load(self) -> None:
        if self._bg is None:
            self._bg = self.embedder.encode(list(background_statements()))
        for brand in self._brands:
            if brand.name not in self._models:
                self._models[brand.name] = BrandModel(brand, self.embedder, self._bg, self.cache_dir)

    def model(self, brand_name: str) -> BrandModel:
        self.load()
        return self._models[brand_name]

    def replace_brand(self, brand: BrandDNA) -> None:
        self.load()
        assert self._bg is not None
        model = BrandModel(brand, self.embedder, self._bg, self.cache_dir)
        self._brands = [brand if b.name == brand.name else b for b in self._brands]
        if brand.name not in {b.name for b in self._brands}:
            self._brands.append(brand)
        self._models[brand.name] = model

    # -- scoring -------------------------------------------------------------------------
    def score_trends(self, trends: Sequence[Trend]) -> list[dict[str, Verdict]]:
        return self.score_inputs([t.to_input() for t in trends])

    def score_inputs(self, trends: Sequence[TrendInput]) -> list[dict[str, Verdict]]:
        """One {brand: Verdict} per trend, same order. Embeds each trend once for all brands."""
        if not trends:
            self.load()
            return []
        batch = self._prepare(trends)
        base_flags = self.risk_gate.assess_base(trends, batch.vectors) if self.risk_gate is not None else None
        out: list[dict[str, Verdict]] = [{} for _ in trends]
        lowered = batch.lowered
        for brand in self._brands:
            model = self._models[brand.name]
            features = self._features(model, batch)
            logits = self.calibration.logit(features)  # (n, n_rows)
            best = logits.argmax(axis=1)
            for i, trend in enumerate(trends):
                j = int(best[i])
                fit = 1.0 / (1.0 + math.exp(-float(logits[i, j])))
                if base_flags is not None and self.risk_gate is not None:
                    risk = self.risk_gate.for_brand(base_flags[i], trend, brand)
                else:
                    risk = RiskAssessment()
                out[i][brand.name] = self._verdict(
                    model, trend, features[i], logits[i], j, fit, risk, lowered[i], batch.runs[i], batch.name_kinds[i]
                )
        return out

    def _prepare(self, trends: Sequence[TrendInput]) -> _TrendBatch:
        """Brand-independent work, done once per batch: embedding, background stats, lemmas."""
        self.load()
        assert self._bg is not None
        texts = [trend_text(t) for t in trends]
        lowered = [text.lower() for text in texts]
        embedded = [embedding_text(t) for t in trends]
        vectors = self.embedder.encode(embedded)
        bg_cos = vectors @ self._bg.T
        langs = [normalise_lang(t.lang) or guess_lang(text, "en") for t, text in zip(trends, texts, strict=True)]
        # Known names stand in for the context a bare title lacks; headlines already say what they are.
        # `embedding_text` of a bare trend is its cleaned title with hashtags as words ("#JuveNapoli").
        name_kinds = [() if t.context else self.kind_lexicon.find(text) for t, text in zip(trends, embedded, strict=True)]
        named = [i for i, found in enumerate(name_kinds) if found]
        named_vectors = (
            self.embedder.encode([read_with_kinds(embedded[i], name_kinds[i]) for i in named])
            if named
            else np.zeros((0, vectors.shape[1]), dtype=np.float32)
        )
        return _TrendBatch(
            vectors=vectors,
            mu=bg_cos.mean(axis=1, keepdims=True),
            sd=bg_cos.std(axis=1, keepdims=True) + 1e-6,
            lowered=lowered,
            runs=[word_runs(text) for text in lowered],
            keys=[content_lemmas(text, lang) for text, lang in zip(texts, langs, strict=True)],
            named=named,
            named_vectors=named_vectors,
            name_kinds=name_kinds,
        )

    def features(self, brand_name: str, trends: Sequence[TrendInput]) -> np.ndarray:
        """Features of every (trend, statement row) pair, shape (n, n_rows, len(FEATURES)); for calibration."""
        return self._features(self.model(brand_name), self._prepare(trends))

    def _features(self, model: BrandModel, batch: _TrendBatch) -> np.ndarray:
        vectors, lowered, trend_keys = batch.vectors, batch.lowered, batch.keys
        cos = vectors @ model.matrix.T  # (n, n_rows)
        kcos = cos
        if batch.named:
            kcos = cos.copy()
            kcos[batch.named] = batch.named_vectors @ model.matrix.T
        sem = (cos - batch.mu) / batch.sd - model.stmt_center[None, :]
        n, n_s = cos.shape
        ent = np.zeros((n, n_s), dtype=np.float32)
        kw = np.zeros((n, n_s), dtype=np.float32)
        for i, text in enumerate(lowered):
            for j in _entities_in(model, text, batch.runs[i]):
                ent[i, model.entity_statements[j]] = 1.0
            keys = trend_keys[i]
            if keys:
                for j, sk in enumerate(model.stmt_keys):
                    kw[i, j] = min(3, len(keys & sk))
        return np.stack([sem, ent, kw, cos, kcos], axis=-1).astype(np.float32)

    def _verdict(
        self,
        model: BrandModel,
        trend: TrendInput,
        feats: np.ndarray,
        logits: np.ndarray,
        best: int,
        fit: float,
        risk: RiskAssessment,
        text: str,
        runs: set[str],
        name_kinds: tuple[KindMatch, ...],
    ) -> Verdict:
        # Each statement is scored by its best row (itself or one of its facets).
        best_row = list(range(len(model.statements)))
        for r, j in enumerate(model.row_statement):
            if logits[r] > logits[best_row[j]]:
                best_row[j] = r
        breakdown = tuple(
            StatementScore(
                statement=s,
                kind=model.kinds[j],
                semantic=float(feats[best_row[j], 3]),
                lexical=float(max(feats[best_row[j], 1], feats[best_row[j], 2] / 3)),
                score=float(1.0 / (1.0 + math.exp(-float(logits[best_row[j]])))),
            )
            for j, s in enumerate(model.statements)
        )
        entities = tuple(model.entities[j] for j in _entities_in(model, text, runs))
        is_fit = fit >= self.threshold
        risky = risk.level == "high" or risk.avoid_hit is not None
        verdict: VerdictName = "risky" if risky else ("fit" if is_fit else "off_brand")
        sem, _ent, kw, cos, kcos = (float(v) for v in feats[best])
        evidence = FitEvidence(
            threshold=round(self.threshold, 4),
            semantic_z=round(sem, 3),
            cosine=round(cos, 4),
            shared_terms=int(kw),
            names=entities,
            kinds=tuple((m.name, m.kind) for m in name_kinds),
            kind_cosine=round(kcos, 4) if name_kinds else None,
        )
        return Verdict(
            id=trend.id,
            verdict=verdict,
            fit=fit,
            matched=model.statements[model.row_statement[best]],
            risk=risk,
            fit_evidence=evidence,
            breakdown=breakdown,
        )
