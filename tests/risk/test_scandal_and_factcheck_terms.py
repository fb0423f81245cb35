"""Single decisive words: a doping scandal or a fact-check in the title blocks a trend; food words do not."""

from __future__ import annotations

import pytest

from monitor.explain import risk_reasons
from monitor.models import TrendInput
from monitor.risk import RiskGate


@pytest.fixture(scope="module")
def gate() -> RiskGate:
    return RiskGate(None)


@pytest.mark.parametrize(
    ("title", "lang", "category"),
    [
        ("Sinner doping", "it", "polarizing"),
        ("Doping, squalifica per il campione", "it", "polarizing"),
        ("fact check Oreo discontinued", "en", "misinformation"),
        ("Fact-check: il caffè cura il covid?", "it", "misinformation"),
    ],
)
def test_decisive_terms_are_high(gate: RiskGate, title: str, lang: str, category: str) -> None:
    risk = gate.assess([TrendInput("t", title, lang)])[0]
    assert risk.level == "high"
    assert category in risk.categories
    assert risk.ranked()[0].layer == "lexicon"  # the decisive evidence is a term
    assert risk_reasons(risk)[0].startswith("'")


@pytest.mark.parametrize("title", ["Mozzarella di bufala campana, record di export", "Oreo new flavor drop"])
def test_food_and_launches_stay_clear(gate: RiskGate, title: str) -> None:
    assert gate.assess([TrendInput("t", title)])[0].level in ("none", "low")
