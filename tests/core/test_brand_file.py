"""Saving a brand file: only the edited values change; comments, order and layout stay byte for byte."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from brand_dna.dna import BrandDNA, BrandFileError, load_brand, save_brand
from brand_dna.toml_edit import edit_table

ROOT = Path(__file__).resolve().parents[2]

COMMENTED = """\
# Written by the brand guardian. NOT official positioning: illustrative only.

[brand]
name = "Acme"   # the name people use
language = "it"

dna = [
  "Italian family coffee roaster since 1895",   # the origin story
  # Turin is in the dna, not in entities: alone it mostly means football news.
  "Coffee moments through the day",
]

avoid = ["politics", "religion"]  # never ride these

entities = [
  "Acme", "Acme Oro",
]
# end of the file: keep me
"""


def write(tmp_path: Path, text: str = COMMENTED) -> Path:
    path = tmp_path / "brands" / "acme.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def save(brand: BrandDNA, tmp_path: Path) -> Path | None:
    return save_brand(brand, backup_dir=tmp_path / "backups")


def test_an_edited_value_is_the_only_change(tmp_path: Path) -> None:
    path = write(tmp_path)
    brand = load_brand(path)
    edited = brand.with_lists(avoid=["politics", "religion", "gambling"])
    save(edited, tmp_path)
    expected = COMMENTED.replace(
        'avoid = ["politics", "religion"]  # never ride these',
        'avoid = ["politics", "religion", "gambling"]  # never ride these',
    )
    assert path.read_text(encoding="utf-8") == expected
    assert load_brand(path) == edited


def test_items_that_stay_keep_their_comments(tmp_path: Path) -> None:
    path = write(tmp_path)
    brand = load_brand(path)
    save(brand.with_lists(dna=["Italian family coffee roaster since 1895", "Espresso at the bar"]), tmp_path)
    expected = COMMENTED.replace('  "Coffee moments through the day",', '  "Espresso at the bar",')
    assert path.read_text(encoding="utf-8") == expected


def test_scalars_new_keys_and_removed_keys(tmp_path: Path) -> None:
    path = write(tmp_path)
    brand = load_brand(path)
    edited = replace(brand.with_lists(allow=["death"], entities=["Acme"]), alert_threshold=0.15, language=None)
    save(edited, tmp_path)
    text = path.read_text(encoding="utf-8")
    assert load_brand(path) == edited
    assert 'language = "it"' not in text
    for kept in (
        "# Written by the brand guardian.",
        "# the name people use",
        "# the origin story",
        "# Turin is in the dna, not in entities",
        "# never ride these",
        "# end of the file: keep me",
    ):
        assert kept in text
    assert text.endswith('alert_threshold = 0.15\nallow = ["death"]\n')  # new keys at the end of [brand]
    assert text.index("dna = [") < text.index("avoid = [") < text.index("entities = [")  # order kept


def test_the_example_brand_keeps_its_disclaimer_and_notes(tmp_path: Path) -> None:
    original = (ROOT / "examples" / "brands" / "lavazza.toml").read_text(encoding="utf-8")
    path = write(tmp_path, original)
    save(replace(load_brand(path), alert_threshold=0.1), tmp_path)
    assert path.read_text(encoding="utf-8") == original + "alert_threshold = 0.1\n"


def test_nothing_changed_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path)
    before = path.stat().st_mtime_ns
    assert save(load_brand(path), tmp_path) is None
    assert path.stat().st_mtime_ns == before and not (tmp_path / "backups").exists()


def test_atomic_write_leaves_no_temp_or_bak_next_to_the_file(tmp_path: Path) -> None:
    path = write(tmp_path)
    path.chmod(0o640)
    brand = load_brand(path)
    backup = save(brand.with_lists(avoid=["politics"]), tmp_path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["acme.toml"]
    assert backup is not None and backup.parent == tmp_path / "backups" and backup.name.startswith("acme-")
    assert backup.read_text(encoding="utf-8") == COMMENTED
    assert path.stat().st_mode & 0o777 == 0o640


def test_backups_are_pruned_to_the_newest(tmp_path: Path) -> None:
    path = write(tmp_path)
    brand = load_brand(path)
    for i in range(4):
        save_brand(brand.with_lists(avoid=[f"topic {i}"]), backup_dir=tmp_path / "backups", keep=2)
    backups = sorted((tmp_path / "backups").iterdir())
    assert len(backups) == 2
    assert 'avoid = ["topic 2"]' in backups[-1].read_text(encoding="utf-8")


def test_a_failed_write_keeps_the_old_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path)
    brand = load_brand(path)

    calls: list[int] = []
    real_fsync = os.fsync

    def disk_full_on_the_brand_file(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:  # the first write is the backup, the second the brand file
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", disk_full_on_the_brand_file)
    with pytest.raises(OSError, match="No space left"):
        save(brand.with_lists(avoid=["x"]), tmp_path)
    assert len(calls) == 2
    assert path.read_text(encoding="utf-8") == COMMENTED
    assert sorted(p.name for p in path.parent.iterdir()) == ["acme.toml"]  # the temporary file is gone


def test_a_new_file_holds_only_the_keys_that_are_set(tmp_path: Path) -> None:
    path = tmp_path / "new.toml"
    brand = BrandDNA(name="New", dna=("One plain sentence",), avoid=("politics",), path=path)
    assert save(brand, tmp_path) is None  # nothing to back up
    assert (
        path.read_text(encoding="utf-8")
        == '[brand]\nname = "New"\ndna = ["One plain sentence"]\navoid = ["politics"]\n'
    )
    assert load_brand(path) == brand


def test_a_file_that_no_longer_reads_as_a_brand_is_rewritten_whole(tmp_path: Path) -> None:
    path = write(tmp_path, '[brand]\nname = "Acme"\ndna = ["a"]\navoid = 5  # broken by hand\n')
    brand = BrandDNA(name="Acme", dna=("a",), path=path)
    save(brand, tmp_path)
    assert load_brand(path) == brand


def test_a_brand_that_would_not_read_back_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path)
    brand = load_brand(path)
    with pytest.raises(BrandFileError, match="would not read back"):
        save(brand.with_lists(dna=["  spaced   out  "]), tmp_path)  # the loader would collapse the spaces
    assert path.read_text(encoding="utf-8") == COMMENTED


def test_edit_table_minimal_list_edits() -> None:
    doc = '[t]\nk = [\n  "a",  # keep a\n  "b",\n  "c",  # keep c\n]\n'
    assert edit_table(doc, "t", {"k": ["a", "c", "d"]}) == '[t]\nk = [\n  "a",  # keep a\n  "c",  # keep c\n  "d",\n]\n'
    assert edit_table(doc, "t", {"k": ["z", "a", "B", "c"]}) == (
        '[t]\nk = [\n  "z",\n  "a",  # keep a\n  "B",\n  "c",  # keep c\n]\n'
    )
    assert edit_table(doc, "t", {"k": None, "n": 0.5}) == "[t]\nn = 0.5\n"
