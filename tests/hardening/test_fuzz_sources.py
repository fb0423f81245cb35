"""Property tests: every source parser turns hostile bytes into items or SourceError, never anything else.

Each built-in adapter has a pure parse function (the poll only fetches and calls it), so the
properties run on the parse functions directly: random bytes, valid documents with hostile
field values (controls, bidi, entities, huge numbers, wrong JSON types), and truncated/spliced
documents. Whatever comes out must be a list of clean SourceItems. So that a parser which
rejects everything cannot pass, each parser also gets well-formed documents (`*_valid_*`): one
item per well-formed entry, with the entry's title.
"""

from __future__ import annotations

import html
from typing import Any

import pytest
from hardening_strategies import (
    HOSTILE_TEXT,
    JSON_VALUES,
    assert_valid_items,
    json_body,
    maybe,
    mutate,
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from monitor.models import SourceItem
from monitor.risk.factcheck import FactCheck
from monitor.risk.factcheck_feeds import parse_feed as parse_factcheck_feed
from monitor.risk.factcheck_feeds import parse_google_claims
from monitor.sources.base import SourceError
from monitor.sources.bluesky import parse_topics
from monitor.sources.gdelt import parse_artlist
from monitor.sources.google_trends import parse_trending_rss
from monitor.sources.http import FetchResult
from monitor.sources.mastodon import parse_links, parse_tags
from monitor.sources.rss import parse_feed
from monitor.sources.wikipedia import parse_top
from monitor.sources.youtube import parse_videos

FAST = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
CHARSETS = st.sampled_from(
    [None, "utf-8", "latin-1", "utf-16", "no-such-charset", "ascii", "idna", "punycode", "undefined", "rot13"]
)


def result(body: bytes, charset: str | None = None, ctype: str = "application/json") -> FetchResult:
    return FetchResult(status=200, body=body, content_type=ctype, headers={}, url="http://127.0.0.1/x", charset=charset)


def expect_items_or_source_error(fn: Any, *args: Any, source: str, **kw: Any) -> None:
    try:
        items = fn(*args, **kw)
    except SourceError as exc:
        msg = str(exc)
        assert msg.strip(), "SourceError without a message"
        assert "\n" not in msg.strip(), f"multi-line error: {msg!r}"
        return
    assert_valid_items(items, source)


def expect_parsed(items: list[SourceItem], source: str, titles: list[str]) -> None:
    """A well-formed document: one clean item per entry, titles in order (whitespace collapsed)."""
    assert_valid_items(items, source)
    assert [i.title for i in items] == [" ".join(t.split()) for t in titles]


# Well-formed field values: plain words, and URLs that are valid http(s) links.
WORDS = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,11}( [A-Za-z0-9]{1,11}){0,4}", fullmatch=True)
SLUGS = st.from_regex(r"[A-Za-z0-9]{1,20}", fullmatch=True)


def link(slug: str) -> str:
    return f"https://news.example/{slug}"


def xml_text(raw: bool, text: str) -> str:
    """Field content either escaped properly or pasted raw (feeds in the wild do both)."""
    return text if raw else html.escape(text, quote=False)


# -- Google Trends RSS ----------------------------------------------------------------------------------
GT_ITEM = st.fixed_dictionaries(
    {
        "title": HOSTILE_TEXT,
        "traffic": HOSTILE_TEXT,
        "date": HOSTILE_TEXT,
        "news": st.lists(st.tuples(HOSTILE_TEXT, HOSTILE_TEXT), max_size=3),
        "raw": st.booleans(),
    }
)


def google_trends_doc(items: list[dict[str, Any]]) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss xmlns:ht="https://trends.google.com/trending/rss" version="2.0"><channel><title>Trends</title>',
    ]
    for it in items:
        r = it["raw"]
        news = "".join(
            f"<ht:news_item><ht:news_item_title>{xml_text(r, h)}</ht:news_item_title>"
            f"<ht:news_item_url>{xml_text(r, u)}</ht:news_item_url></ht:news_item>"
            for h, u in it["news"]
        )
        parts.append(
            f"<item><title>{xml_text(r, it['title'])}</title><ht:approx_traffic>{xml_text(r, it['traffic'])}"
            f"</ht:approx_traffic><pubDate>{xml_text(r, it['date'])}</pubDate>{news}</item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8", errors="surrogatepass")


