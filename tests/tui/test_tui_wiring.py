"""The seams around the app: the core never imports Textual; run_tui builds the service and reports bad input."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import tui.run
from brand_dna.dna import BrandFileError
from monitor.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_core_and_run_module_do_not_import_textual_eagerly() -> None:
    code = (
        "import sys, monitor.api, monitor.events, monitor.models, monitor.storage, brand_dna.dna, tui.run, tui.text;"
        "bad = [m for m in ('textual', 'torch', 'sentence_transformers') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_run_tui_reports_a_bad_brand_file_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import monitor.compose

    def broken(settings: Settings, *, offline: bool, db: str | None = None) -> object:
        raise BrandFileError("brands/x.toml: key 'brand.dna' needs at least one statement")

    monkeypatch.setattr(monitor.compose, "build_service", broken)
    assert tui.run.run_tui(Settings(), offline=True) == 2
    assert capsys.readouterr().err == "onda: brands/x.toml: key 'brand.dna' needs at least one statement\n"


def test_run_tui_runs_the_app_with_the_built_service(monkeypatch: pytest.MonkeyPatch) -> None:
    from fake_service import FakeService

    import monitor.compose
    from monitor.storage import Storage
    from tui.app import OndaApp

    class StoredFake(FakeService):
        def __init__(self) -> None:
            super().__init__()
            self.storage = Storage(":memory:")

    fake = StoredFake()
    seen: dict[str, object] = {}

    def build(settings: Settings, *, offline: bool, db: str | None = None) -> FakeService:
        seen.update(offline=offline, db=db)
        return fake

    def fake_run(self: OndaApp) -> int:
        seen["service"] = self.service
        return 0

    monkeypatch.setattr(monitor.compose, "build_service", build)
    monkeypatch.setattr(OndaApp, "run", fake_run)
    assert tui.run.run_tui(Settings(), offline=True, db="/tmp/x.db") == 0
    assert seen == {"offline": True, "db": "/tmp/x.db", "service": fake}
    with pytest.raises(sqlite3.ProgrammingError):  # the store was closed when the app ended
        fake.storage._db.execute("SELECT 1")
