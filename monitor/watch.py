"""`onda watch`: the headless service, one JSON object per line on stdout per event."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable, Collection
from typing import IO, Any, Literal

from monitor.config import Settings
from monitor.events import Event, StatusEvent, StatusKind, TrendChange, TrendEvent

EXIT_STORE_FAILED = 1  # the store kept failing (see MonitorService.check_store)


def _passes(
    line: dict[str, Any],
    min_fit: float | None,
    only: Literal["opportunities", "risks"] | None,
    changes: Collection[TrendChange] | None,
) -> bool:
    try:
        from monitor.alerts.filters import passes_filters
    except ImportError:  # pragma: no cover - alerts package always ships; keep watch usable regardless
        return True
    return passes_filters(line, min_fit=min_fit, only=only, changes=changes)


class JsonLinePrinter:
    """Listener that writes each event as one JSON line; filters apply to trend events only."""

    def __init__(
        self,
        out: IO[str],
        *,
        min_fit: float | None = None,
        only: Literal["opportunities", "risks"] | None = None,
        changes: Collection[TrendChange] | None = None,
        on_closed: Callable[[], None] | None = None,
    ) -> None:
        self.out = out
        self.min_fit = min_fit
        self.only = only
        self.changes = changes
        self.on_closed = on_closed
        self.closed = False
        self.count = 0

    def __call__(self, event: Event) -> None:
        if self.closed:
            return
        line = event.to_json()
        if line["event"] == "source_health":
            return  # health is kept in storage and shown by the TUI; too chatty for scripts
        if isinstance(event, StatusEvent) and event.kind == StatusKind.STORE_CHANGED:
            return  # a dashboard's cue to reload; the trend lines already carry what changed
        if isinstance(event, TrendEvent) and not _passes(line, self.min_fit, self.only, self.changes):
            return
        try:
            self.out.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
            self.out.flush()
        except BrokenPipeError:  # `onda watch | head`: stop quietly (SystemExit here escaped as task tracebacks)
            self.closed = True
            _silence(self.out)
            if self.on_closed is not None:
                self.on_closed()
            return
        self.count += 1


def _silence(out: IO[str]) -> None:
    """Point a closed pipe's fd at /dev/null so the interpreter's final flush does not complain either."""
    with contextlib.suppress(Exception):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        os.close(devnull)


async def watch_async(
    settings: Settings,
    *,
    offline: bool,
    once: bool,
    db: str | None,
    min_fit: float | None,
    only: Literal["opportunities", "risks"] | None,
    changes: Collection[TrendChange] | None = None,
    out: IO[str] = sys.stdout,
) -> int:
    from monitor.compose import build_service

    service = build_service(settings, offline=offline, db=db)
    with service.storage:  # every exit path: the WAL is checkpointed, no handle is left open
        stop = asyncio.Event()
        fatal: list[str] = []

        def on_fatal(event: Event) -> None:
            if isinstance(event, StatusEvent) and event.kind == StatusKind.FATAL:
                fatal.append(event.message)
                stop.set()

        service.subscribe(JsonLinePrinter(out, min_fit=min_fit, only=only, changes=changes, on_closed=stop.set))
        service.subscribe(on_fatal)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await service.start()
        try:
            if once:
                await service.run_once()
            else:
                await stop.wait()
        finally:
            await service.stop()
    if fatal:
        print(f"onda watch: {fatal[0]}", file=sys.stderr)
        return EXIT_STORE_FAILED
    return 0


def run_watch(
    settings: Settings,
    *,
    offline: bool,
    once: bool,
    db: str | None = None,
    min_fit: float | None = None,
    only: Literal["opportunities", "risks"] | None = None,
    changes: Collection[TrendChange] | None = None,
) -> int:
    from brand_dna.dna import BrandFileError
    from brand_dna.embedder import EmbedderError
    from monitor.storage import StorageError

    try:
        return asyncio.run(
            watch_async(settings, offline=offline, once=once, db=db, min_fit=min_fit, only=only, changes=changes)
        )
    except (BrandFileError, StorageError, EmbedderError) as exc:
        print(f"onda watch: {exc}", file=sys.stderr)
        return 2
