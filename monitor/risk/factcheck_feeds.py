"""Fact-checkers' feeds -> FactCheck debunks: RSS/Atom parsing, Google Fact Check Tools, the poll of all of them.

The debunks go to `monitor.risk.factcheck.FactCheckStore` (matching); ClaimReview JSON is read by
`monitor.risk.claimreview`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any
from urllib.parse import urlencode, urlsplit

from monitor.models import FactCheck
from monitor.risk.claimreview import ImportResult, google_claims
from monitor.text import MAX_TITLE_CHARS, clean_text

log = logging.getLogger(__name__)

Fetch = Callable[[str], Awaitable[bytes]]
API_KEY_ENV = "ONDA_FACTCHECK_API_KEY"
GOOGLE_CLAIMS_URL = "https://factchecktools.googleapis.com/v1alpha1/claims:search"
DEFAULT_GOOGLE_SITES = ("facta.news", "pagellapolitica.it", "open.online", "butac.it", "bufale.net")


def _entry_date(entry: Any) -> date | None:
    for key in ("published_parsed", "updated_parsed"):
        st = entry.get(key)
        if st:
            try:
                return date(st.tm_year, st.tm_mon, st.tm_mday)
            except (ValueError, AttributeError):
                return None
    return None


def parse_feed(data: bytes, feed_url: str) -> list[FactCheck]:
    """RSS/Atom of a fact-checker -> FactChecks; raises ValueError for a feed that cannot be read."""
    import feedparser

    if b"<!ENTITY" in data:  # as monitor.sources.rss: no entity expansion (billion laughs) from a remote feed
        raise ValueError("feed with entity declarations refused")
    parsed = feedparser.parse(data)
    if parsed.bozo and not parsed.entries:
        raise ValueError(f"not a readable feed: {parsed.get('bozo_exception')!s:.120}")
    publisher = clean_text(str(parsed.feed.get("title") or urlsplit(feed_url).hostname or feed_url), 80)
    out: list[FactCheck] = []
    for e in parsed.entries:
        title, link = clean_text(str(e.get("title", "")), MAX_TITLE_CHARS), str(e.get("link", "")).strip()
        if title and link.startswith(("http://", "https://")):
            out.append(FactCheck(title=title, url=link[:1000], publisher=publisher, published=_entry_date(e)))
    return out


def parse_google_claims(obj: Any) -> list[FactCheck]:
    """A `claims:search` response -> one FactCheck per claim review (reviews rated true are left out)."""
    result = ImportResult()
    google_claims(obj, result)
    return result.debunks


def google_claims_url(site: str, api_key: str, *, base: str = GOOGLE_CLAIMS_URL, max_age_days: int = 30) -> str:
    params = {"reviewPublisherSiteFilter": site, "maxAgeDays": str(max_age_days), "pageSize": "50", "key": api_key}
    return f"{base}?{urlencode(params)}"


async def poll_factcheck_feeds(
    fetch: Fetch,
    urls: Sequence[str],
    *,
    api_key: str | None = None,
    google_sites: Sequence[str] = DEFAULT_GOOGLE_SITES,
    google_base: str = GOOGLE_CLAIMS_URL,
    max_age_days: int = 30,
) -> list[FactCheck]:
    """Fetch every fact-check feed (and, with ONDA_FACTCHECK_API_KEY, Google claims:search per site).

    One failing feed is logged on one line and skipped: the others still count. Parsing runs off the
    event loop. The API key never appears in a log line.
    """
    import json

    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV, "")
    out: list[FactCheck] = []
    seen: set[str] = set()

    async def one_feed(url: str) -> list[FactCheck]:
        data = await fetch(url)
        return await asyncio.to_thread(parse_feed, data, url)

    async def one_site(site: str) -> list[FactCheck]:
        data = await fetch(google_claims_url(site, key, base=google_base, max_age_days=max_age_days))
        return parse_google_claims(json.loads(data))

    jobs: list[tuple[str, Awaitable[list[FactCheck]]]] = [(u, one_feed(u)) for u in urls]
    if key:
        jobs += [(f"Google Fact Check Tools ({s})", one_site(s)) for s in google_sites]
    results = await asyncio.gather(*(j for _, j in jobs), return_exceptions=True)
    for (label, _), res in zip(jobs, results, strict=True):
        if isinstance(res, BaseException):
            if isinstance(res, asyncio.CancelledError):
                raise res
            msg = str(res).replace(key, "***") if key else str(res)
            log.warning("fact-check source %s failed: %s: %.200s", label, type(res).__name__, msg)
            continue
        for fc in res:
            if fc.url not in seen:
                seen.add(fc.url)
                out.append(fc)
    return out
