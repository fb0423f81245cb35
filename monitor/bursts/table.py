"""The capped table of tracked keys: per key an EWMA baseline and what its current bucket holds.

Memory stays within a fixed budget: at most `max_keys` keys (when full, the lightest quarter is
evicted at once, Space-Saving style: lowest count this bucket, then lowest baseline, then least
recently seen), and per key and bucket at most `AUTHOR_CAP` authors, `TEXT_CAP` text fingerprints,
`POST_CAP` post serials and `SAMPLE_CAP` sample posts. A key whose baseline decays to nothing
is dropped when its bucket closes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from monitor.bursts.keys import KeyedPost

AUTHOR_CAP = 256  # beyond this many authors in one bucket a key counts every post (far above any threshold)
TEXT_CAP = 64
POST_CAP = 64
SAMPLE_CAP = 3
FORGET_BELOW = 0.02  # an idle key whose baseline fell below this is dropped


@dataclass(slots=True)
class KeyState:
    """One tracked key."""

    mean: float = 0.0  # EWMA of the per-bucket count
    var: float = 0.0  # EWMA variance of the per-bucket count
    count: int = 0  # this bucket: distinct authors (one account counts once)
    authors: set[str] = field(default_factory=set)
    texts: dict[int, int] = field(default_factory=dict)  # fingerprint -> authors with that text
    posts: list[int] = field(default_factory=list)  # serials of the posts, to group keys of one story
    samples: list[KeyedPost] = field(default_factory=list)  # the first posts with distinct texts
    first_us: int = 0  # first post of this bucket
    rise_us: int = 0  # first post of the current run of buckets above the baseline (0: no run)
    last_us: int = 0
    last_burst: int = -(10**9)  # bucket index of the last reported burst
    closed: int = 0  # buckets this key has been tracked for

    def add(self, kp: KeyedPost, serial: int) -> None:
        post = kp.post
        if post.author in self.authors:
            return
        if len(self.authors) < AUTHOR_CAP:
            self.authors.add(post.author)
        self.count += 1
        if self.count == 1:
            self.first_us = post.time_us
        self.last_us = post.time_us
        if kp.fingerprint in self.texts or len(self.texts) < TEXT_CAP:
            self.texts[kp.fingerprint] = self.texts.get(kp.fingerprint, 0) + 1
        if len(self.posts) < POST_CAP:
            self.posts.append(serial)
        if len(self.samples) < SAMPLE_CAP and all(s.fingerprint != kp.fingerprint for s in self.samples):
            self.samples.append(kp)

    def z(self) -> float:
        return (self.count - self.mean) / max(1.0, math.sqrt(self.var))

    def tail(self, min_rate: float) -> float:
        """The chance that a Poisson count at the usual rate (at least `min_rate`) reaches this bucket's count.

        Distinct-author counts of a quiet key are Poisson-like: at a usual rate of 1.5 per bucket, 5 happens
        about once in 50 buckets, which a normal z-score (3.0 here) would call a burst.
        """
        rate = max(self.mean, min_rate)
        c = self.count
        if c <= 0:
            return 1.0
        if rate <= 0.0:
            return 0.0
        term = math.exp(c * math.log(rate) - rate - math.lgamma(c + 1))  # P(X = c)
        if term == 0.0:
            return 0.0  # below what a float holds
        total = 0.0
        for k in range(c, c + 200):
            total += term
            term *= rate / (k + 1)
            if term < total * 1e-12:
                break
        return min(1.0, total)

    def close(self, alpha: float, *, seed: bool = False) -> None:
        """Fold this bucket's count into the baseline and start an empty bucket.

        `seed` (the detector is warming up): the baseline is the plain average of the warm-up buckets
        a key was seen in (variance at least a Poisson count's), so what was already busy when we
        started is not "new", and one quiet warm-up bucket does not leave a busy word's baseline low
        for the many buckets an EWMA takes to catch up (a chatter word seeded at 2 when it usually
        has 9 "burst" at 15).
        """
        x = float(self.count)
        if x > self.mean + 1.0 and not seed:
            self.rise_us = self.rise_us or self.first_us
        else:
            self.rise_us = 0
        if seed:
            n = self.closed  # warm-up buckets already averaged
            diff = x - self.mean
            self.mean += diff / (n + 1)
            self.var = self.var + (diff * (x - self.mean) - self.var) / (n + 1) if n else 0.0
            self.var = max(self.var, self.mean, 1.0)
        else:
            diff = x - self.mean
            incr = alpha * diff
            self.mean += incr
            self.var = (1 - alpha) * (self.var + diff * incr)
        self.closed += 1
        self.reset()

    def reset(self) -> None:
        """Start an empty bucket, the baseline untouched."""
        self.count = 0
        self.authors.clear()
        self.texts.clear()
        self.posts.clear()
        self.samples.clear()


class KeyTable:
    """The tracked keys, at most `max_keys` of them."""

    def __init__(self, max_keys: int) -> None:
        self.max_keys = max(8, max_keys)
        self.keys: dict[str, KeyState] = {}
        self.evicted = 0

    def __len__(self) -> int:
        return len(self.keys)

    def state(self, key: str) -> KeyState:
        state = self.keys.get(key)
        if state is None:
            if len(self.keys) >= self.max_keys:
                self._evict()
            state = self.keys[key] = KeyState()
        return state

    def _evict(self) -> None:
        ranked = sorted(self.keys.items(), key=lambda kv: (kv[1].count, kv[1].mean, kv[1].last_us))
        drop = ranked[: max(1, len(ranked) // 4)]
        for key, _ in drop:
            del self.keys[key]
        self.evicted += len(drop)

    def close(self, alpha: float, *, seed: bool = False) -> None:
        """Close the bucket of every key (`seed`: warming up, see `KeyState.close`); keys with no baseline left are forgotten."""
        idle: list[str] = []
        for key, state in self.keys.items():
            state.close(alpha, seed=seed)
            if state.mean < FORGET_BELOW and not state.rise_us:
                idle.append(key)
        for key in idle:
            del self.keys[key]

    def reset(self) -> None:
        """Drop what the bucket counted, baselines untouched (a bucket seen only in part)."""
        for state in self.keys.values():
            state.reset()
