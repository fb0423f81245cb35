"""Source registry: built-in adapters plus third-party ones from the `onda.sources` entry-point group.

`build_sources` creates the enabled sources, and imports only those: a disabled built-in's module
and a disabled plugin's entry point are never loaded (listing plugins reads metadata only). With
`base_url` (offline replay) every built-in source that has a bundled snapshot fetches from that
server instead of the internet, and plugins are left out. The fact-check feeds are a built-in too,
built when the service lends the risk gate's store (`SourceBuild.factchecks`). A plugin that fails
to import or build is reported (logged and appended to `errors`), never fatal.

Plugin packages declare, in their pyproject.toml:

    [project.entry-points."onda.sources"]
    hackernews = "onda_hn:HackerNewsSource"    # a class with from_settings(settings, base_url), or a factory

and read their settings from `settings.sources.plugins["hackernews"]` (`enabled = false` turns one off).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from monitor.config import Settings
from monitor.sources.base import (
    FactCheckSink,
    Fetcher,
    NotModified,
    PollContext,
    RiskEvidenceSource,
    Source,
    SourceBuild,
    SourceError,
    StreamSource,
)
from monitor.sources.http import FetchResult, HttpCache, HttpFetcher, MemoryHttpCache

if TYPE_CHECKING:
    from monitor.risk.factcheck import FactCheckStore

__all__ = [
    "ENTRY_POINT_GROUP",
    "FetchResult",
    "Fetcher",
    "HttpCache",
    "HttpFetcher",
    "MemoryHttpCache",
    "NotModified",
    "PollContext",
    "RiskEvidenceSource",
    "Source",
    "SourceBuild",
    "SourceError",
    "SourceFactory",
    "StreamSource",
    "available",
    "build_sources",
    "discover_plugins",
    "register",
]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "onda.sources"
SourceFactory = Callable[[Settings, "str | None"], Source]
"""A plugin's (or `register`ed) factory: `factory(settings, base_url) -> Source`."""


@runtime_checkable
class SourceClass(Protocol):
    """A plugin class that builds itself: `from_settings(settings, base_url)` (every built-in adapter fits)."""

    def from_settings(self, settings: Settings, base_url: str | None, /) -> Source: ...


@dataclass(frozen=True, slots=True)
class Registration:
    """A built-in (or `register`ed) source: how to build it, when it is on, whether it runs offline."""

    build: Callable[[SourceBuild], Source]  # imports the adapter's module only when called
    enabled: Callable[[SourceBuild], bool]
    offline: bool  # built with the replay server's URL under --offline (has a bundled snapshot)


def _adapter(module: str, cls: str) -> Callable[[SourceBuild], Source]:
    """A built-in adapter class's `from_settings`, importing its module only when the source is built."""

    def build(b: SourceBuild) -> Source:
        adapter: SourceClass = getattr(importlib.import_module(f"monitor.sources.{module}"), cls)
        return adapter.from_settings(b.settings, b.base_url)

    return build


def _factchecks(b: SourceBuild) -> Source:
    from monitor.sources.factchecks import FactCheckSource

    return FactCheckSource.from_build(b)


_REGISTRY: dict[str, Registration] = {
    "google_trends": Registration(
        _adapter("google_trends", "GoogleTrendsSource"),
        lambda b: b.settings.sources.google_trends.enabled,
        offline=True,
    ),
    "rss": Registration(_adapter("rss", "RssSource"), lambda b: b.settings.sources.rss.enabled, offline=True),
    "gdelt": Registration(_adapter("gdelt", "GdeltSource"), lambda b: b.settings.sources.gdelt.enabled, offline=True),
    "wikipedia": Registration(
        _adapter("wikipedia", "WikipediaSource"), lambda b: b.settings.sources.wikipedia.enabled, offline=True
    ),
    "mastodon": Registration(
        _adapter("mastodon", "MastodonSource"), lambda b: b.settings.sources.mastodon.enabled, offline=True
    ),
    "bluesky": Registration(
        _adapter("bluesky", "BlueskySource"), lambda b: b.settings.sources.bluesky.enabled, offline=True
    ),
    "youtube": Registration(
        _adapter("youtube", "YouTubeSource"), lambda b: b.settings.sources.youtube.enabled, offline=False
    ),  # needs a key
    "jetstream": Registration(  # a stream: the offline replay serves a recorded one, so it runs there even when off
        _adapter("jetstream", "JetstreamSource"),
        lambda b: b.settings.sources.jetstream.enabled or b.base_url is not None,
        offline=True,
    ),
    "factchecks": Registration(
        _factchecks, lambda b: b.factchecks is not None and bool(b.settings.risk.factcheck_feeds), offline=True
    ),
}


