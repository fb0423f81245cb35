"""The source adapter contract: small Protocols, their errors, and what a source is built from and polled with.

A source turns one poll into `SourceItem`s. It does no scheduling, no health
bookkeeping and no retries of its own: the service (monitor.service) runs it on an
interval, keeps its health, and backs off on `SourceError` (honouring `retry_after`).
Adapters see HTTP only through the `Fetcher` Protocol (`monitor.sources.http.HttpFetcher`
is the one implementation); `monitor.sources.polling` holds the fetch/parse helpers they share.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from monitor.models import FactCheck, FactCheckWrite, SourceItem

if TYPE_CHECKING:
    from monitor.config import Settings
    from monitor.risk.factcheck import FactCheckStore
    from monitor.sources.http import FetchResult


class SourceError(Exception):
    """A poll failed. `message` is one human line; `retry_after` (s) comes from 429/503 Retry-After.

    `status` is the HTTP status when the failure was an HTTP error response (else None).
    """

    def __init__(self, message: str, *, retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class NotModified(Exception):
    """304 / unchanged payload: a successful poll with nothing new (not an error)."""


def named(name: str, exc: SourceError) -> SourceError:
    """`exc` as a SourceError whose message starts with `name: ` (not twice); retry_after and status kept."""
    message = str(exc)
    if not message.startswith(f"{name}: "):
        message = f"{name}: {message}"
    return SourceError(message, retry_after=exc.retry_after, status=exc.status)


class Fetcher(Protocol):
    """What adapters use of the HTTP layer (`monitor.sources.http.HttpFetcher`)."""

    async def get(
        self,
        url: str,
        *,
        conditional: bool = True,
        accept: str | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        min_interval: float | None = None,
    ) -> FetchResult:
        """GET once. 2xx → FetchResult; 304 → NotModified; anything else → one-line SourceError."""
        ...

    def forget(self, url: str) -> None:
        """Drop the cached validators of `url` (a body that did not parse is fetched in full next time)."""
        ...


def _ignore_part(part: str, error: str | None) -> None:
    return None


@dataclass(slots=True)
class PollContext:
    """What a poll gets from the service.

    A source made of several independent parts (RSS: one per feed) may use the two optional hooks:
    `report_part(part, error_or_None)` after each part, so a failing part is a health problem of its
    own even while the others work; `deliver(items)` to hand over a part's items as soon as they are
    parsed, so a slow part holds up only itself (delivered items are not returned again by `poll`).
    """

    fetcher: Fetcher  # shared aiohttp session + conditional GET + caps
    now: Callable[[], datetime]
    report_part: Callable[[str, str | None], None] = _ignore_part
    deliver: Callable[[list[SourceItem]], None] | None = None


@runtime_checkable
class Source(Protocol):
    """One trend source. `name` is unique (used in health, events and config)."""

    name: str
    interval_s: float

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        """Fetch and parse once. Raise NotModified or SourceError; never anything else on bad input."""
        ...


@runtime_checkable
class StreamSource(Source, Protocol):
    """A source that keeps a connection open between polls (Jetstream); the connections close it on stop.

    Its `poll` hands over what the stream found since the last poll (NotModified when nothing).
    """

    async def close(self) -> None: ...


@runtime_checkable
class RiskEvidenceSource(Source, Protocol):
    """A source that feeds the risk gate instead of (or besides) yielding trends (the fact-check feeds).

    After a poll that added evidence (`last_new` > 0) the service re-scores recent trends, so a story
    debunked after it started trending turns `risky`.
    """

    refreshes_risk: bool
    last_new: int  # evidence items the last poll added


class FactCheckSink(Protocol):
    """Where polled debunks are kept so they survive a restart (monitor.storage.Storage)."""

    def save_factchecks(
        self, items: Sequence[FactCheck], origin: str, withdrawn: Sequence[FactCheck] = ()
    ) -> FactCheckWrite: ...


@dataclass(frozen=True, slots=True)
class SourceBuild:
    """What a built-in source is built from.

    The settings, the replay server's URL (offline), and the stores the service lends to sources
    that fill them (the fact-check feeds fill `factchecks`).
    """

    settings: Settings
    base_url: str | None = None
    factchecks: FactCheckStore | None = None
    factcheck_sink: FactCheckSink | None = None
