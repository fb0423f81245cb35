"""The classifier layer reads risk from the embedding of titles that carry no risk word."""

from __future__ import annotations

import json

import numpy as np
import pytest

from monitor.evidence import ClassifierEvidence
from monitor.explain import flag_text
from monitor.profiles import profile_key
from monitor.risk.classifier import GARM, ClassifierHead, ClassifierLayer, head_for, title_words


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
    [flags] = layer.assess(real_embedder.encode([title]), [title_words(title, "it")])
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
    [flags] = layer.assess(real_embedder.encode([title]), [title_words(title, None)])
    assert flags == []


def test_a_model_without_a_head_has_no_layer() -> None:
    assert head_for("some-untrained-model") is None


def test_a_gate_on_a_model_without_a_head_says_so_once(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import monitor.risk
    from brand_dna.embedder import HashEmbedder

    monkeypatch.setattr(monitor.risk, "_no_head_warned", set())
    with caplog.at_level("WARNING", logger="monitor.risk"):
        gates = [monitor.risk.RiskGate(HashEmbedder(dim=64)) for _ in range(2)]
    assert all(g.classifier is None for g in gates)
    said = [r.getMessage() for r in caplog.records if r.name == "monitor.risk"]
    assert len(said) == 1 and "'hash-64' has no trained risk classifier" in said[0]


def test_the_packaged_english_model_ships_a_head_too(lexicon_gate) -> None:  # type: ignore[no-untyped-def]
    """`[model] backend = "sentence-transformers"` keeps a classifier: its title words carry the Italian."""
    from brand_dna.embedder import make_embedder

    minilm = make_embedder("sentence-transformers", "", threads=2)
    head = head_for(profile_key(minilm.model_id))
    assert head is not None and profile_key(minilm.model_id) == "all-MiniLM-L6-v2"
    title = "Aereo precipitato a Linate, nessun sopravvissuto"
    assert lexicon_gate.assess([title], ["it"])[0] == []  # no risk word the lexicon knows
    titles = [title, "Sinner vince le ATP Finals", "Giornata mondiale della pasta"]
    flags = ClassifierLayer(head).assess(minilm.encode(titles), [title_words(t, "it") for t in titles])
    assert [[(f.category, f.level) for f in fl] for fl in flags] == [[("tragedy", "high")], [], []]


def _toy_head() -> ClassifierHead:
    # Two dimensions, two categories; "alluvione" pushes tragedy, "sciopero" polarizing.
    return ClassifierHead(
        ("tragedy", "polarizing"),
        weights=np.zeros((2, 2), dtype=np.float32),
        bias=np.array([-2.0, -2.0], dtype=np.float32),
        high=0.6,
        medium=0.3,
        words=("alluvione", "piovere", "sciopero"),
        word_weights=np.array([[3.0, 0.2, -1.0], [-1.0, 0.0, 3.0]], dtype=np.float32),
    )


def test_title_words_add_their_weights_and_are_named_in_the_evidence() -> None:
    head = _toy_head()
    vectors = np.zeros((3, 2), dtype=np.float32)
    words = [frozenset({"alluvione", "piovere", "emilia"}), frozenset({"sciopero"}), frozenset({"emilia"})]
    logits = head.logits(vectors, words)
    assert logits[0].tolist() == pytest.approx([1.2, -3.0])  # unknown words ("emilia") weigh nothing
    assert logits[2].tolist() == pytest.approx([-2.0, -2.0])
    flood, strike, nothing = ClassifierLayer(head).assess(vectors, words)
    assert nothing == []
    assert flood[0].category == "tragedy" and flood[0].level == "high"
    ev = flood[0].evidence
    assert isinstance(ev, ClassifierEvidence) and ev.words == ("alluvione",)  # 'piovere' weighs under 0.5
    assert "words: alluvione" in flag_text(flood[0])
    assert strike[0].category == "polarizing"
    # A head trained without words (an older data file) reads the vector only and names no word.
    plain = ClassifierHead(head.categories, np.array([[1.0, 0.0], [0.0, 0.0]], dtype=np.float32), head.bias, 0.6, 0.3)
    [[flag], [], []] = ClassifierLayer(plain).assess(np.array([[5.0, 0.0], [0, 0], [0, 0]], dtype=np.float32), words)
    assert isinstance(flag.evidence, ClassifierEvidence) and flag.evidence.words == ()


def test_the_evidence_names_at_most_three_words_that_raised_the_category_strongest_first() -> None:
    words = ("a1", "a2", "a3", "a4", "down", "weak")
    head = ClassifierHead(
        ("tragedy",),
        weights=np.zeros((1, 2), dtype=np.float32),
        bias=np.zeros(1, dtype=np.float32),
        high=0.6,
        medium=0.3,
        words=words,
        word_weights=np.array([[0.6, 2.0, 1.0, 3.0, -4.0, 0.49]], dtype=np.float32),
    )
    assert head.top_words(frozenset(words), 0) == ("a4", "a2", "a3")
    assert head.top_words(frozenset({"down", "weak", "a1"}), 0) == ("a1",)  # lowering or too weak: not named
    assert head.top_words(frozenset({"unknown"}), 0) == ()


def test_a_head_with_words_round_trips_through_json_and_checks_its_shapes() -> None:
    head = _toy_head()
    again = ClassifierHead.from_json(json.loads(json.dumps(head.to_json())))
    assert again.words == head.words
    words = [frozenset({"sciopero", "alluvione"})]
    assert again.probabilities(np.zeros((1, 2)), words) == pytest.approx(head.probabilities(np.zeros((1, 2)), words))
    plain = ClassifierHead.from_json({k: v for k, v in head.to_json().items() if k not in ("words", "word_weights")})
    assert plain.words == () and "words" not in plain.to_json()
    with pytest.raises(ValueError, match=r"word_weights must be \(2, 3\)"):
        ClassifierHead(head.categories, head.weights, head.bias, 0.6, 0.3, words=head.words, word_weights=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="2 word sets for 1 vectors"):
        head.logits(np.zeros((1, 2)), [frozenset(), frozenset()])
    broken = {k: v for k, v in head.to_json().items() if k != "word_weights"}
    with pytest.raises(ValueError, match="'words' and 'word_weights' or neither"):
        ClassifierHead.from_json(broken)


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("Alluvione in Emilia, migliaia di sfollati", "it", {"alluvione", "emilia", "migliaio", "sfollato"}),
        ("Floods in Valencia leave hundreds dead", "en", {"flood", "valencia", "leave", "hundred", "dead"}),
        # No language: the words in both, so an Italian title meets the Italian weights either way.
        ("tre morti a Napoli", None, {"morto", "morti", "napoli", "tre"}),
    ],
)
def test_title_words_are_content_lemmas_in_the_trends_language(text: str, lang: str | None, expected: set[str]) -> None:
    assert title_words(text, lang) == expected
