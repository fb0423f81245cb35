"""Alert policy: pure functions deciding what is worth a message, and when it may be sent.

Two kinds of alert:
- ``opportunity``: a trend became an on-brand opportunity for a brand (verdict ``fit``, risk
  ``none``/``low``, rising or new) and its fit reaches the brand's alert bar: the scorer's fit
  threshold + ``alerts.min_fit`` + the brand file's ``alert_threshold`` (``alert_bar``). Both margins
  are *extra* fit above the threshold that makes a verdict ``fit``: 0 alerts on every fit, 0.1 only on
  fits at least 0.1 above it; a negative margin lowers the bar but never below a ``fit`` verdict.
- ``used_turned_risky``: a trend the team marked "used" is now ``risky`` for that brand,
  so they can pull the post. It is urgent: it ignores quiet hours, the digest and the hourly cap.

"Never twice": the outbox dedupe key is brand + trend cluster id + kind (+ channel), so a story
gives at most one opportunity and one pull-the-post alert per brand and channel, ever. On top of
that, a cool-down per *topic* (normalised title) stops the same story re-clustered under a new
id (e.g. after pruning) from alerting again within ``alerts.cooldown_min``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Literal

from monitor.clustering.title import display_title
from monitor.explain import risk_reasons, verdict_why
from monitor.models import Trend, Verdict
from monitor.text import clean_text

AlertKind = Literal["opportunity", "used_turned_risky"]
OPPORTUNITY: AlertKind = "opportunity"
USED_TURNED_RISKY: AlertKind = "used_turned_risky"
LOW_RISK = ("none", "low")
_QUIET = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_WORDS = re.compile(r"[^\W_]+", re.UNICODE)


class QuietHoursError(ValueError):
    """`alerts.quiet_hours` is not of the form "HH:MM-HH:MM"."""


# -- what to alert ------------------------------------------------------------------------------
def alert_bar(fit_threshold: float, min_fit: float, brand_threshold: float) -> float:
    """The fit an opportunity needs to alert: the scorer's fit threshold plus both extra margins."""
    return fit_threshold + min_fit + brand_threshold


def is_opportunity(
    trend: Trend,
    verdict: Verdict,
    *,
    is_new: bool,
    fit_threshold: float,
    brand_threshold: float,
    min_fit: float,
    require_rising: bool,
) -> bool:
    """Fit verdict, fit >= alert_bar(...), low risk at most, and rising (or new) if required."""
    if verdict.verdict != "fit" or verdict.risk.level not in LOW_RISK:
        return False
    if verdict.fit < alert_bar(fit_threshold, min_fit, brand_threshold):
        return False
    return not require_rising or is_new or trend.momentum > 0


def is_used_turned_risky(trend_id: str, verdict: Verdict, used: set[str]) -> bool:
    """A trend the team rode ("used") is now risky for the brand."""
    return verdict.verdict == "risky" and trend_id in used


def alert_kind(
    trend: Trend,
    verdict: Verdict,
    *,
    is_new: bool,
    used: set[str],
    fit_threshold: float,
    brand_threshold: float,
    min_fit: float,
    require_rising: bool,
) -> AlertKind | None:
    if is_used_turned_risky(trend.id, verdict, used):
        return USED_TURNED_RISKY
    if is_opportunity(
        trend,
        verdict,
        is_new=is_new,
        fit_threshold=fit_threshold,
        brand_threshold=brand_threshold,
        min_fit=min_fit,
        require_rising=require_rising,
    ):
        return OPPORTUNITY
    return None


def dedupe_key(brand: str, trend_id: str, kind: str, channel: str) -> str:
    """One row per brand + trend cluster + kind + channel, ever (UNIQUE in the outbox)."""
    return f"{kind}|{channel}|{brand}|{trend_id}"


def topic_key(title: str) -> str:
    """Normalised title (casefolded words, accents stripped) used for the per-topic cool-down."""
    s = unicodedata.normalize("NFKD", title.casefold())
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return " ".join(_WORDS.findall(s))


