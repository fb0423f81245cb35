"""Textual messages: service events into the app, and the panes' requests to the app.

Panes never call the app: they read tui.state.DashboardState and post one of these; the app
handles them (service calls, state updates, screens).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from monitor.api import RescoreDiff
from monitor.events import Event
from monitor.models import Mark


class ServiceEvent(Message):
    """A monitor event, delivered on the app's message queue (thread-safe to post)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


@dataclass
class OpenDetail(Message):
    """Show the detail screen of a trend for the current brand."""

    trend_id: str


@dataclass
class TrendSeen(Message):
    """The user looked at a new opportunity: it stops being marked new."""

    trend_id: str


@dataclass
class PollSource(Message):
    """Poll one source now."""

    source: str


class ReloadHealth(Message):
    """Read every source's health again."""


@dataclass
class GiveFeedback(Message):
    """Toggle the brand's feedback mark on a trend (the same mark again clears it; ctrl+z undoes)."""

    trend_id: str
    brand: str
    mark: Mark


@dataclass
class BrandSaved(Message):
    """A brand was saved and re-scored: reload its trends."""

    diff: RescoreDiff


class SwitchBrand(Message):
    """Show the next configured brand."""
