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

    fetcher: HttpFetcher  # shared aiohttp session + conditional GET + caps
    now: Callable[[], datetime]
    report_part: Callable[[str, str | None], None] = _ignore_part
    deliver: Callable[[list[SourceItem]], None] | None = None


class Source(Protocol):
    """One trend source. `name` is unique (used in health, events and config)."""

    name: str
    interval_s: float

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        """Fetch and parse once. Raise NotModified or SourceError; never anything else on bad input."""
        ...
