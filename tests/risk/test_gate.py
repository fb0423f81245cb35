"""RiskGate with the real model: prototypes (IT + EN), all layers together, brand overrides, speed."""

from __future__ import annotations

import time
from datetime import date

import numpy as np
import pytest

from brand_dna.dna import BrandDNA
from monitor.evidence import AvoidEvidence, FactCheckEvidence, LexiconEvidence, PrototypeEvidence, TermCount
from monitor.explain import STRENGTH_WORDS, flag_text, risk_reasons
from monitor.models import RiskFlag, TrendInput
from monitor.risk import CredibilityIndex, FactCheck, FactCheckStore, RiskGate, embedding_text, trend_text
from monitor.risk.prototypes import PrototypeLayer

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def gate(real_embedder) -> RiskGate:  # type: ignore[no-untyped-def]
    return RiskGate(real_embedder, today=lambda: date(2024, 6, 1))


def brand(**lists: list[str]) -> BrandDNA:
    return BrandDNA(name="Caffè Test", dna=("Italian espresso",)).with_lists(**lists)


def test_trend_text_uses_title_and_some_headlines() -> None:
    t = TrendInput("x", "#WhyIStayed", context=(*(f"headline {i}" for i in range(9)), "#WhyIStayed"))
    text = trend_text(t)
    assert text == "#WhyIStayed. headline 0. headline 1. headline 2"
    from monitor.scoring import trend_text as scorer_text

    assert scorer_text(t) == text  # the scorer embeds exactly what the gate was calibrated on


@pytest.mark.parametrize(
    ("title", "lang", "garm"),
    [
        ("Explosions near the stadium, several killed, police hunt the attackers", "en", "Terrorism"),
        ("Typhoon leaves hundreds dead, rescuers dig through rubble", "en", "Death, Injury or Military Conflict"),
        ("Viral video of the minister is a deepfake, fact checkers say", "en", "Misinformation"),
        ("Esplosione in centro, uomo armato apre il fuoco sulla folla: morti e feriti", "it", None),
        ("Sbarchi di migranti, scontro tra governo e opposizione sul decreto", "it", None),
    ],
)
def test_prototypes_flag_harm(real_embedder, title: str, lang: str, garm: str | None) -> None:  # type: ignore[no-untyped-def]
    layer = PrototypeLayer(real_embedder)
    [flags] = layer.assess(real_embedder.encode([title]), [lang])
    assert flags, f"no prototype flag for {title!r}"
    if garm is not None:
        best = max(flags, key=lambda f: f.strength)
        assert best.garm == garm and best.layer == "prototype" and best.level == "high"
        ev = best.evidence
        assert isinstance(ev, PrototypeEvidence)
        assert any(ev.example in c.examples for c in layer.categories if c.name == garm)
        assert ev.margin > 0 and ev.similarity > ev.margin
        text = flag_text(best)
        assert text.startswith(f"close to '{ev.example}'") and "vs safe news" in text
        assert text.index(ev.example) < text.index(f"(GARM: {garm})")


@pytest.mark.parametrize(
    ("title", "lang"),
    [
        ("New espresso machine launched with a smart milk frother", "en"),
        ("Tennis: the champion wins the final in straight sets", "en"),
        ("Nuova ricetta del tiramisù al pistacchio", "it"),
        ("Festa in piazza per la vittoria della squadra di pallavolo", "it"),
    ],
)
def test_prototypes_leave_safe_news_alone(real_embedder, title: str, lang: str) -> None:  # type: ignore[no-untyped-def]
    [flags] = PrototypeLayer(real_embedder).assess(real_embedder.encode([title]), [lang])
    assert all(f.level != "high" for f in flags), [flag_text(f) for f in flags]


def test_with_a_trained_classifier_the_prototypes_are_only_a_caution(gate: RiskGate, real_embedder) -> None:  # type: ignore[no-untyped-def]
    title = "Typhoon leaves hundreds dead, rescuers dig through rubble"
    [alone] = PrototypeLayer(real_embedder).assess(real_embedder.encode([title]), ["en"])
    assert any(f.level == "high" for f in alone)  # the layer by itself reaches high (above)
    assert gate.classifier is not None
    flags = gate.assess_base([TrendInput("t", title, lang="en")], None)[0]
    protos = [f for f in flags if f.layer == "prototype"]
    assert protos and all(f.level == "medium" for f in protos)
    assert any(f.level == "high" and f.layer != "prototype" for f in flags)  # the trend is still stopped
    without = RiskGate(real_embedder, today=lambda: date(2024, 6, 1))
    without.classifier = None  # a model with no trained head: the prototypes may block on their own
    assert any(f.layer == "prototype" and f.level == "high" for f in without.assess_base([TrendInput("t", title, lang="en")], None)[0])


def test_context_decides_ambiguous_hashtag(gate: RiskGate) -> None:
    bare = TrendInput("a", "#WhyIStayed", lang="en")
    with_context = TrendInput(
        "b",
        "#WhyIStayed",
        lang="en",
        context=("Survivors of domestic violence explain why they stayed", "Ray Rice video sparks abuse debate"),
    )
    levels = [
        max((f.level for f in flags), default="none", key=["none", "low", "medium", "high"].index)
        for flags in gate.assess_base([bare, with_context], None)
    ]
    assert levels[1] == "high"