@FAST
@given(st.lists(GT_ITEM, max_size=4))
def test_google_trends_structured(items: list[dict[str, Any]]) -> None:
    expect_items_or_source_error(parse_trending_rss, google_trends_doc(items), lang="it", source="google_trends")


@FAST
@given(st.binary(max_size=600))
@example(b"")
@example(b"\xef\xbb\xbf<rss><channel/></rss>")
@example(b'<!DOCTYPE rss [<!ENTITY a "aaaa">]><rss><channel><item><title>&a;</title></item></channel></rss>')
@example(b"<rss><channel>" + b"<item>" * 5000)
@example(b"<rss>" + b"<a>" * 3000 + b"</a>" * 3000 + b"</rss>")
def test_google_trends_random_bytes(body: bytes) -> None:
    expect_items_or_source_error(parse_trending_rss, body, lang=None, source="google_trends")


@FAST
@given(st.lists(GT_ITEM, min_size=1, max_size=3), st.integers(0, 10**6), st.binary(max_size=20), st.integers(0, 10**6))
def test_google_trends_mutated(items: list[dict[str, Any]], cut: int, junk: bytes, at: int) -> None:
    body = mutate(google_trends_doc(items), cut, junk, at)
    expect_items_or_source_error(parse_trending_rss, body, lang="it", source="google_trends")


@FAST
@given(st.lists(st.tuples(WORDS, WORDS, SLUGS), min_size=1, max_size=4))
def test_google_trends_valid_documents_parse(entries: list[tuple[str, str, str]]) -> None:
    items = [
        {
            "title": t,
            "traffic": "1.000+",
            "date": "Fri, 3 Jul 2026 10:00:00 -0700",
            "news": [(h, link(u))],
            "raw": False,
        }
        for t, h, u in entries
    ]
    out = parse_trending_rss(google_trends_doc(items), lang="it", source="google_trends")
    expect_parsed(out, "google_trends", [t for t, _, _ in entries])
    assert [i.url for i in out] == [link(u) for _, _, u in entries]


# -- publisher RSS / Atom (feedparser) ----------------------------------------------------------------
FEED_ENTRY = st.fixed_dictionaries(
    {"title": HOSTILE_TEXT, "link": HOSTILE_TEXT, "summary": HOSTILE_TEXT, "date": HOSTILE_TEXT, "raw": st.booleans()}
)


def rss_doc(entries: list[dict[str, Any]], lang: str, atom: bool) -> bytes:
    if atom:
        body = "".join(
            f'<entry><title>{xml_text(e["raw"], e["title"])}</title><link href="{html.escape(e["link"])}"/>'
            f'<id>{xml_text(e["raw"], e["link"])}</id><summary type="html">{xml_text(e["raw"], e["summary"])}'
            f"</summary><updated>{xml_text(e['raw'], e['date'])}</updated></entry>"
            for e in entries
        )
        doc = (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
            f'xml:lang="{html.escape(lang)}"><title>t</title>{body}</feed>'
        )
    else:
        body = "".join(
            f"<item><title>{xml_text(e['raw'], e['title'])}</title><link>{xml_text(e['raw'], e['link'])}</link>"
            f"<description>{xml_text(e['raw'], e['summary'])}</description>"
            f"<pubDate>{xml_text(e['raw'], e['date'])}</pubDate><guid>{xml_text(e['raw'], e['link'])}</guid></item>"
            for e in entries
        )
        doc = (
            f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
            f"<language>{xml_text(False, lang)}</language>{body}</channel></rss>"
        )
    return doc.encode("utf-8", errors="surrogatepass")


@SLOW
@given(st.lists(FEED_ENTRY, max_size=4), HOSTILE_TEXT, st.booleans())
def test_rss_structured(entries: list[dict[str, Any]], lang: str, atom: bool) -> None:
    expect_items_or_source_error(
        parse_feed, rss_doc(entries, lang, atom), content_type="application/rss+xml", source="rss"
    )


@SLOW
@given(st.binary(max_size=600), st.sampled_from(["", "text/html", "application/xml", "application/json"]))
@example(b"", "")
@example(b"<html><body>Service unavailable</body></html>", "text/html")
@example(
    b'<!DOCTYPE r [<!ENTITY a "aa"><!ENTITY b "&a;&a;">]><rss><channel><item><title>&b;</title></item></channel></rss>',
    "",
)
def test_rss_random_bytes(body: bytes, ctype: str) -> None:
    expect_items_or_source_error(parse_feed, body, content_type=ctype, source="rss")