def register(name: str, factory: SourceFactory) -> None:
    """Add (or replace) a source factory under `name`: always enabled, built offline with the replay URL."""
    _REGISTRY[name] = Registration(lambda b: factory(b.settings, b.base_url), lambda b: True, offline=True)


def available() -> list[str]:
    """Names of the registered built-in sources (plugins are listed by `discover_plugins`)."""
    return sorted(_REGISTRY)


def _as_factory(obj: Any) -> SourceFactory:
    if isinstance(obj, SourceClass):
        return obj.from_settings
    if callable(obj):
        factory: SourceFactory = obj  # a plugin's entry point: its signature is the plugin's promise
        return factory
    raise TypeError(f"{obj!r} is neither a factory nor a class with from_settings")


def discover_plugins(errors: list[str] | None = None) -> dict[str, EntryPoint]:
    """The `onda.sources` entry points by name, read from metadata: nothing is imported here.

    An entry point whose name a built-in source already has is reported and left out, and so is
    a failure to list them (broken metadata of some unrelated distribution).
    """
    found: dict[str, EntryPoint] = {}
    try:
        eps: list[EntryPoint] = list(entry_points(group=ENTRY_POINT_GROUP))
    except Exception as exc:
        _report(errors, f"cannot list plugins ({ENTRY_POINT_GROUP}): {type(exc).__name__}: {exc}")
        return found
    for ep in eps:
        if ep.name in _REGISTRY:
            _report(errors, f"plugin source {ep.name!r} ({ep.value}) ignored: name taken by a built-in source")
            continue
        found[ep.name] = ep
    return found


def _report(errors: list[str] | None, message: str) -> None:
    log.warning("%s", message)
    if errors is not None:
        errors.append(message)


def _check(source: object, name: str) -> Source:
    if not isinstance(source, Source) or not isinstance(source.name, str) or not callable(source.poll):
        raise TypeError(f"{name}: factory did not return a Source (needs .name, .interval_s, async .poll)")
    interval = source.interval_s
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval <= 0:
        raise TypeError(f"{name}: interval_s must be a positive number")
    return source


def _plugin_enabled(settings: Settings, name: str) -> bool:
    conf = settings.sources.plugins.get(name, {})
    return not (isinstance(conf, dict) and conf.get("enabled", True) is False)


def build_sources(
    settings: Settings,
    *,
    base_url: str | None = None,
    errors: list[str] | None = None,
    factchecks: FactCheckStore | None = None,
    factcheck_sink: FactCheckSink | None = None,
) -> list[Source]:
    """The enabled sources, in registry order, then the enabled plugins. With `base_url`, fetch from that (replay) server.

    `factchecks` (the risk gate's store, and `factcheck_sink` to keep what is polled) turns on the
    fact-check feeds source. Problems building a source (a broken plugin, a bad factory) are logged
    and appended to `errors` when given; the other sources are still returned.
    """
    build = SourceBuild(settings, base_url, factchecks=factchecks, factcheck_sink=factcheck_sink)
    offline = base_url is not None
    sources: list[Source] = []
    for name, reg in _REGISTRY.items():
        if not reg.enabled(build) or (offline and not reg.offline):
            continue
        try:
            sources.append(_check(reg.build(build), name))
        except Exception as exc:
            _report(errors, f"source {name!r} could not be built: {type(exc).__name__}: {exc}")
    if offline:
        return sources
    for name, ep in discover_plugins(errors).items():
        if not _plugin_enabled(settings, name):
            continue  # never imported
        try:
            factory = _as_factory(ep.load())
        except Exception as exc:
            _report(errors, f"plugin source {name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}")
            continue
        try:
            sources.append(_check(factory(settings, None), name))
        except Exception as exc:
            _report(errors, f"plugin source {name!r} could not be built: {type(exc).__name__}: {exc}")
    return sources
