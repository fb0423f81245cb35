"""Slack escaping of untrusted trend text."""

from __future__ import annotations

import pytest

from monitor.alerts.escape import WORD_JOINER, domain, escape, link, redact, safe_url, truncate


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<!channel> free coffee", "&lt;!channel&gt; free coffee"),
        ("<!here|here>", "&lt;!here|here&gt;"),
        ("<!everyone>", "&lt;!everyone&gt;"),
        ("hi <@U123ABC>", "hi &lt;@U123ABC&gt;"),
        ("see <#C0123|general>", "see &lt;#C0123|general&gt;"),
        ("<!subteam^S012|@team>", "&lt;!subteam^S012|@team&gt;"),
        ("<https://evil.example|click me>", "&lt;https://evil.example|click me&gt;"),
        ("Tom & Jerry", "Tom &amp; Jerry"),
        ("already &amp; escaped", "already &amp;amp; escaped"),
        ("*bold* _it_ ~s~ `code`", "*bold* _it_ ~s~ `code`"),
    ],
)
def test_escape_makes_slack_control_sequences_literal(raw: str, expected: str) -> None:
    assert escape(raw) == expected


@pytest.mark.parametrize("word", ["@here", "@channel", "@everyone", "@Here", "@CHANNEL"])
def test_bare_broadcasts_are_defused(word: str) -> None:
    out = escape(f"ping {word} now")
    assert word not in out
    assert "@" + WORD_JOINER + word[1:] in out


def test_email_like_text_is_untouched() -> None:
    assert escape("mail me@herex.com") == "mail me@herex.com"


def test_escape_strips_control_and_bidi_and_bounds_length() -> None:
    assert escape("a\x00b\u202ec\nd\t e") == "a b c d e"
    assert len(escape("x" * 1000, 50)) == 50


def test_truncate_never_cuts_an_entity() -> None:
    s = escape("a" * 8 + "&&&&")  # aaaaaaaa&amp;&amp;...
    for limit in range(5, len(s)):
        out = truncate(s, limit)
        assert len(out) <= limit
        body = out.rstrip("…")
        # every '&' left is a complete entity
        assert body.count("&") == body.count("&amp;")


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "ftp://x.example/a", "data:text/html,hi", "https://", "not a url", "", "http://a\nb.com"],
)
def test_safe_url_rejects_non_http(url: str) -> None:
    assert safe_url(url) is None


def test_safe_url_encodes_link_breakers() -> None:
    out = safe_url("https://ok.example/a|b<c>d e?x=1&y=2")
    assert out == "https://ok.example/a%7Cb%3Cc%3Ed%20e?x=1&amp;y=2"


def test_link_escapes_label_and_drops_bad_url() -> None:
    assert link("https://ok.example/p", "<!channel> & co") == "<https://ok.example/p|&lt;!channel&gt; &amp; co>"
    assert link("javascript:alert(1)", "click") == "click"
    assert domain("https://www.ansa.it/x") == "ansa.it"


def test_redact_removes_url_and_token_path() -> None:
    url = "https://hooks.slack.com/services/T1/B2/SECRET"
    text = f"error posting to {url} (path /services/T1/B2/SECRET)"
    out = redact(text, [url])
    assert "SECRET" not in out and "hooks.slack.com/services" not in out
