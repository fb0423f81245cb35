"""Pure helpers: escaping, sparklines, momentum, ages, ordering, column layout, DNA edits, diff text."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from fake_service import fit_verdict, make_trend

from brand_dna.dna import MAX_STATEMENT_CHARS
from monitor.api import RescoreDiff, VerdictChange
from tui.brand import diff_text
from tui.brand_edit import changes, edit_item, move_item, parse_language, parse_threshold, validate_item
from tui.demo import LAVAZZA, NOW
from tui.state import TrendStore
from tui.tables import column_widths
from tui.text import age, momentum_arrow, safe, sparkline, summary, when


def test_safe_is_literal_and_clean() -> None:
    t = safe("[bold]x[/] [@click=app.quit]go[/]\x1b[31m\u202eevil\n\tline")
    assert t.plain == "[bold]x[/] [@click=app.quit]go[/] [31m evil line"  # controls become spaces (clean_text)
    assert t.spans == []
    assert safe("a" * 50, limit=10).plain == "a" * 9 + "…"
    assert len(safe("b" * 10_000).plain) == 2000


def test_sparkline_and_momentum() -> None:
    assert sparkline([]) == ""
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([1, 2, 4, 8]) == "▂▃▅█"
    assert len(sparkline(list(range(30)), 12)) == 12
    assert momentum_arrow(make_trend("a", "x", counts=(1, 2, 8))) == "↑"
    assert momentum_arrow(make_trend("a", "x", counts=(8, 8, 2))) == "↓"
    assert momentum_arrow(make_trend("a", "x", counts=(5, 5, 5))) == "→"


def test_age_and_when() -> None:
    assert age(NOW - timedelta(seconds=5), NOW) == "5s"
    assert age(NOW - timedelta(minutes=12), NOW) == "12m"
    assert age(NOW - timedelta(hours=3), NOW) == "3h"
    assert age(NOW - timedelta(days=2), NOW) == "2d"
    assert age(NOW + timedelta(minutes=1), NOW) == "0s"
    assert when(None, NOW) == "—"
    assert when(NOW + timedelta(minutes=7), NOW) == "09:37:00 (in 7m)"


def test_store_orders_best_first_and_reports_new_fits() -> None:
    store = TrendStore()
    a, b, c = make_trend("a", "A"), make_trend("b", "B"), make_trend("c", "C")
    assert store.put("L", a, fit_verdict(a, 0.5)) is True
    assert store.put("L", b, fit_verdict(b, 0.9)) is True
    assert store.put("L", c, fit_verdict(c, 0.2, verdict="off_brand")) is False
    assert store.put("L", a, fit_verdict(a, 0.6)) is False  # already an opportunity
    assert [t.id for t, _ in store.by_verdict("L", "fit")] == ["b", "a"]
    assert [t.id for t, _ in store.by_verdict("L", "off_brand")] == ["c"]
    assert store.put("L", c, fit_verdict(c, 0.7)) is True  # became fit
    assert store.by_verdict("other", "fit") == []


def test_column_widths_fill_the_terminal() -> None:
    specs = [("t", "T", None, 3), ("f", "F", 4, 0), ("m", "M", None, 2)]
    w80 = column_widths(specs, 80)
    assert w80["f"] == 4 and w80["t"] + w80["m"] + 4 + 2 * 3 + 2 == 80
    assert w80["t"] > w80["m"]
    assert column_widths(specs, 20)["t"] >= 8  # never collapses


def test_edit_brand_and_validation() -> None:
    b = edit_item(LAVAZZA, "dna", None, "  New   statement ")
    assert b.dna[-1] == "New statement" and b.path == LAVAZZA.path
    assert edit_item(b, "dna", None, "New statement").dna == b.dna  # no duplicates
    assert edit_item(b, "avoid", 0, "war").avoid == ("war", "gambling")
    assert edit_item(b, "positioning", 0, None).positioning == LAVAZZA.positioning[1:]
    assert edit_item(b, "entities", None, "Jannik Sinner").entities == ("Jannik Sinner",)
    moved = move_item(b, "avoid", 1, "allow", "gambling")
    assert moved.avoid == ("politics",) and moved.allow == ("gambling",)
    assert validate_item(b, "dna", "   ") == "DNA items cannot be empty."
    assert "under 500 characters" in (validate_item(b, "audience", "x" * (MAX_STATEMENT_CHARS + 1)) or "")
    assert validate_item(b, "avoid", " politics ") == "Already in Avoid."
    assert validate_item(b, "avoid", "politics", editing=("avoid", 0)) is None  # itself
    assert validate_item(b, "allow", "death") is None
    one = LAVAZZA.with_lists(dna=["Only one"])
    assert (
        validate_item(one, "positioning", "Only one", editing=("dna", 0))
        == "The brand needs at least one DNA statement."
    )


def test_alert_threshold_and_language_fields() -> None:
    assert parse_threshold("0.15") == (0.15, None)
    assert parse_threshold("") == (0.0, None)  # the default
    assert parse_threshold("-1") == (-1.0, None)
    assert parse_threshold("abc") == (None, "Alert threshold: a number such as 0.1.")
    assert parse_threshold("1.5") == (None, "Alert threshold: between -1 and 1.")
    assert parse_threshold("nan")[0] is None and parse_threshold("inf")[0] is None
    assert parse_language(" IT ") == ("it", None)
    assert parse_language("pt-BR") == ("pt-br", None)
    assert parse_language("") == (None, None)
    assert parse_language("italian!") == (None, "Language: a code such as it or en.")


def test_change_summary_for_the_unsaved_dialog() -> None:
    edited = replace(edit_item(edit_item(LAVAZZA, "dna", 0, None), "allow", None, "death"), alert_threshold=0.1)
    assert changes(LAVAZZA, edited) == ["DNA: 1 removed", "Allow: 1 added", "alert threshold 0 → 0.1"]
    assert changes(LAVAZZA, LAVAZZA) == []


def test_diff_text_groups_changes_and_escapes() -> None:
    diff = RescoreDiff(
        brand="Lavazza",
        rescored=12,
        changes=[
            VerdictChange("1", "[@click=app.quit]won[/]", "off_brand", "fit", 0.1, 0.6),
            VerdictChange("2", "Lost one", "fit", "off_brand", 0.6, 0.2),
            VerdictChange("3", "Now risky", "off_brand", "risky", 0.2, 0.2),
        ],
        backup="/tmp/lavazza.toml.bak",
    )
    text = diff_text(diff).plain
    assert "12 recent trends re-scored" in text and "/tmp/lavazza.toml.bak" in text
    assert "Now opportunities (1):\n + [@click=app.quit]won[/]" in text
    assert "No longer opportunities (1):\n − Lost one" in text
    assert "Other changes (1):\n ~ Now risky" in text
    assert "No verdict changed." in diff_text(RescoreDiff("L", 3)).plain


def test_summary_is_plain_text() -> None:
    t = make_trend("x", "[b]Espresso[/b]\x07 record")
    t.urls = ["https://a.example/1"]
    s = summary(t, fit_verdict(t, 0.8), "Lavazza")
    assert s.splitlines()[0] == "[b]Espresso[/b] record"
    assert "verdict: fit (fit 0.80)" in s and "https://a.example/1" in s