def test_a_hashtag_is_judged_by_its_words_not_its_mark(gate: RiskGate) -> None:
    # The '#' pulls the multilingual embedding towards activism: "#caffè" once read as polarizing/high.
    benign = ["#caffè", "#linux", "#italia", "#mondiali", "#xfactor", "#BlackFriday", "#giornatamondialedelcaffè"]
    risky = ["#prayforvalencia", "#iostoconilpopoloiraniano"]
    flags = gate.assess_base([TrendInput(str(i), t, lang="it") for i, t in enumerate(benign + risky)], None)
    levels = [max((f.level for f in fl), default="none", key=["none", "low", "medium", "high"].index) for fl in flags]
    assert all(level != "high" for level in levels[: len(benign)]), dict(zip(benign, levels, strict=False))
    assert levels[len(benign) :] == ["high", "high"], dict(zip(risky, levels[len(benign) :], strict=True))
    assert embedding_text(TrendInput("h", "#BlackFriday")) == "Black Friday"


def test_all_layers_and_vectors_argument(real_embedder) -> None:  # type: ignore[no-untyped-def]
    store = FactCheckStore(embedder=real_embedder)
    store.add(
        [
            FactCheck(
                "Lo squalo in autostrada a Genova è un fotomontaggio", "https://f.example/s", "Facta", date(2024, 8, 13)
            )
        ],
        today=date(2024, 8, 13),
    )
    gate = RiskGate(
        real_embedder, credibility=CredibilityIndex.load(None), factchecks=store, today=lambda: date(2024, 8, 14)
    )
    trends = [
        TrendInput("1", "Ponte Morandi", lang="it", context=("Genova ricorda le vittime del Morandi",)),
        TrendInput("2", "Squalo in autostrada a Genova", lang="it", context=("La foto dello squalo tra le auto",)),
        TrendInput("3", "Sinner vince a Wimbledon", lang="it", urls=("https://www.ansa.it/sport/sinner",)),
    ]
    vecs = real_embedder.encode([trend_text(t) for t in trends])
    flags = gate.assess_base(trends, vecs)
    assert any(f.layer == "calendar" and f.level == "high" for f in flags[0])
    assert any(isinstance(f.evidence, FactCheckEvidence) and f.evidence.url == "https://f.example/s" for f in flags[1])
    assert not any(f.level == "high" for f in flags[2])
    with pytest.raises(ValueError, match="vectors for"):
        gate.assess_base(trends, vecs[:2])
    assert gate.assess_base([], None) == []


def test_avoid_always_risky(gate: RiskGate) -> None:
    t = TrendInput("p", "Meloni al vertice G7", lang="it", context=("La premier incontra i leader",))
    base = gate.assess_base([t], None)[0]
    plain = gate.for_brand(base, t, brand())
    assert plain.level != "high" and plain.avoid_hit is None
    avoided = gate.for_brand(base, t, brand(avoid=["politica"]))
    assert avoided.level == "high" and avoided.avoid_hit == "politica"
    [avoid] = [f for f in avoided.flags if f.layer == "avoid"]
    assert isinstance(avoid.evidence, AvoidEvidence) and avoid.evidence.topic == "politica"
    assert isinstance(avoid.evidence.matched, LexiconEvidence) and avoid.evidence.matched.group == "politics"
    reasons = risk_reasons(avoided)
    # The terms first, then the brand's rule; the politics finding is not listed a second time on its own.
    assert reasons[0].startswith("'") and "meloni" in reasons[0] and "brand avoids 'politica'" in reasons[0]
    assert sum("meloni" in r for r in reasons) == 1 and len(reasons) == len(set(reasons))
    # a topic with no layer behind it still matches literally
    t2 = TrendInput("f", "Fast fashion: il nuovo drop", lang="it")
    hit = gate.for_brand(gate.assess_base([t2], None)[0], t2, brand(avoid=["fast fashion"]))
    assert hit.level == "high" and hit.avoid_hit == "fast fashion"
    assert risk_reasons(hit)[0] == "mentions 'fast fashion' in its title or headlines — brand avoids 'fast fashion'"


def test_allow_silences_matching_layer_but_shows_it(gate: RiskGate) -> None:
    t = TrendInput("e", "Elezioni europee, exit poll", lang="it", context=("Urne chiuse, lo spoglio in diretta",))
    base = gate.assess_base([t], None)[0]
    assert gate.for_brand(base, t, brand()).level == "high"
    allowed = gate.for_brand(base, t, brand(allow=["elezioni", "politics", "polarizing"]))
    assert allowed.level != "high"
    assert all(f.overridden and f.allowed_by for f in allowed.flags if f.category == "polarizing")
    overridden = [r for r in risk_reasons(allowed) if "allowed by brand: '" in r]
    assert overridden and all(r.startswith("'") or r.startswith("close to") or r.startswith("classifier") for r in overridden)
    # allow does not silence another category
    death = TrendInput("d", "È morto il campione, lutto nello sport", lang="it")
    dflags = gate.assess_base([death], None)[0]
    assert gate.for_brand(dflags, death, brand(allow=["elezioni"])).level == "high"
    assert gate.for_brand(dflags, death, brand(allow=["morte", "tragedy"])).level != "high"


