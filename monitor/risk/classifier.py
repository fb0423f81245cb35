"""Classifier layer: a linear read-out of the trend's embedding, trained on labelled titles.

Many risky titles carry no decisive risk word: a judicial fight ("riforma della giustizia,
magistrati in sciopero"), a rumour ("i vaccini contengono grafene"), a sentence in a murder case. Their embeddings still sit
with other tragedies, political fights and hoaxes. One logistic regression per risk category
(one-vs-safe, L2-regularised) reads that from the vector; `bench/train_risk.py` fits it on the
corpus's train brands plus the curated sets, per embedding model, and picks the two probability
thresholds from leave-one-brand-out scores of the train brands: `high` where few safe titles
score (the layer may block a trend), `medium` as a caution.

Weights live in `data/risk_classifier.json` under the model's profile key; a model without
trained weights has no classifier layer (the other layers still run).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from brand_dna.embedder import Vectors
from monitor.evidence import ClassifierEvidence
from monitor.models import RiskCategory, RiskFlag, RiskLevel
from monitor.risk.lexicon import DEFAULT_GARM, GARM_BY_GROUP

DATA_FILE = Path(__file__).with_name("data") / "risk_classifier.json"
# The GARM name shown per category: the lexicon's names for its broadest group of each category.
GARM: dict[str, str] = {
    "tragedy": GARM_BY_GROUP["death"],
    "polarizing": DEFAULT_GARM,
    "misinformation": GARM_BY_GROUP["misinformation"],
}


@dataclass(frozen=True, slots=True)
class ClassifierHead:
    """A linear risk classifier over embeddings: weights, bias and flag thresholds per category."""

    categories: tuple[RiskCategory, ...]
    weights: np.ndarray  # (n_categories, dim)
    bias: np.ndarray  # (n_categories,)
    high: float  # probability for a high flag
    medium: float  # probability for a medium flag
    source: str = ""

    def probabilities(self, vectors: Vectors) -> np.ndarray:
        """(n, n_categories) probabilities that each trend belongs to each risk category."""
        logits = np.asarray(vectors, dtype=np.float32) @ self.weights.T + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30))))

    def to_json(self) -> dict[str, object]:
        return {
            "categories": list(self.categories),
            "weights": [[round(float(x), 5) for x in row] for row in self.weights],
            "bias": [round(float(x), 5) for x in self.bias],
            "high": round(self.high, 4),
            "medium": round(self.medium, 4),
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ClassifierHead:
        cats = tuple(str(c) for c in data["categories"])  # type: ignore[attr-defined]
        return cls(
            categories=cats,  # type: ignore[arg-type]
            weights=np.asarray(data["weights"], dtype=np.float32),
            bias=np.asarray(data["bias"], dtype=np.float32),
            high=float(data["high"]),  # type: ignore[arg-type]
            medium=float(data["medium"]),  # type: ignore[arg-type]
            source=str(data.get("source", "")),
        )


@lru_cache(maxsize=4)
def head_for(profile_key: str, path: Path = DATA_FILE) -> ClassifierHead | None:
    """The trained head for a model's profile key, or None when that model has none."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    entry = data.get(profile_key)
    return ClassifierHead.from_json(entry) if isinstance(entry, dict) else None


class ClassifierLayer:
    """The risk gate's classifier layer: flags from a `ClassifierHead` over trend vectors."""

    def __init__(self, head: ClassifierHead) -> None:
        self.head = head

    def assess(self, vectors: Vectors) -> list[list[RiskFlag]]:
        """At most one flag per trend: its most likely risk category, when likely enough."""
        if len(vectors) == 0:
            return []
        probs = self.head.probabilities(vectors)
        out: list[list[RiskFlag]] = []
        for row in probs:
            j = int(np.argmax(row))
            p = float(row[j])
            level: RiskLevel
            if p >= self.head.high:
                level = "high"
            elif p >= self.head.medium:
                level = "medium"
            else:
                out.append([])
                continue
            cat = self.head.categories[j]
            strength = round(min(1.0, max(0.0, (p - self.head.medium) / max(1e-6, 1.0 - self.head.medium))), 3)
            evidence = ClassifierEvidence(probability=round(p, 4), high_from=round(self.head.high, 4))
            out.append([RiskFlag(cat, level, garm=GARM.get(cat, cat), evidence=evidence, strength=strength)])
        return out

