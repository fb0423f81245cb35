"""`onda watch` trend events say what changed: a first sighting, an update, or a re-judged risk."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from monitor.events import StatusEvent, StatusKind, TrendEvent
from monitor.models import Trend


def trend() -> Trend:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    return Trend(id="t1", title="Terremoto in Calabria", lang="it", first_seen=now, last_seen=now)


def test_change_names_new_update_and_risk_changed() -> None:
    assert TrendEvent(trend(), {}, "rss", is_new=True).to_json()["change"] == "new"
    assert TrendEvent(trend(), {}, "rss", is_new=False).to_json()["change"] == "update"
    rescored = TrendEvent(trend(), {}, "factchecks", is_new=False, risk_changed=True).to_json()
    assert rescored["change"] == "risk_changed" and rescored["id"] == "t1"


def test_status_event_json_line_keeps_its_shape() -> None:
    """The kind is an enum in code and the same string in the `onda watch` line; data fields follow."""
    event = StatusEvent(
        StatusKind.NOTICE, "rss is polled by another process", {"topic": "leases", "source": "rss", "viewing": True}
    )
    line = json.loads(json.dumps(event.to_json()))
    assert line == {
        "event": "status",
        "kind": "notice",
        "message": "rss is polled by another process",
        "topic": "leases",
        "source": "rss",
        "viewing": True,
    }
    assert list(line)[:3] == ["event", "kind", "message"]
    assert StatusEvent(StatusKind.STOPPED, "monitor stopped").to_json() == {
        "event": "status",
        "kind": "stopped",
        "message": "monitor stopped",
    }
