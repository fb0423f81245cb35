"""Fact-check layer: feed poller on loopback, Google claims format, store matching (real model)."""

from __future__ import annotations

import logging
from datetime import date

import aiohttp
import pytest
from aiohttp import web

from monitor.evidence import FactCheckEvidence
from monitor.explain import flag_text
from monitor.risk.factcheck import FactCheck, FactCheckStore, content_terms
from monitor.risk.factcheck_feeds import parse_google_claims, poll_factcheck_feeds

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>Facta – fact-checking</title><link>https://facta.example/</link><description>test feed</description>
<item><title>No, il latte d'avena non provoca la perdita dei capelli</title>
<link>https://facta.example/latte-avena-capelli</link><pubDate>Mon, 18 Nov 2024 09:00:00 +0000</pubDate></item>
<item><title>La foto dello squalo in autostrada a Genova è un fotomontaggio</title>
<link>https://facta.example/squalo-genova</link><pubDate>Tue, 19 Nov 2024 10:00:00 +0000</pubDate></item>
<item><title>Senza link</title></item>
</channel></rss>"""

CLAIMS = {
    "claims": [
        {
            "text": "Drinking hot water with lemon cures cancer",
            "claimant": "viral post",
            "claimDate": "2024-11-10T00:00:00Z",
            "claimReview": [
                {
                    "publisher": {"name": "Example Checks", "site": "checks.example"},
                    "url": "https://checks.example/lemon-cancer",
                    "title": "Fact check: hot lemon water does not cure cancer",
                    "reviewDate": "2024-11-12T08:00:00Z",
                    "textualRating": "False",
                    "languageCode": "en",
                }
            ],
        }
    ]
}


def make_app(seen: list[str]) -> web.Application:
    async def feed(request: web.Request) -> web.Response:
        seen.append(str(request.rel_url))
        return web.Response(text=RSS, content_type="application/rss+xml")

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500)

    async def claims(request: web.Request) -> web.Response:
        seen.append(str(request.rel_url))
        return web.json_response(CLAIMS)

    app = web.Application()
    app.router.add_get("/feed", feed)
    app.router.add_get("/broken", broken)
    app.router.add_get("/claims", claims)
    return app


async def test_poll_feeds_and_google_on_loopback(aiohttp_server, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    server = await aiohttp_server(make_app(seen))
    async with aiohttp.ClientSession() as session:

        async def fetch(url: str) -> bytes:
            async with session.get(url) as resp:
                resp.raise_for_status()
                return await resp.read()

        with caplog.at_level(logging.WARNING):
            items = await poll_factcheck_feeds(
                fetch,
                [str(server.make_url("/feed")), str(server.make_url("/broken"))],
                api_key="SECRET-KEY-123",
                google_sites=["facta.example"],
                google_base=str(server.make_url("/claims")),
            )
    urls = {fc.url for fc in items}
    assert urls == {
        "https://facta.example/latte-avena-capelli",
        "https://facta.example/squalo-genova",
        "https://checks.example/lemon-cancer",
    }
    squalo = next(fc for fc in items if "squalo" in fc.url)
    assert squalo.publisher.startswith("Facta") and squalo.published == date(2024, 11, 19)
    assert any("reviewPublisherSiteFilter=facta.example" in s for s in seen)
    assert "/broken" in caplog.text and "SECRET-KEY-123" not in caplog.text


async def test_no_key_no_google(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONDA_FACTCHECK_API_KEY", raising=False)
    called: list[str] = []

    async def fetch(url: str) -> bytes:
        called.append(url)
        return RSS.encode()

    items = await poll_factcheck_feeds(fetch, ["http://127.0.0.1:9/feed"])
    assert called == ["http://127.0.0.1:9/feed"] and len(items) == 2


def test_parse_google_claims() -> None:
    [fc] = parse_google_claims(CLAIMS)
    assert fc.rating == "False" and fc.claim.startswith("Drinking") and fc.published == date(2024, 11, 12)
    assert parse_google_claims({"claims": [{"claimReview": [{"url": "javascript:x"}]}]}) == []
    assert parse_google_claims("nope") == []


def test_content_terms_fold_accents_and_stems() -> None:
    assert content_terms("Vaccini e vaccino: perché?") == {"vacci", "perch"}


@pytest.mark.model
def test_store_matches_debunk_by_meaning_and_words(real_embedder) -> None:  # type: ignore[no-untyped-def]
    store = FactCheckStore(embedder=real_embedder, max_age_days=30)
    store.add(
        [
            FactCheck(
                "La foto dello squalo in autostrada a Genova è un fotomontaggio",
                "https://f.example/squalo",
                "Facta",
                date(2024, 11, 19),
            ),
            FactCheck(
                "Fact check: hot lemon water does not cure cancer",
                "https://c.example/lemon",
                "Checks",
                date(2024, 11, 12),
                claim="Drinking hot water with lemon cures cancer",
                rating="False",
            ),
        ],
        today=date(2024, 11, 20),
    )
    texts = [
        "Squalo in autostrada a Genova dopo l'alluvione . Foto dello squalo nuota tra le auto",
        "Hot lemon water cures cancer, says viral post",
        "Genoa beat Sampdoria in the derby",
        "New cancer drug approved by regulators",
    ]
    vecs = real_embedder.encode(texts)
    flags = store.match(texts, vecs, date(2024, 11, 21))
    assert [len(f) for f in flags] == [1, 1, 0, 0]
    squalo, lemon = flags[0][0], flags[1][0]
    assert squalo.level == "high" and squalo.layer == "factcheck" and squalo.garm == "Misinformation"
    assert isinstance(squalo.evidence, FactCheckEvidence) and squalo.evidence.url == "https://f.example/squalo"
    assert squalo.evidence.publisher == "Facta" and squalo.evidence.published == date(2024, 11, 19)
    assert squalo.evidence.method == "meaning" and squalo.evidence.score >= 0.55 and squalo.evidence.shared_terms
    assert isinstance(lemon.evidence, FactCheckEvidence) and lemon.evidence.rating == "False"
    assert lemon.evidence.claim == "Drinking hot water with lemon cures cancer"
    text = flag_text(lemon)
    assert text.startswith("debunked: 'Fact check: hot lemon water does not cure cancer' (https://c.example/lemon)")
    assert "rated 'False'" in text and text.index("https://c.example/lemon") < text.index("misinformation")
    # too old to matter
    assert store.match(texts, vecs, date(2025, 3, 1)) == [[], [], [], []]


def test_store_lexical_only_without_embedder() -> None:
    store = FactCheckStore(embedder=None)
    store.add(
        [FactCheck("Il latte d'avena non provoca la perdita dei capelli", "https://f.example/avena", "Facta")],
        today=date(2024, 11, 20),
    )
    flags = store.match(
        ["Latte d'avena e perdita dei capelli: lo studio", "Capelli: le tendenze"], None, date(2024, 11, 21)
    )
    assert len(flags[0]) == 1 and flags[1] == []
    ev = flags[0][0].evidence
    assert isinstance(ev, FactCheckEvidence) and ev.method == "words" and ev.url == "https://f.example/avena"
    assert "of its key words" in flag_text(flags[0][0])
    assert store.add([FactCheck("dup", "https://f.example/avena", "Facta")]) == 0


def test_concurrent_adds_and_a_match_during_preload_lose_nothing() -> None:
    import threading
    import time
    from collections.abc import Sequence
    from datetime import date

    from brand_dna.embedder import HashEmbedder
    from monitor.models import FactCheck

    class SlowHash(HashEmbedder):
        def encode(self, texts: Sequence[str]):  # type: ignore[no-untyped-def]
            time.sleep(0.2)  # a long embedding: the window where other threads used to see nothing
            return super().encode(texts)

    debunk = FactCheck(
        title="No, the EU does not ban olive oil in glass bottles",
        url="https://checker.example/olive",
        publisher="Checker",
        published=date(2025, 5, 1),
        claim="EU bans olive oil in glass bottles from June",
    )
    store = FactCheckStore(embedder=SlowHash(64))
    store.preload([debunk])
    text = "EU bans olive oil in glass bottles from June"
    found: list[int] = []

    def match() -> None:
        found.append(len(store.match([text], None, date(2025, 5, 2))[0]))

    threads = [threading.Thread(target=store.add, args=([debunk],)) for _ in range(3)]
    threads.append(threading.Thread(target=match))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store) == 1
    assert found == [1]
