"""What the dashboard knows: the latest trend + verdict per brand, kept from service events.

Plain Python (no widgets) so ordering and bucketing can be tested as functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from monitor.models import Trend, Verdict

Entry = tuple[Trend, Verdict]


def opportunity_key(entry: Entry) -> tuple[float, float, str]:
    """Best first: higher fit, then more recent, then id for a stable order."""
    trend, verdict = entry
    return (-verdict.fit, -trend.last_seen.timestamp(), trend.id)


def risky_key(entry: Entry) -> tuple[float, str]:
    trend, _ = entry
    return (-trend.last_seen.timestamp(), trend.id)


@dataclass
class TrendStore:
    """Latest (trend, verdict) per brand and trend id."""

    entries: dict[str, dict[str, Entry]] = field(default_factory=dict)

    def put(self, brand: str, trend: Trend, verdict: Verdict) -> bool:
        """Store; returns True when the trend becomes an opportunity it was not before."""
        per_brand = self.entries.setdefault(brand, {})
        old = per_brand.get(trend.id)
        per_brand[trend.id] = (trend, verdict)
        return verdict.verdict == "fit" and (old is None or old[1].verdict != "fit")

    def load(self, brand: str, rows: Iterable[Entry]) -> None:
        """Replace a brand's entries with what the service reports (start, brand switch, rescore)."""
        self.entries[brand] = {t.id: (t, v) for t, v in rows}

    def ids(self, brand: str) -> list[str]:
        return list(self.entries.get(brand, {}))

    def get(self, brand: str, trend_id: str) -> Entry | None:
        return self.entries.get(brand, {}).get(trend_id)

    def by_verdict(self, brand: str, verdict: str) -> list[Entry]:
        rows = [e for e in self.entries.get(brand, {}).values() if e[1].verdict == verdict]
        return sorted(rows, key=risky_key if verdict == "risky" else opportunity_key)
