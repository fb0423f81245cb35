"""Contracts between the parts of the service (Protocols and the plain data they exchange, no behaviour).

Everything `MonitorService` uses of a collaborator is listed here:

- `TrendScorer`     scores trends for every brand (monitor.scoring.MultiBrandScorer).
- `AlertSink`       turns scored trends into durable alerts (monitor.alerts.AlertDispatcher).
- `Connections`     opens what the service polls through: sources, one HTTP session and its fetcher
                    (monitor.compose.HttpConnections; with the offline replay server for `--offline`).
- `ServiceAPI`      what the TUI and `onda watch` use of the running service (monitor.service.MonitorService).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from brand_dna.dna import BrandDNA
from monitor.events import Event, Listener, TrendEvent
from monitor.models import Mark, OutboxRow, SourceHealth, Trend, Verdict

if TYPE_CHECKING:  # the source adapters import aiohttp and feed parsers: not needed to read the contracts
    import aiohttp

    from monitor.sources.base import Source
    from monitor.sources.http import HttpFetcher


class ServiceError(Exception):
    """The service cannot start (e.g. offline replay requested but not available)."""


class TrendScorer(Protocol):
    """Blocking (embeds text): the service calls it in a worker thread."""

    @property
    def brands(self) -> list[BrandDNA]: ...

    def load(self) -> None:
        """Load the model and build/load each brand's index (slow; run in a thread)."""

    def score_trends(self, trends: Sequence[Trend]) -> list[dict[str, Verdict]]:
        """One {brand name: Verdict} per trend, same order. Verdicts carry the full breakdown."""

    def replace_brand(self, brand: BrandDNA) -> None:
        """Swap a brand's DNA (same name) and rebuild its index."""


class AlertSink(Protocol):
    """Where the service hands alerts: attached to the shared session and event bus, closed on stop."""

    def attach(
        self, *, session: aiohttp.ClientSession | None = None, emit: Callable[[Event], None] | None = None
    ) -> None:
        """Use the service's shared HTTP session and event bus (called by start(), inside the loop)."""

    def set_brands(self, brands: Sequence[BrandDNA]) -> None:
        """Pick up edited brands (their alert thresholds) after a DNA edit."""

    def consider(self, event: TrendEvent) -> list[OutboxRow]:
        """Apply alert policy to a scored trend; enqueue (durably) what must be sent. Never blocks on I/O."""

    def request_flush(self) -> None:
        """There is work: send what is due in the background (coalesced, never overlapping; errors reported)."""

    async def drain(self) -> None:
        """Flush once more and wait until no flush runs or is requested (`run_once`)."""

    async def close(self) -> None:
        """Stop sending: cancel a flush in progress, let POSTs on the wire finish, release claims."""

    def channels_for(self, brand: str) -> list[str]:
        """Where the brand's alerts go: 'slack' and/or 'webhook', or ['log'] when neither is configured."""


@dataclass(frozen=True, slots=True)
class Connected:
    """What `Connections.open()` gives the service for one run."""

    sources: list[Source]
    fetcher: HttpFetcher  # shared by every poll
    session: aiohttp.ClientSession  # the one HTTP session (the fetcher's; alerts send through it too)
    notices: list[str] = field(default_factory=list)  # problems building sources, one line each


class Connections(Protocol):
    """Opens, inside the running loop, what the pollers need (HTTP session, sources)."""

    async def open(self) -> Connected:
        """Inside the running loop: everything polls need (raises ServiceError when that is impossible)."""
        ...

    async def close(self) -> None:
        """Undo open() (idempotent; also after a failed or partial open)."""


@dataclass(frozen=True, slots=True)
class VerdictChange:
    """A recent trend whose verdict for a brand changed after its DNA was edited."""

    trend_id: str
    title: str
    before: str  # verdict name before the DNA change
    after: str
    fit_before: float
    fit_after: float


@dataclass(frozen=True, slots=True)
class RescoreDiff:
    """What a DNA edit changed over the last N trends (the DNA screen shows it)."""

    brand: str
    rescored: int
    changes: list[VerdictChange] = field(default_factory=list)
    backup: str | None = None  # path of the brand file backup written on save

    @property
    def new_opportunities(self) -> list[VerdictChange]:
        return [c for c in self.changes if c.after == "fit" and c.before != "fit"]

    @property
    def lost_opportunities(self) -> list[VerdictChange]:
        return [c for c in self.changes if c.before == "fit" and c.after != "fit"]


class ServiceAPI(Protocol):
    """The running monitor as the TUI sees it. All coroutine methods run on the app's event loop."""

    @property
    def brands(self) -> list[BrandDNA]: ...

    @property
    def user(self) -> str:
        """Who is at this dashboard: recorded on the marks set and the brand edits saved here."""

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Register for events; returns the unsubscribe function."""

    async def start(self) -> None:
        """Start inside the running loop: model load in a thread (emits status events), scheduler, pollers."""

    async def stop(self) -> None:
        """Stop pollers, scheduler, alert sending; close the HTTP session. Leaves no pending tasks."""

    async def run_once(self) -> None:
        """Poll every enabled source once, wait for scoring and alerts, return."""

    async def poll_now(self, source: str) -> None: ...

    def source_names(self) -> list[str]: ...

    def health(self) -> list[SourceHealth]: ...

    def recent(self, brand: str, limit: int = 500) -> list[tuple[Trend, Verdict]]:
        """Latest trends with that brand's verdict (full breakdown when scored in this process)."""

    def set_mark(self, trend_id: str, brand: str, mark: Mark | None) -> None:
        """Store the brand's one current mark on a story; setting one replaces the other, None clears it.

        'used' (a used story turning risky raises a pull-the-post alert) or 'not_for_us'.
        """

    def mark_for(self, trend_id: str, brand: str) -> Mark | None: ...

    def marks(self, brand: str, trend_ids: Sequence[str]) -> dict[str, Mark]:
        """The brand's marks on those stories (unmarked ones are absent), in one query."""

    def mark_authors(self, brand: str, trend_ids: Sequence[str]) -> dict[str, str]:
        """Who set the brand's current mark on those stories (unknown or unmarked ones are absent)."""

    async def update_brand(self, brand: BrandDNA, *, save: bool = True) -> RescoreDiff:
        """Store the edit as a new version (with history), re-score recent trends.

        Also writes the brand file (with backup) when it has one; other processes on the store re-score too.
        """

    def outbox(self, limit: int = 200) -> list[OutboxRow]: ...

    def alert_channels(self, brand: str) -> list[str]:
        """Where the brand's alerts go: 'slack' and/or 'webhook'.

        ['log'] when neither is configured (they are only logged); [] when this service sends no alerts.
        """

    def alert_preview(self, row: OutboxRow) -> str:
        """The alert as its channel gets it (Slack text, or the webhook's JSON body), every secret redacted."""
