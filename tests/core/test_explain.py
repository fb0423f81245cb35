"""The renderer: evidence first, each reason once, human words, no matched statement for a risky trend."""

from __future__ import annotations

from datetime import date

import pytest

from monitor.evidence import (
    AvoidEvidence,
    CalendarEvidence,
    ClassifierEvidence,
    CredibilityEvidence,
    FactCheckEvidence,
    FitEvidence,
    LexiconEvidence,
    PrototypeEvidence,
    SourceRating,
    TermCount,
    evidence_from_json,
)
from monitor.explain import (
    flag_text,
    level_words,
    risk_lines,
    risk_reasons,
    verdict_json,
    verdict_why,
    verdict_words,
)
from monitor.models import RiskAssessment, RiskFlag, Verdict

DEATH = "Death, Injury or Military Conflict"
TERREMOTO = LexiconEvidence(
    "disaster",
    (TermCount("terremoto", 2, "disaster"), TermCount("sfollati", 1, "disaster")),
    related=(TermCount("morti", 1, "death"),),
    amplifiers=("strage",),
    score=6.5,
)
FLAGS = {
    "lexicon": RiskFlag("tragedy", "high", DEATH, TERREMOTO, 1.0),
    "calendar": RiskFlag(
        "tragedy", "high", DEATH, CalendarEvidence("Strage di Capaci", date(1992, 5, 23), 32, 0, True, mention="capaci")
    ),
    "prototype": RiskFlag("tragedy", "medium", "Terrorism", PrototypeEvidence("Car bomb explodes near embassy", 0.29, 0.11)),
    "classifier": RiskFlag("polarizing", "high", "Debated Sensitive Social Issues", ClassifierEvidence(0.91, 0.48)),
    "classifier_words": RiskFlag(
        "tragedy", "high", DEATH, ClassifierEvidence(0.83, 0.5, words=("alluvione", "sfollato"))
    ),
    "credibility": RiskFlag(
        "misinformation",
        "high",
        "Misinformation",
        CredibilityEvidence((SourceRating("bufale.example", ("Iffy index of unreliable sources",)),), judged=1),
    ),
    "factcheck": RiskFlag(
        "misinformation",
        "high",
        "Misinformation",
        FactCheckEvidence(
            "https://facta.example/pane",
            "No, il pane non costa 9 euro",
            "Facta",
            claim="Il pane costa 9 euro al chilo per legge",
            rating="Falso",
            published=date(2026, 11, 28),
            score=0.81,
            shared_terms=("pane", "euro"),
        ),
        0.81,
    ),
}
STARTS = {
    "lexicon": "'terremoto' ×2, 'sfollati' with 'morti', amplified by 'strage'",
    "calendar": "mentions 'capaci': Strage di Capaci, anniversary today (23 May, 32 years)",
    "prototype": "close to 'Car bomb explodes near embassy' (similarity 0.29, +0.11 vs safe news)",
    "classifier": "classifier probability 0.91 (high from 0.48)",
    "classifier_words": "classifier probability 0.83 (high from 0.50; words: alluvione, sfollato)",
    "credibility": "only low-credibility sources: bufale.example (Iffy index of unreliable sources)",
    "factcheck": "debunked: 'No, il pane non costa 9 euro' (https://facta.example/pane) by Facta on 2026-11-28, rated 'Falso'",
}


@pytest.mark.parametrize("layer", sorted(FLAGS))
def test_each_layer_is_worded_evidence_first(layer: str) -> None:
    flag = FLAGS[layer]
    text = flag_text(flag)
    assert flag.layer == layer.removesuffix("_words")
    assert text.startswith(STARTS[layer]), text
    category = f"{flag.category}" + (": disaster" if layer == "lexicon" else "") + f" (GARM: {flag.garm})"
    assert text.index(STARTS[layer]) < text.index(category)
    assert text.endswith({"high": "strong evidence", "medium": "moderate evidence"}[flag.level])


@pytest.mark.parametrize("layer", sorted(FLAGS))
def test_flags_round_trip_through_json(layer: str) -> None:
    flag = FLAGS[layer]
    data = flag.to_json()
    assert data["layer"] == layer.removesuffix("_words") and data["garm"] == flag.garm and data["level"] == flag.level
    assert RiskFlag.from_json(data) == flag


def test_unknown_evidence_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown risk layer"):
        evidence_from_json({"layer": "horoscope"})
    with pytest.raises(ValueError, match="prototype evidence"):
        evidence_from_json({"layer": "prototype", "example": "x"})


def test_an_avoid_carries_its_finding_and_it_is_not_listed_twice() -> None:
    politics = RiskFlag(
        "polarizing",
        "medium",
        "Debated Sensitive Social Issues",
        LexiconEvidence("politics", (TermCount("giorgia meloni", 1, "politics"),)),
        0.17,
    )
    avoid = RiskFlag("polarizing", "high", politics.garm, AvoidEvidence("politica", politics.evidence))
    risk = RiskAssessment.from_flags([politics, FLAGS["classifier"], avoid], avoid_hit="politica")
    reasons = risk_reasons(risk)
    assert reasons[0] == (
        "'giorgia meloni' — brand avoids 'politica' — polarizing: politics (GARM: Debated Sensitive Social Issues)"
    )
    assert sum("giorgia meloni" in r for r in reasons) == 1
    assert reasons[1].startswith("classifier probability")
    assert len(reasons) == 2


def test_identical_findings_are_listed_once() -> None:
    twice = RiskAssessment.from_flags([FLAGS["lexicon"], FLAGS["lexicon"], FLAGS["prototype"]])
    reasons = risk_reasons(twice)
    assert len(reasons) == len(set(reasons)) == 2


