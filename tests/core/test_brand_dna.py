from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from brand_dna.dna import BrandFileError, load_brand, save_brand
from brand_dna.embedder import HashEmbedder
from brand_dna.index import IndexMetaMismatch, StatementIndex

BRAND = """
[brand]
name = "Lavazza"
language = "it"
dna = ["Italian family coffee roaster since 1895", "Official coffee of Wimbledon"]
positioning = ["Sustainable coffee farming"]
avoid = ["politics"]
"""


def brand_file(tmp_path: Path, text: str = BRAND) -> Path:
    p = tmp_path / "brand.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_load_brand(tmp_path: Path) -> None:
    b = load_brand(brand_file(tmp_path))
    assert b.name == "Lavazza" and b.language == "it"
    assert b.statements[-1] == ("positioning", "Sustainable coffee farming")
    assert b.avoid == ("politics",)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[brand]\nname = "X"\n', "brand.dna"),
        ('[brand]\nname = "X"\ndna = []\n', "brand.dna"),
        ('[brand]\nname = "X"\ndna = "one"\n', "brand.dna"),
        ('[brand]\ndna = ["a"]\n', "brand.name"),
        ('[brand]\nname = "X"\ndna = ["a"]\nslogan = "b"\n', "brand.slogan"),
        ('[brand]\nname = "X"\ndna = ["a"]\navoid = [1]\n', "brand.avoid"),
        ('name = "X"\n', "[brand]"),
    ],
)
def test_invalid_brand_names_key(tmp_path: Path, text: str, key: str) -> None:
    path = brand_file(tmp_path, text)
    with pytest.raises(BrandFileError) as err:
        load_brand(path)
    assert key in str(err.value) and str(path) in str(err.value)


def test_save_brand_round_trip_with_backup(tmp_path: Path) -> None:
    path = brand_file(tmp_path)
    b = load_brand(path)
    edited = b.with_lists(dna=[*b.dna, 'Quote "inside" and \\ backslash'])
    backup = save_brand(edited, backup_dir=tmp_path / "backups")
    assert backup is not None and backup.read_text() == BRAND and backup.parent == tmp_path / "backups"
    again = load_brand(path)
    assert again.dna[-1] == 'Quote "inside" and \\ backslash'
    assert tomllib.loads(path.read_text())["brand"]["avoid"] == ["politics"]


def test_index_build_search_remove_and_padding() -> None:
    emb = HashEmbedder(32)
    idx = StatementIndex.build(["coffee espresso", "tennis grand slam", "art calendar"], emb)
    hits = idx.search(emb.encode(["espresso coffee"]), k=10)[0]
    assert len(hits) == 3  # k > ntotal: FAISS -1 padding dropped
    assert hits[0].statement == "coffee espresso" and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert idx.remove([hits[0].id]) == 1
    assert idx.ntotal == 2 and "coffee espresso" not in idx.ordered_statements()


def test_index_persistence_and_rebuild_on_change(tmp_path: Path) -> None:
    emb = HashEmbedder(32)
    statements = ["coffee espresso", "tennis grand slam"]
    path = tmp_path / "idx" / "lavazza"
    idx, rebuilt = StatementIndex.load_or_build(path, statements, emb)
    assert rebuilt and path.with_suffix(".faiss").exists()
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["model_id"] == "hash-32" and meta["dim"] == 32
    again, rebuilt = StatementIndex.load_or_build(path, statements, emb)
    assert not rebuilt and again.ordered_statements() == statements
    q = emb.encode(["tennis"])
    assert np.allclose(again.search(q, 2)[0][0].score, idx.search(q, 2)[0][0].score)
    with pytest.raises(IndexMetaMismatch):
        StatementIndex.load(path, model_id="hash-32", statements=[*statements, "new"])
    with pytest.raises(IndexMetaMismatch):
        StatementIndex.load(path, model_id="other-model", statements=statements)
    _, rebuilt = StatementIndex.load_or_build(path, [*statements, "new"], emb)
    assert rebuilt
    _, rebuilt = StatementIndex.load_or_build(path, statements, HashEmbedder(16))
    assert rebuilt


def test_importing_core_does_not_import_torch_or_textual() -> None:
    import subprocess
    import sys

    code = (
        "import sys, monitor, monitor.cli, monitor.dashboard, monitor.scoring, monitor.storage, monitor.config, "
        "brand_dna.embedder, brand_dna.index, brand_dna.dna\n"
        "bad = [m for m in ('torch', 'sentence_transformers', 'textual', 'textual_serve') if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == ""
