"""Trend pipeline: normalise source items and cluster them into stories (`Trend`s).

The same story reaches us from several sources with different wording (a Google
Trends query "sinner", three RSS headlines, a Wikipedia article, a GDELT article).
`TrendPipeline.ingest` folds them into ONE `Trend` so the scorer and the alerts
see one story with its corroboration, instead of six.

Clustering uses two signals, because the packaged embedding model (English
MiniLM) alone is weak on Italian headlines and loves shared templates:

* semantic: cosine of sentence vectors, from a FAISS `IndexIDMap2(IndexFlatIP)`
  over the member texts (titles + a few headlines) of recent trends;
* lexical: content lemmas (spaCy blank pipelines with lookup lemmas) and named
  phrases (runs of capitalised tokens). Two headlines whose leading subjects
  differ ("Sinner vince a Torino" / "Juventus vince a Torino") never merge,
  whatever the cosine.

The decision itself is the pure function `match_score` (thresholds in
`ClusterConfig`), so it can be tested and tuned without I/O.

Momentum (documented formula, see `momentum`): new mentions in the last hour
minus the hourly mention rate of the three hours before, plus log2 of traffic
growth over the last hour (clamped to +/-2). A trend is rising when momentum > 0.

Blocking (embeds text): the service calls `ingest` from a worker thread.
"""

from __future__ import annotations

import hashlib
import html
import logging
import math
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import faiss
import numpy as np

from brand_dna.embedder import Embedder, Vectors
from monitor.models import SourceItem, Trend
from monitor.text import normalise_lang

if TYPE_CHECKING:
    from monitor.storage import Storage

log = logging.getLogger(__name__)

MAX_TITLE_CHARS = 300
MAX_CONTEXT = 30
MAX_URLS = 50
MAX_MEMBER_TEXTS = 12  # vectors kept per trend in the index (titles first, then headlines)
ITEM_CONTEXT_TEXTS = 3  # headlines of an item used for matching
RESTORE_LIMIT = 500  # trends reloaded from storage at start
RESTORE_CONTEXT_TEXTS = 1  # headlines re-embedded per restored trend

_CONTROL = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_SPACES = re.compile(r"\s+")


def normalize_text(text: str, max_chars: int = MAX_TITLE_CHARS) -> str:
    """NFKC, HTML entities decoded, control/format chars removed, whitespace collapsed, length capped."""
    text = unicodedata.normalize("NFKC", html.unescape(text or ""))
    text = _CONTROL.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    if len(text) > max_chars:
        text = text[: max_chars - 1].rstrip() + "…"
    return text


# -- lexical analysis ------------------------------------------------------------------------

# Prepositions after which a capitalised name is a place/circumstance ("a Torino", "at the White
# House"), not the subject of the story: such names are "weak" and never decide a conflict.
_WEAK_AFTER = frozenset(
    [
        "a",
        "ad",
        "ai",
        "al",
        "all",
        "alla",
        "alle",
        "allo",
        "agli",
        "in",
        "nel",
        "nella",
        "nelle",
        "nello",
        "nei",
        "negli",
        "su",
        "sul",
        "sulla",
        "sulle",
        "sullo",
        "sui",
        "sugli",
        "da",
        "dal",
        "dalla",
        "dalle",
        "dallo",
        "dai",
        "dagli",
        "verso",
        "at",
        "in",
        "into",
        "to",
        "from",
        "near",
        "on",
    ]
)
_ARTICLES_EN = frozenset({"the"})
_HASHTAG = re.compile(r"#(\w+)")
_CAMEL = re.compile(r"(?<=[a-zà-ÿ])(?=[A-Z])|(?<=[^\W\d])(?=\d)|(?<=\d)(?=[^\W\d])")


def _split_hashtag(m: re.Match[str]) -> str:
    """Split a hashtag at case/digit changes: "#BlackFriday" -> "Black Friday", "#sanremo2027" -> "sanremo 2027"."""
    return _CAMEL.sub(" ", m.group(1))


_JOINERS = re.compile(r"(?<=\w)[-‐‑–—/](?=\w)")


