"""The one line cleaner (`monitor.text.clean_text`) and the one language normaliser (`normalise_lang`)."""

from __future__ import annotations

import pytest

from monitor.alerts.escape import escape
from monitor.clustering import canonical_text, trend_id_for
from monitor.text import clean_text, normalise_lang
from tui.text import safe

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one glyph: man ZWJ woman ZWJ girl


def test_a_title_padded_with_newlines_keeps_its_end() -> None:
    title = "Sinner" + "\n" * 10_000 + "vince a Torino"
    assert clean_text(title, 120) == "Sinner vince a Torino"
    assert clean_text(title, 300) == "Sinner vince a Torino"
    assert clean_text("<b>Sinner</b>" + " \n" * 10_000 + "<i>vince</i>", 300, strip_tags=True) == "Sinner vince"


def test_controls_bidi_and_invisible_characters_become_spaces() -> None:
    text = "a\x00b\x1bc\x85d\u200be\u202ef\u2066g\u2060h\u2028i\ufeffj\ud800k"
    assert clean_text(text) == "a b c d e f g h i j k"
    assert clean_text("  one\t\r\n two\u00a0\u3000three  ") == "one two three"


def test_tags_are_stripped_only_when_asked() -> None:
    assert clean_text("<p>Caffè <em>sospeso</em></p>") == "<p>Caffè <em>sospeso</em></p>"
    assert clean_text("<p>Caffè <em>sospeso</em></p>", strip_tags=True) == "Caffè sospeso"


def test_any_value_becomes_a_line() -> None:
    assert clean_text(None) == ""
    assert clean_text(42) == "42"
    assert clean_text(ValueError("bad\nthing")) == "bad thing"


def test_long_text_is_cut_with_an_ellipsis_and_no_trailing_space() -> None:
    assert clean_text("a" * 50, 10) == "a" * 9 + "…"
    assert clean_text("abcd efgh", 6) == "abcd…"  # the cut falls after the space: it is dropped
    assert len(clean_text("x" * 5000, 300)) == 300
    assert clean_text("abc", 1) == "…"
    assert clean_text("abc", 0) == ""  # at most max_chars


def test_nfc_composes_accents() -> None:
    assert clean_text("perche\u0301") == "perché"


def test_zero_width_joiner_sequences_are_kept_by_the_cleaner_and_its_escapers() -> None:
    title = f"Festa della famiglia {FAMILY} a Roma\u200b"
    for out in (clean_text(title), escape(title), safe(title).plain):
        assert FAMILY in out
        assert "\u200b" not in out  # the zero-width space still goes


def test_canonical_text_adds_entities_nfkc_and_drops_joiners_as_trend_ids_always_did() -> None:
    assert canonical_text("Caff&egrave; &amp; ﬁnale ＡＢＣ") == "Caffè & finale ABC"
    assert canonical_text(f"Festa {FAMILY}") == "Festa \U0001f468 \U0001f469 \U0001f467"
    assert trend_id_for("Sinner  vince") == trend_id_for("sinner vince\u200b")


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("it-IT", "it"),
        ("IT", "it"),
        ("ita", "it"),
        ("Italian", "it"),
        (" en_GB ", "en"),
        ("eng", "en"),
        ("english-US", "en"),
        ("de", "de"),
        ("fra", "fra"),
        (None, None),
        ("", None),
        ("  ", None),
        (12, None),
        ("x", None),
        ("x1", None),
        ("klingon", None),
    ],
)
def test_normalise_lang(tag: object, code: str | None) -> None:
    assert normalise_lang(tag) == code


def test_lemma_table_memo_gives_the_table_s_lemmas_and_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.text as text_mod

    class Table(dict[str, str]):
        lookups = 0

        def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
            Table.lookups += 1
            return super().get(key, default)

    table = text_mod.LemmaTable(Table({"andate": "andare", "case": "casa"}))
    monkeypatch.setattr(text_mod, "LEMMA_MEMO_MAX", 3)
    assert [table.lemma(w) for w in ("andate", "case", "sinner", "andate", "case")] == [
        "andare",
        "casa",
        "sinner",
        "andare",
        "casa",
    ]
    assert Table.lookups == 3  # repeated words come from the memo
    for n in range(10):
        table.lemma(f"parola{n}")
    assert len(table._memo) <= 3 and table.lemma("case") == "casa" and "case" in table


def test_fold_accents_is_the_same_on_the_ascii_shortcut() -> None:
    import unicodedata

    from monitor.text import fold_accents

    ascii_all = "".join(map(chr, range(128)))
    accent_path = "".join(c for c in unicodedata.normalize("NFKD", ascii_all.lower()) if not unicodedata.combining(c))
    assert fold_accents(ascii_all) == accent_path
    assert fold_accents("Perché NEVICA a Roma") == "perche nevica a roma"
