"""`onda data update`: download / refresh the source-credibility lists into the user data dir.

Each list comes from its public origin (commit-pinned raw files named in
shared/data/credibility/README.md), fetched with a conditional GET (ETag / Last-Modified kept in
`manifest.json` next to the files, with the licence and the download date). A list that fails
keeps its previous file and gets one clear error line; the others still update.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

    from monitor.config import Settings
    from monitor.models import FactCheck, FactCheckWrite

MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class ListSource:
    """A downloadable credibility list: where it comes from, where it is stored, its licence."""

    name: str
    url: str
    filename: str
    licence: str
    title: str


SOURCES: dict[str, ListSource] = {
    s.name: s
    for s in (
        ListSource(
            "iffy",
            "https://raw.githubusercontent.com/osome-iu/top-FIBers/9e466a28247d83dde847248fab20f521a7e896e8/"
            "data/iffy_files/2024-08-01__iffy_list.txt",
            "iffy_index_domains.txt",
            "MIT (Iffy.news / OSoMe top-FIBers); inclusion based on MBFC ratings, domain names only",
            "Iffy index of unreliable sources",
        ),
        ListSource(
            "lin2023",
            "https://raw.githubusercontent.com/hauselin/domain-quality-ratings/5671d57e545e48225ef2cbf559a6ab7f8f77a9de/"
            "data/domain_pc1.csv",
            "lin2023_domain_pc1.csv",
            "no licence file; authors: 'Feel free to reuse the data' (Lin et al. 2023, PNAS Nexus 2(9) pgad286)",
            "Lin et al. 2023 news-domain quality (pc1)",
        ),
        ListSource(
            "opensources",
            "https://raw.githubusercontent.com/OpenSourcesGroup/opensources/2fb428d0e132baae5ed8ab034d4eafbe9dc77cbb/"
            "sources/sources.csv",
            "opensources_sources.csv",
            "LGPL-3.0 (OpenSources repository)",
            "OpenSources (Zimdars et al., 2017)",
        ),
        ListSource(
            "wikipedia_rsp",
            "https://raw.githubusercontent.com/audiodude/wiki-reliable-sources-parser/ae050a6c0741d508488ee80172834a9a9b50590e/"
            "data/sources.jsonl",
            "wikipedia_perennial_sources.jsonl",
            "CC BY-SA 4.0 (Wikipedia contributors, Wikipedia:Reliable sources/Perennial sources)",
            "Wikipedia perennial sources",
        ),
    )
}


def load_manifest(directory: Path) -> dict[str, Any]:
    try:
        data = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def validate(name: str, data: bytes) -> None:
    """Refuse a download that is clearly not the list (an HTML error page, an empty body)."""
    text = data[:4096].decode("utf-8", errors="replace").lstrip("\ufeff")
    if not text.strip():
        raise ValueError("empty file")
    if text.lstrip().lower().startswith(("<!doctype", "<html")):
        raise ValueError("got an HTML page, not the list")
    first = text.splitlines()[0]
    if name == "lin2023" and "pc1" not in first:
        raise ValueError("CSV header has no 'pc1' column")
    if name == "opensources" and "type" not in first:
        raise ValueError("CSV header has no 'type' column")
    if name == "wikipedia_rsp":
        try:
            obj = json.loads(first)
        except ValueError:
            raise ValueError("first line is not JSON") from None
        if not isinstance(obj, dict) or "status" not in obj:
            raise ValueError("JSON lines have no 'status'")
    if name == "iffy" and "." not in first:
        raise ValueError("first line is not a domain")


async def _fetch_one(
    session: aiohttp.ClientSession,
    src: ListSource,
    directory: Path,
    entry: dict[str, Any],
    max_bytes: int,
) -> tuple[str, dict[str, Any] | None]:
    """One list -> (status line, new manifest entry or None to keep the old one)."""
    import aiohttp

    from monitor.sources.http import read_capped

    target = directory / src.filename
    headers: dict[str, str] = {}
    if target.exists() and entry.get("url") == src.url:
        if entry.get("etag"):
            headers["If-None-Match"] = str(entry["etag"])
        if entry.get("last_modified"):
            headers["If-Modified-Since"] = str(entry["last_modified"])
    now = datetime.now(UTC).isoformat(timespec="seconds")
    # What a failure leaves in place: say so only when there is a previous file.
    kept = "kept the previous file" if target.exists() else "no file installed yet"
    try:
        async with session.get(src.url, headers=headers) as resp:
            if resp.status == 304:
                return f"{src.name}: not modified (downloaded {entry.get('downloaded_at', '?')})", {
                    **entry,
                    "checked_at": now,
                }
            if resp.status != 200:
                return f"{src.name}: error: HTTP {resp.status} from {src.url} ({kept})", None
            if resp.content_length is not None and resp.content_length > max_bytes:
                return f"{src.name}: error: file is larger than {max_bytes} bytes ({kept})", None
            body = await read_capped(resp, max_bytes)
            if body is None:
                return f"{src.name}: error: file is larger than {max_bytes} bytes ({kept})", None
            data = body
            etag, last_modified = resp.headers.get("ETag"), resp.headers.get("Last-Modified")
    except TimeoutError:
        return f"{src.name}: error: timed out fetching {src.url} ({kept})", None
    except aiohttp.ClientError as exc:
        return f"{src.name}: error: {type(exc).__name__}: {exc} ({kept})", None
    try:
        validate(src.name, data)
    except ValueError as exc:
        return f"{src.name}: error: not a valid list: {exc} ({kept})", None
    _write_atomic(target, data)
    new = {
        "url": src.url,
        "file": src.filename,
        "title": src.title,
        "licence": src.licence,
        "etag": etag,
        "last_modified": last_modified,
        "downloaded_at": now,
        "checked_at": now,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    return f"{src.name}: updated ({len(data):,} bytes; licence: {src.licence})", new


async def update_lists(
    settings: Settings,
    session: aiohttp.ClientSession | None = None,
    sources: dict[str, str] | None = None,
) -> list[str]:
    """Download every list (or those named in `sources`, name -> URL override); one status line per list."""
    import aiohttp

    directory = settings.credibility_dir()
    directory.mkdir(parents=True, exist_ok=True)
    if sources is None:
        chosen = list(SOURCES.values())
        unknown: list[str] = []
    else:
        chosen = [
            ListSource(n, u, SOURCES[n].filename, SOURCES[n].licence, SOURCES[n].title)
            for n, u in sources.items()
            if n in SOURCES
        ]
        unknown = [n for n in sources if n not in SOURCES]
    manifest = load_manifest(directory)
    own = session is None
    if session is None:
        timeout = aiohttp.ClientTimeout(total=settings.http.total_timeout_s, connect=settings.http.connect_timeout_s)
        session = aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": settings.http.user_agent})
    try:
        results = await asyncio.gather(
            *(_fetch_one(session, s, directory, manifest.get(s.name, {}), settings.http.max_bytes) for s in chosen)
        )
    finally:
        if own:
            await session.close()
    lines = [f"{n}: error: unknown list (known: {', '.join(SOURCES)})" for n in unknown]
    for src, (line, entry) in zip(chosen, results, strict=True):
        lines.append(line)
        if entry is not None:
            manifest[src.name] = entry
    _write_atomic(directory / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8"))
    return lines


async def update_claimreview_feeds(
    settings: Settings, save: Callable[[list[FactCheck], str, list[FactCheck]], FactCheckWrite], session: aiohttp.ClientSession | None = None
) -> list[str]:
    """Download each `[factchecks] claimreview_urls` feed and store its debunks; one status line per feed.

    Fetched like any source (monitor.sources.http: size cap, timeouts, redirects, one-line errors) and
    named by host/path only, in lines and in the stored origin: query strings may carry API keys.
    """
    import aiohttp

    from monitor.risk.claimreview import parse_claimreview
    from monitor.sources.base import SourceError
    from monitor.sources.http import HttpFetcher, safe_location
    from monitor.storage import StorageError

    urls = settings.factchecks.claimreview_urls
    if not urls:
        return []
    own = session is None
    if session is None:
        session = aiohttp.ClientSession()
    fetcher = HttpFetcher(session, settings.http)
    lines: list[str] = []
    try:
        for url in urls:
            shown = safe_location(url)
            try:
                data = (await fetcher.get(url, conditional=False)).body
            except SourceError as exc:
                lines.append(f"claimreview: error: {exc}")
                continue
            try:
                result = parse_claimreview(data.decode("utf-8", errors="replace"))
            except ValueError as exc:
                lines.append(f"claimreview {shown}: error: {exc}")
                continue
            try:
                write = save(result.debunks, f"feed:{shown}", result.withdrawn)
            except StorageError as exc:
                lines.append(f"claimreview {shown}: error: {exc}")
                continue
            lines.append(
                f"claimreview {shown}: {write.new} new fact-check(s), {write.updated} updated,"
                f" {result.unchanged(write)} known, {write.withdrawn} withdrawn, {result.skipped_total} skipped"
            )
    finally:
        if own:
            await session.close()
    return lines


def run(settings: Settings, db: str | None = None) -> int:
    """Entry point for `onda data update`: prints one line per list and feed; exit 1 if any failed."""
    lines = asyncio.run(update_lists(settings))
    if settings.factchecks.claimreview_urls:
        from monitor.compose import open_storage
        from monitor.storage import StorageError

        try:
            storage = open_storage(settings, db)
        except StorageError as exc:
            lines.append(f"claimreview: error: {exc}")
        else:
            with storage:
                lines += asyncio.run(update_claimreview_feeds(settings, storage.save_factchecks))
    for line in lines:
        sys.stdout.write(line + "\n")
    sys.stdout.write(f"lists are in {settings.credibility_dir()}\n")
    return 1 if any(": error:" in line for line in lines) else 0
