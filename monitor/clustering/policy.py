"""The merge decision: do two texts tell the same story? Pure functions over `TextInfo` and a cosine.

`match_score` is the whole policy (thresholds in `ClusterConfig`), so it can be tested and tuned
without an index or a model: a subject conflict vetoes ("Sinner vince a Torino" / "Juventus
vince a Torino" never merge, whatever the cosine); otherwise one rule must hold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from monitor.clustering.analysis import TextInfo


def _same_stem(a: str, b: str) -> bool:
    """Name variants of one root: "italy"/"italian", "ucraina"/"ucraino" (shared prefix, short tails)."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n >= 4 and n >= min(len(a), len(b)) - 2


def _phrase_shared(phrase: Sequence[str], other: TextInfo) -> bool:
    """A named phrase is shared when one of its non-numeric tokens (or a variant of it) is in the other text."""
    for tok in phrase:
        if tok.isdigit():
            continue
        if tok in other.tokens:
            return True
        if tok[:4] in other.prefixes and any(_same_stem(tok, o) for o in other.tokens):
            return True
    return False


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """Clustering thresholds.

    These defaults were tuned on Italian + English headlines with the packaged MiniLM (see
    tests/service); another model's cosines live in its profile (`for_model`).
    """

    near_duplicate: float = 0.80  # cosine alone is enough (no subject conflict)
    semantic: float = 0.45  # cosine needed together with lexical overlap ...
    jaccard: float = 0.25  # ... of content lemmas
    contained: float = 0.25  # cosine needed when one text's names are all in the other (query vs headline)
    entity_cos: float = 0.35  # cosine needed with two or more shared strong names
    named_cos: float = 0.62  # cosine needed with one shared strong name
    cross_lang: float = 1.01  # cosine enough for texts in two languages (no shared lemmas to expect); > 1 = off
    lead_cos: float = 1.01  # lead words in two languages this close are one subject ("earthquake"/"terremoto"); > 1 = off
    window: timedelta = timedelta(hours=48)  # trends not seen for this long leave the index
    bucket: timedelta = timedelta(minutes=15)
    max_buckets: int = 96  # 24 h of 15-min buckets in Trend.mentions
    max_trends: int = 5000  # hard cap on trends kept in memory (oldest evicted first)
    candidates: int = 10  # FAISS neighbours per text

    @classmethod
    def for_model(cls, model_id: str) -> ClusterConfig:
        """The cosine thresholds measured for this embedding model (`monitor.profiles`, section "cluster")."""
        from monitor.profiles import profile_for

        section = profile_for(model_id).section("cluster")
        cosines = ("near_duplicate", "semantic", "jaccard", "contained", "entity_cos", "named_cos", "cross_lang", "lead_cos")
        overrides: dict[str, Any] = {k: float(section[k]) for k in cosines if k in section}
        return replace(cls(), **overrides)

    @property
    def min_cos(self) -> float:
        """Below this cosine no merge rule can hold."""
        return min(self.near_duplicate, self.semantic, self.contained, self.entity_cos, self.named_cos, self.cross_lang)


def subject_conflict(a: TextInfo, b: TextInfo) -> bool:
    """Both texts lead with a named subject the other never mentions: different stories."""
    la, lb = a.lead, b.lead
    if la is None or lb is None:
        return False
    return not _phrase_shared(la, b) and not _phrase_shared(lb, a)


def _contained(a: TextInfo, b: TextInfo) -> bool:
    """`a` is a bare name/query and at least half the words of each of its names appear in `b`."""
    if not a.bare:
        return False
    named = [p for p in a.phrases if any(not t.isdigit() for t in p)]
    if not named:
        return False
    for phrase in named:
        words = [t for t in phrase if not t.isdigit()]
        found = sum(1 for t in words if t in b.tokens)
        if 2 * found < len(words) or found == 0:  # "Jannik Sinner" yes; "milano fashion week" in "Derby di Milano" no
            return False
    return True


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 0.0


SameSubject = Callable[[TextInfo, TextInfo], bool]


def match_score(
    cos: float, a: TextInfo, b: TextInfo, cfg: ClusterConfig, same_subject: SameSubject | None = None
) -> float | None:
    """How strongly two texts tell the same story; None = they must not be merged.

    Pure policy: a subject conflict vetoes; otherwise one of the rules must hold
    (near-duplicate cosine; cosine + lemma overlap; a bare name/query contained in
    the other text; shared strong names with a moderate cosine; with a multilingual
    model, a high cosine between texts in two languages). The score ranks
    candidate trends.
    """
    if cos < cfg.min_cos:  # the cosine test first: it is the cheap one
        return None
    if subject_conflict(a, b) and not (same_subject is not None and same_subject(a, b)):
        return None
    jac = jaccard(a.lemmas, b.lemmas)
    shared_strong = sum(1 for p, s in zip(a.phrases, a.strong, strict=True) if s and _phrase_shared(p, b))
    ok = (
        cos >= cfg.near_duplicate
        or (cos >= cfg.semantic and jac >= cfg.jaccard)
        or (cos >= cfg.contained and (_contained(a, b) or _contained(b, a)))
        or (cos >= cfg.entity_cos and shared_strong >= 2)
        or (cos >= cfg.named_cos and shared_strong >= 1)
        or (cos >= cfg.cross_lang and a.lang is not None and b.lang is not None and a.lang != b.lang)
    )
    return cos + jac if ok else None
