"""Anniversary calendar: high near the date, medium otherwise, date aliases only near the date."""

from __future__ import annotations

from datetime import date

from monitor.evidence import CalendarEvidence
from monitor.explain import flag_text
from monitor.risk.calendar import AnniversaryCalendar, days_from_anniversary


def test_mention_near_anniversary_is_high() -> None:
    cal = AnniversaryCalendar()
    flags = cal.assess("Pearl Harbor Day: never forget", date(2013, 12, 7))
    assert [f.level for f in flags] == ["high"]
    ev = flags[0].evidence
    assert isinstance(ev, CalendarEvidence) and flags[0].layer == "calendar"
    assert "Pearl Harbor" in ev.event and ev.mention == "pearl harbor day" and ev.years == 72 and ev.days_away == 0
    assert ev.day == date(1941, 12, 7) and ev.near and flags[0].garm == "Death, Injury or Military Conflict"
    text = flag_text(flags[0])
    assert text.startswith("mentions 'pearl harbor day'") and "72 years" in text and "anniversary today" in text


def test_mention_far_from_anniversary_is_medium() -> None:
    flags = AnniversaryCalendar().assess("Ponte Morandi, riprende il processo", date(2024, 3, 1))
    assert [(f.category, f.level) for f in flags] == [("tragedy", "medium")]
    ev = flags[0].evidence
    assert isinstance(ev, CalendarEvidence) and not ev.near and ev.days_away > 3 and "morandi" in ev.mention


def test_date_alias_counts_only_near_the_date() -> None:
    cal = AnniversaryCalendar()
    assert cal.assess("Concerto l'11 settembre a Roma", date(2024, 6, 1)) == []
    assert [f.level for f in cal.assess("11 settembre, la cerimonia a New York", date(2024, 9, 12))] == ["high"]


def test_commemorative_wording_on_major_day_is_low() -> None:
    flags = AnniversaryCalendar().assess("Remember this day", date(2013, 9, 11))
    assert [f.level for f in flags] == ["low"]
    ev = flags[0].evidence
    assert isinstance(ev, CalendarEvidence) and ev.wording == "remember" and ev.mention == ""
    assert flag_text(flags[0]).startswith("commemorative wording 'remember' on the anniversary of")
    assert AnniversaryCalendar().assess("Remember this day", date(2013, 9, 20)) == []


def test_window_wraps_across_new_year() -> None:
    assert days_from_anniversary(date(2004, 12, 26), date(2025, 1, 1)) == 6
    assert days_from_anniversary(date(1945, 1, 27), date(2024, 12, 30)) == 28
