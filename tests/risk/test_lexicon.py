"""Lexicon layer: lemmas, idioms, exact names, evidence-weighted levels (no model needed)."""

from __future__ import annotations

import pytest

from monitor.evidence import LexiconEvidence, TermCount
from monitor.explain import flag_text
from monitor.models import RiskFlag
from monitor.risk.lexicon import Group, Lexicon, TermHit, lang_key, parse_lexicon, score_hits


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return Lexicon()


def _levels(lex: Lexicon, text: str, lang: str | None) -> dict[str, str]:
    flags = lex.assess([text], [lang])[0]
    out: dict[str, str] = {}
    for f in flags:
        if f.category not in out or f.level == "high":
            out[f.category] = f.level
    return out


def _terms(flags: list[RiskFlag]) -> list[TermCount]:
    return [t for f in flags if isinstance(f.evidence, LexiconEvidence) for t in f.evidence.terms]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Strage di gol a San Siro, l'Inter ne fa sei", "it"),
        ("Bomba di mercato: l'attaccante vicino alla Juventus", "it"),
        ("Il video del gatto, morti dal ridere", "it"),
        ("Guerra dei prezzi tra i supermercati", "it"),
        ("Mozzarella di bufala campana, record di export", "it"),
        ("Antonio Conte è il nuovo allenatore del Napoli", "it"),
        ("Melone e prosciutto, la ricetta dell'estate", "it"),
        ("Apple Vision Pro: is there a killer app yet?", "en"),
        ("UK supermarkets in a price war over milk", "en"),
        ("Woke up like this: the new album drops tonight", "en"),
        ("Beyoncé Vogue photo shoot revealed", "en"),
    ],
)
def test_idioms_and_homonyms_never_raise_high(lex: Lexicon, text: str, lang: str) -> None:
    assert "high" not in _levels(lex, text, lang).values()


@pytest.mark.parametrize(
    ("text", "lang", "category"),
    [
        ("Genova, crolla il ponte Morandi: decine di morti tra le macerie", "it", "tragedy"),
        ("È morto Gianluca Vialli, il calcio piange", "it", "tragedy"),
        ("Meloni contro Schlein, scontro sul premierato", "it", "polarizing"),
        ("Bufala: la foto è un fotomontaggio, arriva la smentita", "it", "misinformation"),
        ("#WhyIStayed: survivors of domestic violence share their stories", "en", "tragedy"),
        ("Gunman kills 19 in school shooting", "en", "tragedy"),
        ("Supreme Court overturns Roe v. Wade, abortion protests erupt", "en", "polarizing"),
        ("Hoax debunked: the viral photo is a deepfake", "en", "misinformation"),
    ],
)
def test_clear_cases_are_high(lex: Lexicon, text: str, lang: str, category: str) -> None:
    assert _levels(lex, text, lang).get(category) == "high"


def test_lemmas_join_inflections(lex: Lexicon) -> None:
    # "vittime" (plural) matches the term "vittima"; "killed" the lemma "kill".
    it = lex.assess(["Due vittime nell'incidente"], ["it"])[0]
    assert any(t.term.startswith("vittim") for t in _terms(it))
    en = lex.assess(["Three people killed"], ["en"])[0]
    assert any(t.term.startswith("kill") for t in _terms(en))


def test_one_ambiguous_word_is_not_high(lex: Lexicon) -> None:
    # A politician at a summit is a caution (medium), not a fight: no strong term, no amplifier.
    levels = _levels(lex, "Meloni al vertice G7", "it")
    assert levels == {"polarizing": "medium"}


@pytest.mark.parametrize(
    ("title", "lang", "category"),
    [
        ("alluvione emilia romagna", "it", "tragedy"),
        ("Morto Silvio Berlusconi", "it", "tragedy"),
        ("elezioni regionali risultati", "it", "polarizing"),
        ("plane crash Washington", "en", "tragedy"),
        ("school shooting Texas", "en", "tragedy"),
    ],
)
def test_a_bare_title_naming_a_tragedy_or_a_fight_is_high(lex: Lexicon, title: str, lang: str, category: str) -> None:
    assert _levels(lex, title, lang).get(category) == "high"


