"""Brand edits in a running service: store the edit (monitor.brands), re-score, and follow other processes' edits.

`BrandEdits` is the one path after a brand changed, wherever it changed:

- `update` (a save in this process's DNA screen): the brand file is written (with backup) when the
  brand has one, the edit is stored as the next version with its history, then the recent trends are
  re-scored (`TrendProcessor.rescore_brand`) and the re-score diff is kept in that version's history;
- `check_versions` (the service's lease tick, one cheap query): a newer version stored by another
  process is loaded and re-scored the same way, and the status event says who edited it.

Both end in one `rescored` status event (the dashboard reloads on it).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path

from brand_dna.dna import BrandDNA, save_brand
from monitor.api import RescoreDiff
from monitor.brands import BrandBook
from monitor.events import EventBus, StatusData, StatusEvent, StatusKind
from monitor.processing import TrendProcessor
from monitor.storage import StorageError
from monitor.text import ERROR_CHARS, clean_text

log = logging.getLogger(__name__)


class BrandEdits:
    """Stores and re-scores brand edits for one service; see the module docstring."""

    def __init__(
        self,
        book: BrandBook,
        processor: TrendProcessor,
        bus: EventBus,
        *,
        rescore_limit: int,
        versions: Mapping[str, int] | None = None,
    ) -> None:
        """`versions`: brand -> the stored version the service was built with (None: read them at start).

        Given, a colleague's save landing between the build and the start is still re-scored.
        """
        self._built_with = dict(versions) if versions is not None else None
        self.book = book
        self.processor = processor
        self.bus = bus
        self.rescore_limit = rescore_limit
        self._versions: dict[str, int] = {}  # brand -> the stored version this process scores with
        self._reload: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one edit or reload at a time: an older version never lands after a newer one

    def start(self) -> None:
        """Take the versions the service was built with (else the stored ones) as the ones scored now."""
        self._versions = dict(self._built_with) if self._built_with is not None else self._stored_versions() or {}

    def in_flight(self) -> list[asyncio.Task[None]]:
        """A reload of another process's edit still running (stop cancels it)."""
        return [self._reload] if self._reload is not None and not self._reload.done() else []

    async def update(self, brand: BrandDNA, *, save: bool = True) -> RescoreDiff:
        """A local edit: write the file (if any) and store the version, re-score; `save` False only re-scores."""
        backup: Path | None = None
        version: int | None = None
        async with self._lock:
            if save:
                file_text: str | None = None
                if brand.path is not None:
                    backup = await asyncio.to_thread(save_brand, brand)
                    file_text = await asyncio.to_thread(brand.path.read_text, encoding="utf-8")
                saved = self.book.save_edit(brand, file_text)
                self._versions[brand.name] = saved.version  # our own version: the tick does not reload it
                version = saved.version if saved.created else None
            diff = await self._rescore(brand, version, edited_by=None)
        return dataclasses.replace(diff, backup=str(backup) if backup else None)

    def check_versions(self, paths: dict[str, Path | None]) -> None:
        """Another process stored a newer version: reload and re-score it in a task (one at a time).

        `paths`: the brand files of the brands scored now (a reloaded brand keeps its file).
        """
        if self.in_flight():
            return
        versions = self._stored_versions()
        if versions is None:
            return
        newer = {name: v for name, v in versions.items() if v > self._versions.get(name, 0)}
        if newer:
            self._reload = asyncio.get_running_loop().create_task(
                self._reload_brands(newer, paths), name="onda-brand-reload"
            )

    def _stored_versions(self) -> dict[str, int] | None:
        try:
            return self.book.versions()
        except StorageError as exc:
            log.debug("could not read the brand versions: %s", exc)  # the store watchdog reports a failing store
            return None

    async def _reload_brands(self, newer: dict[str, int], paths: dict[str, Path | None]) -> None:
        for name, version in newer.items():
            async with self._lock:
                try:
                    loaded = self.book.load(name, paths.get(name))  # the newest version now, read under the lock
                    if loaded is None or loaded[1].version <= self._versions.get(name, 0):
                        continue  # saved here meanwhile
                    brand, stored = loaded
                    self._versions[name] = stored.version
                    await self._rescore(brand, stored.version, edited_by=stored.updated_by)
                except Exception as exc:  # a bad stored brand must not stop the tick or the other brands
                    # reported once, not at each tick: the next version is tried
                    self._versions[name] = max(version, self._versions.get(name, 0))
                    log.exception("reloading brand %s from the store failed", name)
                    self.bus.status(
                        StatusKind.ERROR,
                        f"could not reload brand {name}: {clean_text(str(exc), ERROR_CHARS)}",
                        brand=name,
                    )

    async def _rescore(self, brand: BrandDNA, version: int | None, *, edited_by: str | None) -> RescoreDiff:
        """Swap the brand in, re-score, keep the diff in the version's history, tell the listeners."""
        rescored, changes = await self.processor.rescore_brand(brand, self.rescore_limit)
        diff = RescoreDiff(brand=brand.name, rescored=rescored, changes=changes)
        if version is not None:
            try:
                self.book.record_rescore(brand.name, version, rescored, changes)
            except StorageError as exc:
                log.warning("could not record the re-score of %s v%d: %s", brand.name, version, exc)
        data = StatusData(
            brand=brand.name,
            rescored=diff.rescored,
            changed=len(changes),
            new_opportunities=len(diff.new_opportunities),
            lost_opportunities=len(diff.lost_opportunities),
        )
        if edited_by:
            data["edited_by"] = edited_by
        by = f" (edited by {edited_by})" if edited_by else ""
        message = f"{brand.name}{by}: re-scored {diff.rescored} trends, {len(changes)} changed"
        self.bus.emit(StatusEvent(StatusKind.RESCORED, message, data))
        return diff
