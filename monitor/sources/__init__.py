"""Source registry: built-in adapters plus third-party ones from the `onda.sources` entry-point group.

A factory is `factory(settings, base_url) -> Source` (every built-in class's
`from_settings` fits). `build_sources` creates the enabled sources; with
`base_url` (offline replay) every built-in source fetches from that server instead
of the internet, and plugins are left out. A plugin that fails to import or build
is reported (logged and appended to `errors`), never fatal.

Plugin packages declare, in their pyproject.toml:

    [project.entry-points."onda.sources"]
    hackernews = "onda_hn:HackerNewsSource"    # a class with from_settings(settings, base_url), or a factory

and read their settings from `settings.sources.plugins["hackernews"]` (`enabled = false` turns one off).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from monitor.config import Settings
from monitor.sources.base import NotModified, PollContext, Source, SourceError
from monitor.sources.bluesky import BlueskySource
from monitor.sources.gdelt import GdeltSource
from monitor.sources.google_trends import GoogleTrendsSource
from monitor.sources.http import FetchResult, HttpCache, HttpFetcher, MemoryHttpCache
from monitor.sources.mastodon import MastodonSource
from monitor.sources.rss import RssSource
from monitor.sources.wikipedia import WikipediaSource
from monitor.sources.youtube import YouTubeSource

__all__ = [
    "ENTRY_POINT_GROUP",
    "FetchResult",
    "HttpCache",
    "HttpFetcher",
    "MemoryHttpCache",
    "NotModified",
    "PollContext",
    "Source",
    "SourceError",
    "SourceFactory",
    "available",
    "build_sources",
    "discover_plugins",
    "register",
]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "onda.sources"
SourceFactory = Callable[[Settings, "str | None"], Source]

_REGISTRY: dict[str, SourceFactory] = {}
# Which `settings.sources.<key>` section enables a built-in source.
_BUILTIN_SECTIONS: dict[str, str] = {}


def register(name: str, factory: SourceFactory, *, section: str | None = None) -> None:
    """Add (or replace) a source factory under `name`."""
    _REGISTRY[name] = factory
    if section:
        _BUILTIN_SECTIONS[name] = section


def available() -> list[str]:
    """Names of the registered built-in sources (plugins are listed by `discover_plugins`)."""
    return sorted(_REGISTRY)


register("google_trends", GoogleTrendsSource.from_settings, section="google_trends")
register("rss", RssSource.from_settings, section="rss")
register("gdelt", GdeltSource.from_settings, section="gdelt")
register("wikipedia", WikipediaSource.from_settings, section="wikipedia")
register("mastodon", MastodonSource.from_settings, section="mastodon")
register("bluesky", BlueskySource.from_settings, section="bluesky")
register("youtube", YouTubeSource.from_settings, section="youtube")

# Built-ins with a bundled offline snapshot (youtube needs a key and has none).
OFFLINE_SOURCES = ("google_trends", "rss", "gdelt", "wikipedia", "mastodon", "bluesky")


def _as_factory(obj: Any) -> SourceFactory:
    from_settings = getattr(obj, "from_settings", None)
    if callable(from_settings):
        return from_settings
    if callable(obj):
        return obj
    raise TypeError(f"{obj!r} is neither a factory nor a class with from_settings")


def discover_plugins(errors: list[str] | None = None) -> dict[str, SourceFactory]:
    """Load every `onda.sources` entry point; a broken one is logged/appended to `errors` and skipped."""
    found: dict[str, SourceFactory] = {}
    try:
        eps: list[EntryPoint] = list(entry_points(group=ENTRY_POINT_GROUP))
    except Exception as exc:  # broken metadata of some unrelated distribution
        _report(errors, f"cannot list plugins ({ENTRY_POINT_GROUP}): {type(exc).__name__}: {exc}")
        return found
    for ep in eps:
        if ep.name in _REGISTRY:
            _report(errors, f"plugin source {ep.name!r} ({ep.value}) ignored: name taken by a built-in source")
            continue
        try:
            found[ep.name] = _as_factory(ep.load())
        except Exception as exc:
            _report(errors, f"plugin source {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}")
    return found


def _report(errors: list[str] | None, message: str) -> None:
    log.warning("%s", message)
    if errors is not None:
        errors.append(message)


def _check(source: Any, name: str) -> Source:
    if not isinstance(getattr(source, "name", None), str) or not callable(getattr(source, "poll", None)):
        raise TypeError(f"{name}: factory did not return a Source (needs .name, .interval_s, async .poll)")
    interval = getattr(source, "interval_s", None)
    if not isinstance(interval, (int, float)) or interval <= 0:
        raise TypeError(f"{name}: interval_s must be a positive number")
    return source


def build_sources(settings: Settings, *, base_url: str | None = None, errors: list[str] | None = None) -> list[Source]:
    """The enabled sources, in registry order. With `base_url`, fetch from that (replay) server.

    Problems building a source (a broken plugin, a bad factory) are logged and appended to
    `errors` when given; the other sources are still returned.
    """
    sources: list[Source] = []
    offline = base_url is not None
    for name, factory in _REGISTRY.items():
        section = _BUILTIN_SECTIONS.get(name)
        if section is not None:
            sect = getattr(settings.sources, section, None)
            if sect is None or not sect.enabled:
                continue
            if offline and name not in OFFLINE_SOURCES:
                continue
        try:
            sources.append(_check(factory(settings, base_url), name))
        except Exception as exc:
            _report(errors, f"source {name!r} could not be built: {type(exc).__name__}: {exc}")
    if offline:
        return sources
    for name, factory in discover_plugins(errors).items():
        conf = settings.sources.plugins.get(name, {})
        if isinstance(conf, dict) and conf.get("enabled", True) is False:
            continue
        try:
            sources.append(_check(factory(settings, None), name))
        except Exception as exc:
            _report(errors, f"plugin source {name!r} could not be built: {type(exc).__name__}: {exc}")
    return sources
