"""Plain data of burst detection: a post as the detector reads it, a detected burst, the tuning knobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Post:
    """One post of a stream, already decoded and cleaned by its client (monitor.sources.jetstream)."""

    uid: str  # stable id of the post in its network: "did/rkey"
    author: str  # the account (a Bluesky DID)
    time_us: int  # when the stream saw it (microseconds since the epoch): the detector's clock
    text: str  # one clean line (monitor.text.clean_text), links kept as written
    lang: str | None = None  # normalised language code of the post (monitor.text.normalise_lang)
    tags: tuple[str, ...] = ()  # hashtags without '#', as written
    links: tuple[str, ...] = ()  # http(s) links of the post (facets and an external embed)
    link_title: str = ""  # the title of the linked page, when the post embeds its card


@dataclass(frozen=True, slots=True)
class Burst:
    """One story rising in the stream: a group of keys that burst together in one bucket."""

    key: str  # the leading key ("tag:sanremo", "np:carlo conti", "title:…", "w:…")
    keys: tuple[str, ...]  # every key of the group, the leading one first
    title: str  # the most representative post text, or the linked page's title
    samples: tuple[str, ...]  # up to 3 other sample posts (clean lines, links kept)
    links: tuple[str, ...]  # links shared in the burst's posts
    lang: str | None
    posts: int  # distinct authors that used the leading key in the bucket (one account counts once)
    baseline: float  # the key's expected count per bucket before the burst (EWMA)
    texts: int  # distinct texts among those posts
    first_seen: datetime  # first post of the rise (UTC)
    bucket_start: datetime  # start of the bucket in which it burst (UTC)


@dataclass(frozen=True, slots=True)
class BurstConfig:
    """How the detector counts and when a count is a burst (`[sources.jetstream]` sets the main ones)."""

    bucket_s: float = 60.0  # width of one counting bucket
    min_authors: int = 5  # distinct accounts needed in one bucket
    min_texts: int = 2  # distinct texts needed in one bucket (bots posting one text are not a story)
    max_same_text_share: float = 0.5  # above this share of one text among its posts, a key is spam
    z_score: float = 3.0  # (count - EWMA mean) / EWMA std (std floored at 1) needed
    min_ratio: float = 3.0  # count needed over the EWMA mean
    max_p: float = 1e-5  # chance that a Poisson count at the usual rate reaches this count: at most this
    min_rate: float = 0.1  # the usual rate of a new or rare key, for that chance (per bucket): 5 authors pass
    alpha: float = 0.1  # EWMA weight of the newest bucket
    warmup_buckets: int = 5  # buckets observed before any burst is reported (the baselines settle)
    cooldown_buckets: int = 30  # a key that burst is not reported again for this many buckets
    max_keys: int = 20_000  # keys tracked at most (memory cap); the lightest are evicted first
    max_pending: int = 200  # bursts kept for the next drain at most (the oldest are dropped)