@dataclass(frozen=True, slots=True)
class RecentAlert:
    """An alert already sent, remembered so the same topic is not alerted twice."""

    brand: str
    kind: str
    topic: str
    trend_id: str
    at: datetime


def in_cooldown(
    *,
    brand: str,
    kind: str,
    topic: str,
    trend_id: str,
    now: datetime,
    cooldown: timedelta,
    recent: Iterable[RecentAlert],
) -> bool:
    """Same brand, kind and topic alerted for another cluster id less than `cooldown` ago."""
    if cooldown <= timedelta(0) or not topic:
        return False
    return any(
        r.brand == brand and r.kind == kind and r.topic == topic and r.trend_id != trend_id and now - r.at < cooldown
        for r in recent
    )


def build_payload(trend: Trend, verdict: Verdict, *, brand: str, kind: AlertKind, is_new: bool) -> dict[str, Any]:
    """The channel-neutral alert content stored in the outbox (clean text, not yet Slack-escaped)."""
    return {
        "kind": kind,
        "brand": clean_text(brand, 100),
        "trend_id": trend.id,
        "title": clean_text(display_title(trend), 300),
        "topic": topic_key(trend.title),
        "lang": trend.lang,
        "verdict": verdict.verdict,
        "fit": round(float(verdict.fit), 4),
        "matched": clean_text(verdict.matched, 500) if verdict.matched else None,
        "why": clean_text(verdict_why(verdict), 300),
        "risk": {
            "level": verdict.risk.level,
            "categories": list(verdict.risk.categories),
            "reasons": [clean_text(r, 300) for r in risk_reasons(verdict.risk)[:5]],
        },
        "momentum": round(float(trend.momentum), 3),
        "is_new": is_new,
        "sources": sorted(set(trend.sources)),
        "corroboration": trend.corroboration,
        "traffic": trend.traffic,
        "headlines": [clean_text(h, 300) for h in trend.context[:3] if h.strip()],
        "urls": [u for u in trend.urls[:3] if isinstance(u, str)],
        "first_seen": trend.first_seen.isoformat(),
    }


# -- when to send -----------------------------------------------------------------------------------
def parse_quiet_hours(spec: str) -> tuple[time, time] | None:
    """Quiet hours: "22:00-07:00" -> (22:00, 07:00); "" -> None. Raises QuietHoursError on anything else."""
    if not spec.strip():
        return None
    m = _QUIET.match(spec)
    if not m:
        raise QuietHoursError(f'alerts.quiet_hours must look like "22:00-07:00", got {spec!r}')
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise QuietHoursError(f"alerts.quiet_hours has an impossible time: {spec!r}")
    return time(h1, m1), time(h2, m2)


def quiet_until(window: tuple[time, time] | None, now_local: datetime) -> datetime | None:
    """End of the quiet window containing `now_local` (same tz), or None when sending is allowed now.

    The window is [start, end); it wraps midnight when start > end ("22:00-07:00").
    """
    if window is None:
        return None
    start, end = window
    if start == end:
        return None
    t = now_local.timetz().replace(tzinfo=None)
    today_end = now_local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if start < end:
        return today_end if start <= t < end else None
    if t >= start:
        return today_end + timedelta(days=1)
    if t < end:
        return today_end
    return None


def hourly_slot_at(sent_times: Iterable[datetime], now: datetime, max_per_hour: int) -> datetime | None:
    """None if another message may go now; else when the oldest of the last hour's messages expires."""
    window = sorted(t for t in sent_times if now - t < timedelta(hours=1))
    if len(window) < max_per_hour:
        return None
    return window[len(window) - max_per_hour] + timedelta(hours=1)


def digest_due_at(last_digest: datetime | None, digest_min: float) -> datetime | None:
    """When the next digest may go (None = now)."""
    if last_digest is None or digest_min <= 0:
        return None
    return last_digest + timedelta(minutes=digest_min)


def backoff_s(attempts: int, *, base_s: float, max_s: float) -> float:
    """Exponential backoff after `attempts` failed tries (1 -> base, 2 -> 2*base, ...), capped."""
    return float(min(max_s, base_s * (2 ** max(attempts - 1, 0))))
