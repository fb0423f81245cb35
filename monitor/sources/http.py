"""The one HTTP layer every source uses: conditional GET, timeouts, size cap, Retry-After.

Sources never touch aiohttp directly (they see `HttpFetcher` as `monitor.sources.base.Fetcher`). `HttpFetcher.get` turns every transport
problem into a one-line `SourceError` (with `retry_after` for 429/503) and a 304
into `NotModified`, so adapters only parse and the service only sees our two
exception types.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
from yarl import URL

from monitor.config import HttpSettings
from monitor.http_headers import parse_retry_after
from monitor.sources.base import NotModified, SourceError

_CHUNK = 64 * 1024


class HttpCache(Protocol):
    """Where ETag / Last-Modified validators live between polls (`monitor.storage.Storage` fits)."""

    def get_http_cache(self, url: str) -> tuple[str | None, str | None]: ...

    def save_http_cache(self, url: str, etag: str | None, last_modified: str | None) -> None: ...


class MemoryHttpCache:
    """In-process validator cache, used when no Storage is given (tests, `onda score`)."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[str | None, str | None]] = {}

    def get_http_cache(self, url: str) -> tuple[str | None, str | None]:
        return self._data.get(url, (None, None))

    def save_http_cache(self, url: str, etag: str | None, last_modified: str | None) -> None:
        self._data[url] = (etag, last_modified)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A fetched HTTP response: status, body (size-capped), content type and headers."""

    status: int
    body: bytes
    content_type: str  # lower-case media type without parameters, "" if absent
    headers: Mapping[str, str]
    url: str  # the cache key: final request URL including the query
    charset: str | None = None

    def text(self) -> str:
        """Body decoded with the declared charset (UTF-8 otherwise); bad bytes are replaced, never raised."""
        enc = self.charset or "utf-8"
        try:
            return self.body.decode(enc, errors="replace")
        except (LookupError, UnicodeError):  # unknown name, or a codec like idna/punycode that cannot "replace"
            return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """Decoded JSON or SourceError (bodies are untrusted: HTML error pages arrive with status 200)."""
        try:
            return json.loads(self.text())
        except (ValueError, RecursionError) as exc:
            snippet = " ".join(self.text()[:80].split())
            raise SourceError(f"{safe_location(self.url)}: not JSON ({type(exc).__name__}): {snippet!r}") from None


async def read_capped(resp: aiohttp.ClientResponse, max_bytes: int) -> bytes | None:
    """The whole body, or None past `max_bytes` (read in chunks: `content.read(n)` returns only what is buffered)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def safe_location(url: str | URL) -> str:
    """host/path only: queries may carry API keys and must never reach logs or events."""
    u = URL(url) if isinstance(url, str) else url
    return f"{u.host or ''}{u.path}"


@dataclass
class _HostSlot:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last: float = float("-inf")