@dataclass(frozen=True, slots=True)
class TextInfo:
    """What clustering knows about one text (title or headline)."""

    norm: str
    lang: str | None  # guessed ('it' / 'en') or None
    lemmas: frozenset[str]  # content lemmas, lowercase (stopwords and 1-char tokens dropped)
    tokens: frozenset[str]  # every lowercase word token and its lemma: "is X mentioned at all"
    phrases: tuple[tuple[str, ...], ...]  # named phrases (lowercase tokens), in text order
    strong: tuple[bool, ...]  # per phrase: False when it follows a preposition (a place, a venue)
    bare: bool = False  # only names (a search query, an article title): may be contained in a headline
    # 4-letter prefixes of the tokens: _same_stem needs one, so most pairs are ruled out by a set lookup.
    prefixes: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefixes", frozenset(t[:4] for t in self.tokens if len(t) >= 4))

    @property
    def lead(self) -> tuple[str, ...] | None:
        """The first strong named phrase: in a headline, almost always the subject."""
        for phrase, strong in zip(self.phrases, self.strong, strict=True):
            if strong:
                return phrase
        return None


class Lexicon:
    """spaCy blank it/en tokenizers + lookup lemma tables (spacy-lookups-data); thread-safe, lazy."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._nlp: dict[str, Any] = {}
        self._tables: dict[str, Any] = {}
        self._stop: dict[str, frozenset[str]] = {}

    def _load(self, lang: str) -> None:
        from monitor.text import import_spacy, lemma_lookups

        spacy = import_spacy()
        nlp = spacy.blank(lang)
        table: Any = None
        try:
            table = lemma_lookups(lang).get_table("lemma_lookup")
        except Exception as exc:
            log.warning("no lookup lemmas for %s (%s); clustering uses surface forms", lang, exc)
        self._nlp[lang] = nlp
        self._tables[lang] = table
        self._stop[lang] = frozenset(nlp.Defaults.stop_words)

    def ensure(self) -> None:
        with self._lock:
            for lang in ("it", "en"):
                if lang not in self._nlp:
                    self._load(lang)

    @property
    def stopwords(self) -> frozenset[str]:
        self.ensure()
        return self._stop["it"] | self._stop["en"]

    def guess_lang(self, words: Sequence[str]) -> str | None:
        """Cheap language guess: stopwords exclusive to Italian vs English; None when undecided."""
        self.ensure()
        it_only = self._stop["it"] - self._stop["en"]
        en_only = self._stop["en"] - self._stop["it"]
        it = sum(1 for w in words if w in it_only)
        en = sum(1 for w in words if w in en_only)
        if it == en:  # tie-break: inflected forms only one language's lemma table knows
            it_t, en_t = self._tables.get("it"), self._tables.get("en")
            if it_t is not None and en_t is not None:
                it = sum(1 for w in words if w in it_t and w not in en_t)
                en = sum(1 for w in words if w in en_t and w not in it_t)
        if it > en:
            return "it"
        if en > it:
            return "en"
        return None

    def analyse(self, text: str, lang: str | None = None) -> TextInfo:
        """Tokens, lookup lemmas (of the lowercased token), named phrases of one normalised text."""
        self.ensure()
        norm = normalize_text(text)
        # Split "Cagliari-Inter" / "Juve–Atalanta" so each name counts; it/en tokenizers agree on headlines.
        doc = self._nlp["it"].tokenizer(_JOINERS.sub(" - ", _HASHTAG.sub(_split_hashtag, norm)))
        words = [t.text for t in doc]
        lower = [w.lower() for w in words]
        guessed = lang if lang in ("it", "en") else self.guess_lang(lower)
        table = self._tables.get(guessed or "it")
        stop = self._stop["it"] | self._stop["en"]
        has_upper = any(ch.isupper() for ch in norm)
        has_lower = any(ch.islower() for ch in norm)
        caseless = not (has_upper and has_lower)  # a lowercase query or an ALL-CAPS headline

        lemmas: set[str] = set()
        named_count = 0
        content_count = 0
        tokens: set[str] = set()
        phrases: list[tuple[str, ...]] = []
        strong: list[bool] = []
        current: list[str] = []
        current_strong = True
        prev_word = ""
        seq: list[str] = []  # word tokens in order, for "blackfriday" == "Black Friday"
        for word, low in zip(words, lower, strict=True):
            is_word = any(ch.isalnum() for ch in word)
            if not is_word:
                if current:
                    phrases.append(tuple(current))
                    strong.append(current_strong)
                    current = []
                prev_word = ""
                continue
            low = low.strip("'’")
            lemma = str(table.get(low, low)) if table is not None else low
            tokens.add(low)
            tokens.add(lemma)
            seq.append(low)
            content = low not in stop and (len(low) > 1 or low.isdigit())
            if content:
                lemmas.add(lemma)
                content_count += 1
            named = content and (caseless or any(ch.isupper() for ch in word) or (bool(current) and low.isdigit()))
            if named:
                named_count += 1
                if not current:
                    current_strong = prev_word not in _WEAK_AFTER
                current.append(low)
            else:
                if current:
                    phrases.append(tuple(current))
                    strong.append(current_strong)
                    current = []
                if low in _ARTICLES_EN and prev_word in _WEAK_AFTER:
                    continue  # "at the White House": keep the preposition for the name that follows
            prev_word = low
        if current:
            phrases.append(tuple(current))
            strong.append(current_strong)
        for n in (2, 3):  # a lowercase hashtag can only be matched against joined words
            tokens.update("".join(seq[i : i + n]) for i in range(len(seq) - n + 1))
        return TextInfo(
            norm=norm,
            lang=guessed,
            lemmas=frozenset(lemmas),
            tokens=frozenset(tokens),
            phrases=tuple(phrases),
            strong=tuple(strong),
            bare=content_count > 0 and named_count == content_count,
        )


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


# -- the merge decision (pure) --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """Thresholds: these defaults were tuned on Italian + English headlines with the packaged MiniLM (see
    tests/service); another model's cosines live in its profile (`for_model`)."""

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
        from dataclasses import replace

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


