"""Plain data types shared by every part of Onda.

They are deliberately dumb (frozen dataclasses, no I/O) so that scoring and
policy stay pure functions and the TUI, `onda watch` and the tests can all
exchange the same objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

Day = date  # a field below is named `date`: the type keeps its own name

VerdictName = Literal["fit", "off_brand", "risky"]
RiskLevel = Literal["none", "low", "medium", "high"]
RiskCategory = Literal["tragedy", "polarizing", "misinformation"]

VERDICTS: tuple[VerdictName, ...] = ("fit", "off_brand", "risky")
RISK_LEVELS: tuple[RiskLevel, ...] = ("none", "low", "medium", "high")


def level_rank(level: RiskLevel) -> int:
    """Order of risk levels, so `max()` over flags is meaningful."""
    return RISK_LEVELS.index(level)


def _utf8(text: str) -> str:
    """JSON may carry lone surrogates ("\\ud800"); they cannot be written back out as UTF-8, so replace them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="replace").decode("utf-8")
    return text


@dataclass(frozen=True, slots=True)
class TrendInput:
    """What is scored: one trend, as in an `onda score` input line."""

    id: str
    title: str
    lang: str | None = None
    context: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    date: Day | None = None  # when the trend was seen; None = today (calendar and fact-check window)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> TrendInput:
        """Build from a decoded JSON line; raises ValueError with a readable message."""
        if not isinstance(obj, dict):
            raise ValueError("a trend line must be a JSON object")
        title = obj.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ValueError("missing or empty 'title'")
        raw_id = obj.get("id")
        if raw_id is None or isinstance(raw_id, (dict, list)):
            raise ValueError("missing 'id'")
        lang = obj.get("lang")
        if lang is not None and not isinstance(lang, str):
            raise ValueError("'lang' must be a string")
        context = obj.get("context") or []
        urls = obj.get("urls") or []
        if not isinstance(context, list) or not all(isinstance(c, str) for c in context):
            raise ValueError("'context' must be a list of strings")
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise ValueError("'urls' must be a list of strings")
        return cls(
            id=_utf8(str(raw_id)),
            title=_utf8(title),
            lang=_utf8(lang) if lang is not None else None,
            context=tuple(_utf8(c) for c in context if c.strip()),
            urls=tuple(_utf8(u) for u in urls),
            date=parse_seen_date(obj.get("date")),
        )


def parse_seen_date(value: Any) -> Day | None:
    """A trend line's `date`: an ISO date or datetime (a datetime counts in UTC when it has an offset)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError("'date' must be an ISO date or datetime string, e.g. \"2024-01-28\"")
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"'date' is not an ISO date or datetime: {text[:40]!r}") from None
    return moment.astimezone(UTC).date() if moment.tzinfo else moment.date()


@dataclass(frozen=True, slots=True)
class RiskFlag:
    """One layer's finding, with evidence a brand guardian can read."""

    category: RiskCategory
    level: RiskLevel
    layer: str  # lexicon | calendar | prototype | credibility | factcheck | avoid
    reason: str  # human sentence naming the evidence
    evidence: str = ""  # the term / prototype / domain / fact-check URL
    strength: float = 1.0
    overridden: bool = False  # silenced by the brand's allow-list (still shown)


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    level: RiskLevel = "none"
    categories: tuple[RiskCategory, ...] = ()
    reasons: tuple[str, ...] = ()
    flags: tuple[RiskFlag, ...] = ()
    avoid_hit: str | None = None  # the brand `avoid` topic that matched, if any

    @classmethod
    def from_flags(cls, flags: list[RiskFlag], avoid_hit: str | None = None) -> RiskAssessment:
        """Combine flags: level is the max of active flags; overridden flags only add reasons."""
        active = [f for f in flags if not f.overridden]
        level: RiskLevel = "none"
        for f in active:
            if level_rank(f.level) > level_rank(level):
                level = f.level
        if avoid_hit is not None:
            level = "high"
        ordered = sorted(active, key=lambda f: (-level_rank(f.level), -f.strength))
        categories: list[RiskCategory] = []
        for f in ordered:
            if f.category not in categories:
                categories.append(f.category)
        reasons = [f.reason for f in ordered] + [f.reason for f in flags if f.overridden]
        return cls(
            level=level,
            categories=tuple(categories),
            reasons=tuple(reasons),
            flags=tuple(flags),
            avoid_hit=avoid_hit,
        )

    def to_json(self) -> dict[str, Any]:
        return {"level": self.level, "categories": list(self.categories), "reasons": list(self.reasons)}