@SLOW
@given(
    st.lists(FEED_ENTRY, min_size=1, max_size=3),
    st.booleans(),
    st.integers(0, 10**6),
    st.binary(max_size=20),
    st.integers(0, 10**6),
)
def test_rss_mutated(entries: list[dict[str, Any]], atom: bool, cut: int, junk: bytes, at: int) -> None:
    body = mutate(rss_doc(entries, "it", atom), cut, junk, at)
    expect_items_or_source_error(parse_feed, body, content_type="application/xml", source="rss")


@SLOW
@given(st.lists(st.tuples(WORDS, SLUGS), min_size=1, max_size=4), st.booleans())
def test_rss_valid_documents_parse(entries: list[tuple[str, str]], atom: bool) -> None:
    docs = [
        {"title": t, "link": link(u), "summary": "s", "date": "2026-11-23T08:00:00Z", "raw": False} for t, u in entries
    ]
    out = parse_feed(rss_doc(docs, "it", atom), content_type="application/xml", source="rss")
    expect_parsed(out, "rss", [t for t, _ in entries])
    assert [i.url for i in out] == [link(u) for _, u in entries]


# -- GDELT ----------------------------------------------------------------------------------------------
GDELT_ARTICLE = st.fixed_dictionaries(
    {},
    optional={
        "url": maybe(st.sampled_from(["https://www.ansa.it/a.html", "http://x.example/b", "ftp://x", "https://a b"])),
        "title": maybe(HOSTILE_TEXT),
        "seendate": maybe(st.sampled_from(["20261123T101500Z", "2026-11-23", "99999999T999999Z", ""])),
        "domain": maybe(HOSTILE_TEXT),
        "language": maybe(st.sampled_from(["Italian", "English", "Klingon", "", "it-IT"])),
    },
)


@FAST
@given(
    st.one_of(
        st.fixed_dictionaries({"articles": maybe(st.lists(maybe(GDELT_ARTICLE), max_size=5))}),
        JSON_VALUES,
    ),
    CHARSETS,
)
def test_gdelt_structured(obj: Any, charset: str | None) -> None:
    expect_items_or_source_error(parse_artlist, result(json_body(obj), charset), source="gdelt")


@FAST
@given(st.binary(max_size=400), CHARSETS)
@example(b"Please limit requests to one every 5 seconds", None)
@example(b"{}", None)
@example(b"[" * 100_000, None)
@example(b'{"articles": [{"title": 1' + b"0" * 5000 + b"}]}", None)
def test_gdelt_random_bytes(body: bytes, charset: str | None) -> None:
    expect_items_or_source_error(parse_artlist, result(body, charset), source="gdelt")


@FAST
@given(st.lists(st.tuples(WORDS, SLUGS), min_size=1, max_size=5))
def test_gdelt_valid_documents_parse(entries: list[tuple[str, str]]) -> None:
    arts = [
        {"url": link(u), "title": t, "seendate": "20261123T101500Z", "domain": "news.example", "language": "Italian"}
        for t, u in entries
    ]
    out = parse_artlist(result(json_body({"articles": arts})), source="gdelt")
    expect_parsed(out, "gdelt", [t for t, _ in entries])
    assert all(i.lang == "it" and i.published is not None for i in out)


# -- Wikimedia top articles ---------------------------------------------------------------------------
WIKI_ARTICLE = st.fixed_dictionaries(
    {}, optional={"article": maybe(HOSTILE_TEXT), "views": maybe(st.integers(-5, 10**12)), "rank": JSON_VALUES}
)
WIKI_DOC = st.fixed_dictionaries(
    {
        "items": maybe(
            st.lists(
                maybe(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "year": maybe(st.sampled_from(["2026", 2026, 0, 10**20])),
                            "month": maybe(st.sampled_from(["11", 13, -1])),
                            "day": maybe(st.sampled_from(["22", 31, 0])),
                            "articles": maybe(st.lists(maybe(WIKI_ARTICLE), max_size=5)),
                        },
                    )
                ),
                max_size=2,
            )
        )
    }
)


