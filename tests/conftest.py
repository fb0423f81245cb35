"""Shared fixtures. The real packaged model is loaded once per session (~5 s)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    """The packaged all-MiniLM-L6-v2, as users get it offline (default precision: bf16 where native)."""
    from brand_dna.embedder import SentenceEmbedder
    from monitor.config import ModelSettings

    emb = SentenceEmbedder(threads=2, precision=ModelSettings().precision)
    emb.load()
    return emb


@pytest.fixture
def hash_embedder():  # type: ignore[no-untyped-def]
    from brand_dna.embedder import HashEmbedder

    return HashEmbedder(dim=64)
