"""`onda data update` against a loopback server: conditional GET, manifest, per-list errors."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web

from monitor.config import Settings
from monitor.risk.credibility import CredibilityIndex
from monitor.risk.data_update import update_lists

BODIES = {
    "/iffy.txt": b"https://fakenewsdaily.example/*\n",
    "/pc1.csv": b"domain,pc1\nbufalesite.it,0.1\n",
    "/os.csv": b",type,2nd type,3rd type,Source Notes (things to know?),\nsatire.example,satire,,,,\n",
    "/rsp.jsonl": b'{"status": "gu", "domain": "tabloid.example", "alltext": ""}\n',
    "/html.csv": b"<!DOCTYPE html><html>oops</html>",
}


def make_app(hits: list[tuple[str, str | None]]) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        hits.append((request.path, request.headers.get("If-None-Match")))
        body = BODIES.get(request.path)
        if body is None:
            return web.Response(status=404)
        etag = f'"{len(body)}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304)
        return web.Response(body=body, headers={"ETag": etag, "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"})

    app = web.Application()
    app.router.add_get("/{name}", handler)
    return app


def settings_for(tmp_path: Path) -> Settings:
    return Settings(risk={"credibility_dir": str(tmp_path / "cred")})  # type: ignore[arg-type]


async def test_download_then_not_modified(aiohttp_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hits: list[tuple[str, str | None]] = []
    server = await aiohttp_server(make_app(hits))
    base = str(server.make_url("/"))
    sources = {
        "iffy": base + "iffy.txt",
        "lin2023": base + "pc1.csv",
        "opensources": base + "os.csv",
        "wikipedia_rsp": base + "rsp.jsonl",
    }
    settings = settings_for(tmp_path)
    lines = await update_lists(settings, sources=sources)
    assert all(": updated" in line for line in lines), lines
    manifest = json.loads((tmp_path / "cred" / "manifest.json").read_text())
    assert manifest["wikipedia_rsp"]["licence"].startswith("CC BY-SA")
    assert manifest["iffy"]["etag"] == f'"{len(BODIES["/iffy.txt"])}"' and manifest["iffy"]["downloaded_at"]
    idx = CredibilityIndex.load(tmp_path / "cred")
    assert {
        idx.rate(d).level for d in ("fakenewsdaily.example", "bufalesite.it", "satire.example", "tabloid.example")
    } == {"low"}

    hits.clear()
    again = await update_lists(settings, sources=sources)
    assert all(": not modified" in line for line in again), again
    assert all(etag is not None for _, etag in hits)  # conditional GET sent


async def test_errors_are_per_list_and_keep_old_files(aiohttp_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = await aiohttp_server(make_app([]))
    base = str(server.make_url("/"))
    settings = settings_for(tmp_path)
    await update_lists(settings, sources={"lin2023": base + "pc1.csv"})
    lines = await update_lists(
        settings,
        sources={
            "lin2023": base + "html.csv",
            "iffy": base + "missing.txt",
            "opensources": base + "os.csv",
            "bogus": base,
        },
    )
    by_name = {line.split(":")[0]: line for line in lines}
    assert "not a valid list" in by_name["lin2023"] and "kept the previous file" in by_name["lin2023"]
    assert "HTTP 404" in by_name["iffy"] and "no file installed yet" in by_name["iffy"]  # none to keep
    assert ": updated" in by_name["opensources"]
    assert "unknown list" in by_name["bogus"]
    assert (tmp_path / "cred" / "lin2023_domain_pc1.csv").read_bytes() == BODIES["/pc1.csv"]


async def test_unreachable_host_is_one_line(tmp_path: Path, unused_tcp_port: int) -> None:
    lines = await update_lists(settings_for(tmp_path), sources={"iffy": f"http://127.0.0.1:{unused_tcp_port}/x"})
    assert len(lines) == 1 and lines[0].startswith("iffy: error:")


async def test_claimreview_feeds_are_read_whole_and_their_keys_never_shown(aiohttp_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from monitor.risk.data_update import update_claimreview_feeds
    from monitor.storage import Storage

    reviews = [
        {
            "@type": "ClaimReview",
            "claimReviewed": f"Claim number {i} about a made-up product recall",
            "url": f"https://checker.example/{i}",
            "datePublished": "2025-05-01",
            "reviewRating": {"alternateName": "Vero" if i % 1000 == 0 else "Falso"},
        }
        for i in range(20_000)
    ]
    body = "\n".join(json.dumps(r) for r in reviews).encode()  # ~3 MB: arrives in many chunks

    async def feed(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        for start in range(0, len(body), 100_000):
            await resp.write(body[start : start + 100_000])
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/claims", feed)
    server = await aiohttp_server(app)
    url = str(server.make_url("/claims")) + "?key=SECRET-KEY-123"
    settings = Settings(factchecks={"claimreview_urls": [url, str(server.make_url("/missing")) + "?key=SECRET-KEY-123"]})  # type: ignore[arg-type]
    storage = Storage(tmp_path / "onda.db")
    lines = await update_claimreview_feeds(settings, storage.save_factchecks)
    assert lines[0].endswith("19980 new fact-check(s), 0 updated, 0 known, 0 withdrawn, 20 skipped"), lines
    assert "HTTP 404" in lines[1]
    assert storage.count_factchecks() == 19_980
    import sqlite3

    with sqlite3.connect(tmp_path / "onda.db") as raw:  # what a reader of the file would see
        origins = {row[0] for row in raw.execute("SELECT DISTINCT origin FROM factchecks")}
    assert not any("SECRET" in line for line in lines) and not any("SECRET" in o for o in origins)
    again = await update_claimreview_feeds(settings, storage.save_factchecks)
    assert again[0].endswith("0 new fact-check(s), 0 updated, 19980 known, 0 withdrawn, 20 skipped")
    storage.close()