@FAST
@given(st.one_of(WIKI_DOC, JSON_VALUES), st.sampled_from(["it.wikipedia", "en.wikipedia", "wikidata"]))
@example({"items": [{"year": 1e400, "month": 1, "day": 1, "articles": []}]}, "it.wikipedia")
@example(
    {"items": [{"year": 2026, "month": 11, "day": 22, "articles": [{"article": "X", "views": 1e400}]}]}, "it.wikipedia"
)
@example(
    {"items": [{"year": 2026, "month": 11, "day": 22, "articles": [{"article": "Caff\ud800", "views": 5}]}]},
    "it.wikipedia",
)
def test_wikipedia_structured(obj: Any, project: str) -> None:
    expect_items_or_source_error(parse_top, result(json_body(obj)), project=project, source="wikipedia")


@FAST
@given(st.binary(max_size=400), CHARSETS)
def test_wikipedia_random_bytes(body: bytes, charset: str | None) -> None:
    expect_items_or_source_error(parse_top, result(body, charset), project="it.wikipedia", source="wikipedia")


@FAST
@given(st.lists(st.from_regex(r"Art_[A-Za-z0-9_]{1,20}", fullmatch=True), min_size=1, max_size=5))
def test_wikipedia_valid_documents_parse(articles: list[str]) -> None:
    doc = {
        "items": [
            {"year": "2026", "month": "11", "day": "22", "articles": [{"article": a, "views": 5} for a in articles]}
        ]
    }
    out = parse_top(result(json_body(doc)), project="it.wikipedia", source="wikipedia")
    expect_parsed(out, "wikipedia", [a.replace("_", " ") for a in articles])
    assert all(i.url and i.url.startswith("https://it.wikipedia.org/wiki/Art_") for i in out)


# -- Mastodon -------------------------------------------------------------------------------------------
HISTORY = maybe(
    st.lists(
        maybe(
            st.fixed_dictionaries(
                {}, optional={"uses": maybe(st.sampled_from(["12", "x", 3, 1e400, -1])), "day": JSON_VALUES}
            )
        ),
        max_size=3,
    )
)
MASTODON_TAG = st.fixed_dictionaries(
    {}, optional={"name": maybe(HOSTILE_TEXT), "url": maybe(HOSTILE_TEXT), "history": HISTORY}
)
MASTODON_LINK = st.fixed_dictionaries(
    {},
    optional={
        "title": maybe(HOSTILE_TEXT),
        "url": maybe(st.sampled_from(["https://www.open.online/x", "javascript:alert(1)", "https://a\nb"])),
        "provider_name": maybe(HOSTILE_TEXT),
        "description": maybe(HOSTILE_TEXT),
        "language": maybe(HOSTILE_TEXT),
        "history": HISTORY,
    },
)


@FAST
@given(st.one_of(st.lists(maybe(MASTODON_TAG), max_size=5), JSON_VALUES))
@example([{"name": "x", "history": [{"uses": 1e400}]}])
@example([{"name": "caff\ud800", "url": "https://m.example/tags/\udfff"}])
def test_mastodon_tags_structured(obj: Any) -> None:
    expect_items_or_source_error(parse_tags, result(json_body(obj)), source="mastodon")


@FAST
@given(st.one_of(st.lists(maybe(MASTODON_LINK), max_size=5), JSON_VALUES))
def test_mastodon_links_structured(obj: Any) -> None:
    expect_items_or_source_error(parse_links, result(json_body(obj)), source="mastodon")


@FAST
@given(st.binary(max_size=400), CHARSETS)
def test_mastodon_random_bytes(body: bytes, charset: str | None) -> None:
    expect_items_or_source_error(parse_tags, result(body, charset), source="mastodon")
    expect_items_or_source_error(parse_links, result(body, charset), source="mastodon")


@FAST
@given(st.lists(SLUGS, min_size=1, max_size=5), st.lists(st.tuples(WORDS, SLUGS), min_size=1, max_size=5))
def test_mastodon_valid_documents_parse(tags: list[str], links: list[tuple[str, str]]) -> None:
    tag_doc = [{"name": t, "url": link(t), "history": [{"uses": "3"}]} for t in tags]
    expect_parsed(parse_tags(result(json_body(tag_doc)), source="mastodon"), "mastodon", [f"#{t}" for t in tags])
    link_doc = [{"title": t, "url": link(u), "provider_name": "News"} for t, u in links]
    expect_parsed(parse_links(result(json_body(link_doc)), source="mastodon"), "mastodon", [t for t, _ in links])


