"""How a trend's activity is measured over time: mention buckets, traffic per item, momentum.

Momentum (documented formula): new mentions in the last hour minus the hourly mention rate of
the three hours before, plus log2 of traffic growth over the last hour (clamped to +/-2). A
trend is rising when momentum > 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.models import Trend

TRAFFIC_HISTORY = 24  # traffic changes remembered per trend (enough to look one hour back)


def count_mention(trend: Trend, now: datetime, bucket: timedelta, max_buckets: int) -> None:
    """One more mention of `trend` in the `bucket`-long slot holding `now`; only the last `max_buckets` are kept."""
    epoch = datetime(1970, 1, 1, tzinfo=now.tzinfo)
    start = epoch + bucket * ((now - epoch) // bucket)
    if trend.mentions and trend.mentions[-1][0] == start:
        trend.mentions[-1] = (start, trend.mentions[-1][1] + 1)
    else:
        trend.mentions.append((start, 1))
    if len(trend.mentions) > max_buckets:
        del trend.mentions[: len(trend.mentions) - max_buckets]


@dataclass(slots=True)
class TrafficHistory:
    """A trend's traffic: the max over its items' latest values, and how that max moved.

    Units differ per source (searches, page views), so values are never summed. After a restart
    the stored traffic is a floor (per-item values are not stored).
    """

    by_item: dict[tuple[str, str], int] = field(default_factory=dict)  # latest per (source, item)
    floor: int = 0
    changes: list[tuple[datetime, int]] = field(default_factory=list)  # (when, traffic) at each change

    @property
    def current(self) -> int:
        return max([*self.by_item.values(), self.floor])

    def restore(self, traffic: int, at: datetime) -> None:
        """A restored trend's stored traffic, as of its last sighting."""
        self.floor = traffic
        self.changes.append((at, traffic))

    def record(self, item: tuple[str, str], traffic: int, now: datetime) -> bool:
        """An item's latest traffic; True when this item reported a different value before."""
        old = self.by_item.get(item)
        self.by_item[item] = traffic
        current = self.current
        if not self.changes or self.changes[-1][1] != current:
            self.changes.append((now, current))
            del self.changes[:-TRAFFIC_HISTORY]
        return old is not None and old != traffic

    def hour_ago(self, now: datetime) -> int | None:
        """Traffic as it was one hour ago (the last value recorded at or before then)."""
        cutoff = now - timedelta(hours=1)
        older = [v for t, v in self.changes if t <= cutoff]
        return older[-1] if older else None


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
