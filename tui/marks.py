"""Feedback marks as the dashboard sees them: one current mark per brand and story, toggles and undo.

Plain Python (no widgets). The service stores the marks (`set_mark`); this keeps the dashboard's copy,
loaded in one batch per brand (`marks(brand, ids)`), so every list and the detail read the same state.
It also keeps who set each mark (the service's `user` for the marks set here, `mark_authors` for the
stored ones), so the detail can say "not for us — by anna".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from monitor.models import Mark

MARK_WORDS: dict[Mark, str] = {"used": "used", "not_for_us": "not for us"}


class MarkStore(Protocol):
    """The part of the ServiceAPI marks need."""

    @property
    def user(self) -> str: ...

    def set_mark(self, trend_id: str, brand: str, mark: Mark | None) -> None: ...

    def marks(self, brand: str, trend_ids: Sequence[str]) -> dict[str, Mark]: ...

    def mark_authors(self, brand: str, trend_ids: Sequence[str]) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class MarkChange:
    brand: str
    trend_id: str
    before: Mark | None
    after: Mark | None

    def describe(self) -> str:
        """One line for a toast: "Marked used", "Marked not for us (was used)", "Unmarked used"."""
        if self.after is None:
            return f"Unmarked {MARK_WORDS[self.before]}" if self.before else "No mark"
        was = f" (was {MARK_WORDS[self.before]})" if self.before else ""
        return f"Marked {MARK_WORDS[self.after]}{was}"


class MarkBook:
    """The current marks per (brand, story) and an undo stack of this session's changes."""

    def __init__(self, store: MarkStore) -> None:
        self.store = store
        self._marks: dict[tuple[str, str], Mark] = {}
        self._authors: dict[tuple[str, str], str] = {}
        self._undo: list[MarkChange] = []

    def get(self, brand: str, trend_id: str) -> Mark | None:
        return self._marks.get((brand, trend_id))

    @property
    def user(self) -> str:
        """Who is at this dashboard (the marks set here are theirs)."""
        return self.store.user

    def author(self, brand: str, trend_id: str) -> str | None:
        """Who set the brand's current mark on the story; None when unmarked or not known."""
        return self._authors.get((brand, trend_id)) if (brand, trend_id) in self._marks else None

    def load(self, brand: str, trend_ids: Sequence[str]) -> None:
        """Replace the brand's marks with the stored ones for these stories (raises what the store raises)."""
        self.replace(brand, self.store.marks(brand, trend_ids), self.store.mark_authors(brand, trend_ids))

    def replace(self, brand: str, found: dict[str, Mark], authors: dict[str, str]) -> None:
        """The brand's marks (and who set them) are these (read by the caller, e.g. in a reload thread)."""
        for book in (self._marks, self._authors):
            for key in [k for k in book if k[0] == brand]:
                del book[key]
        self._marks.update({(brand, tid): mark for tid, mark in found.items()})
        self._authors.update({(brand, tid): who for tid, who in authors.items()})

    def note(self, brand: str, trend_id: str, mark: Mark | None) -> None:
        """A mark reported by the service (a trend event): no store write, no undo entry.

        A mark that changed this way was set elsewhere: its author is unknown until the next reload.
        """
        if self.get(brand, trend_id) != mark:
            self._authors.pop((brand, trend_id), None)
        self._put(brand, trend_id, mark)

    def toggle(self, brand: str, trend_id: str, mark: Mark) -> MarkChange:
        """The same mark again clears it; another mark replaces it. Stored first: a failure changes nothing."""
        before = self.get(brand, trend_id)
        change = MarkChange(brand, trend_id, before, None if before == mark else mark)
        self._apply(change.brand, change.trend_id, change.after)
        self._undo.append(change)
        return change

    def undo(self) -> MarkChange | None:
        """Put back the mark the last change replaced; None when there is nothing to undo."""
        if not self._undo:
            return None
        last = self._undo[-1]
        self._apply(last.brand, last.trend_id, last.before)
        self._undo.pop()
        return MarkChange(last.brand, last.trend_id, last.after, last.before)

    def _apply(self, brand: str, trend_id: str, mark: Mark | None) -> None:
        self.store.set_mark(trend_id, brand, mark)
        self._put(brand, trend_id, mark)
        self._authors[(brand, trend_id)] = self.store.user

    def _put(self, brand: str, trend_id: str, mark: Mark | None) -> None:
        if mark is None:
            self._marks.pop((brand, trend_id), None)
        else:
            self._marks[(brand, trend_id)] = mark
