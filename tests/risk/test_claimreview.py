"""ClaimReview imports, stored debunks, and matching by claim across languages and dates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from monitor.evidence import FactCheckEvidence
from monitor.models import FactCheckWrite, TrendInput
from monitor.risk.claimreview import parse_claimreview
from monitor.risk.factcheck import FactCheck, FactCheckStore, FactCheckThresholds, is_debunk_rating, name_words
from monitor.storage import Storage

REPO = Path(__file__).resolve().parents[2]


def review(claim: str, url: str, rating: str = "Falso", published: str = "2025-03-10", **extra: object) -> dict:
    return {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "claimReviewed": claim,
        "url": url,
        "datePublished": published,
        "author": {"@type": "Organization", "name": "Verifica.example"},
        "reviewRating": {"@type": "Rating", "alternateName": rating},
        **extra,
    }


DEBUNK_IT = review("L'Unione europea obbliga a mettere farina di insetti nella pasta", "https://verifica.example/insetti")
DEBUNK_EN = review(
    "Photo shows the Leaning Tower of Pisa collapsed after an earthquake", "https://check.example/pisa", "False"
)
TRUE_ONE = review("Il Colosseo ha riaperto il terzo anello", "https://verifica.example/colosseo", "Vero")
SINNER_DECOY = review("Jannik Sinner ha detto che lascerà l'Italia per Monaco", "https://verifica.example/sinner")


def test_datafeed_with_list_and_object_items() -> None:
    feed = {
        "@type": "DataFeed",
        "dataFeedElement": [
            {"@type": "DataFeedItem", "item": [DEBUNK_IT, TRUE_ONE]},
            {"@type": "DataFeedItem", "item": DEBUNK_EN},
            {"@type": "DataFeedItem", "item": {"@type": "ClaimReview", "url": "https://x.example/a"}},
        ],
    }
    result = parse_claimreview(json.dumps(feed))
    assert [fc.url for fc in result.debunks] == [DEBUNK_IT["url"], DEBUNK_EN["url"]]
    assert result.debunks[0].rating == "Falso" and result.debunks[0].published == date(2025, 3, 10)
    assert result.debunks[0].publisher == "Verifica.example"
    assert result.skipped == {"rated true ('Vero'): not a debunk": 1, "no claimReviewed": 1}


def test_array_jsonlines_and_google_claims_search() -> None:
    assert len(parse_claimreview(json.dumps([DEBUNK_IT, DEBUNK_EN])).debunks) == 2
    lines = parse_claimreview("\n".join([json.dumps(DEBUNK_IT), "{broken", json.dumps(DEBUNK_EN)]))
    assert len(lines.debunks) == 2 and lines.skipped == {"line 2 is not JSON": 1}
    google = {
        "claims": [
            {
                "text": "Vaccines contain microchips",
                "claimDate": "2025-01-02T00:00:00Z",
                "claimReview": [
                    {"publisher": {"name": "Facta"}, "url": "https://facta.example/chip", "textualRating": "False"},
                    {"publisher": {"name": "Other"}, "url": "https://other.example/chip", "textualRating": "True"},
                ],
            }
        ]
    }
    result = parse_claimreview(json.dumps(google))
    assert [fc.url for fc in result.debunks] == ["https://facta.example/chip"]
    assert result.debunks[0].claim == "Vaccines contain microchips"


def test_not_json_is_an_error() -> None:
    with pytest.raises(ValueError, match="not JSON"):
        parse_claimreview("just some text\nand more")
    with pytest.raises(ValueError, match="empty: no JSON in it"):
        parse_claimreview(" \n\n")


@pytest.mark.parametrize(("rating", "debunk"), [("Vero", False), ("TRUE", False), ("Corretto", False),
                                                ("Falso", True), ("Mostly true", True), ("Satira", True), ("", True)])
def test_true_ratings_are_not_debunks(rating: str, debunk: bool) -> None:
    assert is_debunk_rating(rating) is debunk


def test_stored_factchecks_survive_and_reimport_adds_nothing(tmp_path: Path) -> None:
    fcs = parse_claimreview(json.dumps([DEBUNK_IT, DEBUNK_EN])).debunks
    with_db = Storage(tmp_path / "onda.db")
    assert with_db.save_factchecks(fcs, "import:a.json") == FactCheckWrite(new=2)
    assert with_db.save_factchecks(fcs, "import:a.json") == FactCheckWrite()
    with_db.close()
    again = Storage(tmp_path / "onda.db")
    assert {fc.url for fc in again.load_factchecks()} == {DEBUNK_IT["url"], DEBUNK_EN["url"]}
    again.close()


def test_a_corrected_review_updates_the_stored_debunk_and_a_true_rating_withdraws_it(tmp_path: Path) -> None:
    db = Storage(tmp_path / "onda.db")
    db.save_factchecks(parse_claimreview(json.dumps([DEBUNK_IT, DEBUNK_EN])).debunks, "import:a.json")
    corrected = {**DEBUNK_IT, "datePublished": "2025-03-20", "reviewRating": {"alternateName": "Fuorviante"}}
    retracted = {**DEBUNK_EN, "reviewRating": {"alternateName": "True"}}
    result = parse_claimreview(json.dumps([corrected, retracted]))
    assert [fc.url for fc in result.withdrawn] == [DEBUNK_EN["url"]] and len(result.reviews) == 2
    write = db.save_factchecks(result.debunks, "import:b.json", result.withdrawn)
    assert write == FactCheckWrite(updated=1, withdrawn=1) and result.unchanged(write) == 0
    [kept] = db.load_factchecks()
    assert (kept.url, kept.rating, kept.published) == (DEBUNK_IT["url"], "Fuorviante", date(2025, 3, 20))
    assert db.count_factchecks() == 1
    # a feed's copy of the withdrawn article does not bring it back; a review rating it false again does
    feed_copy = FactCheck(title="Pisa tower: the photo", url=DEBUNK_EN["url"], publisher="check.example")
    assert db.save_factchecks([feed_copy], "feed") == FactCheckWrite() and db.count_factchecks() == 1
    again = parse_claimreview(json.dumps([DEBUNK_EN]))
    assert db.save_factchecks(again.debunks, "import:c.json", again.withdrawn) == FactCheckWrite(updated=1)
    assert {fc.url for fc in db.load_factchecks()} == {DEBUNK_IT["url"], DEBUNK_EN["url"]}
    db.close()


def test_a_true_rating_of_another_claim_on_the_same_page_withdraws_nothing(tmp_path: Path) -> None:
    db = Storage(tmp_path / "onda.db")
    db.save_factchecks(parse_claimreview(json.dumps([DEBUNK_IT])).debunks, "import:a.json")
    other = review("La pasta italiana usa grano anche estero", DEBUNK_IT["url"], "Vero")
    result = parse_claimreview(json.dumps([other]))
    assert db.save_factchecks(result.debunks, "import:b.json", result.withdrawn) == FactCheckWrite()
    assert [fc.rating for fc in db.load_factchecks()] == ["Falso"]
    db.close()


def test_within_one_file_the_later_review_of_a_claim_wins() -> None:
    retracted = {**DEBUNK_IT, "reviewRating": {"alternateName": "Vero"}}
    assert [fc.url for fc in parse_claimreview(json.dumps([DEBUNK_IT, retracted])).withdrawn] == [DEBUNK_IT["url"]]
    later = parse_claimreview(json.dumps([retracted, DEBUNK_IT]))
    assert later.withdrawn == [] and [fc.rating for fc in later.debunks] == ["Falso"]


def test_a_feed_copy_without_claim_or_rating_only_fills_what_the_review_left_out(tmp_path: Path) -> None:
    db = Storage(tmp_path / "onda.db")
    db.save_factchecks(parse_claimreview(json.dumps([{**DEBUNK_IT, "datePublished": ""}])).debunks, "import:a.json")
    feed_copy = FactCheck(
        title="Farina di insetti nella pasta: è falso", url=DEBUNK_IT["url"], publisher="Other", published=date(2025, 3, 11)
    )
    assert db.save_factchecks([feed_copy], "feed") == FactCheckWrite(updated=1)  # only the missing date
    assert db.save_factchecks([feed_copy], "feed") == FactCheckWrite()  # and no flip-flop on the next poll
    [kept] = db.load_factchecks()
    assert (kept.title, kept.claim, kept.rating) == (DEBUNK_IT["claimReviewed"], DEBUNK_IT["claimReviewed"], "Falso")
    assert (kept.publisher, kept.published) == ("Verifica.example", date(2025, 3, 11))
    db.close()


@pytest.mark.parametrize(
    ("rating", "stored"),
    [
        ({"ratingValue": 1, "bestRating": 5, "worstRating": 1}, "False"),
        ({"ratingValue": "2", "bestRating": "5"}, "Mostly false"),
        ({"ratingValue": 3}, "Half true"),
        ({"ratingValue": 4, "bestRating": 5}, "Mostly true"),
        ({"ratingValue": 5, "bestRating": 5}, None),  # true: not a debunk
        ({"ratingValue": 0, "bestRating": 10, "worstRating": 0}, "False"),
        ({"ratingValue": 10, "bestRating": 10, "worstRating": 0}, None),
        ({"ratingValue": 7, "bestRating": 8, "worstRating": 0}, "Mostly true"),  # only the end of a scale is true
        ({"ratingValue": 5, "bestRating": 8, "worstRating": 0}, "Half true"),
    ],
)
def test_a_numeric_rating_is_read_on_its_scale(rating: dict, stored: str | None) -> None:
    result = parse_claimreview(json.dumps([review("Il pane costa 9 euro al chilo per legge", "https://v.example/pane", reviewRating=rating)]))
    if stored is None:
        assert result.debunks == [] and [fc.url for fc in result.withdrawn] == ["https://v.example/pane"]
        assert list(result.skipped) == ["rated true ('True'): not a debunk"]
    else:
        assert [fc.rating for fc in result.debunks] == [stored]


@pytest.mark.parametrize(
    "rating", [None, {}, {"ratingValue": "n/d"}, {"ratingValue": 7, "bestRating": 5}, {"name": "  "}, {"ratingValue": True}]
)
def test_a_review_without_a_rating_is_skipped(rating: dict | None) -> None:
    item = review("Il pane costa 9 euro al chilo per legge", "https://v.example/pane")
    if rating is None:
        del item["reviewRating"]
    else:
        item["reviewRating"] = rating
    result = parse_claimreview(json.dumps([item]))
    assert result.debunks == [] and result.reviews == []
    assert result.skipped == {"no rating (reviewRating without alternateName or ratingValue)": 1}


def test_a_review_without_a_usable_date_is_imported_and_said(tmp_path: Path) -> None:
    bad = review("Il pane costa 9 euro al chilo per legge", "https://v.example/pane", published="not-a-date")
    none = review("Sinner lascia il tennis", "https://v.example/sinner", published="")
    result = parse_claimreview(json.dumps([bad, none]))
    assert [fc.published for fc in result.debunks] == [None, None]
    assert result.notes == {
        "without a usable date (datePublished 'not-a-date' is not a date): counts from the day it was first stored": 1,
        "without a usable date (no datePublished): counts from the day it was first stored": 1,
    }


@pytest.fixture
def store(real_embedder) -> FactCheckStore:  # type: ignore[no-untyped-def]
    s = FactCheckStore(embedder=real_embedder, max_age_days=30)
    s.preload(parse_claimreview(json.dumps([DEBUNK_IT, DEBUNK_EN, SINNER_DECOY])).debunks)
    return s


def _match(store: FactCheckStore, real_embedder, title: str, day: date) -> list:  # type: ignore[no-untyped-def]
    return store.match([title], real_embedder.encode([title]), [day])[0]


def test_matches_the_claim_across_languages(store: FactCheckStore, real_embedder) -> None:  # type: ignore[no-untyped-def]
    day = date(2025, 3, 12)
    en = _match(store, real_embedder, "EU forces insect flour into Italian pasta", day)
    assert en and isinstance(en[0].evidence, FactCheckEvidence) and en[0].level == "high"
    assert en[0].evidence.url == DEBUNK_IT["url"] and en[0].evidence.rating == "Falso"
    it = _match(store, real_embedder, "Crollata la Torre di Pisa dopo il terremoto, la foto", day)
    assert it and isinstance(it[0].evidence, FactCheckEvidence) and it[0].evidence.url == DEBUNK_EN["url"]


def test_a_shared_name_alone_never_matches(store: FactCheckStore, real_embedder) -> None:  # type: ignore[no-untyped-def]
    assert _match(store, real_embedder, "Sinner vince gli Australian Open", date(2025, 3, 12)) == []


def test_a_debunk_counts_from_a_week_before_it_to_thirty_days_after(store: FactCheckStore, real_embedder) -> None:  # type: ignore[no-untyped-def]
    title = "EU forces insect flour into Italian pasta"  # the debunk is dated 2025-03-10
    assert _match(store, real_embedder, title, date(2025, 4, 9))  # seen 30 days later
    assert _match(store, real_embedder, title, date(2025, 4, 10)) == []  # 31 days later: another wave
    assert _match(store, real_embedder, title, date(2025, 3, 3))  # seen a week before: the hoax the debunk answered
    assert _match(store, real_embedder, title, date(2025, 3, 2)) == []  # 8 days before


def test_an_undated_debunk_counts_from_the_day_it_was_stored_and_says_it_is_undated(tmp_path: Path, real_embedder) -> None:  # type: ignore[no-untyped-def]
    import sqlite3
    from datetime import timedelta

    from monitor.explain import flag_text

    db = Storage(tmp_path / "onda.db")
    db.save_factchecks(parse_claimreview(json.dumps([{**DEBUNK_IT, "datePublished": "not-a-date"}])).debunks, "import:a.json")
    db.close()
    stored_on = date(2025, 6, 1)
    with sqlite3.connect(tmp_path / "onda.db") as raw:  # as if imported that day
        raw.execute("UPDATE factchecks SET added_at = ?", (f"{stored_on.isoformat()}T09:00:00+00:00",))
    again = Storage(tmp_path / "onda.db")
    [fc] = again.load_factchecks()
    again.close()
    assert fc.published is None and fc.stored_on == stored_on
    store = FactCheckStore(embedder=real_embedder, max_age_days=30)
    store.preload([fc])
    title = "EU forces insect flour into Italian pasta"
    [flag] = _match(store, real_embedder, title, stored_on + timedelta(days=20))
    assert isinstance(flag.evidence, FactCheckEvidence) and flag.evidence.published is None
    assert "by Verifica.example (undated), rated 'Falso'" in flag_text(flag)
    assert _match(store, real_embedder, title, stored_on - timedelta(days=8)) == []  # the stored day stands in for its date


def test_the_window_follows_the_settings(real_embedder) -> None:  # type: ignore[no-untyped-def]
    s = FactCheckStore(embedder=real_embedder, max_age_days=5, lag_days=1)
    s.preload(parse_claimreview(json.dumps([DEBUNK_IT])).debunks)
    title = "EU forces insect flour into Italian pasta"
    assert _match(s, real_embedder, title, date(2025, 3, 15)) and _match(s, real_embedder, title, date(2025, 3, 9))
    assert _match(s, real_embedder, title, date(2025, 3, 16)) == [] and _match(s, real_embedder, title, date(2025, 3, 8)) == []


def test_names_count_once_together(real_embedder) -> None:  # type: ignore[no-untyped-def]
    decoy = review("A video shows Messi in tears at his Inter Miami unveiling", "https://verifica.example/messi",
                   published="2023-07-23")
    scam = review("Esselunga regala buoni spesa da 500 euro a chi compila un sondaggio su WhatsApp",
                  "https://verifica.example/esselunga", published="2023-07-20")
    s = FactCheckStore(embedder=real_embedder)
    s.preload(parse_claimreview(json.dumps([decoy, scam])).debunks)
    day = date(2023, 7, 22)
    assert _match(s, real_embedder, "inter miami messi", day) == []  # three shared words, all one name
    [flag] = _match(s, real_embedder, "esselunga buoni spesa 500 euro whatsapp", day)  # the brand counts once
    assert isinstance(flag.evidence, FactCheckEvidence) and flag.evidence.url == scam["url"]


def test_two_forms_of_one_word_count_once(real_embedder) -> None:  # type: ignore[no-untyped-def]
    microchip = review("Il vaccino anti-Covid contiene microchip: i vaccini tracciano le persone",
                       "https://verifica.example/microchip", published="2025-03-10")
    s = FactCheckStore(embedder=real_embedder)
    s.preload(parse_claimreview(json.dumps([microchip])).debunks)
    # shares 'vaccino'/'vaccini' (one word) and 'covid': a new vaccine is not the microchip hoax
    assert _match(s, real_embedder, "approvato il nuovo vaccino covid, vaccini disponibili in farmacia", date(2025, 3, 11)) == []


def test_title_case_does_not_make_every_word_a_name() -> None:
    assert name_words("Video Shows Messi Crying At His Inter Miami Unveiling") == set()
    assert name_words("Messi cried at his Inter Miami unveiling. Video Shows Messi Crying") == {"messi", "inter", "miami"}


def test_a_cache_cleared_by_another_match_loses_nothing() -> None:
    from brand_dna.embedder import HashEmbedder

    store: FactCheckStore

    class Clearing(HashEmbedder):
        def encode(self, texts):  # type: ignore[no-untyped-def]
            store._word_cache.clear()  # what a concurrent match does when the cache is full
            return super().encode(texts)

    store = FactCheckStore(embedder=Clearing(64), thresholds=FactCheckThresholds(similarity=-1.0, term_similarity=0.5))
    store.add([FactCheck("EU forces insect flour into pasta", "https://a.example/1", "A", date(2025, 3, 10))], date(2025, 3, 10))
    text = "insect flour pasta"
    store._word_cache.update({w: np.ones(64, dtype=np.float32) / 8 for w in ("insect", "flour")})
    flags = store.match([text], store.embedder.encode([text]), date(2025, 3, 11))  # type: ignore[union-attr]
    assert len(flags) == 1  # no KeyError: the cached vectors were copied before the embedding call


def test_words_match_their_translation(store: FactCheckStore, real_embedder) -> None:  # type: ignore[no-untyped-def]
    # The Italian debunk says "farina di insetti"; an English title words the same claim in English.
    [flag] = _match(store, real_embedder, "insect flour hidden in pasta by EU rules", date(2025, 3, 11))
    assert isinstance(flag.evidence, FactCheckEvidence) and flag.evidence.url == DEBUNK_IT["url"]
    assert any("~" in term for term in flag.evidence.shared_terms), flag.evidence.shared_terms


def run_onda(args: list[str], stdin: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "ONDA_MODEL__CACHE_DIR": str(tmp_path / "cache"),
        "ONDA_RISK__CREDIBILITY_DIR": str(tmp_path / "cred"),
    }
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], input=stdin, capture_output=True, text=True, timeout=300, cwd=REPO, env=env
    )


def test_import_then_score_with_db_and_date(tmp_path: Path) -> None:
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps({"@type": "DataFeed", "dataFeedElement": [{"item": [DEBUNK_IT, TRUE_ONE]}]}), "utf-8")
    db = tmp_path / "team.db"
    first = run_onda(["data", "import-factchecks", str(feed), "--db", str(db)], "", tmp_path)
    assert first.returncode == 0, first.stderr
    assert "imported 1 fact-check(s), 0 updated, 0 already known, 0 withdrawn (now rated true), 1 skipped" in first.stdout
    assert "rated true ('Vero')" in first.stdout
    assert not Path(f"{db}-wal").exists()  # the command closed the store: the last close checkpoints the WAL away
    second = run_onda(["--db", str(db), "data", "import-factchecks", str(feed)], "", tmp_path)
    assert "imported 0 fact-check(s), 0 updated, 1 already known" in second.stdout
    lines = [
        {"id": "hoax", "title": "pasta con farina di insetti obbligatoria per la UE", "lang": "it", "date": "2025-03-11"},
        {"id": "old", "title": "pasta con farina di insetti obbligatoria per la UE", "lang": "it", "date": "2023-01-05"},
    ]
    brand = tmp_path / "brand.toml"
    brand.write_text('[brand]\nname = "Pasta"\ndna = ["Italian pasta for family dinners"]\n', "utf-8")
    scored = run_onda(["score", "--brand", str(brand), "--db", str(db)], "\n".join(json.dumps(x) for x in lines), tmp_path)
    assert scored.returncode == 0, scored.stderr
    out = {o["id"]: o for o in map(json.loads, scored.stdout.splitlines())}
    assert out["hoax"]["verdict"] == "risky" and "misinformation" in out["hoax"]["risk"]["categories"]
    assert any(DEBUNK_IT["url"] in r for r in out["hoax"]["risk"]["reasons"])
    [debunk] = [e for e in out["hoax"]["risk"]["evidence"] if e["layer"] == "factcheck"]
    assert debunk["url"] == DEBUNK_IT["url"] and debunk["rating"] == "Falso" and debunk["level"] == "high"
    assert not any(DEBUNK_IT["url"] in r for r in out["old"]["risk"]["reasons"])
    missing = run_onda(["score", "--brand", str(brand), "--db", str(tmp_path / "nope.db")], "", tmp_path)
    assert missing.returncode == 2 and "database not found" in missing.stderr


def test_a_file_without_any_rated_claimreview_is_an_error_that_says_what_it_skipped(tmp_path: Path) -> None:
    other = tmp_path / "stories.json"
    other.write_text(json.dumps([{"by": "pg", "title": "Ask HN: what do you use?", "url": "https://news.example/1"}]), "utf-8")
    db = tmp_path / "team.db"
    done = run_onda(["data", "import-factchecks", str(other), "--db", str(db)], "", tmp_path)
    assert done.returncode == 1
    assert "imported 0 fact-check(s)" in done.stdout and "skipped 1: no claimReviewed" in done.stdout
    assert "no rated ClaimReview in it: nothing to import" in done.stderr
    corrected = tmp_path / "corrected.json"
    corrected.write_text(json.dumps([review("Il Colosseo chiude per sempre", "https://v.example/colosseo")]), "utf-8")
    assert run_onda(["data", "import-factchecks", str(corrected), "--db", str(db)], "", tmp_path).returncode == 0
    corrected.write_text(json.dumps([review("Il Colosseo chiude per sempre", "https://v.example/colosseo", "Vero")]), "utf-8")
    again = run_onda(["data", "import-factchecks", str(corrected), "--db", str(db)], "", tmp_path)
    assert again.returncode == 0, again.stderr
    assert "1 withdrawn (now rated true)" in again.stdout and "0 stored" in again.stdout


def test_bad_date_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="ISO date"):
        TrendInput.from_json({"id": "x", "title": "t", "date": "yesterday"})
    assert TrendInput.from_json({"id": "x", "title": "t", "date": "2024-01-28T23:30:00-05:00"}).date == date(2024, 1, 29)


def test_store_keeps_fact_checks_given_as_objects(real_embedder) -> None:  # type: ignore[no-untyped-def]
    store = FactCheckStore(embedder=real_embedder)
    fc = FactCheck(title="t", url="https://a.example/1", publisher="p", published=date(2025, 1, 1), claim="c")
    assert store.add([fc, fc]) == 1 and len(store) == 1


def test_score_db_never_writes_to_the_file(tmp_path: Path) -> None:
    import hashlib
    import sqlite3

    other = tmp_path / "someone-elses.sqlite"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE notes (body TEXT)")
    db.execute("INSERT INTO notes VALUES ('keep me')")
    db.commit()
    db.close()
    before = hashlib.sha256(other.read_bytes()).hexdigest()
    brand = tmp_path / "brand.toml"
    brand.write_text('[brand]\nname = "Pasta"\ndna = ["Italian pasta for family dinners"]\n', "utf-8")
    line = json.dumps({"id": "a", "title": "ricetta carbonara", "lang": "it"})
    proc = run_onda(["score", "--brand", str(brand), "--db", str(other)], line + "\n", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["id"] == "a"
    assert hashlib.sha256(other.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("someone")) == ["someone-elses.sqlite"]


@pytest.mark.parametrize(("rating", "level"), [("Mostly true", "medium"), ("Nì", "medium"), ("Falso", "high"), ("", "high")])
def test_partly_true_ratings_are_a_caution(rating: str, level: str) -> None:
    from monitor.risk.factcheck import debunk_level

    assert debunk_level(rating) == level


def test_schema_prefixed_types_and_bad_claims_field() -> None:
    ok = parse_claimreview(json.dumps({**DEBUNK_IT, "@type": "schema:ClaimReview"}))
    assert len(ok.debunks) == 1
    assert parse_claimreview(json.dumps({**DEBUNK_IT, "@type": []})).skipped_total == 1
    assert parse_claimreview(json.dumps({"claims": {"not": "a list"}})).skipped == {"'claims' is not a list": 1}
