"""What the dashboard knows: the latest trend + verdict per brand, kept from service events.

Plain Python (no widgets) so ordering and bucketing can be tested as functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from rich.text import Text

from monitor.models import Mark, SourceHealth, Trend, Verdict
from tui.marks import MarkBook

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


@dataclass
class DashboardState:
    """Everything the panes show. Only the app writes it; panes read it and post messages (tui.messages)."""

    brand: str
    clock: Callable[[], datetime]
    marks: MarkBook  # the current feedback mark per (brand, story); the app changes them, panes read
    store: TrendStore = field(default_factory=TrendStore)
    sources: list[str] = field(default_factory=list)  # configured source names
    health: dict[str, SourceHealth] = field(default_factory=dict)
    viewing: dict[str, str] = field(default_factory=dict)  # source -> the other process polling it
    polling: set[str] = field(default_factory=set)
    new_ids: set[str] = field(default_factory=set)
    model_state: str = "loading"  # loading | ready | error | stopped
    status_message: str = "loading model…"
    last_update: datetime | None = None

    def source_names(self) -> list[str]:
        """Configured sources first, then any part (an RSS feed) that reported health."""
        return list(dict.fromkeys([*self.sources, *self.health]))

    def failing(self) -> int:
        return sum(1 for n in self.source_names() if (h := self.health.get(n)) is not None and not h.ok)

    def mark(self, trend_id: str) -> Mark | None:
        """The current brand's mark on a story."""
        return self.marks.get(self.brand, trend_id)

    def mark_by_colleague(self, trend_id: str) -> str | None:
        """Who set the current brand's mark on a story when it was not the user at this dashboard; else None."""
        author = self.marks.author(self.brand, trend_id)
        return author if author and author != self.marks.user else None

    def status_line(self, width: int = 160) -> str:
        """The header's sub-title; narrower terminals get the short forms."""
        names = self.source_names()
        failing = self.failing()
        short = width < 110
        parts = [self.status_message if self.model_state != "error" else f"⚠ {self.status_message}"]
        if names:
            parts.append(f"{len(names) - failing}/{len(names)} sources ok" + (f", {failing} failing" if failing else ""))
        if self.viewing:
            holders = ", ".join(sorted(set(self.viewing.values())))
            parts.append(f"viewer: {len(self.viewing)}" if short else f"viewer: {len(self.viewing)} source(s) polled by {holders}")
        if self.last_update is not None:
            stamp = self.last_update.astimezone(self.clock().tzinfo)
            parts.append(f"{stamp:%H:%M}" if short else f"updated {stamp:%H:%M:%S}")
        return " · ".join(parts)

    def banner_text(self, has_rows: bool) -> Text | None:
        if self.model_state == "error":
            return Text(f"⚠ {self.status_message}", style="bold")
        if self.model_state == "loading" and not has_rows:
            return Text("Loading the language model… trends appear as soon as scoring is ready.", style="italic")
        if not has_rows:
            return Text("No trends yet: sources are polling.", style="dim italic")
        return None
