"""Classifier layer: a linear read-out of the trend's embedding and words, trained on labelled titles.

Many risky titles carry no decisive risk word: a judicial fight ("riforma della giustizia,
magistrati in sciopero"), a rumour ("i vaccini contengono grafene"), a sentence in a murder case. Their embeddings still sit
with other tragedies, political fights and hoaxes. One logistic regression per risk category
(one-vs-safe, L2-regularised) reads that from the vector plus one learned weight per title word
(content lemma, `title_words`) seen in at least three training titles: short titles are mostly
their words, and the sentence embedding alone blurs "sciopero" or "alluvione" among the
neighbouring news. `bench/train_risk.py` fits it on the corpus's train brands plus the curated
sets and brand-free titles, per embedding model, and picks the two probability thresholds from
leave-one-brand-out scores of the train brands (each left-out brand's stories removed from
training): `high` where few safe titles score (the layer may block a trend), `medium` as a caution.

Weights live in `data/risk_classifier.json` under the model's profile key; a model without
trained weights has no classifier layer (the other layers still run).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from brand_dna.embedder import Vectors
from monitor.evidence import ClassifierEvidence
from monitor.models import RiskCategory, RiskFlag, RiskLevel
from monitor.risk.lexicon import DEFAULT_GARM, GARM_BY_GROUP, LANGS, lang_key
from monitor.text import content_lemmas

DATA_FILE = Path(__file__).with_name("data") / "risk_classifier.json"
# The GARM name shown per category: the lexicon's names for its broadest group of each category.
GARM: dict[str, str] = {
    "tragedy": GARM_BY_GROUP["death"],
    "polarizing": DEFAULT_GARM,
    "misinformation": GARM_BY_GROUP["misinformation"],
}


WordSet = frozenset[str]
SHOWN_WORDS = 3  # at most this many words named in a flag's evidence
MIN_SHOWN_WEIGHT = 0.5  # a word is named when it raised the category's log-odds by at least this much


def title_words(text: str, lang: str | None) -> WordSet:
    """The words the classifier reads: content lemmas in the trend's language; in both languages when it is unknown."""
    key = lang_key(lang)
    if key is not None:
        return frozenset(content_lemmas(text, key))
    return frozenset().union(*(content_lemmas(text, lg) for lg in LANGS))


@dataclass(frozen=True)
class ClassifierHead:
    """A linear risk classifier over embeddings and title words: weights, bias and thresholds per category."""

    categories: tuple[RiskCategory, ...]
    weights: np.ndarray  # (n_categories, dim)
    bias: np.ndarray  # (n_categories,)
    high: float  # probability for a high flag
    medium: float  # probability for a medium flag
    source: str = ""
    words: tuple[str, ...] = ()  # the vocabulary of `title_words` with a weight
    word_weights: np.ndarray | None = None  # (n_categories, len(words))
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.words and (self.word_weights is None or self.word_weights.shape != (len(self.categories), len(self.words))):
            raise ValueError(f"word_weights must be ({len(self.categories)}, {len(self.words)})")
        object.__setattr__(self, "_index", {w: j for j, w in enumerate(self.words)})

    def _word_ids(self, words: WordSet) -> list[int]:
        return sorted(self._index[w] for w in words if w in self._index)

    def logits(self, vectors: Vectors, words: Sequence[WordSet]) -> np.ndarray:
        """(n, n_categories) log-odds: the vector's read-out plus the weights of the known title words.

        `words`: each row's `title_words` (of the text that was embedded); a head without word weights ignores them.
        """
        out = np.asarray(vectors, dtype=np.float32) @ self.weights.T + self.bias
        if len(words) != len(out):
            raise ValueError(f"got {len(words)} word sets for {len(out)} vectors")
        if self.word_weights is not None:
            for i, ws in enumerate(words):
                ids = self._word_ids(ws)
                if ids:
                    out[i] += self.word_weights[:, ids].sum(axis=1)
        return np.asarray(out)

    def probabilities(self, vectors: Vectors, words: Sequence[WordSet]) -> np.ndarray:
        """(n, n_categories) probabilities that each trend belongs to each risk category."""
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(self.logits(vectors, words), -30, 30))))

    def top_words(self, words: WordSet, category: int) -> tuple[str, ...]:
        """The title words that raised `category` most (at least MIN_SHOWN_WEIGHT each), strongest first."""
        if self.word_weights is None:
            return ()
        scored = [(float(self.word_weights[category, j]), self.words[j]) for j in self._word_ids(words)]
        return tuple(w for v, w in sorted(scored, key=lambda x: (-x[0], x[1])) if v >= MIN_SHOWN_WEIGHT)[:SHOWN_WORDS]

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "categories": list(self.categories),
            "weights": [[round(float(x), 5) for x in row] for row in self.weights],
            "bias": [round(float(x), 5) for x in self.bias],
            "high": round(self.high, 4),
            "medium": round(self.medium, 4),
            "source": self.source,
        }
        if self.words and self.word_weights is not None:
            out["words"] = list(self.words)
            out["word_weights"] = [[round(float(x), 4) for x in row] for row in self.word_weights]
        return out

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ClassifierHead:
        cats = tuple(str(c) for c in data["categories"])  # type: ignore[attr-defined]
        words = tuple(str(w) for w in data.get("words", ()))  # type: ignore[attr-defined]
        if bool(words) != ("word_weights" in data):
            raise ValueError("a classifier head has both 'words' and 'word_weights' or neither")
        return cls(
            categories=cats,  # type: ignore[arg-type]
            weights=np.asarray(data["weights"], dtype=np.float32),
            bias=np.asarray(data["bias"], dtype=np.float32),
            high=float(data["high"]),  # type: ignore[arg-type]
            medium=float(data["medium"]),  # type: ignore[arg-type]
            source=str(data.get("source", "")),
            words=words,
            word_weights=np.asarray(data["word_weights"], dtype=np.float32) if words else None,
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

    def assess(self, vectors: Vectors, words: Sequence[WordSet]) -> list[list[RiskFlag]]:
        """At most one flag per trend: its most likely risk category, when likely enough.

        `words`: each trend's `title_words`, of the same text that was embedded (`embedding_text`).
        """
        if len(vectors) == 0:
            return []
        probs = self.head.probabilities(vectors, words)
        out: list[list[RiskFlag]] = []
        for i, row in enumerate(probs):
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
            shown = self.head.top_words(words[i], j)
            evidence = ClassifierEvidence(probability=round(p, 4), high_from=round(self.head.high, 4), words=shown)
            out.append([RiskFlag(cat, level, garm=GARM.get(cat, cat), evidence=evidence, strength=strength)])
        return out