@dataclass(frozen=True, slots=True)
class StatementScore:
    """How one DNA / positioning statement relates to a trend."""

    statement: str
    kind: str  # dna | positioning
    semantic: float  # cosine of trend text to statement
    lexical: float  # share of the statement's key terms/entities found in the trend
    score: float  # combined evidence used for the decision


@dataclass(frozen=True, slots=True)
class Verdict:
    id: str
    verdict: VerdictName
    fit: float
    matched: str | None
    risk: RiskAssessment
    why: str = ""  # one line: why fit / off-brand
    breakdown: tuple[StatementScore, ...] = ()
    entities: tuple[str, ...] = ()  # DNA entities found in the trend

    def to_json(self) -> dict[str, Any]:
        """The DESIGN.md verdict line (plus `why`, which scripts may ignore)."""
        return {
            "id": self.id,
            "verdict": self.verdict,
            "fit": round(self.fit, 4),
            "matched": self.matched,
            "risk": self.risk.to_json(),
            "why": self.why,
        }


@dataclass(frozen=True, slots=True)
class SourceItem:
    """One raw item as a source adapter reports it, before clustering."""

    source: str  # adapter name, e.g. "google_trends"
    title: str
    url: str | None = None
    context: tuple[str, ...] = ()  # related headlines
    urls: tuple[str, ...] = ()  # links of the item and its headlines
    lang: str | None = None
    traffic: int | None = None  # approximate searches / views / uses, when the source tells
    published: datetime | None = None
    item_id: str = ""  # stable id inside the source (guid, url, tag name)


@dataclass(slots=True)
class Trend:
    """One story: a cluster of source items. Mutable because the clusterer grows it."""

    id: str
    title: str
    lang: str | None
    first_seen: datetime
    last_seen: datetime
    context: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    traffic: int | None = None
    momentum: float = 0.0  # new mentions per hour, recent window
    mentions: list[tuple[datetime, int]] = field(default_factory=list)  # (bucket start, count)

    @property
    def corroboration(self) -> int:
        return len(set(self.sources))

    def to_input(self) -> TrendInput:
        return TrendInput(
            id=self.id,
            title=self.title,
            lang=self.lang,
            context=tuple(self.context[:12]),
            urls=tuple(self.urls[:30]),
        )


@dataclass(frozen=True, slots=True)
class FactCheck:
    """One fact-checker's debunk: what trends are matched against (monitor.risk.factcheck)."""

    title: str
    url: str
    publisher: str
    published: date | None = None
    claim: str = ""  # the checked claim, when the source gives it (Google Fact Check Tools)
    rating: str = ""  # textual rating ("False", "Pants on Fire", "Falso")

    @property
    def text(self) -> str:
        """What is matched against trends: the claim and the fact-check title."""
        if self.claim and self.claim != self.title:
            return f"{self.claim}. {self.title}"
        return self.claim or self.title


def iso_or_none(dt: datetime | None) -> str | None:
    """ISO 8601 text of a datetime, None stays None (storage columns and event JSON)."""
    return dt.isoformat() if dt is not None else None


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """How one source (or one part of it, `rss:host/path`) is doing: stored, evented, shown by the TUI."""

    name: str
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    next_run: datetime | None = None
    items_last: int = 0

    @property
    def ok(self) -> bool:
        return self.consecutive_failures == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "last_success": iso_or_none(self.last_success),
            "last_error": self.last_error,
            "last_error_at": iso_or_none(self.last_error_at),
            "consecutive_failures": self.consecutive_failures,
            "next_run": iso_or_none(self.next_run),
            "items_last": self.items_last,
        }


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One alert in the durable outbox (monitor.storage): queued, claimed, sent or failed."""

    id: int
    dedupe_key: str
    brand: str
    trend_id: str
    kind: str
    channel: str
    payload: dict[str, Any]
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    claimed_by: str | None = None
    claim_expires: datetime | None = None