def momentum(trend: Trend, now: datetime, traffic_hour_ago: int | None = None) -> float:
    """Mentions in the last hour minus the hourly rate of the 3 hours before, plus log2 traffic growth.

    A trend first seen this hour has no baseline, so its momentum is its mention
    count (> 0: new stories rise). Traffic growth = log2(traffic now / traffic one
    hour ago), clamped to [-2, 2], when both are known.
    """
    hour = timedelta(hours=1)
    recent = sum(n for t, n in trend.mentions if t > now - hour)
    before = sum(n for t, n in trend.mentions if now - 4 * hour < t <= now - hour)
    value = recent - before / 3.0
    if trend.traffic and traffic_hour_ago and traffic_hour_ago > 0:
        value += max(-2.0, min(2.0, math.log2(trend.traffic / traffic_hour_ago)))
    return float(value)


def trend_id_for(title: str) -> str:
    """Stable id: sha1 of the first normalised, lowercased title."""
    return hashlib.sha1(normalize_text(title).lower().encode("utf-8")).hexdigest()[:16]


# -- state -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Member:
    vec_id: int
    info: TextInfo
    is_title: bool


@dataclass(slots=True)
class _Cluster:
    trend: Trend
    title_info: TextInfo
    members: list[_Member] = field(default_factory=list)
    keys: set[tuple[str, str, str]] = field(default_factory=set)
    touched: datetime | None = None  # last time any source still listed it (re-polls included)
    traffic_by_item: dict[tuple[str, str], int] = field(default_factory=dict)  # latest per (source, item)
    traffic_floor: int = 0  # stored traffic of a restored trend (per-source values are not stored)
    traffic_history: list[tuple[datetime, int]] = field(default_factory=list)
    context_norm: set[str] = field(default_factory=set)

    def alive_at(self) -> datetime:
        return max(self.trend.last_seen, self.touched or self.trend.last_seen)


