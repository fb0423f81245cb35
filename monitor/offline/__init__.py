"""Offline replay: bundled snapshots of real-format source payloads and a loopback server for them.

`onda --offline` starts `ReplayServer`, then builds the SAME pollers with
`build_sources(settings, base_url=server_url)` (or `offline_settings`), so the whole
pipeline runs with no network. Dates in the snapshots are rendered relative to
the moment the server starts, so the data always looks fresh.
"""

from __future__ import annotations

from monitor.config import Settings

# Paths served by ReplayServer (append to its base URL).
OFFLINE_FEEDS: tuple[str, ...] = ("/feeds/ansa.xml", "/feeds/repubblica.xml", "/feeds/bbc_world.xml")
FACTCHECK_FEEDS: tuple[str, ...] = ("/factcheck/facta.xml", "/factcheck/pagellapolitica.xml", "/factcheck/open.xml")
GOOGLE_TRENDS_PATH = "/trending/rss"
GDELT_PATH = "/api/v2/doc/doc"
WIKIMEDIA_TOP_PATH = "/api/rest_v1/metrics/pageviews/top"
MASTODON_TAGS_PATH = "/api/v1/trends/tags"
MASTODON_LINKS_PATH = "/api/v1/trends/links"
BLUESKY_PATH = "/xrpc/app.bsky.unspecced.getTrendingTopics"
JETSTREAM_PATH = "/subscribe"  # a websocket replaying a recorded Jetstream hour


def offline_settings(settings: Settings, base_url: str) -> Settings:
    """A copy of `settings` whose every source URL (and the fact-check feeds) points at the replay server."""
    base = base_url.rstrip("/")
    s = settings.model_copy(deep=True)
    src = s.sources
    src.google_trends.url = base + GOOGLE_TRENDS_PATH
    src.gdelt.url = base + GDELT_PATH
    src.wikipedia.url = base + WIKIMEDIA_TOP_PATH
    src.mastodon.url = ""
    src.mastodon.instance = base
    src.bluesky.url = base + BLUESKY_PATH
    src.rss.feeds = [base + p for p in OFFLINE_FEEDS]
    src.youtube.enabled = False
    src.jetstream.enabled = True
    src.jetstream.url = base + JETSTREAM_PATH
    s.risk.factcheck_feeds = [base + p for p in FACTCHECK_FEEDS]
    s.source_file = settings.source_file
    return s


def __getattr__(name: str) -> object:
    # Lazy: importing the constants must not import aiohttp.web.
    if name == "ReplayServer":
        from monitor.offline.server import ReplayServer

        return ReplayServer
    raise AttributeError(name)


__all__ = [
    "BLUESKY_PATH",
    "FACTCHECK_FEEDS",
    "GDELT_PATH",
    "GOOGLE_TRENDS_PATH",
    "JETSTREAM_PATH",
    "MASTODON_LINKS_PATH",
    "MASTODON_TAGS_PATH",
    "OFFLINE_FEEDS",
    "WIKIMEDIA_TOP_PATH",
    "ReplayServer",
    "offline_settings",
]
