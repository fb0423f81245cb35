"""The classifier layer reads risk from the embedding of titles that carry no risk word."""

from __future__ import annotations

import pytest

from monitor.evidence import ClassifierEvidence
from monitor.explain import flag_text
from monitor.profiles import profile_key
from monitor.risk.classifier import GARM, ClassifierLayer, head_for


@pytest.fixture(scope="module")
def lexicon_gate():  # type: ignore[no-untyped-def]
    from monitor.risk.lexicon import Lexicon

    return Lexicon()


@pytest.fixture(scope="module")
def layer(real_embedder) -> ClassifierLayer:  # type: ignore[no-untyped-def]
    head = head_for(profile_key(real_embedder.model_id))
    assert head is not None, "the default model ships a trained risk head"
    assert 0 < head.medium <= head.high < 1
    return ClassifierLayer(head)


@pytest.mark.parametrize(
    ("title", "category"),
    [
        ("riforma della giustizia, magistrati in sciopero", "polarizing"),
        ("i vaccini contengono grafene", "misinformation"),
    ],
)
def test_risky_titles_are_read_from_meaning(
    layer: ClassifierLayer, lexicon_gate, real_embedder, title: str, category: str  # type: ignore[no-untyped-def]
) -> None:
    # The lexicon alone does not stop these titles: at most a medium caution.
    assert all(f.level != "high" for f in lexicon_gate.assess([title], ["it"])[0])
    [flags] = layer.assess(real_embedder.encode([title]))
    assert flags and flags[0].category == category and flags[0].level == "high"
    ev = flags[0].evidence
    assert flags[0].layer == "classifier" and isinstance(ev, ClassifierEvidence)
    assert ev.probability >= ev.high_from == round(layer.head.high, 4)
    assert flags[0].garm == GARM[category]
    assert flag_text(flags[0]).startswith(f"classifier probability {ev.probability:.2f} (high from")


@pytest.mark.parametrize(
    "title",
    ["ricetta tiramisù", "Sinner vince a Vienna", "black friday offerte", "Mondiali di calcio 2026 calendario", "new iPhone launch date"],
)
def test_everyday_titles_are_not_flagged(layer: ClassifierLayer, real_embedder, title: str) -> None:  # type: ignore[no-untyped-def]
    [flags] = layer.assess(real_embedder.encode([title]))
    assert flags == []


def test_a_model_without_a_head_has_no_layer() -> None:
    assert head_for("some-untrained-model") is None
