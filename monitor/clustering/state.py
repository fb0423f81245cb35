"""The stateful clusterer: folds a poll's source items into stories (`Trend`s) over a sliding window.

Keeps the recent trends, a FAISS `IndexIDMap2(IndexFlatIP)` over their member texts (titles
first, then a few headlines), and the keys (item id, URL, title per source) of the items it has
seen, so a re-polled item costs no embedding and never counts as a new mention. Candidates come
from the index and from shared names; `policy.match_score` decides.

Blocking (embeds text): the service calls `ingest` from a worker thread. One job, slightly over
400 lines: the trends, the index and the seen keys change together under one lock.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import faiss
import numpy as np

from brand_dna.embedder import Embedder, Vectors
from monitor.clustering.analysis import TextAnalyser, TextInfo, canonical_text
from monitor.clustering.momentum import TrafficHistory, count_mention, momentum
from monitor.clustering.policy import ClusterConfig, match_score, subject_conflict
from monitor.models import SourceItem, Trend
from monitor.text import normalise_lang

if TYPE_CHECKING:
    from monitor.storage import Storage

MAX_TREND_HEADLINES = 30  # context lines a trend keeps: its other items' titles and their headlines
MAX_URLS = 50
MAX_MEMBER_TEXTS = 12  # vectors kept per trend in the index (titles first, then headlines)
ITEM_CONTEXT_TEXTS = 3  # headlines of an item used for matching
RESTORE_LIMIT = 500  # trends reloaded from storage at start
RESTORE_CONTEXT_TEXTS = 1  # headlines re-embedded per restored trend


def trend_id_for(title: str) -> str:
    """Stable id: sha1 of the first normalised, lowercased title."""
    return hashlib.sha1(canonical_text(title).lower().encode("utf-8")).hexdigest()[:16]


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
    traffic: TrafficHistory = field(default_factory=TrafficHistory)
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


class Clusterer:
    """Clusters source items into trends over a sliding window (default 48 h)."""

    def __init__(
        self,
        embedder: Embedder,
        storage: Storage | None,
        clock: Callable[[], datetime],
        *,
        config: ClusterConfig | None = None,
        analyser: TextAnalyser | None = None,
    ) -> None:
        self.embedder = embedder
        self.storage = storage
        self.clock = clock
        self.config = config or ClusterConfig.for_model(embedder.model_id)
        self.analyser = analyser or TextAnalyser()
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

    @property
    def indexed(self) -> int:
        """Vectors in the FAISS index (titles and headlines of the trends held); 0 before the first item."""
        return 0 if self._index is None else int(self._index.ntotal)

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
            return self._adopt(stored)

    def sync(self, stored: Sequence[Trend]) -> int:
        """Take in the stories other processes sharing the store created or grew; returns how many changed here.

        Several `onda watch` workers poll different sources into one store. Before a worker clusters a
        poll it passes the trends stored since its last look: an unknown story is adopted (indexed like a
        restored one), so an item of the same story joins that row whichever worker saw it first; a held
        story seen later elsewhere gains the other worker's sources, headlines, links and last sighting.
        Our own writes come back too and change nothing.
        """
        with self._lock:
            if not self._restored:
                return self.restore(stored)
            cutoff = self.clock() - self.config.window
            fresh: list[Trend] = []
            grown = 0
            for trend in stored:
                if trend.last_seen < cutoff:
                    continue
                held = self._clusters.get(trend.id)
                if held is None:
                    fresh.append(trend)
                elif trend.last_seen > held.trend.last_seen:
                    self._merge_stored(held, trend)
                    grown += 1
            adopted = self._adopt(fresh)
            self._enforce_cap()
            return adopted + grown

    def _merge_stored(self, cluster: _Cluster, stored: Trend) -> None:
        """Another worker's later view of a story we hold: union of what each saw, latest sighting."""
        trend = cluster.trend
        for source in stored.sources:
            if source not in trend.sources:
                trend.sources.append(source)
        for source, at in stored.joined.items():
            trend.joined[source] = min(at, trend.joined.get(source, at))
        for text in stored.context:
            low = canonical_text(text).lower()
            if low not in cluster.context_norm and len(trend.context) < MAX_TREND_HEADLINES:
                trend.context.append(text)
                cluster.context_norm.add(low)
        for url in stored.urls:
            if url not in trend.urls and len(trend.urls) < MAX_URLS:
                trend.urls.append(url)
        mine = dict(trend.mentions)
        for bucket, count in stored.mentions:
            mine[bucket] = max(count, mine.get(bucket, 0))
        trend.mentions = sorted(mine.items())[-self.config.max_buckets :]
        trend.last_seen = stored.last_seen
        if trend.lang is None:
            trend.lang = stored.lang
        self._add_keys(cluster, stored)

    def _adopt(self, stored: Sequence[Trend]) -> int:
        """Index stored trends as clusters (title + first headline re-embedded); returns how many."""
        if not stored:
            return 0
        texts: list[list[str]] = [[t.title, *t.context[:RESTORE_CONTEXT_TEXTS]] for t in stored]
        flat = [canonical_text(x) for group in texts for x in group]
        vecs = self.embedder.encode(flat) if flat else None
        pos = 0
        # Oldest first, so the cap on trends evicts the right ones.
        offsets = []
        for group in texts:
            offsets.append(pos)
            pos += len(group)
        for i in sorted(range(len(stored)), key=lambda k: stored[k].last_seen):
            trend = stored[i]
            infos = [self.analyser.analyse(x, trend.lang) for x in texts[i]]
            assert vecs is not None
            cluster = _Cluster(trend=trend, title_info=infos[0], touched=trend.last_seen)
            self._clusters[trend.id] = cluster
            for j, info in enumerate(infos):
                self._add_member(cluster, info, vecs[offsets[i] + j], is_title=(j == 0))
            cluster.context_norm = {canonical_text(c).lower() for c in trend.context}
            self._add_keys(cluster, trend)
            if trend.traffic:
                cluster.traffic.restore(trend.traffic, trend.last_seen)
        self._enforce_cap()
        return len(stored)

    def _add_keys(self, cluster: _Cluster, trend: Trend) -> None:
        """Seen-item keys of a stored trend, so a re-poll of its items finds it without an embedding."""
        for source in set(trend.sources):
            for url in trend.urls:
                cluster.keys.add((source, "u", url))
            for text in [trend.title, *trend.context]:
                cluster.keys.add((source, "t", canonical_text(text).lower()))
        for key in cluster.keys:
            self._seen[key] = cluster.trend.id

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
                cluster.trend.momentum = momentum(cluster.trend, now, cluster.traffic.hour_ago(now))
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
            title = canonical_text(item.title)
            if not title:
                continue
            context = [c for c in (canonical_text(x) for x in item.context) if c and c.lower() != title.lower()]
            lang = normalise_lang(item.lang)
            infos = [self.analyser.analyse(title, lang)]
            if lang is None:
                lang = infos[0].lang or self.analyser.guess_lang(
                    [w.lower() for c in context[:ITEM_CONTEXT_TEXTS] for w in c.split()]
                )
                if infos[0].lang is None and lang is not None:
                    infos = [self.analyser.analyse(title, lang)]  # a short title takes its headlines' language
            infos += [self.analyser.analyse(c, lang) for c in context[:ITEM_CONTEXT_TEXTS]]
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
        trend.joined.setdefault(item.source, now)
        for text in ([p.title] if p.title.lower() != trend.title.lower() else []) + p.context:
            low = text.lower()
            if low not in cluster.context_norm and len(trend.context) < MAX_TREND_HEADLINES:
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
            count_mention(trend, now, self.config.bucket, self.config.max_buckets)
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

    @staticmethod
    def _record_traffic(cluster: _Cluster, item: SourceItem, now: datetime) -> bool:
        """Record the item's traffic (see `TrafficHistory`). True when this item's value changed."""
        if item.traffic is None or item.traffic < 0:
            return False
        changed = cluster.traffic.record((item.source, item.item_id or item.url or item.title), item.traffic, now)
        cluster.trend.traffic = cluster.traffic.current
        return changed

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