def test_a_bare_avoid_hit_and_a_literal_avoid_are_named() -> None:
    bare = RiskAssessment.from_flags([FLAGS["prototype"]], avoid_hit="gambling")
    assert risk_reasons(bare)[0] == "brand avoids 'gambling'"
    literal = RiskFlag("polarizing", "high", "", AvoidEvidence("fast fashion"))
    risk = RiskAssessment.from_flags([literal], avoid_hit="fast fashion")
    assert risk_reasons(risk) == ["mentions 'fast fashion' in its title or headlines — brand avoids 'fast fashion'"]


def test_an_allowed_finding_comes_last_and_says_who_allowed_it() -> None:
    allowed = RiskFlag("tragedy", "high", DEATH, TERREMOTO, 1.0, allowed_by="tragedy")
    risk = RiskAssessment.from_flags([allowed, FLAGS["prototype"]])
    lines = risk_lines(risk)
    assert risk.level == "medium" and [line.overridden for line in lines] == [False, True]
    assert lines[1].text.startswith("'terremoto' ×2") and lines[1].text.endswith("— allowed by brand: 'tragedy'")


def test_a_level_stored_without_evidence_still_reads() -> None:
    old = RiskAssessment(level="high", categories=("tragedy",))
    assert risk_reasons(old) == ["do not ride (tragedy): scored before evidence was kept"]
    assert risk_reasons(RiskAssessment()) == []


def _verdict(name: str, fit: float, risk: RiskAssessment | None = None) -> Verdict:
    return Verdict(
        id="t",
        verdict=name,  # type: ignore[arg-type]
        fit=fit,
        matched="Ambassador partnership with Jannik Sinner",
        risk=risk or RiskAssessment(),
        fit_evidence=FitEvidence(threshold=0.26, semantic_z=2.7, cosine=0.13, shared_terms=0, names=()),
    )


def test_off_brand_says_what_was_missing() -> None:
    why = verdict_why(_verdict("off_brand", 0.18))
    assert why == (
        "no statement close enough: best 'Ambassador partnership with Jannik Sinner' at 0.18 < 0.26; "
        "semantic z +2.7 (cos 0.13); no shared names or key terms"
    )


def test_fit_names_what_was_found_then_the_threshold() -> None:
    v = _verdict("fit", 0.71)
    found = FitEvidence(threshold=0.26, semantic_z=6.4, cosine=0.37, shared_terms=2, names=("Sinner", "Torino"))
    why = verdict_why(Verdict(v.id, "fit", 0.71, v.matched, v.risk, found))
    assert why == "names: Sinner, Torino; 2 shared key terms; semantic z +6.4 (cos 0.37) — fit 0.71 ≥ 0.26"


def test_a_fit_says_which_names_it_read_and_how() -> None:
    v = _verdict("fit", 0.66)
    read = FitEvidence(
        threshold=0.52, semantic_z=4.1, cosine=0.21, kinds=(("juve", "football club"), ("sky", "TV channel")), kind_cosine=0.47
    )
    why = verdict_why(Verdict(v.id, "fit", 0.66, v.matched, v.risk, read))
    assert why == (
        "semantic z +4.1 (cos 0.21); read 'juve' as football club, 'sky' as TV channel (cos 0.47) — fit 0.66 ≥ 0.52"
    )
    unread = FitEvidence(threshold=0.52, semantic_z=4.1, cosine=0.21, kinds=(("juve", "football club"),))
    assert "read" not in verdict_why(Verdict(v.id, "fit", 0.66, v.matched, v.risk, unread))


def test_a_risky_verdict_reads_as_its_risk_without_the_matched_statement() -> None:
    risk = RiskAssessment.from_flags([FLAGS["factcheck"], FLAGS["lexicon"]])
    v = _verdict("risky", 0.8, risk)
    line = verdict_json(v)
    assert line["why"] == risk_reasons(risk)[0] == flag_text(FLAGS["lexicon"])  # the strongest finding
    assert v.matched is not None and v.matched not in line["why"]
    assert all(v.matched not in r for r in line["risk"]["reasons"])
    assert line["matched"] == v.matched  # the JSON field stays, as documented
    assert [e["layer"] for e in line["risk"]["evidence"]] == ["lexicon", "factcheck"]
    assert line["risk"]["reasons"] == risk_reasons(risk) and line["risk"]["level"] == "high"


def test_words_for_verdicts_and_levels() -> None:
    assert [verdict_words(v) for v in ("fit", "off_brand", "risky")] == ["fit", "off brand", "do not ride"]
    assert [level_words(lv) for lv in ("none", "low", "medium", "high")] == [
        "no risk",
        "low risk",
        "caution",
        "do not ride",
    ]


def test_a_lexicon_group_already_named_by_a_stronger_reason_is_not_repeated() -> None:
    death = LexiconEvidence(
        "death", (TermCount("morti", 1, "death"),), related=(TermCount("terremoto", 2, "disaster"),), score=6.5
    )
    risk = RiskAssessment.from_flags([FLAGS["lexicon"], RiskFlag("tragedy", "high", DEATH, death, 0.9)])
    reasons = risk_reasons(risk)
    assert reasons == [flag_text(FLAGS["lexicon"])]  # 'morti' is already there, "with" the earthquake
    assert len(risk.flags) == 2  # the data keeps both findings
    # a group with a word of its own is still listed
    more = LexiconEvidence("death", (TermCount("morti", 1, "death"), TermCount("vittime", 1, "death")))
    both = RiskAssessment.from_flags([FLAGS["lexicon"], RiskFlag("tragedy", "high", DEATH, more, 0.9)])
    assert len(risk_reasons(both)) == 2
