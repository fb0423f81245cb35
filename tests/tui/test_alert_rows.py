"""The Alerts pane: one row per alert per channel, and a Via column when there are two channels."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.storage import OutboxRow
from tui.alerts import alert_columns, alert_row
from tui.tables import column_widths

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def row(alert_id: int, channel: str) -> OutboxRow:
    return OutboxRow(
        id=alert_id,
        dedupe_key=f"Lavazza|t1|opportunity|{channel}",
        brand="Lavazza",
        trend_id="t1",
        kind="opportunity",
        channel=channel,
        payload={"title": "Sinner vince le ATP Finals"},
        status="sent",
        attempts=1,
        last_error=None,
        created_at=NOW,
        next_attempt_at=NOW,
        sent_at=NOW,
    )


def test_two_channels_get_a_via_column_that_tells_the_rows_apart() -> None:
    rows = [row(1, "slack"), row(2, "webhook")]
    specs = alert_columns(rows)
    assert [key for key, *_ in specs] == ["time", "status", "brand", "kind", "via", "title", "error"]
    widths = column_widths(specs, 100)
    cells = [[c.plain for c in alert_row(r, widths, NOW)[1]] for r in rows]
    assert [c[4] for c in cells] == ["slack", "hook"]
    assert cells[0][5] == cells[1][5] == "Sinner vince le ATP Finals"


def test_one_channel_keeps_the_space_for_titles() -> None:
    specs = alert_columns([row(1, "slack"), row(2, "slack")])
    assert "via" not in [key for key, *_ in specs]
    widths = column_widths(specs, 80)
    assert len(alert_row(row(1, "slack"), widths, NOW)[1]) == len(specs)