def test_avoid_wins_over_allow(gate: RiskGate) -> None:
    t = TrendInput("x", "Referendum, vince il sì", lang="it")
    base = gate.assess_base([t], None)[0]
    res = gate.for_brand(base, t, brand(avoid=["referendum"], allow=["referendum"]))
    assert res.level == "high" and res.avoid_hit == "referendum"


def test_thousand_trends_fast_beyond_embedding(gate: RiskGate, real_embedder) -> None:  # type: ignore[no-untyped-def]
    titles = [
        "Sinner vince gli Australian Open",
        "Crolla il ponte, decine di morti",
        "Meloni contro Schlein",
        "New iPhone launched",
        "Hurricane kills dozens in Florida",
        "Bufala sui vaccini, arriva la smentita",
        "Ricetta della carbonara",
        "Election results contested",
    ]
    trends = [
        TrendInput(
            str(i),
            titles[i % len(titles)] + f" {i}",
            lang="it" if i % 2 else "en",
            context=(f"headline {i} about the story", "another headline"),
            urls=(f"https://www.ansa.it/{i}", f"https://blog{i}.example/x"),
        )
        for i in range(1000)
    ]
    gate.assess_base(trends[:4], None)  # warm: spaCy + prototype index
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(1000, real_embedder.dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    start = time.perf_counter()
    out = gate.assess_base(trends, vecs)
    elapsed = time.perf_counter() - start
    assert len(out) == 1000
    assert elapsed < 2.0, f"assess_base took {elapsed:.2f}s for 1000 trends"


def test_flags_are_readable(gate: RiskGate) -> None:
    t = TrendInput("t", "Terremoto in Turchia", lang="it", context=("Migliaia di morti sotto le macerie",))
    flags = gate.assess_base([t], None)[0]
    assert {f.layer for f in flags} >= {"lexicon", "prototype"}
    for f in flags:
        assert isinstance(f, RiskFlag) and f.garm and f.evidence.layer == f.layer
        text = flag_text(f)
        assert not text.startswith(f.category) and f"{f.category}" in text and f"(GARM: {f.garm})" in text
        assert text.endswith(f"{STRENGTH_WORDS[f.level]} evidence")
        assert RiskFlag.from_json(f.to_json()) == f  # stored verdicts keep the same evidence


def test_prototype_index_persists(tmp_path, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    from monitor.risk import prototypes

    layer = PrototypeLayer(hash_embedder, cache_dir=tmp_path)
    prototypes._CACHE.pop(layer._key, None)  # only this embedder's entry: keep the real model's index
    built = layer.built()
    assert (tmp_path / "risk_prototypes.faiss").exists() and (tmp_path / "risk_prototypes.json").exists()
    prototypes._CACHE.pop(layer._key, None)
    again = PrototypeLayer(hash_embedder, cache_dir=tmp_path).built()
    assert again is not built and np.allclose(built.matrix, again.matrix)
    prototypes._CACHE.pop(layer._key, None)


def test_lexicon_reads_more_headlines_than_are_embedded(gate: RiskGate) -> None:
    t = TrendInput(
        "m",
        "#TrendingNow",
        lang="en",
        context=("Fans react", "Everyone is talking", "The latest", "Gunman kills five in mall shooting"),
    )
    assert "Gunman" not in trend_text(t)
    flags = gate.assess_base([t], None)[0]
    assert any(f.layer == "lexicon" and f.level == "high" for f in flags)


def test_brand_lexicon_file_next_to_dna(gate: RiskGate, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    dna = tmp_path / "caffe.toml"
    dna.write_text('[brand]\nname = "Caffè"\ndna = ["espresso"]\n')
    (tmp_path / "caffe.risk.toml").write_text(
        '[groups.recalls]\ncategory = "tragedy"\naliases = ["richiami"]\nhigh = ["richiamo", "listeria"]\n'
    )
    b = replace(brand(), path=dna)
    t = TrendInput("r", "Richiamo per listeria nel caffè freddo", lang="it")
    base = gate.assess_base([t], None)[0]
    res = gate.for_brand(base, t, b)
    own = [f for f in res.flags if isinstance(f.evidence, LexiconEvidence) and f.evidence.brand]
    assert res.level == "high" and own and own[0].evidence == LexiconEvidence(
        "recalls",
        (TermCount("listeria", 1, "recalls"), TermCount("richiamo", 1, "recalls")),
        score=own[0].evidence.score,
        brand=True,
    )
    assert any(r.startswith("'listeria', 'richiamo' (the brand's own terms) — tragedy: recalls") for r in risk_reasons(res))
    allowed = gate.for_brand(base, t, b.with_lists(allow=["richiami"]))
    assert allowed.level != "high" and any("allowed by brand: 'richiami'" in r for r in risk_reasons(allowed))
    assert gate.for_brand(base, t, brand()).level != "high"  # other brands are not affected