@pytest.mark.parametrize(
    ("title", "lang"),
    [
        ("bomba di mercato Juventus", "it"),
        ("strage di gol all'Olimpico", "it"),
        ("Italia d'oro nel volley", "it"),
        ("incidente diplomatico con la Francia", "it"),
        ("Bitcoin crash", "en"),
        ("Netflix app crash", "en"),
        ("Amazon Fire TV Stick in offerta", "en"),
    ],
)
def test_benign_look_alikes_stay_clean(lex: Lexicon, title: str, lang: str) -> None:
    assert "high" not in _levels(lex, title, lang).values()


@pytest.mark.parametrize(
    "title",
    ["Jannik Sinner beat Carlos Alcaraz in straight sets", "Spain beat England to win Euro 2024", "Mondelez beats estimates"],
)
def test_a_sports_win_is_not_abuse(lex: Lexicon, title: str) -> None:
    """'beaten' (abuse) is matched as written: its lemma 'beat' is every win and every earnings beat."""
    assert lex.assess([title], ["en"])[0] == []
    assert _levels(lex, "Woman beaten by her partner in Rome", "en") == {"tragedy": "medium"}


@pytest.mark.parametrize(
    "title",
    [
        "L'Italia vola in finale agli Europei di pallavolo",
        "Matera capitale europea della cultura",
        "urna biodegradabile",
        "Treni regionali, da lunedì nuovi orari in Campania",
        "Ricette regionali per il pranzo di Natale",
    ],
)
def test_a_word_that_shares_its_lemma_with_an_election_word_is_no_election(lex: Lexicon, title: str) -> None:
    """'europee' (the elections) is matched as written, 'urne' only as the polls; a regional train is a train."""
    assert lex.assess([title], ["it"])[0] == []


@pytest.mark.parametrize(
    ("title", "level"),
    [("Europee 2024, i risultati", "medium"), ("Urne aperte fino alle 23", "medium"), ("Regionali in Liguria, vince Bucci", "high")],
)
def test_the_election_senses_still_count(lex: Lexicon, title: str, level: str) -> None:
    assert _levels(lex, title, "it") == {"polarizing": level}


def test_flags_carry_terms_counts_amplifiers_and_garm(lex: Lexicon) -> None:
    flags = lex.assess(["Terremoto, decine di morti sotto le macerie. Terremoto in Turchia"], ["it"])[0]
    assert all(f.layer == "lexicon" and isinstance(f.evidence, LexiconEvidence) for f in flags)
    by_group = {f.evidence.group: f for f in flags if isinstance(f.evidence, LexiconEvidence)}
    disaster = by_group["disaster"]
    assert disaster.category == "tragedy" and disaster.level == "high"
    assert disaster.garm == "Death, Injury or Military Conflict"
    assert isinstance(disaster.evidence, LexiconEvidence)
    assert TermCount("terremoto", 2, "disaster") in disaster.evidence.terms
    assert TermCount("morti", 1, "death") in disaster.evidence.related  # same category, other group
    assert not disaster.evidence.brand and disaster.evidence.score > 0
    # Evidence first: the terms, then the category and its GARM name.
    text = flag_text(disaster)
    assert text.startswith("'terremoto' ×2, 'macerie' with 'morti' — tragedy: disaster (GARM: Death, Injury")
    assert text.endswith("strong evidence")
    polemic = lex.assess(["Salvini, polemica sul ponte"], ["it"])[0]
    assert any(isinstance(f.evidence, LexiconEvidence) and "polemica" in f.evidence.amplifiers for f in polemic)


def test_unknown_language_uses_both_lexicons(lex: Lexicon) -> None:
    assert lang_key("it-IT") == "it" and lang_key("de") is None and lang_key(None) is None
    flags = lex.assess(["Attentato a Berlino, school shooting"], ["de"])[0]
    assert {f.evidence.group for f in flags if isinstance(f.evidence, LexiconEvidence)} >= {"attack"}


@pytest.mark.parametrize(
    ("title", "group", "level"),
    [("Terremoto a Napoli", "disaster", "high"), ("kim jong un dead", "death", "high"), ("SPARATORIA A ROMA", "attack", "high")],
)
def test_a_title_without_a_language_is_read_with_both_lexicons(lex: Lexicon, title: str, group: str, level: str) -> None:
    flags = lex.assess([title], [None])[0]
    assert any(isinstance(f.evidence, LexiconEvidence) and f.evidence.group == group and f.level == level for f in flags)


