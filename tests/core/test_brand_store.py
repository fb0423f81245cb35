"""Brands in the store: `onda brand import|export|history`, the start-up rule for brand files, who marked."""

from __future__ import annotations

from pathlib import Path

import pytest

from brand_dna.dna import BrandFileError
from monitor.brands import BrandBook
from monitor.cli import main
from monitor.config import Settings, load_settings
from monitor.storage import Storage

BRAND = """# Acme's DNA: comments survive the store
[brand]
name = "Acme"
dna = ["espresso at the bar", "the Italian coffee ritual"]  # two ideas
avoid = ["politics"]
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No config file (defaults), ONDA_USER__NAME as the user; returns the db path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ONDA_CONFIG", raising=False)
    monkeypatch.setenv("ONDA_USER__NAME", "anna")
    return tmp_path / "onda.db"


def test_import_export_round_trip_and_a_reimport_adds_no_version(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "acme.toml"
    src.write_text(BRAND, encoding="utf-8")
    assert main(["brand", "import", str(src), "--db", str(env)]) == 0
    assert "Acme: stored as version 1" in capsys.readouterr().out
    out = tmp_path / "exported.toml"
    assert main(["--db", str(env), "brand", "export", "Acme", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == BRAND
    capsys.readouterr()
    assert main(["brand", "export", "Acme", "--db", str(env)]) == 0
    assert capsys.readouterr().out == BRAND
    assert main(["brand", "import", str(out), "--db", str(env)]) == 0
    assert "Acme: unchanged (version 1)" in capsys.readouterr().out
    with Storage(env) as db:
        assert [r.version for r in db.brand_history("Acme")] == [1]


def test_history_keeps_who_when_before_and_after(env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "acme.toml"
    src.write_text(BRAND, encoding="utf-8")
    assert main(["brand", "import", str(src), "--db", str(env)]) == 0
    edited = BRAND.replace('avoid = ["politics"]', 'avoid = ["politics", "war"]\nalert_threshold = 0.1')
    src.write_text(edited, encoding="utf-8")
    assert main(["brand", "import", str(src), "--db", str(env)]) == 0
    with Storage(env) as db:
        history = db.brand_history("Acme")
    assert [(r.version, r.by) for r in history] == [(1, "anna"), (2, "anna")]
    assert history[0].before is None and history[0].after == BRAND
    assert history[1].before == BRAND and history[1].after == edited
    assert history[1].summary == "avoid +1 -0, alert_threshold 0.0 -> 0.1"
    capsys.readouterr()
    assert main(["brand", "history", "Acme", "--db", str(env)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("v1  ") and "anna  avoid +1 -0" in lines[1]


def test_bad_file_and_unknown_brand_are_one_line_errors(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[brand]\nname = "Acme"\n', encoding="utf-8")
    assert main(["brand", "import", str(bad), "--db", str(env)]) == 1
    assert "brand.dna" in capsys.readouterr().err
    assert main(["brand", "export", "Nope", "--db", str(env)]) == 1
    assert "no brand named 'Nope'" in capsys.readouterr().err


def test_a_brand_file_is_imported_at_start_only_when_its_text_is_new_to_the_store(tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(BRAND, encoding="utf-8")
    with Storage(tmp_path / "onda.db") as db:
        book = BrandBook(db, "anna")
        [first] = book.sync_files([path])
        assert first.path == path and db.brand_versions() == {"Acme": 1}
        # another dashboard edits the brand in the store: the untouched file does not undo it
        book.save_edit(first.with_lists(avoid=["politics", "war"]))
        [kept] = book.sync_files([path])
        assert kept.avoid == ("politics", "war") and kept.path == path and db.brand_versions() == {"Acme": 2}
        # the file is edited: it is imported as the next version
        path.write_text(BRAND.replace("two ideas", "two ideas, one edit").replace('"politics"', '"religion"'), "utf-8")
        [edited] = book.sync_files([path])
        assert edited.avoid == ("religion",) and db.brand_versions() == {"Acme": 3}
        assert book.sync_files([path]) == [edited] and db.brand_versions() == {"Acme": 3}
        # Another machine's copy of the file, untouched since v1, restarts: it does not undo v2 or v3.
        server_copy = tmp_path / "server" / "acme.toml"
        server_copy.parent.mkdir()
        server_copy.write_text(BRAND, encoding="utf-8")
        [served] = book.sync_files([server_copy])
        assert served.avoid == ("religion",) and db.brand_versions() == {"Acme": 3}
        # ... while a save that rewrote the editor's file is not re-imported by the editor's next start
        book.save_edit(edited.with_lists(avoid=["war"]), path.read_text("utf-8").replace('"religion"', '"war"'))
        path.write_text(path.read_text("utf-8").replace('"religion"', '"war"'), "utf-8")
        assert db.brand_versions() == {"Acme": 4}
        [again] = book.sync_files([path])
        assert again.avoid == ("war",) and db.brand_versions() == {"Acme": 4}
        # a brand only the store holds is scored too, after the configured ones
        book.import_text('[brand]\nname = "Beta"\ndna = ["bikes"]\n', "beta.toml")
        assert [b.name for b in book.sync_files([path])] == ["Acme", "Beta"]


def test_a_stale_write_is_refused_and_the_book_retries_on_the_new_version(tmp_path: Path) -> None:
    with Storage(tmp_path / "onda.db") as db:
        book = BrandBook(db, "anna")
        saved = book.import_text(BRAND, "acme.toml")
        assert db.write_brand("Acme", toml=BRAND, data={}, by="bob", summary="x", expected_version=0) is None
        assert db.write_brand("Acme", toml=BRAND + "\n", data={}, by="bob", summary="x", expected_version=1) == 2
        again = book.save_edit(saved.brand.with_lists(avoid=[]))  # read v2, writes v3
        assert again.version == 3 and again.created
        with pytest.raises(BrandFileError, match="needs at least one statement"):
            book.import_text('[brand]\nname = "Acme"\ndna = []\n', "empty.toml")


def test_marks_record_who_set_them(tmp_path: Path) -> None:
    with Storage(tmp_path / "onda.db") as db:
        db.set_mark("t1", "Acme", "not_for_us", by="anna")
        db.set_mark("t2", "Acme", "used", by="bob")
        db.set_mark("t2", "Acme", "not_for_us", by="carla")  # the current mark's author
        db.set_mark("t3", "Acme", "used")  # unknown author
        assert db.mark_authors("Acme", ["t1", "t2", "t3", "t4"]) == {"t1": "anna", "t2": "carla"}
        db.set_mark("t1", "Acme", None)
        assert db.mark_authors("Acme", ["t1"]) == {}
        assert db.marks("Acme", ["t1", "t2"]) == {"t2": "not_for_us"}


def test_user_name_from_config_env_or_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONDA_USER__NAME", raising=False)
    monkeypatch.setenv("USER", "login-name")
    monkeypatch.setenv("LOGNAME", "login-name")
    assert Settings().user_name() == "login-name"
    config = tmp_path / "config.toml"
    config.write_text('[user]\nname = "anna"\n', encoding="utf-8")
    assert load_settings(str(config)).user_name() == "anna"
    monkeypatch.setenv("ONDA_USER__NAME", "bob")
    assert load_settings(str(config)).user_name() == "bob"
