"""The seams around the app: the core never imports Textual; run_tui builds the service and reports bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import tui.run
from brand_dna.dna import BrandFileError
from monitor.config import Settings
from monitor.storage import StorageError

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
    with pytest.raises(StorageError, match="closed database"):  # the store was closed when the app ended
        fake.storage.recent_trends()


def _repo_state() -> tuple[str, dict[str, bytes]]:
    """`git status` of the examples in the checkout (when it is one) and the bytes of every example brand file."""
    status = ""
    if (ROOT / ".git").exists():
        status = subprocess.run(
            ["git", "status", "--porcelain", "--ignored", "--untracked-files=all", "--", "examples", "config.toml"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout
    brands = ROOT / "examples" / "brands"
    return status, {p.name: p.read_bytes() for p in sorted(brands.iterdir())}


def test_offline_demo_works_on_copies_in_the_user_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.compose
    from monitor.config import BrandSettings
    from tui.app import OndaApp

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    examples = [str(ROOT / "examples" / "brands" / n) for n in ("lavazza.toml", "ducati.toml")]
    settings = Settings(brand=BrandSettings(files=[*examples, str(tmp_path / "missing.toml")]))
    seen: list[Settings] = []

    def build(settings: Settings, *, offline: bool, db: str | None = None) -> object:
        seen.append(settings)
        raise BrandFileError("stop here")

    monkeypatch.setattr(monitor.compose, "build_service", build)
    monkeypatch.setattr(OndaApp, "run", lambda self: 0)
    assert tui.run.run_tui(settings, offline=False) == 2
    assert seen[-1].brand_files() == [Path(f) for f in settings.brand.files]  # online: the files themselves
    assert tui.run.run_tui(settings, offline=True) == 2
    copies = seen[-1].brand_files()
    demo = tmp_path / "data" / "onda" / "demo-brands"
    assert copies == [demo / "lavazza.toml", demo / "ducati.toml", tmp_path / "missing.toml"]
    assert copies[0].read_bytes() == Path(examples[0]).read_bytes()


async def test_an_offline_demo_session_with_edits_leaves_the_checkout_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Edit and save the DNA the way `onda --offline` does (real save_brand on the brand files), then quit."""
    from conftest import make_app, settle
    from fake_service import FakeService

    from brand_dna.dna import BrandDNA, load_brand, save_brand
    from monitor.api import RescoreDiff
    from monitor.compose import load_brands
    from monitor.config import BrandSettings
    from tui.brand_dialogs import StatementDialog
    from tui.run import demo_brand_copies

    class SavingService(FakeService):
        async def update_brand(self, brand: BrandDNA, *, save: bool = True) -> RescoreDiff:
            backup = save_brand(brand)  # what MonitorService.update_brand does
            diff = await super().update_brand(brand, save=save)
            return RescoreDiff(diff.brand, diff.rescored, diff.changes, str(backup) if backup else None)

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    before = _repo_state()
    settings = Settings(brand=BrandSettings(files=[str(ROOT / "examples" / "brands" / "lavazza.toml")]))
    service = SavingService(brands=load_brands(demo_brand_copies(settings)))
    app = make_app(service)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("2", "a")
        await settle(pilot, app)
        assert isinstance(app.screen, StatementDialog)
        app.screen.query_one("#statement").value = "Espresso at the bar"  # type: ignore[attr-defined]
        await pilot.press("enter", "ctrl+s")
        await settle(pilot, app)
        await pilot.press("q")
        await settle(pilot, app)
    assert app.return_code == 0
    copy = tmp_path / "data" / "onda" / "demo-brands" / "lavazza.toml"
    assert "Espresso at the bar" in load_brand(copy).dna
    assert "# Illustrative example brand for Onda." in copy.read_text(encoding="utf-8")  # comments kept
    assert list((tmp_path / "data" / "onda" / "brand-backups").iterdir())  # the previous version, out of the checkout
    assert _repo_state() == before


def test_offline_demo_reports_a_data_dir_it_cannot_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    assert tui.run.run_tui(Settings(), offline=True) == 2
    err = capsys.readouterr().err
    assert err.startswith("onda: cannot copy the brand files for the offline demo:") and err.count("\n") == 1
