"""Events the service emits: the one interface the TUI, `onda watch` and alerts listen to.

Each event has `to_json()` giving the `onda watch` line (`{"event": ..., ...}`).
Listeners are plain callables `(Event) -> None`, called on the event loop; they
must not block (the TUI posts a message, `watch` prints a line).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, TypedDict, Unpack

from monitor.clustering.title import display_title
from monitor.explain import verdict_json
from monitor.models import Mark, OutboxRow, SourceHealth, Trend, Verdict
from monitor.models import iso_or_none as _iso

log = logging.getLogger(__name__)

TrendChange = Literal["new", "update", "risk_changed"]


@dataclass(frozen=True, slots=True)
class TrendEvent:
    """A trend was seen (new or updated) and scored for every brand."""

    trend: Trend
    verdicts: dict[str, Verdict]  # brand name -> verdict
    source: str  # the source whose poll produced this update
    is_new: bool
    risk_changed: bool = False  # re-scored (a new fact-check) and a verdict or risk level moved
    marks: dict[str, Mark] = field(default_factory=dict)  # brand name -> its current feedback mark (absent: none)

    @property
    def change(self) -> TrendChange:
        """`new` (first sighting), `risk_changed` (re-judged, e.g. after a debunk) or `update`."""
        if self.is_new:
            return "new"
        return "risk_changed" if self.risk_changed else "update"

    def to_json(self) -> dict[str, Any]:
        t = self.trend
        return {
            "event": "trend",
            "id": t.id,
            "title": display_title(t),
            "lang": t.lang,
            "change": self.change,
            "source": self.source,
            "sources": sorted(set(t.sources)),
            "corroboration": t.corroboration,
            "new": self.is_new,
            "first_seen": _iso(t.first_seen),
            "last_seen": _iso(t.last_seen),
            "momentum": round(t.momentum, 3),
            "traffic": t.traffic,
            "context": t.context[:5],
            "urls": t.urls[:5],
            "verdicts": {brand: verdict_json(v) for brand, v in self.verdicts.items()},
            "feedback": {brand: self.marks.get(brand) for brand in self.verdicts},
        }


@dataclass(frozen=True, slots=True)
class SourceErrorEvent:
    """A poll of a source failed: the one-line error and when it is retried."""

    source: str
    error: str  # one human line
    consecutive_failures: int
    retry_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "event": "source_error",
            "source": self.source,
            "error": self.error,
            "consecutive_failures": self.consecutive_failures,
            "retry_at": _iso(self.retry_at),
        }


@dataclass(frozen=True, slots=True)
class SourceHealthEvent:
    """A source's health after a poll (success or failure)."""

    health: SourceHealth

    def to_json(self) -> dict[str, Any]:
        return {"event": "source_health", **self.health.to_json()}


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """An alert was queued, sent, or gave up. `event` is alert_queued / alert_sent / alert_failed."""

    status: str  # queued | sent | failed
    alert: OutboxRow
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        a = self.alert
        return {
            "event": f"alert_{self.status}",
            "id": a.id,
            "brand": a.brand,
            "trend_id": a.trend_id,
            "kind": a.kind,
            "channel": a.channel,
            "title": a.payload.get("title"),
            "error": self.error,
        }


class StatusKind(StrEnum):
    """What a status event is about; the value is the `kind` field of its JSON line."""

    MODEL_LOADING = "model_loading"
    MODEL_READY = "model_ready"
    NOTICE = "notice"  # something the user should know; the service goes on
    ERROR = "error"  # something failed; the service goes on
    RESCORED = "rescored"  # a DNA edit re-scored recent trends
    STORE_CHANGED = "store_changed"  # another process sharing the store wrote what `changes` names
    STOPPED = "stopped"
    FATAL = "fatal"  # the store keeps failing: `onda watch` exits non-zero


class StatusData(TypedDict, total=False):
    """The optional fields a status event adds to its JSON line (each kind uses a few)."""

    topic: str  # credibility | leases | alerts
    source: str
    viewing: bool  # leases: True while another process polls `source` for us
    polled_by: str
    channel: str
    alerts_at_risk: int
    restored: int  # model_ready: stories restored from the store
    brand: str  # rescored: the brand edited, and what the re-scoring changed
    rescored: int
    changed: int
    new_opportunities: int
    lost_opportunities: int
    changes: list[str]  # store_changed: the kinds written ("trend", "verdict", "mark", ...)
    edited_by: str  # rescored: who stored the brand version another process re-scored (absent for a local edit)


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """Service life-cycle and notices: model loading/ready, credibility lists missing, rescoring done."""

    kind: StatusKind
    message: str
    data: StatusData = field(default_factory=lambda: StatusData())

    def to_json(self) -> dict[str, Any]:
        return {"event": "status", "kind": self.kind.value, "message": self.message, **self.data}


Event = TrendEvent | SourceErrorEvent | SourceHealthEvent | AlertEvent | StatusEvent
Listener = Callable[[Event], None]


class EventBus:
    """Fan-out of events to listeners, in subscription order; a failing listener is logged and skipped."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Register `listener`; returns the function that unsubscribes it."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not break polling
                log.exception("event listener failed on %s", type(event).__name__)

    def status(self, kind: StatusKind, message: str, **data: Unpack[StatusData]) -> None:
        self.emit(StatusEvent(kind, message, data))

