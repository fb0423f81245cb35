"""The Alerts pane: one row per alert per channel, and the channel is shown."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.storage import OutboxRow
from tui.sources import ALERT_COLUMNS, alert_row

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def outbox_row(alert_id: int, channel: str) -> OutboxRow:
    return OutboxRow(
        id=alert_id,
        dedupe_key=f"opportunity|{channel}|Acme|t1",
        brand="Acme",
        trend_id="t1",
        kind="opportunity",
        channel=channel,
        payload={"title": "caffè sospeso day"},
        status="sent",
        attempts=1,
        last_error=None,
        created_at=NOW,
        next_attempt_at=NOW,
        sent_at=NOW,
    )


def test_each_channel_of_an_alert_is_its_own_labelled_row() -> None:
    widths = {name: 20 for name, *_ in ALERT_COLUMNS}
    rows = [alert_row(outbox_row(1, "slack"), widths, NOW), alert_row(outbox_row(2, "webhook"), widths, NOW)]
    assert [key for key, _ in rows] == ["1", "2"]
    column = [name for name, *_ in ALERT_COLUMNS].index("channel")
    assert [cells[column].plain for _, cells in rows] == ["slack", "webhook"]
