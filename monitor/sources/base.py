"""The source adapter contract: a small Protocol, its errors, and the context a poll receives.

A source turns one poll into `SourceItem`s. It does no scheduling, no health
bookkeeping and no retries of its own: the service (monitor.service) runs it on an
interval, keeps its health, and backs off on `SourceError` (honouring `retry_after`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from monitor.models import SourceItem

if TYPE_CHECKING:
    from monitor.sources.http import HttpFetcher


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


@dataclass(slots=True)
class PollContext:
    fetcher: HttpFetcher  # shared aiohttp session + conditional GET + caps
    now: Callable[[], datetime]


class Source(Protocol):
    """One trend source. `name` is unique (used in health, events and config)."""

    name: str
    interval_s: float

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        """Fetch and parse once. Raise NotModified or SourceError; never anything else on bad input."""
        ...
