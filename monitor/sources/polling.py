"""The two things every adapter's poll is made of: fetch-and-parse one URL, and gather several URLs.

`fetch_parsed` is one GET and one parse. A body that does not parse has its cached validators
forgotten (so the next poll fetches it in full instead of getting a 304 for a document we could
not read), and every `SourceError` comes out named (`"gdelt: ..."`), keeping `retry_after` and
`status`. `NotModified` passes through untouched.

`gather_parts` fetches several URLs of one source concurrently (RSS feeds, Mastodon's two trend
endpoints). Each part is reported on its own (`PollContext.report_part`, keyed by host/path) and
its items are handed over as soon as they are parsed (`PollContext.deliver`); the result keeps the
per-part errors, and `Gathered.items_or_raise` fails the poll only when every part failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from monitor.models import SourceItem
from monitor.sources.base import Fetcher, NotModified, PollContext, SourceError, named
from monitor.sources.http import FetchResult, safe_location

T = TypeVar("T")
Parse = Callable[[FetchResult], T]


async def fetch_parsed(
    fetcher: Fetcher,
    url: str,
    parse: Parse[T],
    *,
    name: str,
    accept: str | None = None,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    min_interval: float | None = None,
    conditional: bool = True,
    in_thread: bool = False,
) -> T:
    """GET `url` and `parse` the response (in a worker thread with `in_thread`); errors are named `name`."""
    try:
        res = await fetcher.get(
            url, conditional=conditional, accept=accept, params=params, headers=headers, min_interval=min_interval
        )
    except SourceError as exc:
        raise named(name, exc) from None
    try:
        return await asyncio.to_thread(parse, res) if in_thread else parse(res)
    except SourceError as exc:
        fetcher.forget(res.url)
        raise named(name, exc) from None


@dataclass(frozen=True, slots=True)
class Part:
    """One URL of a multi-URL source and the parser for its response."""

    url: str
    parse: Parse[list[SourceItem]]


@dataclass(slots=True)
class Gathered:
    """What the parts of one poll gave: items not yet delivered, and each failed part's error (by URL)."""

    parts: int
    items: list[SourceItem] = field(default_factory=list)
    errors: dict[str, SourceError] = field(default_factory=dict)  # part URL -> error named by host/path
    unchanged: int = 0

    def items_or_raise(self, name: str, unit: str) -> list[SourceItem]:
        """The items; SourceError (named `name`) when every part failed; NotModified when none changed.

        The error carries the first part's message, how many more `unit` failed, the longest
        Retry-After of them all and the first part's HTTP status.
        """
        if self.errors and len(self.errors) == self.parts:
            first = next(iter(self.errors.values()))
            more = f" (and {len(self.errors) - 1} more {unit} failed)" if len(self.errors) > 1 else ""
            waits = [e.retry_after for e in self.errors.values() if e.retry_after is not None]
            raise SourceError(f"{name}: {first}{more}", retry_after=max(waits) if waits else None, status=first.status)
        if not self.items and not self.errors and self.unchanged == self.parts:
            raise NotModified(f"{name}: no {unit} changed")
        return self.items


async def gather_parts(
    ctx: PollContext,
    parts: Sequence[Part],
    *,
    accept: str | None = None,
    params: Mapping[str, str] | None = None,
    in_thread: bool = False,
    concurrency: int = 4,
) -> Gathered:
    """Fetch and parse every part concurrently (at most `concurrency` at a time); one failing part spoils none.

    Each part's outcome goes to `ctx.report_part(host/path, error_or_None)`; with `ctx.deliver`, a
    part's items are delivered at once and not kept in the result. A part that raises something else
    than SourceError / NotModified counts as failed ("unexpected <type>").
    """
    sem = asyncio.Semaphore(concurrency)

    async def one(part: Part) -> list[SourceItem] | NotModified | SourceError:
        where = safe_location(part.url)
        try:
            async with sem:
                items = await fetch_parsed(
                    ctx.fetcher, part.url, part.parse, name=where, accept=accept, params=params, in_thread=in_thread
                )
        except NotModified as exc:
            ctx.report_part(where, None)
            return exc
        except SourceError as exc:
            ctx.report_part(where, str(exc))
            return exc
        except Exception as exc:  # a parser bug: this part failed, the others go on
            error = SourceError(f"{where}: unexpected {type(exc).__name__}")
            ctx.report_part(where, str(error))
            return error
        ctx.report_part(where, None)
        if ctx.deliver is not None and items:
            ctx.deliver(items)
            return []
        return items

    outcomes = await asyncio.gather(*(one(p) for p in parts))
    gathered = Gathered(parts=len(parts))
    for part, outcome in zip(parts, outcomes, strict=True):
        if isinstance(outcome, NotModified):
            gathered.unchanged += 1
        elif isinstance(outcome, SourceError):
            gathered.errors[part.url] = outcome
        else:
            gathered.items.extend(outcome)
    return gathered