# -- Bluesky / YouTube --------------------------------------------------------------------------------------
BSKY_TOPIC = st.fixed_dictionaries(
    {},
    optional={
        "topic": maybe(HOSTILE_TEXT),
        "displayName": maybe(HOSTILE_TEXT),
        "description": maybe(HOSTILE_TEXT),
        "link": maybe(st.one_of(HOSTILE_TEXT, st.sampled_from(["/profile/x/feed/y", "//evil.example/x", "/a b"]))),
    },
)


@FAST
@given(st.one_of(st.fixed_dictionaries({"topics": maybe(st.lists(maybe(BSKY_TOPIC), max_size=5))}), JSON_VALUES))
@example({"topics": [{"topic": "caff\ud800 day", "link": "https://x.example/\udfff", "description": "\udc00"}]})
def test_bluesky_structured(obj: Any) -> None:
    expect_items_or_source_error(parse_topics, result(json_body(obj)), source="bluesky")


@FAST
@given(st.lists(st.tuples(WORDS, SLUGS), min_size=1, max_size=5))
def test_bluesky_valid_documents_parse(topics: list[tuple[str, str]]) -> None:
    doc = {"topics": [{"topic": t, "link": f"/profile/x/feed/{u}"} for t, u in topics]}
    out = parse_topics(result(json_body(doc)), source="bluesky")
    expect_parsed(out, "bluesky", [t for t, _ in topics])
    assert all(i.url and i.url.startswith("https://bsky.app/profile/x/feed/") for i in out)


YT_VIDEO = st.fixed_dictionaries(
    {},
    optional={
        "id": maybe(HOSTILE_TEXT),
        "snippet": maybe(
            st.fixed_dictionaries(
                {},
                optional={
                    "title": maybe(HOSTILE_TEXT),
                    "channelTitle": maybe(HOSTILE_TEXT),
                    "defaultAudioLanguage": maybe(HOSTILE_TEXT),
                },
            )
        ),
        "statistics": maybe(
            st.fixed_dictionaries({}, optional={"viewCount": maybe(st.sampled_from(["123", 1e400, -3, "x"]))})
        ),
    },
)


@FAST
@given(st.one_of(st.fixed_dictionaries({"items": maybe(st.lists(maybe(YT_VIDEO), max_size=5))}), JSON_VALUES))
@example({"items": [{"id": "abc", "snippet": {"title": "t"}, "statistics": {"viewCount": 1e400}}]})
def test_youtube_structured(obj: Any) -> None:
    expect_items_or_source_error(parse_videos, result(json_body(obj)), source="youtube")


@FAST
@given(st.binary(max_size=400), CHARSETS)
def test_bluesky_youtube_random_bytes(body: bytes, charset: str | None) -> None:
    expect_items_or_source_error(parse_topics, result(body, charset), source="bluesky")
    expect_items_or_source_error(parse_videos, result(body, charset), source="youtube")


@FAST
@given(st.lists(st.tuples(WORDS, st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True)), min_size=1, max_size=5))
def test_youtube_valid_documents_parse(videos: list[tuple[str, str]]) -> None:
    doc = {"items": [{"id": v, "snippet": {"title": t}, "statistics": {"viewCount": "12"}} for t, v in videos]}
    out = parse_videos(result(json_body(doc)), source="youtube", default_lang="it")
    expect_parsed(out, "youtube", [t for t, _ in videos])
    assert [i.url for i in out] == [f"https://www.youtube.com/watch?v={v}" for _, v in videos]


# -- fact-check feeds and Google claims:search --------------------------------------------------------
def assert_factchecks(out: Any) -> None:
    assert isinstance(out, list)
    for fc in out:
        assert isinstance(fc, FactCheck)
        assert fc.url.startswith(("http://", "https://"))
        assert "\n" not in fc.title and "\n" not in fc.publisher and "\n" not in fc.claim
        fc.text.encode("utf-8")


@SLOW
@given(st.one_of(st.binary(max_size=500), st.lists(FEED_ENTRY, max_size=4).map(lambda e: rss_doc(e, "it", False))))
@example(b"")
@example(
    b'<!DOCTYPE r [<!ENTITY a "aa"><!ENTITY b "&a;&a;">]><rss><channel><item><title>&b;</title></item></channel></rss>'
)
def test_factcheck_feed(body: bytes) -> None:
    try:
        out = parse_factcheck_feed(body, "https://facta.news/feed/")
    except ValueError as exc:  # documented: "a feed that cannot be read" (allowed, not required)
        assert str(exc).strip()  # noqa: PT017
        return
    assert_factchecks(out)