def _item_keys(item: SourceItem, norm_title: str) -> list[tuple[str, str, str]]:
    keys = []
    if item.item_id:
        keys.append((item.source, "i", item.item_id))
    if item.url:
        keys.append((item.source, "u", item.url))
    keys.append((item.source, "t", norm_title.lower()))
    return keys


class TrendPipeline:
    """Clusters source items into trends over a sliding window (default 48 h)."""

    def __init__(
        self,
        embedder: Embedder,
        storage: Storage | None,
        clock: Callable[[], datetime],
        *,
        config: ClusterConfig | None = None,
        lexicon: Lexicon | None = None,
    ) -> None:
        self.embedder = embedder
        self.storage = storage
        self.clock = clock
        self.config = config or ClusterConfig.for_model(embedder.model_id)
        self.lexicon = lexicon or Lexicon()
        self._lock = threading.RLock()
        self._index: Any = None  # faiss.IndexIDMap2, built on first use (needs embedder.dim)
        self._next_vec = 0
        self._vec_owner: dict[int, str] = {}
        self._clusters: dict[str, _Cluster] = {}
        self._seen: dict[tuple[str, str, str], str] = {}
        self._names: dict[str, set[str]] = {}  # named token -> trend ids (lexical candidates)
        self._restored = False

    # -- public ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._clusters)

    def get(self, trend_id: str) -> Trend | None:
        c = self._clusters.get(trend_id)
        return c.trend if c else None

    def trends(self) -> list[Trend]:
        """Active trends, most recently seen first. No lock: never blocks the event loop behind an ingest."""
        clusters = list(self._clusters.values())
        return sorted((c.trend for c in clusters), key=lambda t: t.last_seen, reverse=True)

    def restore(self, stored: Sequence[Trend] | None = None, *, limit: int = RESTORE_LIMIT) -> int:
        """Reload recent trends so a restart does not duplicate stories. Returns how many.

        `stored` = trends already read from storage (the service reads them on the
        event loop, so the SQLite connection is not shared with this thread); None =
        read `storage.recent_trends` here. Only the title and first headline are
        re-embedded (~120 texts/s on 2 cores), so 500 trends cost ~8 s.
        """
        with self._lock:
            if self._restored:
                return 0
            self._restored = True
            now = self.clock()
            if stored is None:
                if self.storage is None:
                    return 0
                stored = self.storage.recent_trends(limit=limit, since=now - self.config.window)
            cutoff = now - self.config.window
            stored = [t for t in stored if t.id not in self._clusters and t.last_seen >= cutoff][:limit]
            if not stored:
                return 0
            texts: list[list[str]] = [[t.title, *t.context[:RESTORE_CONTEXT_TEXTS]] for t in stored]
            flat = [normalize_text(x) for group in texts for x in group]
            vecs = self.embedder.encode(flat) if flat else None
            pos = 0
            # Oldest first, so the cap on trends evicts the right ones.
            offsets = []
            for group in texts:
                offsets.append(pos)
                pos += len(group)
            for i in sorted(range(len(stored)), key=lambda k: stored[k].last_seen):
                trend = stored[i]
                infos = [self.lexicon.analyse(x, trend.lang) for x in texts[i]]
                assert vecs is not None
                cluster = _Cluster(trend=trend, title_info=infos[0], touched=trend.last_seen)
                self._clusters[trend.id] = cluster
                for j, info in enumerate(infos):
                    self._add_member(cluster, info, vecs[offsets[i] + j], is_title=(j == 0))
                cluster.context_norm = {normalize_text(c).lower() for c in trend.context}
                for source in set(trend.sources):
                    for url in trend.urls:
                        cluster.keys.add((source, "u", url))
                    for text in [trend.title, *trend.context]:
                        cluster.keys.add((source, "t", normalize_text(text).lower()))
                for key in cluster.keys:
                    self._seen[key] = trend.id
                if trend.traffic:
                    cluster.traffic_floor = trend.traffic
                    cluster.traffic_history.append((trend.last_seen, trend.traffic))
            self._enforce_cap()
            return len(stored)

    def ingest(self, items: list[SourceItem]) -> list[tuple[Trend, bool]]:
        """Cluster a poll's items; returns the trends that changed (new or grown), with is_new."""
        with self._lock:
            if not self._restored:
                self.restore()
            now = self.clock()
            self.expire(now)
            changed: dict[str, bool] = {}
            fresh: list[_Prepared] = []
            for p in self._prepare(items):
                keys = _item_keys(p.item, p.title)
                tid = self._seen_trend(keys)
                if tid is None:
                    fresh.append(p)  # only unseen items cost an embedding
                elif self._repoll(self._clusters[tid], p, keys, now) is not None:
                    changed[tid] = changed.get(tid, False)
            all_texts = [t for p in fresh for t in p.texts]
            vecs = self.embedder.encode(all_texts) if all_texts else None
            pos = 0
            for p in fresh:
                assert vecs is not None
                p.vecs = vecs[pos : pos + len(p.texts)]
                pos += len(p.texts)
                result = self._ingest_one(p, now)
                if result is not None:
                    tid, is_new = result
                    changed[tid] = changed.get(tid, False) or is_new
            out: list[tuple[Trend, bool]] = []
            for tid, is_new in changed.items():
                cluster = self._clusters.get(tid)
                if cluster is None:
                    continue
                cluster.trend.momentum = momentum(cluster.trend, now, self._traffic_before(cluster, now))
                out.append((cluster.trend, is_new))
            self._enforce_cap()
            return out

    def expire(self, now: datetime | None = None) -> int:
        """Drop trends not seen within the window from memory and the index."""
        with self._lock:
            now = now or self.clock()
            cutoff = now - self.config.window
            old = [tid for tid, c in self._clusters.items() if c.alive_at() < cutoff]
            for tid in old:
                self._drop(tid)
            return len(old)

    # -- internals ---------------------------------------------------------------------------
    def _ensure_index(self) -> Any:
        if self._index is None:
            self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.embedder.dim))
        return self._index

    def _prepare(self, items: Iterable[SourceItem]) -> list[_Prepared]:
        out: list[_Prepared] = []
        for item in items:
            title = normalize_text(item.title)
            if not title:
                continue
            context = [c for c in (normalize_text(x) for x in item.context) if c and c.lower() != title.lower()]
            lang = normalise_lang(item.lang)
            infos = [self.lexicon.analyse(title, lang)]
            if lang is None:
                lang = infos[0].lang or self.lexicon.guess_lang(
                    [w.lower() for c in context[:ITEM_CONTEXT_TEXTS] for w in c.split()]
                )
                if infos[0].lang is None and lang is not None:
                    infos = [self.lexicon.analyse(title, lang)]  # a short title takes its headlines' language
            infos += [self.lexicon.analyse(c, lang) for c in context[:ITEM_CONTEXT_TEXTS]]
            out.append(
                _Prepared(
                    item=item, title=title, context=context, lang=lang, infos=infos, texts=[i.norm for i in infos]
                )
            )
        return out

    def _seen_trend(self, keys: list[tuple[str, str, str]]) -> str | None:
        for key in keys:
            tid = self._seen.get(key)
            if tid is not None and tid in self._clusters:
                return tid
        return None

    def _ingest_one(self, p: _Prepared, now: datetime) -> tuple[str, bool] | None:
        keys = _item_keys(p.item, p.title)
        tid = self._seen_trend(keys)
        if tid is not None:  # the same item twice in one poll
            return self._repoll(self._clusters[tid], p, keys, now)
        assert p.vecs is not None
        best = self._best_match(p)
        if best is None:
            cluster = self._new_cluster(p, now)
            is_new = True
        else:
            cluster = self._clusters[best]
            is_new = False
        self._absorb(cluster, p, keys, now, new_mention=True)
        return cluster.trend.id, is_new

    def _repoll(
        self, cluster: _Cluster, p: _Prepared, keys: list[tuple[str, str, str]], now: datetime
    ) -> tuple[str, bool] | None:
        """The same item again: keep it alive, record its traffic, but never count a new mention."""
        cluster.touched = now
        for key in keys:
            self._seen.setdefault(key, cluster.trend.id)
            cluster.keys.add(key)
        before = cluster.trend.traffic
        if self._record_traffic(cluster, p.item, now) and cluster.trend.traffic != before:
            return cluster.trend.id, False
        return None

    def _candidates(self, p: _Prepared) -> set[str]:
        index = self._ensure_index()
        found: set[str] = set()
        if index.ntotal:
            k = min(self.config.candidates, int(index.ntotal))
            assert p.vecs is not None
            _, ids = index.search(np.ascontiguousarray(p.vecs, dtype=np.float32), k)
            for row in ids:
                for vid in row.tolist():
                    if vid != -1 and vid in self._vec_owner:
                        found.add(self._vec_owner[vid])
        for info in p.infos[:1]:
            for phrase in info.phrases:
                for tok in phrase:
                    if not tok.isdigit():
                        found |= self._names.get(tok, set())
        return found

    def _best_match(self, p: _Prepared) -> str | None:
        cfg = self.config
        best: tuple[float, str] | None = None
        assert p.vecs is not None
        for tid in self._candidates(p):
            cluster = self._clusters.get(tid)
            if cluster is None:
                continue
            title = p.infos[0]
            if (
                not (title.bare or cluster.title_info.bare)
                and subject_conflict(title, cluster.title_info)
                and not self._same_subject(title, cluster.title_info)
            ):
                continue  # two headlines about different subjects: never linked through their context
            mvecs = np.vstack([self._index.reconstruct(m.vec_id) for m in cluster.members])
            cos = p.vecs @ mvecs.T  # [item texts, member texts]
            for i, info in enumerate(p.infos):
                for j, member in enumerate(cluster.members):
                    if i > 0 and not member.is_title:
                        continue  # headline-to-headline links are too loose to merge stories
                    score = match_score(float(cos[i, j]), info, member.info, cfg, self._same_subject)
                    if score is not None and (best is None or score > best[0]):
                        best = (score, tid)
        return best[1] if best else None

    def _same_subject(self, a: TextInfo, b: TextInfo) -> bool:
        """Different lead words that name one subject in two languages or spellings (a multilingual model only)."""
        if self.config.lead_cos > 1.0 or a.lead is None or b.lead is None:
            return False
        if a.lang is None or b.lang is None or a.lang == b.lang:
            return False  # within one language two different lead words are two subjects ("Ucraina"/"Russia")
        va, vb = self.embedder.encode([" ".join(a.lead), " ".join(b.lead)])
        return float(va @ vb) >= self.config.lead_cos

    def _new_cluster(self, p: _Prepared, now: datetime) -> _Cluster:
        tid = trend_id_for(p.title)
        if tid in self._clusters:  # same title, yet not merged (cannot normally happen): keep ids unique
            tid = hashlib.sha1(f"{tid}:{now.isoformat()}".encode()).hexdigest()[:16]
        trend = Trend(id=tid, title=p.title, lang=p.lang, first_seen=now, last_seen=now)
        cluster = _Cluster(trend=trend, title_info=p.infos[0], touched=now)
        self._clusters[tid] = cluster
        return cluster

    def _absorb(
        self, cluster: _Cluster, p: _Prepared, keys: list[tuple[str, str, str]], now: datetime, *, new_mention: bool
    ) -> None:
        trend = cluster.trend
        item = p.item
        assert p.vecs is not None
        have = {m.info.norm.lower() for m in cluster.members}
        for i, info in enumerate(p.infos):
            if info.norm.lower() in have:
                continue
            self._add_member(cluster, info, p.vecs[i], is_title=(i == 0))
            have.add(info.norm.lower())
        if item.source not in trend.sources:
            trend.sources.append(item.source)
        for text in ([p.title] if p.title.lower() != trend.title.lower() else []) + p.context:
            low = text.lower()
            if low not in cluster.context_norm and len(trend.context) < MAX_CONTEXT:
                trend.context.append(text)
                cluster.context_norm.add(low)
        for url in [item.url, *item.urls]:
            if url and url not in trend.urls and len(trend.urls) < MAX_URLS:
                trend.urls.append(url)
        if trend.lang is None and p.lang:
            trend.lang = p.lang
        for key in keys:
            self._seen[key] = trend.id
            cluster.keys.add(key)
        self._record_traffic(cluster, item, now)
        if new_mention:
            self._add_mention(trend, now)
            trend.last_seen = now
        cluster.touched = now

    def _add_member(self, cluster: _Cluster, info: TextInfo, vec: Vectors, *, is_title: bool) -> None:
        if len(cluster.members) >= MAX_MEMBER_TEXTS:
            return
        index = self._ensure_index()
        vid = self._next_vec
        self._next_vec += 1
        index.add_with_ids(np.ascontiguousarray(vec.reshape(1, -1), dtype=np.float32), np.array([vid], dtype=np.int64))
        self._vec_owner[vid] = cluster.trend.id
        cluster.members.append(_Member(vid, info, is_title))
        if is_title:
            for phrase in info.phrases:
                for tok in phrase:
                    if not tok.isdigit():
                        self._names.setdefault(tok, set()).add(cluster.trend.id)

    def _add_mention(self, trend: Trend, now: datetime) -> None:
        size = self.config.bucket
        epoch = datetime(1970, 1, 1, tzinfo=now.tzinfo)
        start = epoch + size * ((now - epoch) // size)
        if trend.mentions and trend.mentions[-1][0] == start:
            trend.mentions[-1] = (start, trend.mentions[-1][1] + 1)
        else:
            trend.mentions.append((start, 1))
        if len(trend.mentions) > self.config.max_buckets:
            del trend.mentions[: len(trend.mentions) - self.config.max_buckets]

    def _record_traffic(self, cluster: _Cluster, item: SourceItem, now: datetime) -> bool:
        """Trend traffic = max over its items' latest values. True when this item's value changed.

        Units differ per source (searches, page views), so values are never summed. After a
        restart the stored traffic is a floor and an item's first report is not a change.
        """
        if item.traffic is None or item.traffic < 0:
            return False
        key = (item.source, item.item_id or item.url or item.title)
        old = cluster.traffic_by_item.get(key)
        cluster.traffic_by_item[key] = item.traffic
        cluster.trend.traffic = max([*cluster.traffic_by_item.values(), cluster.traffic_floor])
        hist = cluster.traffic_history
        if not hist or hist[-1][1] != cluster.trend.traffic:
            hist.append((now, cluster.trend.traffic))
            del hist[:-24]
        return old is not None and old != item.traffic

    @staticmethod
    def _traffic_before(cluster: _Cluster, now: datetime) -> int | None:
        """Traffic as it was one hour ago (the last value recorded at or before then)."""
        cutoff = now - timedelta(hours=1)
        older = [v for t, v in cluster.traffic_history if t <= cutoff]
        return older[-1] if older else None

    def _drop(self, tid: str) -> None:
        cluster = self._clusters.pop(tid, None)
        if cluster is None:
            return
        ids = [m.vec_id for m in cluster.members]
        if ids and self._index is not None:
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))
        for vid in ids:
            self._vec_owner.pop(vid, None)
        for key in cluster.keys:
            if self._seen.get(key) == tid:
                del self._seen[key]
        for m in cluster.members:
            for phrase in m.info.phrases:
                for tok in phrase:
                    owners = self._names.get(tok)
                    if owners is not None:
                        owners.discard(tid)
                        if not owners:
                            del self._names[tok]

    def _enforce_cap(self) -> None:
        excess = len(self._clusters) - self.config.max_trends
        if excess > 0:
            oldest = sorted(self._clusters.values(), key=lambda c: c.alive_at())[:excess]
            for c in oldest:
                self._drop(c.trend.id)


@dataclass(slots=True)
class _Prepared:
    item: SourceItem
    title: str
    context: list[str]
    lang: str | None
    infos: list[TextInfo]
    texts: list[str]
    vecs: Vectors | None = None
