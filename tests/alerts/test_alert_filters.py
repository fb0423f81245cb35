"""`onda watch --min-fit/--only` filter."""

from __future__ import annotations

import pytest

from monitor.alerts.filters import passes_filters


def trend_line(*verdicts: tuple[str, float]) -> dict[str, object]:
    return {
        "event": "trend",
        "id": "t1",
        "verdicts": {f"B{i}": {"verdict": v, "fit": f, "risk": {"level": "none"}} for i, (v, f) in enumerate(verdicts)},
    }


def test_no_filters_pass_everything() -> None:
    for line in (trend_line(("off_brand", -0.2)), {"event": "source_error"}, {"event": "alert_sent", "kind": "x"}):
        assert passes_filters(line, min_fit=None, only=None)


def test_min_fit_on_trends() -> None:
    assert passes_filters(trend_line(("off_brand", 0.1), ("fit", 0.5)), min_fit=0.4, only=None)
    assert not passes_filters(trend_line(("fit", 0.3)), min_fit=0.4, only=None)
    assert passes_filters({"event": "source_error"}, min_fit=0.4, only=None)


def test_only_opportunities() -> None:
    assert passes_filters(trend_line(("fit", 0.3)), min_fit=None, only="opportunities")
    assert not passes_filters(trend_line(("fit", 0.3)), min_fit=0.5, only="opportunities")
    assert not passes_filters(trend_line(("risky", 0.9)), min_fit=None, only="opportunities")
    assert passes_filters({"event": "alert_sent", "kind": "opportunity"}, min_fit=None, only="opportunities")
    assert not passes_filters({"event": "alert_sent", "kind": "used_turned_risky"}, min_fit=None, only="opportunities")
    assert not passes_filters({"event": "source_error"}, min_fit=None, only="opportunities")


def test_only_risks() -> None:
    assert passes_filters(trend_line(("fit", 0.3), ("risky", 0.1)), min_fit=None, only="risks")
    assert not passes_filters(trend_line(("fit", 0.3)), min_fit=None, only="risks")
    assert passes_filters({"event": "alert_queued", "kind": "used_turned_risky"}, min_fit=None, only="risks")


def test_malformed_lines_do_not_crash() -> None:
    assert not passes_filters({"event": "trend", "verdicts": "nope"}, min_fit=0.1, only=None)
    assert not passes_filters({"event": "trend", "verdicts": {"B": {"fit": "x"}}}, min_fit=0.1, only=None)
    with pytest.raises(ValueError, match="--only must be"):
        passes_filters({"event": "trend"}, min_fit=None, only="everything")  # type: ignore[arg-type]


def test_changes_keep_only_those_trend_lines() -> None:
    new, update = {**trend_line(("fit", 0.9)), "change": "new"}, {**trend_line(("fit", 0.9)), "change": "update"}
    rescored = {**trend_line(("risky", 0.9)), "change": "risk_changed"}
    assert passes_filters(new, min_fit=None, only=None, changes={"new"})
    assert not passes_filters(update, min_fit=None, only=None, changes={"new"})
    assert passes_filters(rescored, min_fit=None, only=None, changes={"new", "risk_changed"})
    assert not passes_filters(rescored, min_fit=None, only="opportunities", changes={"risk_changed"})  # both apply
    assert all(passes_filters(x, min_fit=None, only=None, changes=None) for x in (new, update, rescored))
    assert passes_filters({"event": "alert_sent", "kind": "opportunity"}, min_fit=None, only=None, changes={"new"})