@SLOW
@given(st.lists(st.tuples(WORDS, SLUGS), min_size=1, max_size=4))
def test_factcheck_valid_feeds_parse(entries: list[tuple[str, str]]) -> None:
    docs = [
        {"title": t, "link": link(u), "summary": "s", "date": "Sun, 22 Nov 2026 18:30:00 +0100", "raw": False}
        for t, u in entries
    ]
    out = parse_factcheck_feed(rss_doc(docs, "it", False), "https://facta.news/feed/")
    assert_factchecks(out)
    assert [fc.title for fc in out] == [" ".join(t.split()) for t, _ in entries]
    assert [fc.url for fc in out] == [link(u) for _, u in entries]


CLAIM_REVIEW = st.fixed_dictionaries(
    {},
    optional={
        "url": maybe(st.sampled_from(["https://facta.news/x", "javascript:x", ""])),
        "title": maybe(HOSTILE_TEXT),
        "publisher": maybe(
            st.fixed_dictionaries({}, optional={"name": maybe(HOSTILE_TEXT), "site": maybe(HOSTILE_TEXT)})
        ),
        "reviewDate": maybe(st.sampled_from(["2026-11-20T10:00:00Z", "yesterday", ""])),
        "textualRating": maybe(HOSTILE_TEXT),
    },
)
CLAIMS = st.fixed_dictionaries(
    {},
    optional={
        "claims": maybe(
            st.lists(
                maybe(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "text": maybe(HOSTILE_TEXT),
                            "claimDate": maybe(st.sampled_from(["2026-11-19T00:00:00Z", "x"])),
                            "claimReview": maybe(st.lists(maybe(CLAIM_REVIEW), max_size=3)),
                        },
                    )
                ),
                max_size=3,
            )
        )
    },
)


@FAST
@given(st.one_of(CLAIMS, JSON_VALUES))
@example({"claims": [{"text": "x", "claimReview": [{"url": "https://facta.news/x", "publisher": "Facta"}]}]})
@example({"claims": 5})
@example({"claims": [{"claimReview": 3}]})
def test_google_claims(obj: Any) -> None:
    """A claims:search answer is untrusted JSON: any shape gives a (possibly empty) list, never an exception."""
    assert_factchecks(parse_google_claims(obj))


@FAST
@given(st.lists(st.tuples(WORDS, SLUGS), min_size=1, max_size=4, unique_by=lambda e: e[1]))
def test_google_claims_valid_answers_parse(claims: list[tuple[str, str]]) -> None:
    obj = {
        "claims": [
            {
                "text": t,
                "claimDate": "2026-11-19T00:00:00Z",
                "claimReview": [
                    {
                        "url": link(u),
                        "title": t,
                        "publisher": {"name": "Facta", "site": "facta.news"},
                        "reviewDate": "2026-11-20T10:00:00Z",
                        "textualRating": "Falso",
                    }
                ],
            }
            for t, u in claims
        ]
    }
    out = parse_google_claims(obj)
    assert_factchecks(out)
    assert sorted(fc.url for fc in out) == sorted(link(u) for _, u in claims)


def _lol(level: int) -> bytes:
    prev = b"lol" if level == 2 else f"lol{level - 1}".encode()
    return f'<!ENTITY lol{level} "'.encode() + (b"&" + prev + b";") * 8 + b'">'


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(_lol(n) for n in range(2, 7))
    + b"]><rss><channel><item><title>&lol6;</title><link>https://x.example/a</link></item></channel></rss>"
)


@pytest.mark.parametrize(
    "body",
    [
        BILLION_LAUGHS,
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<rss><channel><item><title>&xxe;</title><link>https://x.example/a</link></item></channel></rss>",
    ],
    ids=["billion-laughs", "xxe"],
)
def test_entity_attacks_never_expand(body: bytes) -> None:
    """No parser expands declared entities: no /etc/passwd in a title, no exponential blow-up."""
    for parse in (
        lambda: parse_trending_rss(body, lang=None),
        lambda: parse_feed(body),
        lambda: parse_factcheck_feed(body, "https://x.example/feed"),
    ):
        try:
            out = parse()
        except (SourceError, ValueError):
            continue
        for it in out:
            assert "root:" not in it.title
            assert "lollollol" not in it.title
