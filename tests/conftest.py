"""Shared fixtures. The real packaged model is loaded once per session (~5 s)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    """The default embedding backend, as users get it offline (the packaged multilingual USE)."""
    from brand_dna.embedder import make_embedder
    from monitor.config import ModelSettings

    settings = ModelSettings()
    emb = make_embedder(settings.backend, settings.name, threads=2, precision=settings.precision)
    emb.load()
    return emb


@pytest.fixture
def hash_embedder():  # type: ignore[no-untyped-def]
    from brand_dna.embedder import HashEmbedder

    return HashEmbedder(dim=64)


@pytest.fixture(scope="session")
def analyser():  # type: ignore[no-untyped-def]
    """The clustering text analyser (spaCy tokenizers + shared lemma tables), built once per session."""
    from monitor.clustering import TextAnalyser

    analyser = TextAnalyser()
    analyser.ensure()
    return analyser


@pytest.fixture
def brand(tmp_path):  # type: ignore[no-untyped-def]
    """A one-word brand ("caffè") for service and fault tests."""
    from brand_dna.dna import load_brand

    path = tmp_path / "acme.toml"
    path.write_text('[brand]\nname = "Acme"\ndna = ["caffè"]\n', encoding="utf-8")
    return load_brand(path)