class HostThrottle:
    """At most one request per `min_interval` seconds per host (GDELT asks for 1 / 5 s)."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._slots: dict[str, _HostSlot] = {}
        self._clock = clock

    async def wait(self, host: str, min_interval: float) -> None:
        slot = self._slots.setdefault(host, _HostSlot())
        async with slot.lock:
            delay = slot.last + min_interval - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
            slot.last = self._clock()


class HttpFetcher:
    """Wraps ONE shared aiohttp.ClientSession (owned by the caller) with the policy above; a `Fetcher`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: HttpSettings | None = None,
        cache: HttpCache | None = None,
    ) -> None:
        self.session = session
        self.settings = settings or HttpSettings()
        self.cache: HttpCache = cache if cache is not None else MemoryHttpCache()
        self.throttle = HostThrottle()
        self._timeout = aiohttp.ClientTimeout(
            total=self.settings.total_timeout_s, sock_connect=self.settings.connect_timeout_s
        )

    def forget(self, url: str) -> None:
        """Drop validators for `url`, so a body we failed to parse is fetched again in full next time."""
        with contextlib.suppress(Exception):
            self.cache.save_http_cache(url, None, None)

    async def get(
        self,
        url: str,
        *,
        conditional: bool = True,
        accept: str | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        min_interval: float | None = None,
    ) -> FetchResult:
        """GET once. 2xx → FetchResult; 304 → NotModified; anything else → SourceError."""
        try:
            target = URL(url)
            if params:
                target = target.update_query(params)
        except (ValueError, TypeError) as exc:
            raise SourceError(f"invalid URL {url!r}: {exc}") from None
        if target.scheme not in ("http", "https") or not target.host:
            raise SourceError(f"invalid URL {safe_location(target)!r}: need http(s)://host/...")
        key = str(target)
        where = safe_location(target)

        req_headers = {"User-Agent": self.settings.user_agent, "Accept": accept or "*/*"}
        if headers:
            req_headers.update(headers)
        if conditional:
            etag, last_modified = self._cached(key)
            if etag:
                req_headers["If-None-Match"] = etag
            if last_modified:
                req_headers["If-Modified-Since"] = last_modified

        if min_interval:
            await self.throttle.wait(target.host, min_interval)

        try:
            async with self.session.get(
                target, headers=req_headers, timeout=self._timeout, allow_redirects=True, max_redirects=5
            ) as resp:
                return await self._handle(resp, key, where, conditional)
        except (SourceError, NotModified):
            raise
        except aiohttp.ConnectionTimeoutError:
            raise SourceError(f"{where}: connect timed out after {self.settings.connect_timeout_s:g} s") from None
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise SourceError(f"{where}: timed out after {self.settings.total_timeout_s:g} s") from None
        except aiohttp.TooManyRedirects:
            raise SourceError(f"{where}: too many redirects") from None
        except aiohttp.ClientConnectorError as exc:
            reason = exc.os_error.strerror if exc.os_error and exc.os_error.strerror else type(exc).__name__
            raise SourceError(f"{where}: cannot connect ({reason})") from None
        except aiohttp.ClientPayloadError:
            raise SourceError(f"{where}: response body broken off or badly encoded") from None
        except aiohttp.ClientResponseError as exc:
            raise SourceError(f"{where}: bad HTTP response ({exc.status} {exc.message})") from None
        except aiohttp.ClientError as exc:
            raise SourceError(f"{where}: {type(exc).__name__}") from None
        except (OSError, ValueError, UnicodeError) as exc:
            raise SourceError(f"{where}: {type(exc).__name__}") from None

    def _cached(self, key: str) -> tuple[str | None, str | None]:
        try:
            return self.cache.get_http_cache(key)
        except Exception:  # a cache problem must not stop polling; we just lose one conditional GET
            return (None, None)

    async def _handle(self, resp: aiohttp.ClientResponse, key: str, where: str, conditional: bool) -> FetchResult:
        status = resp.status
        if status == 304:
            raise NotModified(f"{where}: not modified")
        if status in (429, 503):
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            hint = f", retry after {retry_after:.0f} s" if retry_after is not None else ""
            raise SourceError(
                f"{where}: HTTP {status} {resp.reason or ''}{hint}".strip(), retry_after=retry_after, status=status
            )
        if status >= 400:
            raise SourceError(f"{where}: HTTP {status} {resp.reason or ''}".strip(), status=status)
        if status < 200 or status >= 300:
            raise SourceError(f"{where}: unexpected HTTP {status}", status=status)

        cap = self.settings.max_bytes
        length = resp.headers.get("Content-Length")
        if length is not None and length.strip().isdigit() and int(length) > cap:
            raise SourceError(f"{where}: response too large ({int(length)} bytes > limit {cap})")
        body = await read_capped(resp, cap)
        if body is None:
            raise SourceError(f"{where}: response too large (more than {cap} bytes)")

        if conditional:
            etag = resp.headers.get("ETag")
            last_modified = resp.headers.get("Last-Modified")
            if etag or last_modified:
                with contextlib.suppress(Exception):
                    self.cache.save_http_cache(key, etag, last_modified)
        ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        return FetchResult(
            status=status,
            body=body,
            content_type=ctype,
            headers=dict(resp.headers),
            url=key,
            charset=resp.charset,
        )


def rebase_url(url: str, base_url: str | None) -> str:
    """Point `url` at `base_url` (scheme, host, port, path prefix) keeping its own path and query.

    Used by `--offline`: every source fetches the same paths from the replay server.
    """
    if not base_url:
        return url
    src = URL(url)
    base = URL(base_url.rstrip("/"))
    path = base.path.rstrip("/") + src.path
    return str(base.with_path(path).with_query(src.query))


def endpoint(configured: str, default: str, base_url: str | None) -> str:
    """The URL a source polls: the replay server's copy of `default` offline, else the configured one."""
    if base_url:
        return rebase_url(default, base_url)
    return configured or default
