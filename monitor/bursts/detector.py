"""BurstDetector: posts in, `Burst`s out, on the stream's own clock.

Posts are counted per candidate key (`keys`) in fixed buckets of the posts' time (`Post.time_us`),
so a recorded stream replays at any speed with the same result. When a bucket closes, a key
bursts when, in that bucket:

* at least `min_authors` distinct accounts used it (one account posting 50 times counts once),
* its count is `z_score` standard deviations and `min_ratio` times over its EWMA baseline, and a
  Poisson count at the baseline rate (at least `min_rate`) would reach it with a chance of at most
  `max_p` (small counts of quiet keys: z-scores alone call common words' luck a burst),
* its posts have at least `min_texts` distinct texts and no text holds more than
  `max_same_text_share` of them (bots and copy-paste campaigns repeat one text),

and the detector has watched `warmup_buckets` buckets (the first one, seen only in part, is not
counted; during the warm-up a key's first bucket is its baseline; after it, a new key's baseline
starts at zero: a new story is new). Keys that burst
in the same bucket and share posts are one story: one `Burst`, titled by the sample post that
carries most of its keys (or the linked page's title). Posts carrying only links are not counted.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from monitor.bursts.keys import KeyExtractor
from monitor.bursts.model import Burst, BurstConfig, Post
from monitor.bursts.table import KeyState, KeyTable
from monitor.text import MAX_CONTEXT_CHARS, MAX_TITLE_CHARS, clean_text

MAX_EMPTY_CLOSES = 120  # a gap in the stream longer than this many buckets closes only this many
GROUP_OVERLAP = 0.3  # share of the smaller key's posts two keys must share to be one story


@dataclass(slots=True)
class DetectorStats:
    """What the detector has seen and done so far (for logs and the bench)."""

    posts: int = 0
    links_only: int = 0  # skipped: no words besides links, tags and mentions
    late: int = 0  # arrived for a bucket already closed (counted in the current one)
    buckets: int = 0
    bursts: int = 0
    spam: int = 0  # keys over the thresholds rejected as repeated text


@dataclass(slots=True)
class _Group:
    lead: str
    state: KeyState
    keys: list[str] = field(default_factory=list)
    posts: set[int] = field(default_factory=set)
    reported: bool = False  # a story reported in an earlier bucket (its continuation is not reported again)


def _utc(time_us: int) -> datetime:
    return datetime.fromtimestamp(time_us / 1e6, tz=UTC)


class BurstDetector:
    """Counts posts in buckets and reports bursting keys (see the module docstring)."""

    def __init__(self, config: BurstConfig | None = None, extractor: KeyExtractor | None = None) -> None:
        self.config = config or BurstConfig()
        self._extractor = extractor or KeyExtractor()
        self._bucket_us = max(1, int(self.config.bucket_s * 1e6))
        self._table = KeyTable(self.config.max_keys)
        self._bucket: int | None = None  # index of the open bucket
        self._closed = 0  # buckets closed so far
        self._serial = 0
        self._pending: deque[Burst] = deque(maxlen=self.config.max_pending)
        self._leads: dict[str, int] = {}  # leading key of each story reported lately -> bucket reported
        self.stats = DetectorStats()

    @property
    def tracked(self) -> int:
        """Keys tracked now (at most `max_keys`)."""
        return len(self._table)

    def prepare(self) -> None:
        """Load the text tools now (seconds, blocking: call it in a thread) rather than on the first post."""
        self._extractor.prepare()

    def add(self, post: Post) -> None:
        """Count one post; closes the buckets its time has left behind."""
        bucket = post.time_us // self._bucket_us
        if self._bucket is None:
            self._bucket = bucket
        elif bucket > self._bucket:
            self._close_until(bucket)
        elif bucket < self._bucket:
            self.stats.late += 1
        kp = self._extractor.keyed(post)
        if kp is None:
            self.stats.links_only += 1
            return
        self.stats.posts += 1
        self._serial += 1
        for key in kp.keys:
            self._table.state(key).add(kp, self._serial)

    def advance(self, now_us: int) -> None:
        """The stream is live up to `now_us`: close the buckets that ended before it."""
        if self._bucket is not None:
            self._close_until(now_us // self._bucket_us)

    def drain(self) -> list[Burst]:
        """The bursts found since the last drain, oldest first."""
        out = list(self._pending)
        self._pending.clear()
        return out

    # -- closing a bucket ---------------------------------------------------------------------
    def _close_until(self, bucket: int) -> None:
        assert self._bucket is not None
        gap = bucket - self._bucket
        for _ in range(min(gap, MAX_EMPTY_CLOSES)):
            self._close()
        self._bucket = bucket

    def _close(self) -> None:
        assert self._bucket is not None
        cfg = self.config
        warm = self._closed >= cfg.warmup_buckets
        if warm:
            candidates = [(k, s) for k, s in self._table.keys.items() if self._bursts(s)]
            candidates.sort(key=lambda ks: (-ks[1].count, ks[0]))
            if candidates:
                for group in self._group(candidates):
                    if not group.reported:
                        self._pending.append(self._burst(group))
                        self.stats.bursts += 1
        if self._closed == 0:
            self._table.reset()  # the stream started inside this bucket: its counts are partial
        else:
            self._table.close(cfg.alpha, seed=not warm)
        self._closed += 1
        self.stats.buckets += 1
        self._bucket += 1

    def _bursts(self, s: KeyState) -> bool:
        cfg = self.config
        assert self._bucket is not None
        if s.count < cfg.min_authors or self._bucket - s.last_burst < cfg.cooldown_buckets:
            return False
        if s.z() < cfg.z_score or s.count < cfg.min_ratio * s.mean or s.tail(cfg.min_rate) > cfg.max_p:
            return False
        if len(s.texts) < cfg.min_texts or max(s.texts.values()) > cfg.max_same_text_share * s.count:
            self.stats.spam += 1
            return False
        return True

    def _group(self, candidates: list[tuple[str, KeyState]]) -> list[_Group]:
        """Candidates sharing posts are one story; a candidate continuing a story reported lately is not reported again.

        A reported story is represented by its leading key (its most specific one), so a common word
        that happened to be part of it does not swallow the next story that uses the word.
        """
        assert self._bucket is not None
        bucket = self._bucket
        cooldown = self.config.cooldown_buckets
        self._leads = {k: b for k, b in self._leads.items() if bucket - b < cooldown and k in self._table.keys}
        groups = [
            _Group(lead=k, state=s, keys=[], posts=set(s.posts), reported=True)
            for k in self._leads
            if (s := self._table.keys[k]).count
        ]
        for key, state in candidates:
            posts = set(state.posts)
            for g in groups:
                if len(posts & g.posts) >= GROUP_OVERLAP * min(len(posts), len(g.posts)):
                    g.keys.append(key)
                    g.posts |= posts
                    break
            else:
                groups.append(_Group(lead=key, state=state, keys=[key], posts=posts))
        for g in groups:
            for key in g.keys:
                self._table.keys[key].last_burst = bucket  # reported now, or part of a story going on
            if not g.reported:
                self._leads[g.lead] = bucket
        return groups

    def _burst(self, g: _Group) -> Burst:
        keys = set(g.keys)
        samples = [kp for k in g.keys for kp in self._table.keys[k].samples]
        best = max(samples, key=lambda kp: (len(kp.keys & keys), -samples.index(kp)))
        titled = next((k for k in g.keys if k.startswith("title:")), None)
        link_title = next((kp.post.link_title for kp in samples if kp.post.link_title), "") if titled else ""
        title = clean_text(link_title or best.post.text, MAX_TITLE_CHARS)
        others: list[str] = []
        for kp in samples:
            text = clean_text(kp.post.text, MAX_CONTEXT_CHARS)
            if text != title and text not in others and len(others) < 3:
                others.append(text)
        links = list(dict.fromkeys(url for kp in samples for url in kp.post.links))
        assert self._bucket is not None
        s = g.state
        states = [self._table.keys[k] for k in g.keys]
        rise = min(st.rise_us or st.first_us for st in states)
        return Burst(
            key=g.lead,
            keys=tuple(g.keys),
            title=title,
            samples=tuple(others),
            links=tuple(links[:10]),
            lang=best.post.lang,
            posts=s.count,
            baseline=round(s.mean, 3),
            texts=len(s.texts),
            first_seen=_utc(rise),
            bucket_start=_utc(self._bucket * self._bucket_us),
        )
