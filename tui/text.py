"""Pure formatting helpers for the dashboard.

Every string that came from the internet (trend titles, headlines, URLs, error
lines) reaches the screen only through `safe()`, which returns a `rich.text.Text`:
Text objects are never parsed as markup, so `[bold]`, `[/]` or
`[@click=app.quit]` in a headline render literally and cannot trigger actions.
Plain strings for `notify(markup=False)` and titles go through `monitor.text.clean_text`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.text import Text

from monitor.clustering.title import display_title
from monitor.explain import level_words, risk_reasons, verdict_words
from monitor.models import Trend, Verdict
from monitor.text import clean_text

SPARK_CHARS = "▁▂▃▄▅▆▇█"
MAX_TEXT = 2000
FOUND_BY_ONDA = {"jetstream": "Bluesky"}  # sources in which Onda finds stories itself (bursts), by network
FOUND_MARK = "◆ "


def found_by_onda(trend: Trend) -> str | None:
    """The network on which Onda itself found the story, before any trend list had it; None otherwise."""
    return FOUND_BY_ONDA.get(trend.sources[0]) if trend.sources else None


SOURCE_LABELS = {"google_trends": "Google Trends", "gdelt": "GDELT", "wikipedia": "Wikipedia", "rss": "the news feeds"}


def source_label(source: str) -> str:
    """A source's name for people ("Google Trends"); unknown ones (plugins, `rss:host/path`) as they are."""
    return SOURCE_LABELS.get(source, source.replace("_", " ").capitalize() if source.islower() else source)


def found_line(trend: Trend, now: datetime) -> Text | None:
    """The detail's "found by Onda" line: the network, when, and how long before each list had the story.

    "found by Onda on Bluesky at 10:02, 12 min before Google Trends, 25 min before GDELT"; a source whose
    first sighting is unknown (a trend stored before Onda kept them) is named without the lead.
    """
    network = found_by_onda(trend)
    if network is None:
        return None
    found_at = trend.joined.get(trend.sources[0], trend.first_seen)
    line = Text.assemble(
        (f"\n{FOUND_MARK}", "bold magenta"),
        (f"found by Onda on {network}", "bold"),
        f" at {when(found_at, now)}",
    )
    leads: list[str] = []
    for source in dict.fromkeys(trend.sources[1:]):
        at = trend.joined.get(source)
        minutes = round((at - found_at).total_seconds() / 60) if at is not None else None
        lead = f"{minutes} min before" if minutes is not None and minutes >= 1 else "before"
        leads.append(f"{lead} {source_label(source)}")
    if leads:
        line.append(", ", style="dim")
        line.append_text(safe(", ".join(leads), "", 300))
    return line


def safe(value: object, style: str = "", limit: int = MAX_TEXT) -> Text:
    """Untrusted text as one clean line (`clean_text`) in a literal `Text` (never markup)."""
    return Text(clean_text(value, limit), style=style, end="")


def sparkline(counts: list[int], width: int = 12) -> str:
    """Unicode block sparkline of the last `width` counts (empty string when there is no history)."""
    values = counts[-width:]
    if not values:
        return ""
    hi = max(values)
    if hi <= 0:
        return SPARK_CHARS[0] * len(values)
    top = len(SPARK_CHARS) - 1
    return "".join(SPARK_CHARS[round(max(v, 0) / hi * top)] for v in values)


def trend_counts(trend: Trend) -> list[int]:
    return [count for _, count in sorted(trend.mentions, key=lambda m: m[0])]


def momentum_arrow(trend: Trend) -> str:
    """↑ rising, ↓ falling, → flat: compares the last bucket with the mean of the ones before."""
    counts = trend_counts(trend)
    if len(counts) < 2:
        return "↑" if trend.momentum > 0 else "→"
    last = counts[-1]
    before = counts[:-1][-3:]
    mean = sum(before) / len(before)
    if last > mean * 1.2 and last - mean >= 1:
        return "↑"
    if last < mean * 0.8 and mean - last >= 1:
        return "↓"
    return "→"


def age(since: datetime, now: datetime) -> str:
    """Compact age: 45s, 12m, 3h, 2d."""
    secs = max(int((now - since).total_seconds()), 0)
    if secs < 60:
        return f"{secs}s"
    if secs < 3600:
        return f"{secs // 60}m"
    if secs < 86400:
        return f"{secs // 3600}h"
    return f"{secs // 86400}d"


def when(dt: datetime | None, now: datetime) -> str:
    """A timestamp with its age, or a dash."""
    if dt is None:
        return "—"
    delta = dt - now
    if delta > timedelta(seconds=1):
        secs = int(delta.total_seconds())
        rel = f"in {secs}s" if secs < 60 else f"in {secs // 60}m" if secs < 3600 else f"in {secs // 3600}h"
        return f"{dt:%H:%M:%S} ({rel})"
    return f"{dt:%H:%M:%S} ({age(dt, now)} ago)"


def summary(trend: Trend, verdict: Verdict, brand: str) -> str:
    """Plain-text summary for the clipboard (no markup: it is pasted into chat tools)."""
    lines = [
        clean_text(display_title(trend), 300),
        f"Brand: {brand} — verdict: {verdict_words(verdict.verdict)} (fit {verdict.fit:.2f})",
    ]
    if verdict.verdict == "fit" and verdict.matched:
        lines.append(f"Matched DNA: {clean_text(verdict.matched, 300)}")
    if verdict.risk.level != "none":
        lines.append(f"Risk: {level_words(verdict.risk.level)} ({', '.join(verdict.risk.categories)})")
        lines.extend(f"  - {clean_text(r, 300)}" for r in risk_reasons(verdict.risk)[:3])
    lines.append(f"Sources: {', '.join(sorted(set(trend.sources)))} — momentum {trend.momentum:.1f}/h")
    lines.extend(f"  • {clean_text(h, 200)}" for h in trend.context[:5])
    lines.extend(f"  {clean_text(u, 300)}" for u in trend.urls[:5])
    return "\n".join(lines)
