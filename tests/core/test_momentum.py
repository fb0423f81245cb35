"""Mention buckets, traffic history and momentum (pure, no model)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.clustering import TrafficHistory, momentum
from monitor.clustering.momentum import count_mention
from monitor.models import Trend

T0 = datetime(2026, 7, 3, 10, 0, tzinfo=UTC)
BUCKET = timedelta(minutes=15)


def trend() -> Trend:
    return Trend(id="t", title="x", lang=None, first_seen=T0, last_seen=T0)


def test_mentions_fill_aligned_buckets_and_only_the_last_are_kept() -> None:
    t = trend()
    for minutes in (1, 7, 14, 16, 44):
        count_mention(t, T0 + timedelta(minutes=minutes), BUCKET, max_buckets=2)
    assert t.mentions == [(T0 + timedelta(minutes=15), 1), (T0 + timedelta(minutes=30), 1)]


def test_traffic_is_the_max_of_each_items_latest_value() -> None:
    h = TrafficHistory()
    assert h.record(("gt", "a"), 100, T0) is False  # first report of an item is not a change
    assert h.record(("wiki", "b"), 50, T0) is False
    assert h.current == 100
    assert h.record(("gt", "a"), 40, T0 + timedelta(minutes=5)) is True
    assert h.current == 50  # never summed: the largest latest value
    assert h.changes == [(T0, 100), (T0 + timedelta(minutes=5), 50)]


def test_restored_traffic_is_a_floor_and_the_value_an_hour_ago() -> None:
    h = TrafficHistory()
    h.restore(500, T0)
    h.record(("gt", "a"), 100, T0 + timedelta(minutes=30))
    assert h.current == 500
    assert h.hour_ago(T0 + timedelta(minutes=30)) is None
    assert h.hour_ago(T0 + timedelta(hours=1)) == 500


def test_momentum_new_mentions_minus_the_earlier_rate_plus_traffic_growth() -> None:
    t = trend()
    now = T0 + timedelta(hours=4)
    t.mentions = [(T0 + timedelta(hours=1), 6), (now - timedelta(minutes=10), 4)]
    assert momentum(t, now) == 4 - 6 / 3
    t.traffic = 400
    assert momentum(t, now, traffic_hour_ago=100) == 4 - 6 / 3 + 2.0
    assert momentum(t, now, traffic_hour_ago=10_000) == 4 - 6 / 3 - 2.0  # growth is clamped
