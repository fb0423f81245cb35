"""Alerts: policy (what matters), a durable SQLite outbox (never lost, never twice), Slack and webhook senders.

Public entry points:
- `AlertDispatcher` (implements monitor.api.AlertSink): `consider(event)`, `await flush()`, `await close()`.
- `passes_filters(event_json, min_fit=..., only=..., changes=...)` for `onda watch --min-fit/--only/--changes`.
"""

from __future__ import annotations

from monitor.alerts.dispatcher import AlertDispatcher
from monitor.alerts.filters import passes_filters

__all__ = ["AlertDispatcher", "passes_filters"]
