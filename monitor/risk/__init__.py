"""Risk gate: tragedy, polarizing and misinformation warnings a brand guardian can check.

A false "go" on a tragedy, a divisive fight or a hoax costs the brand far more than a missed
opportunity, so the gate runs several independent layers over the trend *with its context
headlines* and keeps every piece of evidence in readable reasons:

- lexicon (IT/EN lemmas, idiom exceptions)      -> monitor.risk.lexicon
- anniversary calendar of tragedies             -> monitor.risk.calendar
- GARM category prototypes (embeddings)         -> monitor.risk.prototypes
- a classifier trained on labelled titles       -> monitor.risk.classifier
- source credibility of the context URLs        -> monitor.risk.credibility
- recent fact-checks (debunks)                  -> monitor.risk.factcheck (feeds: factcheck_feeds)

`assess_base` is brand-independent and batched; `for_brand` applies a brand's `avoid` / `allow`.
Importing this package loads neither spaCy nor torch: both are built on first use.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from brand_dna.dna import BrandDNA
from brand_dna.embedder import Embedder, Vectors
from monitor.evidence import AvoidEvidence, CalendarEvidence, LexiconEvidence, PrototypeEvidence
from monitor.models import FactCheck, RiskAssessment, RiskCategory, RiskFlag, RiskLevel, TrendInput, level_rank
from monitor.risk.calendar import AnniversaryCalendar
from monitor.risk.classifier import ClassifierLayer, head_for, title_words
from monitor.risk.credibility import CredibilityIndex, installed_lists, missing_lists_notice
from monitor.risk.factcheck import FactCheckStore
from monitor.risk.factcheck_feeds import poll_factcheck_feeds
from monitor.risk.lexicon import BrandLexicon, Group, Lexicon
from monitor.risk.prototypes import PrototypeLayer
from monitor.text import clean_text, split_hashtags

__all__ = [
    "CredibilityIndex",
    "FactCheck",
    "FactCheckStore",
    "RiskGate",
    "embedding_text",
    "installed_lists",
    "missing_lists_notice",
    "poll_factcheck_feeds",
    "trend_text",
]

EMBED_HEADLINES = 3  # context headlines embedded with the title (`trend_text`)


def trend_text(trend: TrendInput) -> str:
    """Title + up to EMBED_HEADLINES context headlines, joined by ". ": what is embedded and matched.

    `monitor.scoring` embeds this same text, so the scorer's vectors are the ones the risk
    thresholds were calibrated on.
    """
    parts = [clean_text(trend.title, 300)]
    for headline in trend.context[:EMBED_HEADLINES]:
        h = clean_text(headline, 300)
        if h and h.lower() != parts[0].lower():
            parts.append(h)
    return ". ".join(parts)


def embedding_text(trend: TrendInput) -> str:
    """What is embedded for a trend: `trend_text` with its hashtags as words ("#caffè" -> "caffè").

    The '#' itself carries meaning for the multilingual model: "#caffè", "#linux" and "#mondiali"
    sit near activism hashtags, and the risk classifier read them as polarizing.
    """
    return split_hashtags(trend_text(trend))


MATCH_HEADLINES = 8  # context headlines read by the lexicon, calendar and avoid topics (no embedding cost)


def match_text(trend: TrendInput) -> str:
    """Title + more headlines than are embedded: word-level layers get all the context they can use."""
    parts = [clean_text(trend.title, 300)]
    for headline in trend.context[:MATCH_HEADLINES]:
        h = clean_text(headline, 300)
        if h and h.lower() not in (p.lower() for p in parts):
            parts.append(h)
    return ". ".join(parts)


log = logging.getLogger(__name__)
_no_head_warned: set[str] = set()  # profile keys already warned about (once per process)


def _utc_today() -> date:
    return datetime.now(UTC).date()


# Names a brand may use in `avoid` / `allow` for a whole risk category or a prototype category.
CATEGORY_ALIASES: dict[RiskCategory, tuple[str, ...]] = {
    "tragedy": ("tragedy", "tragedies", "tragedia", "tragedie", "disgrazie", "cronaca nera"),
    "polarizing": (
        "polarizing",
        "polarising",
        "divisive",
        "controversy",
        "controversial",
        "divisivo",
        "polemiche",
        "temi divisivi",
        "controversie",
    ),
    "misinformation": ("misinformation", "disinformation", "fake news", "hoax", "hoaxes", "bufale", "disinformazione"),
}
LAYER_ALIASES: dict[str, tuple[str, ...]] = {
    "calendar": ("anniversaries", "anniversari", "anniversary", "commemorations", "commemorazioni"),
    "credibility": ("low-credibility sources", "unverified sources", "fonti non verificate"),
    "factcheck": ("fact-checks", "debunked", "debunk"),
}


def _norm(topic: str) -> str:
    return " ".join(topic.lower().split())


class RiskGate:
    """All risk layers behind one batched call; built pieces (spaCy, prototype index) are cached."""

    def __init__(
        self,
        embedder: Embedder | None,
        *,
        credibility: CredibilityIndex | None = None,
        factchecks: FactCheckStore | None = None,
        today: Callable[[], date] = _utc_today,
        cache_dir: Path | None = None,
    ) -> None:
        """`cache_dir` (optional): where the prototype FAISS index is persisted between runs."""
        self.embedder = embedder
        self.credibility = credibility if credibility is not None else CredibilityIndex.load(None)
        self.factchecks = factchecks
        self.today = today
        self.lexicon = Lexicon()
        self.calendar = AnniversaryCalendar()
        self.prototypes = PrototypeLayer(embedder, cache_dir=cache_dir) if embedder is not None else None
        self.classifier: ClassifierLayer | None = None
        if embedder is not None:
            from monitor.profiles import profile_key

            key = profile_key(embedder.model_id)
            head = head_for(key)
            self.classifier = ClassifierLayer(head) if head is not None else None
            if head is None and key not in _no_head_warned:
                _no_head_warned.add(key)
                log.warning(
                    "embedding model %r has no trained risk classifier: risk is read from the lexicon, the prototypes"
                    " and the fact-checks only (python bench/train_risk.py --backend sentence-transformers --model"
                    " NAME --write trains one)",
                    key,
                )
        self._brand_lexicons: dict[tuple[str, float], BrandLexicon] = {}
        self._keys_cache: dict[RiskFlag, frozenset[str]] = {}

    # -- brand-independent ---------------------------------------------------------------------
    def assess_base(self, trends: Sequence[TrendInput], vectors: Vectors | None) -> list[list[RiskFlag]]:
        """Flags per trend from every layer. `vectors` = embeddings of `embedding_text`, one row per trend."""
        if not trends:
            return []
        texts = [match_text(t) for t in trends]
        embedded = [embedding_text(t) for t in trends]
        if vectors is None and self.embedder is not None:
            vectors = self.embedder.encode(embedded)
        if vectors is not None and len(vectors) != len(trends):
            raise ValueError(f"got {len(vectors)} vectors for {len(trends)} trends")
        today = self.today()
        days = [t.date or today for t in trends]  # a replayed trend is judged on the day it was seen
        out = self.lexicon.assess(texts, [t.lang for t in trends])
        for i, (trend, text) in enumerate(zip(trends, texts, strict=True)):
            out[i].extend(self.calendar.assess(text, days[i]))
            if trend.urls:
                out[i].extend(self.credibility.assess(trend.urls))
        if vectors is not None and self.prototypes is not None:
            vecs = np.ascontiguousarray(vectors, dtype=np.float32)
            # With a trained classifier the prototypes are only a caution: on the corpus's train brands
            # (classifier left one brand out) they were the sole high evidence for 1 risky title and 7 safe ones.
            cap: RiskLevel = "medium" if self.classifier is not None else "high"
            for i, flags in enumerate(self.prototypes.assess(vecs, [t.lang for t in trends], max_level=cap)):
                out[i].extend(flags)
            if self.classifier is not None:
                words = [title_words(e, t.lang) for e, t in zip(embedded, trends, strict=True)]
                for i, flags in enumerate(self.classifier.assess(vecs, words)):
                    out[i].extend(flags)
        if self.factchecks is not None and len(self.factchecks):
            for i, flags in enumerate(self.factchecks.match(texts, vectors, days)):
                out[i].extend(flags)
        return out

    def assess(self, trends: Sequence[TrendInput], vectors: Vectors | None = None) -> list[RiskAssessment]:
        """Brand-independent assessments (no avoid/allow), e.g. for `onda eval` of the gate alone."""
        return [RiskAssessment.from_flags(f) for f in self.assess_base(trends, vectors)]

    # -- per brand -------------------------------------------------------------------------------
    def brand_lexicon(self, brand: BrandDNA) -> BrandLexicon | None:
        """The brand's extra terms: `<brand file stem>.risk.toml` next to its DNA file (lexicon format), if any.

        Cached by path and modification time; a broken file is reported as a ValueError naming it.
        """
        if brand.path is None:
            return None
        path = brand.path.with_name(brand.path.stem + ".risk.toml")
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        key = (str(path), mtime)
        if key not in self._brand_lexicons:
            self._brand_lexicons[key] = BrandLexicon.load(path)
        return self._brand_lexicons[key]

    def _keys_of(self, flag: RiskFlag) -> set[str]:
        """topic_keys with the stock lexicon, once per flag: every brand asks again for the same flags."""
        keys = self._keys_cache.get(flag)
        if keys is None:
            if len(self._keys_cache) > 50_000:
                self._keys_cache.clear()
            keys = self._keys_cache[flag] = frozenset(self.topic_keys(flag))
        return set(keys)

    def topic_keys(self, flag: RiskFlag, extra_groups: dict[str, Group] | None = None) -> set[str]:
        """Every name a brand could use for this flag's topic: category, layer, and the layer's own topic.

        Lexicon: the group and its aliases; prototype: the GARM category and its parts ("Crime & Harmful
        Acts" -> "crime", "harmful acts"); calendar: the event's name.
        """
        keys: set[str] = {flag.category, flag.layer, *CATEGORY_ALIASES.get(flag.category, ())}
        keys.update(LAYER_ALIASES.get(flag.layer, ()))
        ev = flag.evidence
        if isinstance(ev, LexiconEvidence):
            head = ev.group.strip().lower()
            group = (extra_groups or {}).get(head) or self.lexicon.groups.get(head)
            keys.add(head)
            keys.add(head.replace("_", " "))
            if group is not None:
                keys.update(group.aliases)
        elif isinstance(ev, PrototypeEvidence):
            head = flag.garm.strip().lower()
            keys.add(head)
            keys.update(p.strip() for p in re.split(r"[,&/]| or | and ", head) if p.strip())
        elif isinstance(ev, CalendarEvidence):
            keys.add(ev.event.lower())
        return {_norm(k) for k in keys}

    def for_brand(self, flags: list[RiskFlag], trend: TrendInput, brand: BrandDNA) -> RiskAssessment:
        """Apply the brand's lists: `avoid` -> high + avoid_hit; `allow` -> matching flags overridden (still shown)."""
        extra = self.brand_lexicon(brand)
        extra_groups = extra.data.groups if extra is not None else None
        if extra is not None:
            flags = [*flags, *extra.assess(match_text(trend), trend.lang)]
        allow = {_norm(a) for a in brand.allow if a.strip()}
        flag_keys = [self._keys_of(f) if extra_groups is None else self.topic_keys(f, extra_groups) for f in flags]
        result: list[RiskFlag] = []
        for f, keys in zip(flags, flag_keys, strict=True):
            hit = sorted(allow & keys)
            if hit and not f.overridden:
                f = replace(f, allowed_by=hit[0])
            result.append(f)
        avoid_hit: str | None = None
        text = _norm(match_text(trend))
        for topic in brand.avoid:
            t = _norm(topic)
            if not t:
                continue
            matched = [f for f, keys in zip(flags, flag_keys, strict=True) if t in keys]
            if matched:
                best = max(matched, key=lambda f: (level_rank(f.level), f.strength))
                found = best.evidence  # a layer's finding: avoid flags are only made here
                evidence = AvoidEvidence(topic, matched=None if isinstance(found, AvoidEvidence) else found)
                result.append(RiskFlag(best.category, "high", garm=best.garm, evidence=evidence, strength=1.0))
                avoid_hit = topic
                break
            if re.search(r"(?<!\w)" + re.escape(t) + r"(?!\w)", text):
                evidence = AvoidEvidence(topic)
                result.append(RiskFlag("polarizing", "high", garm="", evidence=evidence, strength=1.0))
                avoid_hit = topic
                break
        return RiskAssessment.from_flags(result, avoid_hit=avoid_hit)
