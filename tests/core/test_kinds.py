"""What a name in a title is (monitor/kinds.py), and how the scorer uses it (real default model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from brand_dna.dna import BrandDNA
from monitor.entities import place_names
from monitor.evidence import FitEvidence
from monitor.explain import verdict_why
from monitor.kinds import KindLexicon, default_kinds, read_with_kinds
from monitor.models import TrendInput
from monitor.scoring import FEATURES, Calibration, MultiBrandScorer
from monitor.text import name_tokens

SMALL = KindLexicon.parse(
    "# comment\n"
    "juventus\tfootball club\n"
    "juve\tfootball club\n"
    "galaxy z fold\tsmartphone\n"
    "galaxy\tsmartphone\n"
    "milano design week\tdesign week\n"
    "italia 1\tTV channel\n"
    "maturità\tschool exam\n"
)


def test_names_are_found_as_whole_words_longest_first() -> None:
    assert [(m.name, m.kind) for m in SMALL.find("Galaxy Z Fold 6 prezzo")] == [("galaxy z fold", "smartphone")]
    assert [m.kind for m in SMALL.find("milano design week 2025")] == ["design week"]
    assert SMALL.find("juventino felice") == ()  # not inside a longer word
    assert SMALL.find("galaxyfold") == ()


def test_accents_fold_and_a_score_is_one_word() -> None:
    assert [m.kind for m in SMALL.find("Maturita 2025 tracce")] == ["school exam"]
    assert [m.kind for m in SMALL.find("maturità")] == ["school exam"]
    assert SMALL.find("francia italia 1-3") == ()  # a match score, not the TV channel
    assert [m.kind for m in SMALL.find("stasera su italia 1")] == ["TV channel"]
    assert name_tokens("Italia-Francia 2:0") == ["italia", "francia", "2:0"]


def test_each_kind_is_read_once() -> None:
    found = SMALL.find("juve juventus galaxy")
    assert [m.kind for m in found] == ["football club", "smartphone"]
    assert read_with_kinds("juve juventus galaxy", found) == "juve juventus galaxy, football club, smartphone"
    assert read_with_kinds("oroscopo", ()) == "oroscopo"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("juventus\n", "expected 'name<TAB>kind'"),
        ("juventus\tfootball club\textra\n", "expected 'name<TAB>kind'"),
        ("\tfootball club\n", "expected 'name<TAB>kind'"),
        ("juventus\t \n", "expected 'name<TAB>kind'"),
        ("---\tpunctuation\n", "no letters or digits"),
        ("a b c d e f g\ttoo long\n", "more than 6 words"),
        ("juve\x07\tfootball club\n", "control characters"),
    ],
)
def test_a_bad_line_is_an_error_naming_it(text: str, why: str) -> None:
    with pytest.raises(ValueError, match="mine.tsv line 2: .*" + why):
        KindLexicon.parse("# mine\n" + text, "mine.tsv")


def test_a_notepad_file_with_a_bom_reads_like_any_other(tmp_path: Path) -> None:
    path = tmp_path / "kinds.tsv"
    path.write_bytes("\ufeffpadel\tracket sport\n".encode())
    assert [(m.name, m.kind) for m in KindLexicon.load(path).find("padel")] == [("padel", "racket sport")]
    path.write_bytes("caff\xe8\tdrink\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8 text"):
        KindLexicon.load(path)


def test_a_lexicon_file_loads_on_its_own(tmp_path: Path) -> None:
    path = tmp_path / "kinds.tsv"
    path.write_text("# mine\npadel\tracket sport\n", "utf-8")
    assert [m.kind for m in KindLexicon.load(path).find("padel torneo")] == ["racket sport"]


def test_packaged_lexicon_loads_and_keeps_places_out() -> None:
    lexicon = default_kinds()
    assert len(lexicon) > 1500
    assert [m.kind for m in lexicon.find("juve napoli")] == ["football club"]
    # A one-word name that is also a place would turn every city story into a club story.
    one_word_places = {p for p in place_names() if " " not in p}
    clubs = {m.name for p in one_word_places for m in lexicon.find(p) if m.kind == "football club"}
    assert clubs == set()


def test_old_calibration_files_weigh_the_new_feature_zero(tmp_path: Path) -> None:
    path = tmp_path / "cal.json"
    path.write_text('{"weights": {"sem": 1, "ent": 1, "kw": 1, "cos": 1}, "bias": -2}', "utf-8")
    assert Calibration.load(path=path).weights["kcos"] == 0.0
    path.write_text('{"weights": {"sem": 1, "ent": 1, "kw": 1}, "bias": -2}', "utf-8")
    fallback = Calibration.load(path=path)  # an old weight missing: the built-in defaults, which score every feature
    assert fallback.source == "built-in defaults"
    assert fallback.logit(np.zeros((1, 2, len(FEATURES)), dtype=np.float32)).shape == (1, 2)


def test_fit_evidence_keeps_the_kinds_through_json() -> None:
    ev = FitEvidence(threshold=0.5, semantic_z=3.0, cosine=0.2, kinds=(("juve", "football club"),), kind_cosine=0.41)
    assert FitEvidence.from_json(ev.to_json()) == ev
    plain = FitEvidence(threshold=0.5, semantic_z=3.0, cosine=0.2)
    assert "kinds" not in plain.to_json() and FitEvidence.from_json(plain.to_json()) == plain


SHOP = BrandDNA(
    name="Elettronica Sud",
    dna=["Consumer electronics shop in Naples", "Smartphones and laptops at the best prices", "Repairs of broken screens"],
)
PUB = BrandDNA(
    name="Birrificio Nord",
    dna=["Birra artigianale prodotta in Lombardia", "La birra dei tifosi di calcio", "Birra da condividere con gli amici"],
)


@pytest.fixture(scope="module")
def scorers(real_embedder):  # type: ignore[no-untyped-def]
    with_kinds = MultiBrandScorer([SHOP, PUB], real_embedder)
    without = MultiBrandScorer([SHOP, PUB], real_embedder, kind_lexicon=KindLexicon())
    return with_kinds, without


@pytest.mark.model
@pytest.mark.parametrize(
    ("title", "lang", "brand"),
    [
        ("galaxy z fold 6", "en", SHOP.name),
        ("pixel 9 pro uscita", "it", SHOP.name),
        ("juventus fiorentina", "it", PUB.name),
        ("atalanta lecce 2-0", "it", PUB.name),
    ],
)
def test_a_title_that_only_names_a_thing_meets_a_statement_about_its_kind(scorers, title: str, lang: str, brand: str) -> None:  # type: ignore[no-untyped-def]
    with_kinds, without = scorers
    v = with_kinds.score_inputs([TrendInput("t", title, lang)])[0]
    plain = without.score_inputs([TrendInput("t", title, lang)])[0]
    assert v[brand].fit >= plain[brand].fit + 0.07, (verdict_why(v[brand]), verdict_why(plain[brand]))
    assert v[brand].fit_evidence is not None and v[brand].fit_evidence.kinds
    assert "read '" in verdict_why(v[brand])
    other = SHOP.name if brand == PUB.name else PUB.name
    assert v[other].verdict == "off_brand" and v[other].fit < plain[other].fit + 0.05


@pytest.mark.model
@pytest.mark.parametrize(("title", "lang"), [("ricetta tiramisù", "it"), ("sanremo 2025 scaletta", "it"), ("meteo napoli", "it")])
def test_a_known_name_of_another_kind_does_not_make_a_fit(scorers, title: str, lang: str) -> None:  # type: ignore[no-untyped-def]
    with_kinds, _ = scorers
    for verdict in with_kinds.score_inputs([TrendInput("t", title, lang)])[0].values():
        assert verdict.verdict == "off_brand", verdict_why(verdict)


def test_your_own_kinds_file_is_added_and_wins(tmp_path: Path, real_embedder) -> None:  # type: ignore[no-untyped-def]
    from monitor.compose import build_scorer
    from monitor.config import load_settings

    mine = tmp_path / "mine.tsv"
    mine.write_text("padel\tracket sport\njuve\tturin football club\n", "utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'[scoring]\nkinds_file = "{mine}"\n', "utf-8")
    scorer = build_scorer(load_settings(config), [SHOP], real_embedder)
    found = scorer.kind_lexicon.find("padel juve napoli galaxy z fold 6")
    assert [(m.name, m.kind) for m in found] == [
        ("padel", "racket sport"),
        ("juve", "turin football club"),
        ("galaxy z fold 6", "smartphone"),  # the packaged list is still there
    ]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "cannot read"),
        ("padel racket sport\n", "line 1: expected 'name<TAB>kind'"),
        ("caff\xe8\tdrink\n".encode("latin-1"), "not UTF-8 text (byte 4)"),
        ("~no-such-user-here/k.tsv", "no-such-user-here"),
    ],
)
def test_a_bad_kinds_file_stops_with_the_key_and_the_reason(tmp_path: Path, content: str | bytes | None, words: str) -> None:
    from monitor.config import ConfigError, load_settings

    mine: Path | str = tmp_path / "mine.tsv"
    if isinstance(content, bytes):
        Path(mine).write_bytes(content)
    elif isinstance(content, str) and content.startswith("~"):
        mine = content
    elif content is not None:
        Path(mine).write_text(content, "utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'[scoring]\nkinds_file = "{mine}"\n', "utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(config)
    assert "kinds_file" in str(err.value) and words in str(err.value)


@pytest.mark.model
def test_a_trend_with_headlines_is_not_read_with_kinds(scorers) -> None:  # type: ignore[no-untyped-def]
    """Headlines already say what the names are; the kinds stand in for them on a bare title only."""
    with_kinds, _ = scorers
    told = TrendInput("t", "juventus fiorentina", "it", context=("La Juventus batte la Fiorentina 2-1 allo Stadium",))
    feats = with_kinds.features(PUB.name, [told])[0]
    assert np.array_equal(feats[:, FEATURES.index("kcos")], feats[:, FEATURES.index("cos")])
    evidence = with_kinds.score_inputs([told])[0][PUB.name].fit_evidence
    assert evidence is not None and evidence.kinds == () and evidence.kind_cosine is None


@pytest.mark.model
def test_hashtag_titles_are_read_as_words(scorers) -> None:  # type: ignore[no-untyped-def]
    with_kinds, _ = scorers
    for title in ("#JuveNapoli", "#SerieA"):
        verdict = with_kinds.score_inputs([TrendInput("t", title, "it")])[0][PUB.name]
        assert verdict.fit_evidence is not None and verdict.fit_evidence.kinds, title
        assert verdict.fit_evidence.kinds[0][1] in {"football club", "football competition"}


def test_a_relative_kinds_file_is_next_to_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.config import load_settings

    folder = tmp_path / "cfg"
    folder.mkdir()
    (folder / "mine.tsv").write_text("padel\tracket sport\n", "utf-8")
    (folder / "config.toml").write_text('[scoring]\nkinds_file = "mine.tsv"\n', "utf-8")
    monkeypatch.chdir(tmp_path)  # started from elsewhere
    assert load_settings(str(folder / "config.toml")).kinds_path() == folder / "mine.tsv"
