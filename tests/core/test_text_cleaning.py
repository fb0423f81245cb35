"""Untrusted titles: whitespace is collapsed before any cut, and zero-width-joiner emoji sequences survive."""

from __future__ import annotations

from monitor.alerts.escape import clean as alert_clean
from monitor.sources._text import clean as source_clean
from monitor.text import clean_text
from tui.text import clean as tui_clean

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one glyph: man ZWJ woman ZWJ girl


def test_a_title_padded_with_newlines_keeps_its_end() -> None:
    title = "Sinner" + "\n" * 10_000 + "vince a Torino"
    assert clean_text(title, 120) == "Sinner vince a Torino"
    assert source_clean(title) == "Sinner vince a Torino"
    assert source_clean("<b>Sinner</b>" + " \n" * 10_000 + "<i>vince</i>", strip_tags=True) == "Sinner vince"


def test_zero_width_joiner_sequences_are_kept_everywhere() -> None:
    title = f"Festa della famiglia {FAMILY} a Roma\u200b"
    for clean in (clean_text, source_clean, alert_clean, tui_clean):
        out = clean(title)
        assert FAMILY in out, clean
        assert "\u200b" not in out  # the zero-width space still goes
