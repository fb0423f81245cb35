"""Textual messages wrapping service events (the only way service data enters the UI)."""

from __future__ import annotations

from textual.message import Message

from monitor.events import Event


class ServiceEvent(Message):
    """A monitor event, delivered on the app's message queue (thread-safe to post)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event
