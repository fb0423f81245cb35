"""Textual messages: service events into the app, and the panes' requests to the app.

Panes never call the app: they read tui.state.DashboardState and post one of these; the app
handles them (service calls, state updates, screens).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from monitor.api import RescoreDiff
from monitor.events import Event


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
    """Store the user's feedback on a trend for a brand (kind: used | not_for_us)."""

    trend_id: str
    brand: str
    kind: str


@dataclass
class BrandSaved(Message):
    """A brand was saved and re-scored: reload its trends."""

    diff: RescoreDiff


class SwitchBrand(Message):
    """Show the next configured brand."""
