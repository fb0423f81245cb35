"""The display title rule: the clearest headline instead of a lower-case query; the id never moves."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.clustering import display_title, is_query_like, trend_id_for
from monitor.events import TrendEvent
from monitor.models import Trend

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def trend(title: str, context: list[str], lang: str = "it") -> Trend:
    return Trend(id=trend_id_for(title), title=title, lang=lang, first_seen=NOW, last_seen=NOW, context=context)


def test_italian_query_gets_the_headline() -> None:
    t = trend("sinner", ["Sinner vince le ATP Finals a Torino", "gazzetta.it", "Jannik Sinner", "#sinner"])
    assert display_title(t) == "Sinner vince le ATP Finals a Torino"
    assert t.id == trend_id_for("sinner")  # the id comes from the stored title, not the displayed one
    assert TrendEvent(t, {}, "rss", is_new=True).to_json()["title"] == "Sinner vince le ATP Finals a Torino"


def test_english_query_gets_the_headline_that_holds_every_query_word() -> None:
    t = trend(
        "climate deal",
        [
            "Climate talks stall in Antalya",  # lacks "deal"
            "COP31: climate talks end with a last-minute deal on adaptation finance",
            "Negotiators agreed to triple funding for the countries hit hardest by the deal.",  # a summary sentence
        ],
        lang="en",
    )
    assert display_title(t) == "COP31: climate talks end with a last-minute deal on adaptation finance"


def test_the_most_typical_headline_wins_over_a_terse_foreign_one_whatever_the_order() -> None:
    lines = [
        "Sinner wins ATP Finals",
        "Sinner vince le ATP Finals: Alcaraz battuto in due set a Torino",
        "Sinner re delle ATP Finals, Alcaraz ko in due set a Torino",
        "Jannik Sinner ha vinto le ATP Finals",
    ]
    got = {display_title(trend("sinner", order)) for order in (lines, lines[::-1], lines[1:] + lines[:1])}
    assert got == {"Sinner vince le ATP Finals: Alcaraz battuto in due set a Torino"}


def test_accents_and_hashtags() -> None:
    t = trend("#caffè espresso", ["Il caffè espresso italiano candidato Unesco, verdetto a dicembre"])
    assert display_title(t) == "Il caffè espresso italiano candidato Unesco, verdetto a dicembre"


def test_titles_that_are_already_headlines_stay() -> None:
    t = trend("Sinner vince gli Australian Open", ["Sinner batte Medvedev in finale a Melbourne, è campione"])
    assert display_title(t) == "Sinner vince gli Australian Open"
    assert display_title(trend("COP31 deal", ["COP31 deal reached in Antalya after long night"])) == "COP31 deal"


def test_a_query_without_a_matching_headline_stays() -> None:
    quake = trend("terremoto oggi", ["Terremoto in Calabria, magnitudo 5.8: tre morti"])
    assert display_title(quake) == "terremoto oggi"
    assert display_title(trend("alcaraz", ["Carlos Alcaraz"])) == "alcaraz"  # a name, not a headline
    assert display_title(trend("sinner", [])) == "sinner"


def test_over_long_lines_are_not_titles() -> None:
    long_line = "Sinner " + "molto " * 60 + "lungo"
    assert display_title(trend("sinner", [long_line])) == "sinner"


def test_query_like() -> None:
    assert is_query_like("sinner") and is_query_like("#maltempo") and is_query_like("black friday 2026")
    assert not is_query_like("Giorgia Meloni") and not is_query_like("COP31 deal") and not is_query_like("  ")
