"""Burst detection over a stream of posts: Onda finds rising stories itself instead of reading trend lists.

`BurstDetector` (detector) counts candidate keys (`keys`) of posts in time buckets against an
EWMA baseline, in a capped table (`table`), and reports `Burst`s (model); the Jetstream source
(`monitor.sources.jetstream`) feeds it and turns its bursts into source items.
"""

from monitor.bursts.detector import BurstDetector, DetectorStats
from monitor.bursts.keys import KeyedPost, KeyExtractor
from monitor.bursts.model import Burst, BurstConfig, Post

__all__ = ["Burst", "BurstConfig", "BurstDetector", "DetectorStats", "KeyExtractor", "KeyedPost", "Post"]
