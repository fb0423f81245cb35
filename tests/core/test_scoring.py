"""Scoring judged with the real packaged model, on Italian and English trends."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from brand_dna.dna import BrandDNA, load_brand
from monitor.entities import extract_entities, without_places
from monitor.evidence import LexiconEvidence, TermCount
from monitor.explain import verdict_json, verdict_why
from monitor.models import RiskAssessment, RiskFlag, TrendInput
from monitor.scoring import MultiBrandScorer, statement_facets, trend_text

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def lavazza() -> BrandDNA:
    return load_brand(REPO / "examples" / "brands" / "lavazza.toml")


@pytest.fixture(scope="module")
def scorer(real_embedder, lavazza: BrandDNA) -> MultiBrandScorer:  # type: ignore[no-untyped-def]
    return MultiBrandScorer([lavazza], real_embedder)


def verdict(scorer: MultiBrandScorer, title: str, lang: str, context: Sequence[str] = ()):  # type: ignore[no-untyped-def]
    return scorer.score_inputs([TrendInput("t", title, lang, tuple(context))])[0]["Lavazza"]


@pytest.mark.parametrize(
    ("title", "lang", "context"),
    [
        ("Sinner vince gli Australian Open", "it", ()),
        ("Sinner", "it", ("Sinner batte Alcaraz e conquista Wimbledon",)),
        ("International Coffee Day: the best espresso bars in Italy", "en", ()),
        ("Giornata internazionale del caffè", "it", ("Il 1 ottobre si celebra l'espresso, rito italiano",)),
        ("Wimbledon 2026 draw", "en", ()),
    ],
)
def test_clear_opportunities_are_fit(scorer: MultiBrandScorer, title: str, lang: str, context: tuple[str, ...]) -> None:
    v = verdict(scorer, title, lang, context)
    assert v.verdict == "fit", verdict_why(v)
    assert v.fit >= scorer.threshold
    assert v.matched is not None and v.matched in {s for _, s in scorer.brands[0].statements}


@pytest.mark.parametrize(
    ("title", "lang"),
    [
        ("meteo weekend", "it"),
        ("Juventus Inter 2-1, gol di Vlahovic", "it"),
        ("Bitcoin hits record high", "en"),
        ("Grande Fratello eliminato", "it"),
        ("Taylor Swift announces new album", "en"),
    ],
)
def test_unrelated_trends_are_off_brand(scorer: MultiBrandScorer, title: str, lang: str) -> None:
    v = verdict(scorer, title, lang)
    assert v.verdict == "off_brand", verdict_why(v)
    assert v.fit < scorer.threshold


def test_matched_statement_names_the_partnership(scorer: MultiBrandScorer) -> None:
    v = verdict(scorer, "Jannik Sinner eletto atleta dell'anno", "it")
    assert v.verdict == "fit"
    assert v.matched is not None and "Sinner" in v.matched
    assert v.fit_evidence is not None and "Sinner" in v.fit_evidence.names
    assert v.fit_evidence.threshold == pytest.approx(scorer.threshold, abs=1e-4)
    why = verdict_why(v)
    assert why.startswith("names: ") and "Sinner" in why and why.endswith(f"≥ {scorer.threshold:.2f}")


def test_off_brand_says_what_was_missing(scorer: MultiBrandScorer) -> None:
    v = verdict(scorer, "Previsioni meteo per il weekend", "it")
    assert v.verdict == "off_brand"
    why = verdict_why(v)
    assert why.startswith(f"no statement close enough: best '{v.matched}' at {v.fit:.2f} < {scorer.threshold:.2f}")


def test_context_headlines_carry_an_ambiguous_title(scorer: MultiBrandScorer) -> None:
    bare = verdict(scorer, "la tazzina perfetta", "it")
    with_context = verdict(
        scorer,
        "la tazzina perfetta",
        "it",
        ("Baristi italiani: come si prepara l'espresso perfetto al bar", "Espresso, the Italian coffee ritual"),
    )
    assert with_context.fit > bare.fit
    assert with_context.verdict == "fit"


def test_breakdown_has_every_statement(scorer: MultiBrandScorer, lavazza: BrandDNA) -> None:
    v = verdict(scorer, "Roland Garros final", "en")
    assert [s.statement for s in v.breakdown] == [s for _, s in lavazza.statements]
    best = max(v.breakdown, key=lambda s: s.score)
    assert best.statement == v.matched


def test_margin_makes_it_stricter(real_embedder, lavazza: BrandDNA) -> None:  # type: ignore[no-untyped-def]
    strict = MultiBrandScorer([lavazza], real_embedder, margin=0.49)
    lenient = MultiBrandScorer([lavazza], real_embedder, margin=-0.3)
    t = [TrendInput("t", "Giornata internazionale del caffè", "it")]
    assert strict.score_inputs(t)[0]["Lavazza"].fit == pytest.approx(lenient.score_inputs(t)[0]["Lavazza"].fit)
    assert strict.threshold > lenient.threshold


class HighRiskGate:
    """A fixed risk layer: lets the test check that risk overrides fit."""

    def assess_base(self, trends, vectors):  # type: ignore[no-untyped-def]
        doping = LexiconEvidence("doping", (TermCount("doping", 1, "doping"),))
        return [[RiskFlag("tragedy", "high", "Crime & Harmful Acts", doping)] for _ in trends]

    def for_brand(self, flags, trend, brand):  # type: ignore[no-untyped-def]
        return RiskAssessment.from_flags(flags)


def test_risky_overrides_fit(real_embedder, lavazza: BrandDNA) -> None:  # type: ignore[no-untyped-def]
    scorer = MultiBrandScorer([lavazza], real_embedder, risk_gate=HighRiskGate())
    v = scorer.score_inputs([TrendInput("t", "Sinner vince gli Australian Open", "it")])[0]["Lavazza"]
    assert v.verdict == "risky"
    assert v.fit >= scorer.threshold  # the fit is still reported; the verdict is what protects the brand
    out = verdict_json(v)
    reason = "'doping' — tragedy: doping (GARM: Crime & Harmful Acts), strong evidence"
    assert out["risk"]["level"] == "high" and out["risk"]["categories"] == ["tragedy"]
    assert out["risk"]["reasons"] == [reason]
    assert out["risk"]["evidence"] == [
        {
            "layer": "lexicon",
            "group": "doping",
            "terms": [{"term": "doping", "count": 1, "group": "doping"}],
            "related": [],
            "amplifiers": [],
            "score": 0.0,
            "brand": False,
            "category": "tragedy",
            "level": "high",
            "garm": "Crime & Harmful Acts",
            "strength": 1.0,
            "allowed_by": None,
        }
    ]
    # A risky verdict's why is its decisive risk reason: no matched statement, no fit threshold.
    assert out["why"] == reason and v.matched is not None and v.matched not in out["why"]


def test_order_and_multi_brand(real_embedder, lavazza: BrandDNA) -> None:  # type: ignore[no-untyped-def]
    oreo = load_brand(REPO / "examples" / "brands" / "oreo.toml")
    scorer = MultiBrandScorer([lavazza, oreo], real_embedder)
    trends = [TrendInput(str(i), t) for i, t in enumerate(["Oreo new flavor drop", "Sinner wins Wimbledon"])]
    out = scorer.score_inputs(trends)
    assert [v["Lavazza"].id for v in out] == ["0", "1"]
    assert out[0]["Oreo"].verdict == "fit" and out[0]["Lavazza"].verdict == "off_brand"
    assert out[1]["Lavazza"].verdict == "fit" and out[1]["Oreo"].verdict == "off_brand"


def test_entity_extraction_without_explicit_list() -> None:
    brand = BrandDNA(
        name="Acme",
        dna=("Official coffee of Wimbledon, Australian Open and US Open", "Partner of Jannik Sinner since 2023"),
    )
    ents = extract_entities(brand)
    assert {"Acme", "Wimbledon", "Australian Open", "US Open", "Jannik Sinner"} <= set(ents)
    assert "Official" not in ents and "Partner" not in ents


def test_a_role_word_introduces_a_person_named_by_surname_too() -> None:
    brand = BrandDNA(
        name="Pasta Rossa",
        dna=("Brand ambassador partnership with skier Mikaela Shiffrin", "Sponsor del pilota Charles Leclerc",
             "Made with Durum Wheat Semolina", "Sponsor of athlete Team Bologna"),
    )
    ents = extract_entities(brand)
    assert {"Mikaela Shiffrin", "Shiffrin", "Charles Leclerc", "Leclerc"} <= set(ents)
    assert "Wheat Semolina" not in ents and "Semolina" not in ents  # no role word: not a person
    assert "Bologna" not in ents  # a place after a role word is not a surname


@pytest.mark.model
def test_a_surname_alone_is_a_fit_for_the_brand_of_its_athlete(real_embedder) -> None:  # type: ignore[no-untyped-def]
    brand = BrandDNA(
        name="Pasta Rossa",
        dna=("Italian pasta maker", "Family meals at home", "Brand ambassador partnership with skier Mikaela Shiffrin"),
    )
    [v] = MultiBrandScorer([brand], real_embedder).score_inputs([TrendInput("s", "shiffrin slalom cortina", "it")])
    assert v["Pasta Rossa"].verdict == "fit" and v["Pasta Rossa"].fit_evidence.names == ("Shiffrin",)


def test_a_place_in_the_statements_is_not_a_name() -> None:
    shop = BrandDNA(
        name="Fiori Rossi",
        dna=("Flower shop in Bologna since 1950", "Bouquets for weddings in Emilia-Romagna and Italy's north"),
    )
    ents = extract_entities(shop)
    assert "Bologna" not in ents and "Emilia-Romagna" not in ents and "Italy's" not in ents
    assert "Fiori Rossi" in ents
    city = BrandDNA(name="Comune di Bologna", dna=("Servizi ai cittadini di Bologna",))
    assert "Bologna" in extract_entities(city)  # the brand is named after the place: it stays a name
    listed = BrandDNA(name="Acme", dna=("Made in Parma",), entities=("Parma",))
    assert "Parma" in extract_entities(listed)  # listed on purpose: kept


def test_a_place_is_a_whole_capitalised_word() -> None:
    assert "Bari" not in extract_entities(BrandDNA(name="Barilla", dna=("Pasta factory in Bari since 1877",)))
    assert without_places("Pasta factory in Bari since 1877", "Barilla") == "Pasta factory since 1877"
    assert without_places("Roast turkey and stuffing") == "Roast turkey and stuffing"  # a word, not a country
    assert without_places("Best pasta in the world") == "Best pasta in the world"
    assert without_places("a Milan-based design studio") == "a Milan-based design studio"
    assert without_places("Festival di Sanremo official sponsor") == "Festival di Sanremo official sponsor"
    assert without_places("Fontina cheese from Valle d’Aosta") == "Fontina cheese"
    assert without_places("Made in Parma", "Acme Parma") == "Made in Parma"  # named in the brand or its entities


def test_joined_names_are_not_a_list() -> None:
    assert statement_facets("Johnson and Johnson baby care") == []
    assert statement_facets("Black & Decker power tools and accessories") == ["Black & Decker power tools", "accessories"]
    assert statement_facets("Pasta sauces, pesto and Mulino Bianco bakery products") == [
        "Pasta sauces", "pesto", "Mulino Bianco bakery products"]


def test_statements_are_embedded_without_their_places() -> None:
    assert without_places("Funeral home in Bologna since 1950") == "Funeral home since 1950"
    assert without_places("Impresa di onoranze funebri a Bologna dal 1962") == "Impresa di onoranze funebri dal 1962"
    assert without_places("Fiat Panda, Italy's best-selling car") == "Fiat Panda, best-selling car"
    assert without_places("Runway shows at Milan Fashion Week") == "Runway shows at Milan Fashion Week"  # an event's name
    assert without_places("Servizi ai cittadini di Bologna", "Comune di Bologna") == "Servizi ai cittadini di Bologna"
    assert without_places("Milano") == "Milano"  # never an empty statement


@pytest.mark.model
def test_a_trend_about_the_brands_city_is_not_an_opportunity(real_embedder) -> None:  # type: ignore[no-untyped-def]
    shop = BrandDNA(
        name="Fiori Rossi",
        dna=("Flower shop in Bologna since 1950", "Bouquets and plants delivered at home", "Flowers for weddings and ceremonies"),
    )
    scorer = MultiBrandScorer([shop], real_embedder)
    trends = [TrendInput("a", "meteo bologna", "it"), TrendInput("b", "bologna mercato calciatori", "it"),
              TrendInput("c", "bouquet da sposa 2025", "it")]
    got = {t.id: v["Fiori Rossi"] for t, v in zip(trends, scorer.score_inputs(trends), strict=True)}
    assert got["a"].verdict == "off_brand" and got["b"].verdict == "off_brand", (got["a"].fit, got["b"].fit)
    assert not got["a"].fit_evidence.names and not got["a"].fit_evidence.shared_terms
    assert got["c"].verdict == "fit", got["c"].fit


def test_a_statement_that_lists_things_has_one_facet_per_item() -> None:
    assert statement_facets("Necrologi, fiori, lapidi e cura delle tombe") == ["Necrologi", "fiori", "lapidi", "cura delle tombe"]
    assert statement_facets("Dry and wet food for dogs and cats") == ["wet food for dogs", "cats"]
    assert statement_facets("Italian lager beer brewed since 1846") == []  # lists nothing
    assert statement_facets("Pizza and pasta") == ["Pizza", "pasta"]


@pytest.mark.model
def test_one_item_of_a_listed_statement_is_matched_on_its_own(real_embedder, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    brand = BrandDNA(
        name="Sportivo",
        dna=("Sports equipment retailer", "Affordable gear for running, cycling, hiking and swimming"),
    )
    trends = [TrendInput("n", "corsi di nuoto bambini", "it"), TrendInput("b", "bici elettrica", "it"),
              TrendInput("o", "oroscopo della settimana", "it")]
    got = {t.id: v["Sportivo"] for t, v in zip(trends, MultiBrandScorer([brand], real_embedder).score_inputs(trends), strict=True)}
    assert got["n"].verdict == "fit" and got["b"].verdict == "fit", (got["n"].fit, got["b"].fit)
    assert got["o"].verdict == "off_brand", got["o"].fit
    # the verdict reports the statement itself, and one breakdown row per statement, never a facet
    assert got["n"].matched == "Affordable gear for running, cycling, hiking and swimming"
    assert [b.statement for b in got["n"].breakdown] == list(brand.dna)
    # the whole list alone, as before facets, is too far from a single item
    monkeypatch.setattr("monitor.scoring.statement_facets", lambda statement: [])
    whole = MultiBrandScorer([brand], real_embedder).score_inputs(trends[:2])
    assert [v["Sportivo"].verdict for v in whole] == ["off_brand", "off_brand"]


def test_trend_text_uses_first_headlines_only() -> None:
    t = TrendInput("t", "Sinner", context=tuple(f"h{i}" for i in range(10)))
    assert trend_text(t) == "Sinner. h0. h1. h2"
