"""Registry: enabled built-ins (only those imported), offline base URL, entry-point plugins isolated from each other,
the fact-check feeds built like any source."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

import monitor.sources as registry
from monitor.config import Settings
from monitor.models import FactCheck, FactCheckWrite, SourceItem
from monitor.offline import FACTCHECK_FEEDS
from monitor.risk.factcheck import FactCheckStore
from monitor.sources import available, build_sources
from monitor.sources.base import PollContext, RiskEvidenceSource
from monitor.sources.factchecks import FactCheckSource

REPO = Path(__file__).resolve().parents[2]


def test_available_lists_the_built_ins() -> None:
    assert available() == [
        "bluesky",
        "factchecks",
        "gdelt",
        "google_trends",
        "jetstream",
        "mastodon",
        "rss",
        "wikipedia",
        "youtube",
    ]


def test_default_build_has_the_enabled_sources_and_no_youtube(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "entry_points", lambda group: [])
    names = [s.name for s in build_sources(Settings())]
    assert names == ["google_trends", "rss", "gdelt", "wikipedia", "mastodon", "bluesky"]


def test_disabled_sources_are_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "entry_points", lambda group: [])
    settings = Settings()
    settings.sources.gdelt.enabled = False
    settings.sources.youtube.enabled = True
    names = [s.name for s in build_sources(settings)]
    assert "gdelt" not in names and "youtube" in names


def test_base_url_points_every_source_at_the_replay_server() -> None:
    sources = {s.name: s for s in build_sources(Settings(), base_url="http://127.0.0.1:9")}
    assert sources["google_trends"].url == "http://127.0.0.1:9/trending/rss"  # type: ignore[attr-defined]
    assert sources["gdelt"].url == "http://127.0.0.1:9/api/v2/doc/doc"  # type: ignore[attr-defined]
    assert sources["wikipedia"].base == "http://127.0.0.1:9/api/rest_v1/metrics/pageviews/top"  # type: ignore[attr-defined]
    assert sources["mastodon"].instance == "http://127.0.0.1:9"  # type: ignore[attr-defined]
    assert all(f.startswith("http://127.0.0.1:9/feeds/") for f in sources["rss"].feeds)  # type: ignore[attr-defined]
    assert sources["bluesky"].url.startswith("http://127.0.0.1:9/xrpc/")  # type: ignore[attr-defined]


@dataclass
class GoodPlugin:
    name: str = "hackernews"
    interval_s: float = 300.0

    @classmethod
    def from_settings(cls, settings: Settings, base_url: str | None = None) -> GoodPlugin:
        return cls(interval_s=float(settings.sources.plugins.get("hackernews", {}).get("interval_s", 300.0)))

    async def poll(self, ctx: PollContext) -> list[SourceItem]:
        return [SourceItem(source=self.name, title="Show HN")]


def _failing_factory(settings: Settings, base_url: str | None) -> object:
    raise RuntimeError("missing API token")


def _not_a_source(settings: Settings, base_url: str | None) -> object:
    return object()


@pytest.fixture
def plugin_module(monkeypatch: pytest.MonkeyPatch) -> str:
    mod = types.ModuleType("onda_test_plugins")
    mod.GoodPlugin = GoodPlugin  # type: ignore[attr-defined]
    mod.failing = _failing_factory  # type: ignore[attr-defined]
    mod.not_a_source = _not_a_source  # type: ignore[attr-defined]
    mod.constant = 42  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "onda_test_plugins", mod)
    eps = [
        EntryPoint("broken_import", "onda_no_such_module_xyz:Source", "onda.sources"),
        EntryPoint("hackernews", "onda_test_plugins:GoodPlugin", "onda.sources"),
        EntryPoint("failing", "onda_test_plugins:failing", "onda.sources"),
        EntryPoint("weird", "onda_test_plugins:not_a_source", "onda.sources"),
        EntryPoint("constant", "onda_test_plugins:constant", "onda.sources"),
        EntryPoint("rss", "onda_test_plugins:GoodPlugin", "onda.sources"),  # name clash with a built-in
    ]
    monkeypatch.setattr(registry, "entry_points", lambda group: eps if group == "onda.sources" else [])
    return "onda_test_plugins"


def test_broken_plugins_are_reported_not_fatal(plugin_module: str) -> None:
    errors: list[str] = []
    settings = Settings()
    settings.sources.plugins = {"hackernews": {"interval_s": 120}}
    sources = build_sources(settings, errors=errors)
    names = [s.name for s in sources]
    assert names == ["google_trends", "rss", "gdelt", "wikipedia", "mastodon", "bluesky", "hackernews"]
    assert sources[-1].interval_s == 120
    joined = "\n".join(errors)
    assert len(errors) == 5, errors
    for name in ("broken_import", "failing", "weird", "constant", "'rss'"):
        assert name in joined
    assert "missing API token" in joined


def test_plugins_can_be_disabled_and_are_skipped_offline(plugin_module: str) -> None:
    settings = Settings()
    settings.sources.plugins = {"hackernews": {"enabled": False}}
    assert "hackernews" not in [s.name for s in build_sources(settings)]
    errs: list[str] = []
    offline = build_sources(Settings(), base_url="http://127.0.0.1:9", errors=errs)
    assert "hackernews" not in [s.name for s in offline] and errs == []


def test_listing_entry_points_failing_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(group: str) -> list[EntryPoint]:
        raise ValueError("bad metadata")

    monkeypatch.setattr(registry, "entry_points", boom)
    errors: list[str] = []
    assert len(build_sources(Settings(), errors=errors)) == 6
    assert "bad metadata" in errors[0]


def test_register_adds_a_factory() -> None:
    registry.register("extra_test", GoodPlugin.from_settings)
    try:
        assert "extra_test" in available()
        assert "hackernews" in [s.name for s in build_sources(Settings(), base_url="http://127.0.0.1:9")]
    finally:
        registry._REGISTRY.pop("extra_test")


# -- only what is enabled is imported ---------------------------------------------------------------------
PLUGIN_MODULE = """
from dataclasses import dataclass


