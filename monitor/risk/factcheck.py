"""Fact-check layer: the store of recent debunks and the matching of trends against them.

The debunks come from fact-checkers' feeds and Google Fact Check Tools (`monitor.risk.factcheck_feeds`),
ClaimReview files (`monitor.risk.claimreview`) and the database.

A trend that states a debunked claim is misinformation/high (medium for a "partly true" rating),
with the fact-check's title and URL in the reason. The claim is matched by meaning (embedding,
across languages), and below a very close similarity by words too (shared content terms): the word
check is what keeps "new vaccine approved" from matching "no, vaccines do not contain microchips",
and a shared name alone never matches. With a multilingual model a word counts as shared when its
translation is ("farina di grillo" ~ "cricket flour"): the two words' own embeddings are close.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from brand_dna.embedder import Embedder, Vectors
from monitor.evidence import FactCheckEvidence
from monitor.models import FactCheck, RiskFlag, RiskLevel
from monitor.risk.lexicon import GARM_BY_GROUP
from monitor.text import fold_accents

log = logging.getLogger(__name__)

GARM = GARM_BY_GROUP["misinformation"]

_STOP = set(
    [
        "il",
        "lo",
        "la",
        "i",
        "gli",
        "le",
        "un",
        "uno",
        "una",
        "di",
        "da",
        "in",
        "con",
        "su",
        "per",
        "tra",
        "fra",
        "e",
        "ed",
        "o",
        "ma",
        "non",
        "che",
        "chi",
        "cui",
        "del",
        "dello",
        "della",
        "dei",
        "degli",
        "delle",
        "al",
        "allo",
        "alla",
        "ai",
        "agli",
        "alle",
        "dal",
        "dallo",
        "dalla",
        "dai",
        "dagli",
        "dalle",
        "nel",
        "nello",
        "nella",
        "nei",
        "negli",
        "nelle",
        "sul",
        "sullo",
        "sulla",
        "sui",
        "sugli",
        "sulle",
        "come",
        "anche",
        "più",
        "sono",
        "è",
        "era",
        "stato",
        "stata",
        "essere",
        "questo",
        "questa",
        "quello",
        "quella",
        "ecco",
        "video",
        "foto",
        "notizia",
        "notizie",
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "and",
        "or",
        "but",
        "not",
        "no",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "this",
        "that",
        "these",
        "those",
        "from",
        "by",
        "at",
        "as",
        "it",
        "its",
        "into",
        "about",
        "over",
        "after",
        "before",
        "video",
        "photo",
        "photos",
        "news",
        "says",
        "said",
        "claim",
        "claims",
        "shows",
        "show",
        "fact",
        "check",
        "false",
        "true",
    ]
)


def content_words(text: str) -> list[str]:
    """Lower-cased, accent-folded words of 4+ letters (or numbers of 2+ digits) minus stopwords, sorted, once each."""
    out: set[str] = set()
    for w in re.findall(r"\w+", fold_accents(text)):
        if w in _STOP:
            continue
        if (w.isdigit() and len(w) >= 2) or (not w.isdigit() and len(w) >= 4):
            out.add(w)
    return sorted(out)


def name_words(text: str) -> set[str]:
    """Content words the text only ever writes capitalised ("Messi", "Inter", "Miami"): names, not claims.

    A Title Case segment ("Video Shows Messi Crying At Unveiling") says nothing about which of its
    words are names, so its capitals are not counted.
    """
    capital: set[str] = set()
    lower: set[str] = set()
    for segment in re.split(r"[.!?:;]\s+|\s+[-–—|]\s+", text):
        words = [w for w in re.findall(r"\w+", segment) if not w.isdigit()]
        long = [w for w in words if len(w) >= 4]
        title_case = len(long) >= 3 and sum(w[:1].isupper() for w in long) > 0.75 * len(long)
        for w in words:
            if w[:1].isupper():
                if not title_case:
                    capital.add(fold_accents(w))
            else:
                lower.add(fold_accents(w))
    return capital - lower


def _stem(word: str) -> str:
    return word if word.isdigit() else word[:5]


def _stems(words: Sequence[str]) -> set[str]:
    return {_stem(w) for w in words}


def content_terms(text: str) -> set[str]:
    """The content words as crude 5-character stems ("vaccini", "vaccino" -> "vacci")."""
    return _stems(content_words(text))


# -- ratings ----------------------------------------------------------------------------------
def _rating_key(rating: str) -> str:
    """A textual rating compared as words: lower-case, no accents or punctuation ("Vero!" -> "vero")."""
    return " ".join(re.findall(r"[\w']+", fold_accents(rating)))


# Ratings that say the claim holds. A rating that merely contains one of these words ("Mostly true",
# "Half true", "Vero a metà") is still a caution, kept.
TRUE_RATINGS = frozenset(
    ["true", "correct", "accurate", "verified", "confirmed", "vero", "vera", "corretto", "corretta", "confermato",
     "verdadero", "vrai", "wahr", "richtig"]
)
PARTLY_TRUE_RATINGS = frozenset(
    _rating_key(r)
    for r in ["mostly true", "half true", "partly true", "partially true", "in parte vero", "parzialmente vero",
              "nì", "c'eri quasi", "ceri quasi", "vero a metà", "mezzo vero"]
)


def debunk_level(rating: str) -> RiskLevel:
    """'medium' for a rating that says the claim is partly true, 'high' for false, misleading, satire, none."""
    return "medium" if _rating_key(rating) in PARTLY_TRUE_RATINGS else "high"


def is_debunk_rating(rating: str) -> bool:
    """False for a rating that means true; True for everything else (false, misleading, satire, no rating)."""
    return _rating_key(rating) not in TRUE_RATINGS


# -- store + matching -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FactCheckThresholds:
    """When a trend is the debunked claim. Cosines are per embedding model (`monitor.profiles`, "factcheck")."""

    similarity: float = 0.55  # cosine of trend text to the claim, together with ...
    min_shared_terms: int = 2  # ... content words in common (two: one shared name is not a claim)
    similarity_alone: float = 0.80  # a cosine this close is the same claim, in any language
    term_similarity: float = 1.0  # two words are one shared term at this cosine (< 1: across languages)
    lexical_only_terms: int = 3  # with no embedder: shared terms needed ...
    lexical_only_share: float = 0.5  # ... and share of the fact-check's terms

    @classmethod
    def for_model(cls, model_id: str) -> FactCheckThresholds:
        from monitor.profiles import profile_for

        section = profile_for(model_id).section("factcheck")
        kinds = {f.name: (int if f.type in ("int", int) else float) for f in fields(cls)}
        values: dict[str, Any] = {k: kinds[k](v) for k, v in section.items() if k in kinds}
        return cls(**values)


@dataclass(slots=True)
class _Entry:
    fc: FactCheck
    terms: set[str]
    added: date
    words: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # the words it only writes capitalised: they count once together


def shared_words(
    a: Sequence[str],
    a_vecs: np.ndarray | None,
    b: Sequence[str],
    b_vecs: np.ndarray | None,
    term_similarity: float,
    b_names: set[str] | frozenset[str] = frozenset(),
) -> list[str]:
    """The words of `a` that have a partner in `b`, each partner used once, as readable terms.

    A partner has the same stem, or (with vectors) a cosine of at least `term_similarity` ("grillo~cricket").
    The words of `b_names` count once together: "inter miami messi" shares one name with "Messi in
    tears at his Inter Miami unveiling", not three claim words. A name does count once: a hoax about
    a brand ("Barilla regala pacchi di pasta") is about that brand.
    """
    sims = a_vecs @ b_vecs.T if (a_vecs is not None and b_vecs is not None and term_similarity < 1.0) else None
    used: set[str] = set()  # stems of `b` already paired: "vaccino" and "vaccini" are one word
    seen: set[str] = set()  # stems of `a` already paired
    out: list[str] = []
    named = False
    for i, wa in enumerate(a):
        if _stem(wa) in seen:
            continue
        for j, wb in enumerate(b):
            if _stem(wb) in used or (named and wb in b_names):
                continue
            if _stem(wa) == _stem(wb):
                out.append(_stem(wa))
            elif sims is not None and sims[i, j] >= term_similarity:
                out.append(f"{wa}~{wb}")
            else:
                continue
            used.add(_stem(wb))
            seen.add(_stem(wa))
            named = named or wb in b_names
            break
    return out


@dataclass(slots=True)
class FactCheckStore:
    """Debunks + their embeddings and words, matched against trends (`match`).

    A debunk counts for a trend seen up to `max_age_days` after it was published and up to
    `lag_days` before (fact-checkers publish days after a hoax starts to spread).
    Thread-safe: the poller (or a storage load) adds, the scorer matches. Entries are kept up to
    `max_items` (the most recently published win), so a replay of past days finds past debunks.
    """

    embedder: Embedder | None = None
    max_age_days: int = 30
    lag_days: int = 7  # a debunk published up to this many days after the trend was seen still counts
    max_items: int = 10_000
    thresholds: FactCheckThresholds | None = None
    max_cached_words: int = 20_000  # single-word vectors kept (2 KB each with the multilingual model)
    _entries: list[_Entry] = field(default_factory=list)
    _vectors: Vectors | None = None
    _pending: list[FactCheck] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)  # guards the lists and the word cache
    _word_cache: dict[str, np.ndarray] = field(default_factory=dict)
    _load_lock: threading.Lock = field(default_factory=threading.Lock)  # one embedding of stored debunks at a time

    def __post_init__(self) -> None:
        if self.thresholds is None:
            self.thresholds = (
                FactCheckThresholds.for_model(self.embedder.model_id) if self.embedder is not None else FactCheckThresholds()
            )

    def __len__(self) -> int:
        return len(self._entries) + len(self._pending)

    def preload(self, items: Sequence[FactCheck]) -> None:
        """Stored debunks, embedded on first use (so a dashboard starts before they are)."""
        with self._lock:
            self._pending.extend(items)

    def _take_pending(self) -> None:
        # A matcher arriving while stored debunks are embedded waits for them instead of seeing none.
        with self._load_lock:
            with self._lock:
                pending, self._pending = self._pending, []
            if pending:
                self._add(pending, None)

    def add(self, items: Sequence[FactCheck], today: date | None = None) -> int:
        """Add new fact-checks (by URL); returns how many were new."""
        self._take_pending()
        return self._add(items, today)

    def _add(self, items: Sequence[FactCheck], today: date | None) -> int:
        today = today or datetime.now(UTC).date()
        with self._lock:
            known = {e.fc.url for e in self._entries}
        fresh = [fc for fc in dict((fc.url, fc) for fc in items).values() if fc.url not in known]
        if not fresh:
            return 0
        vecs = self.embedder.encode([fc.text for fc in fresh]) if self.embedder is not None else None
        words = [content_words(fc.text) for fc in fresh]
        names = [name_words(fc.text) for fc in fresh]
        with self._lock:  # another thread may have added some of them while these were embedded
            known = {e.fc.url for e in self._entries}
            keep = [i for i, fc in enumerate(fresh) if fc.url not in known]
            self._entries.extend(
                _Entry(fresh[i], _stems(words[i]), fresh[i].stored_on or today, words[i], names[i]) for i in keep
            )
            fresh = [fresh[i] for i in keep]
            if vecs is not None and fresh:
                vecs = vecs[keep]
                self._vectors = vecs if self._vectors is None else np.vstack([self._vectors, vecs])
            self._cap()
        return len(fresh)

    def _cap(self) -> None:
        if len(self._entries) <= self.max_items:
            return
        order = sorted(range(len(self._entries)), key=lambda i: self._entries[i].fc.published or self._entries[i].added)
        keep = sorted(order[-self.max_items :])
        self._entries = [self._entries[i] for i in keep]
        if self._vectors is not None:
            self._vectors = self._vectors[keep]

    def _batch_word_vectors(
        self, text_words: Sequence[list[str]], candidates: Sequence[list[int]], entries: Sequence[_Entry]
    ) -> dict[str, np.ndarray]:
        """Unit vectors of the words of the texts that have candidates and of those candidates' debunks.

        Every word not seen before is embedded in one call, however many trends and debunks need
        it; the cache keeps at most `max_cached_words` (it starts again when full).
        """
        t = self.thresholds or FactCheckThresholds()
        if self.embedder is None or t.term_similarity >= 1.0:
            return {}
        texts = [i for i, c in enumerate(candidates) if c and text_words[i]]
        needed = {w for i in texts for w in text_words[i]} | {w for i in texts for j in candidates[i] for w in entries[j].words}
        with self._lock:  # copied now: another match may clear the cache while these are embedded
            found = {w: self._word_cache[w] for w in needed if w in self._word_cache}
        missing = sorted(needed - found.keys())
        if missing:
            vecs = np.asarray(self.embedder.encode(missing), dtype=np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True) + 1e-9
            found.update(zip(missing, vecs, strict=True))
            with self._lock:
                if len(self._word_cache) + len(missing) > self.max_cached_words:
                    self._word_cache.clear()
                self._word_cache.update((w, found[w]) for w in missing[: self.max_cached_words])
        return found

    def _in_window(self, entries: Sequence[_Entry], day: date) -> np.ndarray:
        """Debunks published between `max_age_days` before `day` and `lag_days` after it.

        A hoax trends first and is debunked days later: a trend judged on a past day (`onda score`
        with a `date`, a replay) counts the debunks of the following week. A live trend is judged
        today, so it meets a later debunk through the watcher's re-scoring (`risk_changed`).
        """
        return np.array(
            [-self.lag_days <= (day - (e.fc.published or e.added)).days <= self.max_age_days for e in entries]
        )

    def match(self, texts: Sequence[str], vectors: Vectors | None, days: date | Sequence[date]) -> list[list[RiskFlag]]:
        """Misinformation/high flags for the trends that state a debunked claim.

        `days`: the day each trend was seen (one day for all, or one per text); a debunk counts when it
        was published in the window around it (`_in_window`). A match needs the claim's meaning
        (cosine), and, below `similarity_alone`, `min_shared_terms` shared content words too (a word
        and its translation count once): a shared name alone never matches.
        """
        self._take_pending()
        with self._lock:
            entries = list(self._entries)
            fvecs = self._vectors
        out: list[list[RiskFlag]] = [[] for _ in texts]
        if not entries:
            return out
        per_text = [days] * len(texts) if isinstance(days, date) else list(days)
        t = self.thresholds or FactCheckThresholds()
        windows: dict[date, np.ndarray] = {}
        sims = vectors @ fvecs.T if (vectors is not None and fvecs is not None and len(vectors)) else None
        # Only candidate pairs are checked word by word: by similarity (matrix op), or, without
        # vectors, through an inverted index of content words.
        index: dict[str, list[int]] = {}
        if sims is None:
            for j, e in enumerate(entries):
                for term in e.terms:
                    index.setdefault(term, []).append(j)
        text_words = [content_words(text) for text in texts]
        candidates: list[list[int]] = []
        for i, words in enumerate(text_words):
            day = per_text[i]
            if day not in windows:
                windows[day] = self._in_window(entries, day)
            recent = windows[day]
            if sims is not None:
                candidates.append(np.flatnonzero((sims[i] >= t.similarity) & recent).tolist())
            else:
                candidates.append([j for j in sorted({j for term in _stems(words) for j in index.get(term, ())}) if recent[j]])
        word_vecs = self._batch_word_vectors(text_words, candidates, entries) if sims is not None else {}

        def stacked(words: Sequence[str]) -> np.ndarray | None:
            return np.stack([word_vecs[w] for w in words]) if word_vecs and words else None

        entry_vecs: dict[int, np.ndarray | None] = {}  # a debunk's words, stacked once however many trends meet it
        for i, words in enumerate(text_words):
            best: tuple[float, int, list[str]] | None = None
            words_vecs = stacked(words) if candidates[i] else None
            for j in candidates[i]:
                e = entries[j]
                if sims is not None:
                    score = float(sims[i, j])
                    if j not in entry_vecs:
                        entry_vecs[j] = stacked(e.words)
                    shared = shared_words(words, words_vecs, e.words, entry_vecs[j], t.term_similarity, e.names)
                    ok = score >= t.similarity_alone or len(shared) >= t.min_shared_terms
                else:
                    shared = shared_words(words, None, e.words, None, 1.0, e.names)
                    share = len(shared) / max(len(e.terms), 1)
                    ok = len(shared) >= t.lexical_only_terms and share >= t.lexical_only_share
                    score = share
                if ok and (best is None or score > best[0]):
                    best = (score, j, shared)
            if best is None:
                continue
            score, j, shared = best
            fc = entries[j].fc
            evidence = FactCheckEvidence(
                url=fc.url,
                title=fc.title,
                publisher=fc.publisher,
                claim=fc.claim,
                rating=fc.rating,
                published=fc.published,
                score=round(score, 4),
                method="meaning" if sims is not None else "words",
                shared_terms=tuple(shared),
            )
            out[i].append(
                RiskFlag("misinformation", debunk_level(fc.rating), garm=GARM, evidence=evidence, strength=min(score, 1.0))
            )
        return out
