"""The Alerts pane: per-channel delivery from the outbox, the no-channel banner, Enter previews an alert."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from conftest import make_app, settle
from fake_service import FakeService
from test_tui_app import keys, rendered
from textual.widgets import DataTable

from monitor.alerts.preview import preview_text
from monitor.models import OutboxRow
from tui.alerts import AlertPreview, channel_summaries, status_word
from tui.demo import NOW, demo_outbox

HOOK = "https://hooks.slack.com/services/T000/B000/XXXXsecretTOKEN"
WEBHOOK = "https://alerts.example.com/onda?token=hunter2hunter2"


def logged(alert_id: int, title: str) -> OutboxRow:
    return replace(demo_outbox()[1], id=alert_id, channel="log", payload={"title": title, "brand": "Lavazza"})


def test_log_only_rows_are_never_called_sent() -> None:
    slack_sent, log_sent = demo_outbox()[1], logged(9, "x")
    assert status_word(slack_sent) == "sent" and status_word(log_sent) == "logged only"
    assert status_word(demo_outbox()[0]) == "waiting"


def test_channel_summaries_count_from_the_outbox_rows() -> None:
    failing = replace(demo_outbox()[0], id=7, channel="webhook", last_error="HTTP 503", status="pending")
    rows = [*demo_outbox(), logged(8, "a"), failing]
    by = {s.channel: s for s in channel_summaries(rows, ["slack", "webhook"])}
    assert list(by) == ["slack", "webhook", "log"]
    assert (by["slack"].delivered, by["slack"].waiting, by["slack"].failed) == (1, 1, 1)
    assert by["slack"].last_error == "HTTP 500 from Slack"
    assert (by["webhook"].waiting, by["webhook"].last_error) == (1, "HTTP 503")
    assert by["webhook"].next_attempt == failing.next_attempt_at
    assert "1 logged only" in by["log"].line().plain and "delivered" not in by["log"].line().plain


async def test_no_channel_banner_and_logged_only_rows() -> None:
    fake = FakeService()
    fake.channels = ["log"]
    fake._outbox = [logged(2, "Sinner vince le ATP Finals"), logged(1, "Giornata del caffè")]
    app = make_app(fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("4")
        await settle(pilot, app)
        banner = app.main.query_one("#alerts-banner")
        assert banner.display
        assert "No Slack or webhook configured: alerts are only logged" in rendered(banner)
        assert "ONDA_SLACK__WEBHOOK_URL" in rendered(banner)
        table_text = rendered(app.main.query_one("#alerts-table", DataTable))
        assert "logged only" in table_text and "sent" not in table_text
        channels = rendered(app.main.query_one("#alerts-channels"))
        assert "Log only: 2 logged only · 0 waiting · 0 failed" in channels and "sent" not in channels


async def test_configured_slack_has_no_banner(fake: FakeService) -> None:
    app = make_app(fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("4")
        await settle(pilot, app)
        assert not app.main.query_one("#alerts-banner").display


async def test_enter_opens_the_preview_without_secrets() -> None:
    fake = FakeService()
    row = replace(
        demo_outbox()[2],
        payload={
            "kind": "opportunity",
            "brand": "Lavazza",
            "trend_id": "t-coffeeday",
            "title": "Giornata del caffè <b>*oggi*</b>",
            "fit": 0.7,
            "headlines": [f"leaked {HOOK}"],
            "urls": [HOOK],
        },
        last_error=f"HTTP 500 from Slack at {HOOK.replace('XXXXsecretTOKEN', '<redacted>')}",
    )
    fake._outbox = [row]
    app = make_app(fake)
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("4")
        await settle(pilot, app)
        assert keys(app.main.query_one("#alerts-table", DataTable)) == ["1"]
        await pilot.press("enter")
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, AlertPreview)
        facts = rendered(screen.query_one("#ap-facts"))
        assert "channel Slack" in facts and "status failed" in facts and "attempts 5" in facts
        message = screen.message.plain
        assert "Opportunity for Lavazza" in message and "Giornata del caffè &lt;b&gt;*oggi*&lt;/b&gt;" in message
        assert "XXXXsecretTOKEN" not in message + facts and "<redacted>" in message
        await pilot.press("escape")
        await settle(pilot, app)
        assert not isinstance(app.screen, AlertPreview)


def test_webhook_preview_is_the_json_body_with_the_url_and_key_redacted() -> None:
    row = replace(
        demo_outbox()[1],
        channel="webhook",
        payload={"title": "Sinner", "note": f"posted to {WEBHOOK}", "key": "s3cr3t-hmac-key"},
        created_at=NOW - timedelta(minutes=3),
    )
    text = preview_text(row, [WEBHOOK, "s3cr3t-hmac-key"])
    assert '"event": "onda.alert"' in text and '"title": "Sinner"' in text
    assert "hunter2hunter2" not in text and "s3cr3t-hmac-key" not in text
    assert "alerts.example.com" not in text