@dataclass
class FakeSource:
    name: str = "fakesrc"
    interval_s: float = 60.0

    @classmethod
    def from_settings(cls, settings, base_url):
        return cls()

    async def poll(self, ctx):
        return []
"""

IMPORT_PROBE = """
import json, sys
from monitor.config import Settings
from monitor.sources import build_sources

settings = Settings()
settings.sources.gdelt.enabled = False
settings.sources.plugins = {"fakesrc": {"enabled": sys.argv[1] == "on"}}
errors = []
names = [s.name for s in build_sources(settings, errors=errors)]
modules = ["onda_fake_plugin", "monitor.sources.gdelt", "monitor.sources.youtube", "monitor.sources.rss",
           "monitor.sources.factchecks"]
print(json.dumps({"names": names, "errors": errors, "imported": {m: m in sys.modules for m in modules}}))
"""


@pytest.fixture
def installed_plugin(tmp_path: Path) -> Path:
    """A plugin distribution on a path: its module and its entry-point metadata, as pip would leave them."""
    (tmp_path / "onda_fake_plugin.py").write_text(PLUGIN_MODULE, encoding="utf-8")
    dist = tmp_path / "onda_fake_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: onda-fake-plugin\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[onda.sources]\nfakesrc = onda_fake_plugin:FakeSource\n", encoding="utf-8")
    return tmp_path


def _probe(plugin_path: Path, switch: str) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(plugin_path), str(REPO), env.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, switch],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=env,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def test_disabled_sources_and_plugins_are_never_imported(installed_plugin: Path) -> None:
    """A fresh interpreter: a disabled plugin's module and disabled built-ins' modules stay out of sys.modules."""
    off = _probe(installed_plugin, "off")
    assert off["errors"] == []
    assert "fakesrc" not in off["names"] and "gdelt" not in off["names"] and "youtube" not in off["names"]
    assert off["imported"] == {
        "onda_fake_plugin": False,
        "monitor.sources.gdelt": False,
        "monitor.sources.youtube": False,
        "monitor.sources.rss": True,  # enabled: the probe can see an import
        "monitor.sources.factchecks": False,  # no store lent: not built, not imported
    }
    on = _probe(installed_plugin, "on")
    assert on["names"][-1] == "fakesrc" and on["imported"]["onda_fake_plugin"] is True


# -- the fact-check feeds register like any source ----------------------------------------------------------
class Sink:
    def save_factchecks(
        self, items: Sequence[FactCheck], origin: str, withdrawn: Sequence[FactCheck] = ()
    ) -> FactCheckWrite:
        return FactCheckWrite()


def test_factcheck_source_is_built_by_the_registry_when_the_store_is_lent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "entry_points", lambda group: [])
    settings = Settings()
    store, sink = FactCheckStore(embedder=None), Sink()
    sources = build_sources(settings, factchecks=store, factcheck_sink=sink)
    assert [s.name for s in sources][-1] == "factchecks"
    source = sources[-1]
    assert isinstance(source, RiskEvidenceSource) and source.refreshes_risk and source.last_new == 0
    assert isinstance(source, FactCheckSource)
    assert source.store is store and source.sink is sink
    assert source.urls == settings.risk.factcheck_feeds
    assert source.interval_s == settings.risk.factcheck_interval_s
    assert not any(isinstance(s, RiskEvidenceSource) for s in sources[:-1])


def test_factcheck_source_needs_a_store_and_feeds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "entry_points", lambda group: [])
    assert "factchecks" not in [s.name for s in build_sources(Settings())]
    settings = Settings()
    settings.risk.factcheck_feeds = []
    assert "factchecks" not in [s.name for s in build_sources(settings, factchecks=FactCheckStore(embedder=None))]


def test_factcheck_source_offline_reads_the_replay_server() -> None:
    sources = build_sources(Settings(), base_url="http://127.0.0.1:9", factchecks=FactCheckStore(embedder=None))
    source = {s.name: s for s in sources}["factchecks"]
    assert isinstance(source, FactCheckSource)
    assert source.urls == [f"http://127.0.0.1:9{p}" for p in FACTCHECK_FEEDS]
