"""Pure alert policy: what is an opportunity, pull-the-post, cool-down, quiet hours, hourly cap, backoff."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any

import pytest
from alerts_support import T0, make_trend, make_verdict

from monitor.alerts.policy import (
    OPPORTUNITY,
    USED_TURNED_RISKY,
    QuietHoursError,
    RecentAlert,
    alert_bar,
    alert_kind,
    backoff_s,
    build_payload,
    dedupe_key,
    digest_due_at,
    hourly_slot_at,
    in_cooldown,
    is_opportunity,
    parse_quiet_hours,
    quiet_until,
    topic_key,
)
from monitor.models import Trend, Verdict


def opp(
    trend: Trend | None = None,
    verdict: Verdict | None = None,
    *,
    is_new: bool = False,
    threshold: float = 0.0,
    min_fit: float = 0.0,
    rising: bool = True,
    fit_threshold: float = 0.0,
) -> bool:
    return is_opportunity(
        trend or make_trend(),
        verdict or make_verdict(),
        is_new=is_new,
        fit_threshold=fit_threshold,
        brand_threshold=threshold,
        min_fit=min_fit,
        require_rising=rising,
    )


def test_fit_low_risk_rising_is_an_opportunity() -> None:
    assert opp()
    assert opp(verdict=make_verdict(level="low"))


@pytest.mark.parametrize("name", ["off_brand", "risky"])
def test_non_fit_verdicts_are_not(name: str) -> None:
    assert not opp(verdict=make_verdict(verdict=name))


@pytest.mark.parametrize("level", ["medium", "high"])
def test_medium_or_high_risk_blocks(level: str) -> None:
    assert not opp(verdict=make_verdict(level=level))


def test_threshold_is_min_fit_plus_brand_margin() -> None:
    v = make_verdict(fit=0.25)
    assert opp(verdict=v, threshold=0.1, min_fit=0.15)  # 0.25 >= 0.25
    assert not opp(verdict=v, threshold=0.1, min_fit=0.16)
    assert not opp(verdict=v, threshold=0.3)


def test_brand_alert_threshold_is_extra_fit_above_the_fit_threshold() -> None:
    """A fit verdict already has fit >= the scorer's threshold (0.26): the brand's margin is on top of it."""
    assert alert_bar(0.26, 0.0, 0.1) == pytest.approx(0.36)
    just_fit, clear_fit = make_verdict(fit=0.30), make_verdict(fit=0.37)
    assert opp(verdict=just_fit, fit_threshold=0.26)  # margin 0: every fit alerts
    assert not opp(verdict=just_fit, fit_threshold=0.26, threshold=0.1)  # 0.30 < 0.26 + 0.1
    assert opp(verdict=clear_fit, fit_threshold=0.26, threshold=0.1)  # 0.37 >= 0.36
    assert not opp(verdict=clear_fit, fit_threshold=0.26, threshold=0.1, min_fit=0.05)  # both margins add up
    assert opp(verdict=just_fit, fit_threshold=0.26, threshold=-0.5)  # a lower bar still needs a fit verdict
    assert not opp(verdict=make_verdict(verdict="off_brand", fit=0.2), fit_threshold=0.26, threshold=-0.5)


def test_rising_required_unless_new_or_disabled() -> None:
    flat = make_trend(momentum=0.0)
    assert not opp(trend=flat)
    assert opp(trend=flat, is_new=True)
    assert opp(trend=flat, rising=False)


def test_used_trend_turning_risky_is_its_own_kind() -> None:
    kw: dict[str, Any] = {
        "is_new": False,
        "fit_threshold": 0.26,
        "brand_threshold": 0.0,
        "min_fit": 0.0,
        "require_rising": True,
    }
    risky = make_verdict(verdict="risky", level="high", terms=("morto",))
    assert alert_kind(make_trend(), risky, used={"t1"}, **kw) == USED_TURNED_RISKY
    assert alert_kind(make_trend(), risky, used=set(), **kw) is None
    assert alert_kind(make_trend(), make_verdict(), used={"t1"}, **kw) == OPPORTUNITY


def test_dedupe_key_separates_brand_trend_kind_channel() -> None:
    keys = {
        dedupe_key("A", "t1", OPPORTUNITY, "slack"),
        dedupe_key("B", "t1", OPPORTUNITY, "slack"),
        dedupe_key("A", "t2", OPPORTUNITY, "slack"),
        dedupe_key("A", "t1", USED_TURNED_RISKY, "slack"),
        dedupe_key("A", "t1", OPPORTUNITY, "webhook"),
    }
    assert len(keys) == 5


def test_topic_key_normalises_case_accents_punctuation() -> None:
    assert topic_key("Sinner vince l'Australian Open!") == topic_key("SINNER  vince l’australian open")
    assert topic_key("Perché è così") == "perche e cosi"


def test_cooldown_only_for_other_clusters_of_the_same_topic() -> None:
    recent = [RecentAlert("A", OPPORTUNITY, "sinner vince", "t1", T0 - timedelta(minutes=30))]
    kw: dict[str, Any] = {
        "kind": OPPORTUNITY,
        "topic": "sinner vince",
        "now": T0,
        "cooldown": timedelta(hours=1),
        "recent": recent,
    }
    assert in_cooldown(brand="A", trend_id="t2", **kw)
    assert not in_cooldown(brand="A", trend_id="t1", **kw)  # same cluster: dedupe's job
    assert not in_cooldown(brand="B", trend_id="t2", **kw)
    kw["cooldown"] = timedelta(minutes=20)
    assert not in_cooldown(brand="A", trend_id="t2", **kw)


def test_payload_is_clean_and_bounded() -> None:
    t = make_trend(
        title="x\x00y" + "z" * 1000, context=["a", "b", "c", "d", "e"], urls=[f"https://e.x/{i}" for i in range(9)]
    )
    p = build_payload(t, make_verdict(), brand="Lavazza", kind=OPPORTUNITY, is_new=True)
    assert "\x00" not in p["title"] and len(p["title"]) <= 300
    assert len(p["headlines"]) == 3 and len(p["urls"]) == 3
    assert p["fit"] == 0.4 and p["risk"]["level"] == "none" and p["corroboration"] == 2


def test_parse_quiet_hours() -> None:
    assert parse_quiet_hours("") is None
    assert parse_quiet_hours("22:00-07:00") == (time(22, 0), time(7, 0))
    for bad in ("22-07", "25:00-07:00", "22:00 to 07:00"):
        with pytest.raises(QuietHoursError):
            parse_quiet_hours(bad)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2030-01-07T23:30", "2030-01-08T07:00"),  # before midnight -> tomorrow 07:00
        ("2030-01-08T03:00", "2030-01-08T07:00"),  # after midnight -> today 07:00
        ("2030-01-08T07:00", None),  # end is exclusive
        ("2030-01-08T12:00", None),
        ("2030-01-07T22:00", "2030-01-08T07:00"),  # start is inclusive
    ],
)
def test_quiet_until_wrapping_window(now: str, expected: str | None) -> None:
    tz = timezone(timedelta(hours=1))
    window = parse_quiet_hours("22:00-07:00")
    got = quiet_until(window, datetime.fromisoformat(now).replace(tzinfo=tz))
    assert got == (datetime.fromisoformat(expected).replace(tzinfo=tz) if expected else None)


def test_quiet_until_same_day_window() -> None:
    window = parse_quiet_hours("12:00-14:00")
    assert quiet_until(window, T0 + timedelta(minutes=5)) == T0 + timedelta(hours=2)
    assert quiet_until(window, T0 - timedelta(minutes=5)) is None


def test_hourly_slot() -> None:
    sent = [T0 - timedelta(minutes=m) for m in (50, 30, 10)]
    assert hourly_slot_at(sent, T0, 4) is None
    assert hourly_slot_at(sent, T0, 3) == T0 + timedelta(minutes=10)  # the 50-min-old one expires
    assert hourly_slot_at(sent, T0, 2) == T0 + timedelta(minutes=30)
    assert hourly_slot_at([T0 - timedelta(minutes=61)], T0, 1) is None


def test_digest_and_backoff() -> None:
    assert digest_due_at(None, 30) is None
    assert digest_due_at(T0, 30) == T0 + timedelta(minutes=30)
    assert [backoff_s(n, base_s=10, max_s=60) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]


def test_t0_is_utc() -> None:
    assert T0.tzinfo is UTC
