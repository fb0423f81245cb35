"""Plain data types shared by every part of Onda.

They are deliberately dumb (frozen dataclasses, no I/O) so that scoring and
policy stay pure functions and the TUI, `onda watch` and the tests can all
exchange the same objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from monitor.evidence import Evidence, FitEvidence, RiskLayer, evidence_from_json

Day = date  # a field below is named `date`: the type keeps its own name

VerdictName = Literal["fit", "off_brand", "risky"]
RiskLevel = Literal["none", "low", "medium", "high"]
RiskCategory = Literal["tragedy", "polarizing", "misinformation"]
Mark = Literal["used", "not_for_us"]  # a brand's feedback on a story: we rode it / not for us
MARKS: tuple[Mark, ...] = ("used", "not_for_us")

VERDICTS: tuple[VerdictName, ...] = ("fit", "off_brand", "risky")
RISK_LEVELS: tuple[RiskLevel, ...] = ("none", "low", "medium", "high")
RISK_CATEGORIES: tuple[RiskCategory, ...] = ("tragedy", "polarizing", "misinformation")


def level_rank(level: RiskLevel) -> int:
    """Order of risk levels, so `max()` over flags is meaningful."""
    return RISK_LEVELS.index(level)


def _utf8(text: str) -> str:
    r"""JSON may carry lone surrogates ("\ud800"); they cannot be written back out as UTF-8, so replace them."""
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
    """One layer's finding: what it found (`evidence`, as data) and what that means for a brand.

    `monitor.explain` words it for people; `evidence.to_json()` is what scripts get.
    """

    category: RiskCategory
    level: RiskLevel
    garm: str  # GARM brand-safety category ("Death, Injury or Military Conflict", "Misinformation", ...)
    evidence: Evidence
    strength: float = 1.0
    allowed_by: str | None = None  # the brand's `allow` topic that silenced it (still shown)

    @property
    def layer(self) -> RiskLayer:
        return self.evidence.layer

    @property
    def overridden(self) -> bool:
        return self.allowed_by is not None

    def to_json(self) -> dict[str, Any]:
        """One item of a verdict's `risk.evidence` list: the flag's fields and its layer's evidence fields."""
        head = {"category": self.category, "level": self.level, "garm": self.garm, "strength": self.strength}
        return {**self.evidence.to_json(), **head, "allowed_by": self.allowed_by}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> RiskFlag:
        """Inverse of `to_json`; raises ValueError for anything it does not recognise."""
        category, level = obj.get("category"), obj.get("level")
        if category not in RISK_CATEGORIES or level not in RISK_LEVELS:
            raise ValueError(f"not a risk flag: category {category!r}, level {level!r}")
        allowed = obj.get("allowed_by")
        return cls(
            category=category,
            level=level,
            garm=str(obj.get("garm", "")),
            evidence=evidence_from_json(obj),
            strength=float(obj.get("strength", 1.0)),
            allowed_by=str(allowed) if allowed is not None else None,
        )


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    """The risk gate's judgement of one trend for one brand: level, categories and the flags behind it."""

    level: RiskLevel = "none"
    categories: tuple[RiskCategory, ...] = ()
    flags: tuple[RiskFlag, ...] = ()
    avoid_hit: str | None = None  # the brand `avoid` topic that matched, if any

    @classmethod
    def from_flags(cls, flags: list[RiskFlag], avoid_hit: str | None = None) -> RiskAssessment:
        """Combine flags: level is the max of active flags; overridden flags only add evidence."""
        active = [f for f in flags if not f.overridden]
        level: RiskLevel = "none"
        for f in active:
            if level_rank(f.level) > level_rank(level):
                level = f.level
        if avoid_hit is not None:
            level = "high"
        categories: list[RiskCategory] = []
        for f in rank_flags(flags):
            if not f.overridden and f.category not in categories:
                categories.append(f.category)
        return cls(level=level, categories=tuple(categories), flags=tuple(flags), avoid_hit=avoid_hit)

    def ranked(self) -> tuple[RiskFlag, ...]:
        """The flags most decisive first: active ones by level then strength, overridden ones last."""
        return rank_flags(self.flags)

    def to_json(self) -> dict[str, Any]:
        """Structured form (what storage keeps); the verdict line adds rendered `reasons` (`monitor.explain`)."""
        return {
            "level": self.level,
            "categories": list(self.categories),
            "evidence": [f.to_json() for f in self.ranked()],
            "avoid_hit": self.avoid_hit,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> RiskAssessment:
        """Inverse of `to_json`. A row stored before flags were kept has no `evidence`: level and categories only."""
        level = obj.get("level", "none")
        if level not in RISK_LEVELS:
            raise ValueError(f"unknown risk level {level!r}")
        categories = tuple(c for c in obj.get("categories", []) if c in RISK_CATEGORIES)
        flags = tuple(RiskFlag.from_json(f) for f in obj.get("evidence", []))
        avoid = obj.get("avoid_hit")
        return cls(level=level, categories=categories, flags=flags, avoid_hit=str(avoid) if avoid is not None else None)


def rank_flags(flags: Sequence[RiskFlag]) -> tuple[RiskFlag, ...]:
    """Active flags by level then strength (stable), then the overridden ones in their order."""
    active = sorted((f for f in flags if not f.overridden), key=lambda f: (-level_rank(f.level), -f.strength))
    return (*active, *(f for f in flags if f.overridden))


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
    """One trend judged for one brand. Words for people come from `monitor.explain` (`verdict_json` for JSON lines)."""

    id: str
    verdict: VerdictName
    fit: float
    matched: str | None  # the closest DNA / positioning statement
    risk: RiskAssessment
    fit_evidence: FitEvidence | None = None  # the numbers behind `fit` (None: not kept, e.g. a hand-made verdict)
    breakdown: tuple[StatementScore, ...] = ()


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
    joined: dict[str, datetime] = field(default_factory=dict)  # source -> when it first had the story

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
    stored_on: date | None = None  # the day Onda first stored it: an undated debunk counts from then

    @property
    def text(self) -> str:
        """What is matched against trends: the claim and the fact-check title."""
        if self.claim and self.claim != self.title:
            return f"{self.claim}. {self.title}"
        return self.claim or self.title


@dataclass(frozen=True, slots=True)
class FactCheckWrite:
    """What storing a batch of fact-checks changed (monitor.storage.Storage.save_factchecks)."""

    new: int = 0
    updated: int = 0  # known URLs whose title, claim, publisher, date or rating changed
    withdrawn: int = 0  # stored debunks now kept as withdrawn (no longer loaded): their review is rated true


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


@dataclass(frozen=True, slots=True)
class StoredBrand:
    """A brand's current DNA document in the store (monitor.brands): its TOML text and version."""

    name: str
    toml: str
    version: int
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True, slots=True)
class BrandRevision:
    """One version of a brand in its history: who changed it, when, from what to what, and what it re-scored."""

    brand: str
    version: int
    at: datetime
    by: str
    before: str | None  # TOML text replaced; None for the first version
    after: str
    summary: str  # what changed, in words
    rescore: dict[str, Any] | None = None
    """{"rescored": n, "changed": {"fit->off_brand": 2, ...}}; None until a service re-scored this version."""
