"""The scored trends this process holds in memory, and the latest trends of a brand (memory, then storage)."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterator

from monitor.models import Trend, Verdict
from monitor.storage import Storage

log = logging.getLogger(__name__)

LATEST_KEEP = 2000  # scored trends kept in memory for recent() and re-scoring


class LatestTrends:
    """The scored trends this process holds, oldest first, at most `keep` of them; `recent()` adds stored ones."""

    def __init__(self, storage: Storage, keep: int = LATEST_KEEP) -> None:
        self.storage = storage
        self.keep = keep
        self._items: OrderedDict[str, tuple[Trend, dict[str, Verdict]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, trend_id: str) -> tuple[Trend, dict[str, Verdict]] | None:
        return self._items.get(trend_id)

    def put(self, trend: Trend, verdicts: dict[str, Verdict]) -> None:
        """Remember a trend as the newest; the oldest beyond `keep` are forgotten."""
        self._items[trend.id] = (trend, verdicts)
        self._items.move_to_end(trend.id)
        while len(self._items) > self.keep:
            self._items.popitem(last=False)

    def merge(self, trend: Trend, verdicts: dict[str, Verdict]) -> None:
        """Update the verdicts of a trend still held (in place: it does not become the newest)."""
        held = self._items.get(trend.id)
        if held is not None:
            self._items[trend.id] = (trend, {**held[1], **verdicts})

    def oldest_first(self) -> list[tuple[Trend, dict[str, Verdict]]]:
        return list(self._items.values())

    def newest_first(self) -> Iterator[tuple[Trend, dict[str, Verdict]]]:
        """A snapshot (taken in one step under the GIL): the TUI calls `recent()` from a worker thread."""
        return iter(list(reversed(self._items.values())))

    def recent(self, brand: str, limit: int = 500) -> list[tuple[Trend, Verdict]]:
        """Latest trends with `brand`'s verdict: in-memory (full breakdown) first, then storage."""
        out: dict[str, tuple[Trend, Verdict]] = {}
        for trend, verdicts in self.newest_first():
            v = verdicts.get(brand)
            if v is not None:
                out[trend.id] = (trend, v)
            if len(out) >= limit:
                break
        if len(out) < limit:
            try:
                stored = [t for t in self.storage.recent_trends(limit=limit) if t.id not in out]
                verdicts = self.storage.verdicts_for(brand, [t.id for t in stored])  # one query, not one per trend
                for trend in stored:
                    v = verdicts.get(trend.id)
                    if v is not None:
                        out[trend.id] = (trend, v)
                    if len(out) >= limit:
                        break
            except Exception as exc:
                log.warning("could not read recent trends: %s", exc)
        rows = sorted(out.values(), key=lambda tv: tv[0].last_seen, reverse=True)
        return rows[:limit]
