"""What each risk layer found, and what a fit verdict rests on, as data.

The risk layers (`monitor.risk.*`) fill these instead of writing sentences; `monitor.explain` turns
them into words at the edges (JSON lines, the dashboard, Slack), and `RiskGate.topic_keys` reads
them to match a brand's `avoid` / `allow` topics. Every class has `to_json` / `from_json`, so a
stored verdict keeps its evidence (the `evidence` list of a verdict line is made of these).

Plain frozen dataclasses, no I/O and no imports from the rest of Onda.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Literal

RiskLayer = Literal["lexicon", "calendar", "prototype", "classifier", "credibility", "factcheck", "avoid"]


def _date_or_none(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class TermCount:
    """A lexicon term found in the trend, how often, and its lexicon group."""

    term: str
    count: int = 1
    group: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"term": self.term, "count": self.count, "group": self.group}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> TermCount:
        return cls(str(obj["term"]), int(obj.get("count", 1)), str(obj.get("group", "")))


@dataclass(frozen=True, slots=True)
class LexiconEvidence:
    """Terms of one lexicon group, with the same category's other terms and amplifiers."""

    layer: ClassVar[RiskLayer] = "lexicon"
    group: str
    terms: tuple[TermCount, ...]  # this group's terms, strongest first
    related: tuple[TermCount, ...] = ()  # terms of other groups of the same category
    amplifiers: tuple[str, ...] = ()  # words that sharpen the category ("polemica", "backlash")
    score: float = 0.0  # weighted evidence of the category (repetitions count here only)
    brand: bool = False  # from the brand's own `<brand>.risk.toml`

    def to_json(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "group": self.group,
            "terms": [t.to_json() for t in self.terms],
            "related": [t.to_json() for t in self.related],
            "amplifiers": list(self.amplifiers),
            "score": self.score,
            "brand": self.brand,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> LexiconEvidence:
        return cls(
            group=str(obj["group"]),
            terms=tuple(TermCount.from_json(t) for t in obj.get("terms", [])),
            related=tuple(TermCount.from_json(t) for t in obj.get("related", [])),
            amplifiers=tuple(str(a) for a in obj.get("amplifiers", [])),
            score=float(obj.get("score", 0.0)),
            brand=bool(obj.get("brand", False)),
        )


@dataclass(frozen=True, slots=True)
class CalendarEvidence:
    """A tragedy anniversary: named by the trend (`mention`), or commemorative `wording` on the day."""

    layer: ClassVar[RiskLayer] = "calendar"
    event: str
    day: date  # when the event happened
    years: int  # years since, on the day the trend was seen
    days_away: int  # from the nearest anniversary
    near: bool  # within the event's window around its anniversary
    mention: str = ""  # the trend's words naming the event
    wording: str = ""  # commemorative wording, when the event is not named

    def to_json(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "event": self.event,
            "day": self.day.isoformat(),
            "years": self.years,
            "days_away": self.days_away,
            "near": self.near,
            "mention": self.mention,
            "wording": self.wording,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> CalendarEvidence:
        return cls(
            event=str(obj["event"]),
            day=date.fromisoformat(str(obj["day"])),
            years=int(obj.get("years", 0)),
            days_away=int(obj.get("days_away", 0)),
            near=bool(obj.get("near", False)),
            mention=str(obj.get("mention", "")),
            wording=str(obj.get("wording", "")),
        )


@dataclass(frozen=True, slots=True)
class PrototypeEvidence:
    """The closest example headline of a GARM category, and how much closer than safe news."""

    layer: ClassVar[RiskLayer] = "prototype"
    example: str
    similarity: float  # mean of the top cosines to the category's examples
    margin: float  # that minus the same for the safe examples

    def to_json(self) -> dict[str, Any]:
        return {"layer": self.layer, "example": self.example, "similarity": self.similarity, "margin": self.margin}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> PrototypeEvidence:
        return cls(str(obj["example"]), float(obj["similarity"]), float(obj["margin"]))


@dataclass(frozen=True, slots=True)
class ClassifierEvidence:
    """The trained read-out's probability for the category, where `high` starts, and the title words that weighed most."""

    layer: ClassVar[RiskLayer] = "classifier"
    probability: float
    high_from: float
    words: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"layer": self.layer, "probability": self.probability, "high_from": self.high_from}
        if self.words:
            out["words"] = list(self.words)
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> ClassifierEvidence:
        return cls(float(obj["probability"]), float(obj["high_from"]), tuple(str(w) for w in obj.get("words", ())))


@dataclass(frozen=True, slots=True)
class SourceRating:
    """A domain and what the credibility lists say about it."""

    domain: str
    lists: tuple[str, ...] = ()  # e.g. "Iffy index of unreliable sources", "Lin et al. 2023 quality 0.21/1"

    def to_json(self) -> dict[str, Any]:
        return {"domain": self.domain, "lists": list(self.lists)}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> SourceRating:
        return cls(str(obj["domain"]), tuple(str(x) for x in obj.get("lists", [])))


@dataclass(frozen=True, slots=True)
class CredibilityEvidence:
    """Low-credibility domains carrying the story, and the mainstream ones that also do."""

    layer: ClassVar[RiskLayer] = "credibility"
    low: tuple[SourceRating, ...]
    mainstream: tuple[str, ...] = ()
    judged: int = 0  # domains the lists rate at all (social platforms are not judged)

    def to_json(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "low": [r.to_json() for r in self.low],
            "mainstream": list(self.mainstream),
            "judged": self.judged,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> CredibilityEvidence:
        return cls(
            low=tuple(SourceRating.from_json(r) for r in obj.get("low", [])),
            mainstream=tuple(str(d) for d in obj.get("mainstream", [])),
            judged=int(obj.get("judged", 0)),
        )


@dataclass(frozen=True, slots=True)
class FactCheckEvidence:
    """The debunk the trend matches, and how it was matched."""

    layer: ClassVar[RiskLayer] = "factcheck"
    url: str
    title: str
    publisher: str = ""
    claim: str = ""
    rating: str = ""
    published: date | None = None
    score: float = 0.0  # cosine (method "meaning") or share of the debunk's key words (method "words")
    method: Literal["meaning", "words"] = "meaning"
    shared_terms: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "url": self.url,
            "title": self.title,
            "publisher": self.publisher,
            "claim": self.claim,
            "rating": self.rating,
            "published": self.published.isoformat() if self.published else None,
            "score": self.score,
            "method": self.method,
            "shared_terms": list(self.shared_terms),
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> FactCheckEvidence:
        return cls(
            url=str(obj["url"]),
            title=str(obj.get("title", "")),
            publisher=str(obj.get("publisher", "")),
            claim=str(obj.get("claim", "")),
            rating=str(obj.get("rating", "")),
            published=_date_or_none(obj.get("published")),
            score=float(obj.get("score", 0.0)),
            method="words" if obj.get("method") == "words" else "meaning",
            shared_terms=tuple(str(t) for t in obj.get("shared_terms", [])),
        )


@dataclass(frozen=True, slots=True)
class AvoidEvidence:
    """A topic on the brand's `avoid` list: reached through another layer's finding, or named in the text."""

    layer: ClassVar[RiskLayer] = "avoid"
    topic: str
    matched: LayerEvidence | None = None  # the finding whose topic the brand avoids; None = the words appear

    def to_json(self) -> dict[str, Any]:
        return {"layer": self.layer, "topic": self.topic, "matched": self.matched.to_json() if self.matched else None}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> AvoidEvidence:
        matched = obj.get("matched")
        inner = evidence_from_json(matched) if isinstance(matched, dict) else None
        if isinstance(inner, AvoidEvidence):
            raise ValueError("avoid evidence cannot nest another avoid")
        return cls(str(obj["topic"]), inner)


LayerEvidence = (
    LexiconEvidence
    | CalendarEvidence
    | PrototypeEvidence
    | ClassifierEvidence
    | CredibilityEvidence
    | FactCheckEvidence
)
Evidence = LayerEvidence | AvoidEvidence

_BY_LAYER: dict[str, Any] = {
    cls.layer: cls
    for cls in (
        LexiconEvidence,
        CalendarEvidence,
        PrototypeEvidence,
        ClassifierEvidence,
        CredibilityEvidence,
        FactCheckEvidence,
        AvoidEvidence,
    )
}


def evidence_from_json(obj: dict[str, Any]) -> Evidence:
    """The evidence object named by `obj["layer"]`; raises ValueError for an unknown layer or missing field."""
    cls = _BY_LAYER.get(str(obj.get("layer")))
    if cls is None:
        raise ValueError(f"unknown risk layer {obj.get('layer')!r}")
    try:
        result: Evidence = cls.from_json(obj)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{obj.get('layer')} evidence: {exc}") from None
    return result


@dataclass(frozen=True, slots=True)
class FitEvidence:
    """The best statement's numbers behind a fit / off-brand verdict (`monitor.scoring`)."""

    threshold: float  # fit needed for a "fit" verdict
    semantic_z: float  # similarity to the statement against background topics (z-score)
    cosine: float
    shared_terms: int = 0  # specific key terms shared with the statement (capped at 3)
    names: tuple[str, ...] = ()  # DNA names (people, events, products) found in the trend
    kinds: tuple[tuple[str, str], ...] = ()  # (name, kind) read in the title: ("juve", "football club")
    kind_cosine: float | None = None  # the cosine with the title read with those kinds (None: no known name)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "threshold": self.threshold,
            "semantic_z": self.semantic_z,
            "cosine": self.cosine,
            "shared_terms": self.shared_terms,
            "names": list(self.names),
        }
        if self.kinds:
            out["kinds"] = [{"name": n, "kind": k} for n, k in self.kinds]
            out["kind_cosine"] = self.kind_cosine
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> FitEvidence:
        return cls(
            threshold=float(obj["threshold"]),
            semantic_z=float(obj.get("semantic_z", 0.0)),
            cosine=float(obj.get("cosine", 0.0)),
            shared_terms=int(obj.get("shared_terms", 0)),
            names=tuple(str(n) for n in obj.get("names", [])),
            kinds=tuple((str(k["name"]), str(k["kind"])) for k in obj.get("kinds", [])),
            kind_cosine=float(obj["kind_cosine"]) if obj.get("kind_cosine") is not None else None,
        )
