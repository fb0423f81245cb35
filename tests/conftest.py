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


@pytest.fixture(scope="session")
def pg_server():  # type: ignore[no-untyped-def]
    """A throwaway PostgreSQL server for the session (tests/pg_server.py); the test skips without binaries."""
    from pg_server import find_pg_bin, pg_server

    if find_pg_bin() is None:
        pytest.skip("PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin)")
    with pg_server() as server:
        yield server


@pytest.fixture
def pg_url(pg_server, request):  # type: ignore[no-untyped-def]
    """The URL of a fresh, empty database on the session's server, dropped after the test."""
    import re
    import uuid

    from pg_server import create_database, drop_database

    name = f"t_{re.sub(r'[^a-z0-9]+', '_', request.node.name.lower())[:40]}_{uuid.uuid4().hex[:6]}"
    url = create_database(pg_server, name)
    yield url
    drop_database(pg_server, name)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request, tmp_path):  # type: ignore[no-untyped-def]
    """Where a test's store lives, once per backend: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "onda.db")
    return request.getfixturevalue("pg_url")