def test_read_with_both_lexicons_a_function_word_of_the_other_language_is_no_evidence(lex: Lexicon) -> None:
    # English "DEI" is Italian "dei": an Italian title without a language is not a civil-rights caution.
    flags = lex.assess(["sciopero dei treni venerdì"], [None])[0]
    assert {f.evidence.group for f in flags if isinstance(f.evidence, LexiconEvidence)} == {"politics"}
    assert not any(isinstance(f.evidence, LexiconEvidence) and f.evidence.related for f in flags)
    stated = lex.assess(["Companies drop DEI programs"], ["en"])[0]
    assert {f.evidence.group for f in stated if isinstance(f.evidence, LexiconEvidence)} == {"civil_rights"}


def test_score_hits_policy() -> None:
    groups = {"death": Group("death", "tragedy", ()), "politics": Group("politics", "polarizing", ())}
    assert score_hits([TermHit("morto", "death", "severe", 1)], {}, groups)[0].level == "high"
    # One strong term is enough: the level does not wait for headlines to repeat it.
    assert score_hits([TermHit("dead", "death", "high", 1)], {}, groups)[0].level == "high"
    two = [TermHit("meloni", "politics", "medium", 1), TermHit("schlein", "politics", "medium", 1)]
    assert score_hits(two, {}, groups)[0].level == "medium"
    assert score_hits(two[:1], {"polarizing": ["scontro"]}, groups)[0].level == "high"
    repeated = [TermHit("meloni", "politics", "medium", 3)]
    assert score_hits(repeated, {}, groups)[0].level == "medium"
    assert score_hits([TermHit("sindaco", "politics", "low", 1)], {}, groups)[0].level == "low"


def test_parse_errors_name_the_key() -> None:
    with pytest.raises(ValueError, match=r"groups\.x\.category"):
        parse_lexicon({"groups": {"x": {"category": "weird", "high": ["a"]}}}, "f.toml")
    with pytest.raises(ValueError, match=r"groups\.x\.high"):
        parse_lexicon({"groups": {"x": {"category": "tragedy", "high": "a"}}}, "f.toml")


@pytest.mark.parametrize(
    ("title", "lang"),
    [
        ("buono spesa mutti whatsapp", "it"),
        ("ferrero regala cesti natale whatsapp", "it"),
        ("sms rimborso bolletta luce", "it"),
        ("free gift card text message from the supermarket", "en"),
    ],
)
def test_an_offer_passed_round_by_a_messaging_chain_is_a_scam(lex: Lexicon, title: str, lang: str) -> None:
    flags = lex.assess([title], [lang])[0]
    scam = [f for f in flags if isinstance(f.evidence, LexiconEvidence) and f.evidence.group == "giveaway_scam"]
    assert scam and scam[0].level == "high" and scam[0].category == "misinformation"
    assert scam[0].evidence.amplifiers  # the channel is shown beside the offer


@pytest.mark.parametrize(
    ("title", "lang"),
    [
        ("buono spesa 2025 requisiti", "it"),  # the offer words alone
        ("concerto gratis piazza duomo", "it"),
        ("whatsapp down oggi", "it"),  # the channel alone
        ("nuove funzioni whatsapp", "it"),
        ("free museum sunday", "en"),
    ],
)
def test_an_offer_or_a_channel_alone_is_not_a_scam(lex: Lexicon, title: str, lang: str) -> None:
    assert "misinformation" not in _levels(lex, title, lang)


def test_requires_must_be_words() -> None:
    with pytest.raises(ValueError, match=r"groups\.x\.requires"):
        parse_lexicon({"groups": {"x": {"category": "misinformation", "requires": "whatsapp", "high": ["a"]}}}, "f.toml")
    with pytest.raises(ValueError, match=r"groups\.x\.requires"):
        parse_lexicon({"groups": {"x": {"category": "misinformation", "requires": [" "], "high": ["a"]}}}, "f.toml")


def test_extra_brand_lexicon_is_merged() -> None:
    extra = parse_lexicon({"groups": {"recall": {"category": "tragedy", "high": ["richiamo alimentare"]}}}, "brand")
    lx = Lexicon(extra={"it": extra})
    flags = lx.assess(["Richiamo alimentare per listeria"], ["it"])[0]
    assert any(isinstance(f.evidence, LexiconEvidence) and f.evidence.group == "recall" for f in flags)


def test_importing_the_gate_loads_neither_spacy_nor_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, monitor.risk, monitor.risk.data_update, monitor.risk.risk_eval; "
        "bad = [m for m in ('spacy', 'torch', 'sentence_transformers') if m in sys.modules]; "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
