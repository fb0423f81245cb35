"""A story's display title: the clearest headline, not a lower-case search query.

A story often starts from a query-like item (a Google Trends query "sinner", a hashtag) and its
`Trend.title` (which also fixes its stable `id`) stays that query. What people read — `onda watch`
`title`, the dashboard, Slack — is `display_title(trend)`: when the title is query-like and one
of the story's headlines contains every query word, that headline; otherwise the title as stored.
The rule is deterministic (it does not depend on the order headlines arrived in), so every edge
shows the same title for the same story.
"""

from __future__ import annotations

import functools
import re

from monitor.models import Trend
from monitor.text import MAX_TITLE_CHARS, clean_text, fold_accents

MIN_HEADLINE_WORDS = 4  # shorter lines are names ("Carlos Alcaraz", "Black Friday"), not headlines
_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORD.findall(fold_accents(text))


def is_query_like(title: str) -> bool:
    """A search query or hashtag rather than a headline: all lower-case, or a #tag."""
    text = title.strip()
    return bool(text) and (text.startswith("#") or text == text.lower())


def _is_headline(line: str) -> bool:
    """A publisher's or feed's headline: capitalised, a few words, one line, not a summary sentence."""
    first = line[:1]
    return (
        (first.isupper() or first.isdigit())
        and len(_words(line)) >= MIN_HEADLINE_WORDS
        and len(line) <= MAX_TITLE_CHARS
        and not line.endswith(".")
        and not any(mark in line for mark in ("#", "@", "://"))
    )


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def display_title(trend: Trend) -> str:
    """The title to show for a story (see the module docstring); never changes `trend.id`.

    Among the headlines holding every query word, the clearest is the most typical of the story: the one
    sharing the most words with its other headlines (so one outlet's terse or foreign-language line loses
    to what most outlets wrote), then the shortest, then the first in alphabetical order.
    """
    if not is_query_like(trend.title):
        return trend.title
    return _clearest_headline(trend.title, tuple(trend.context))


@functools.lru_cache(maxsize=4096)  # every list refresh asks again for the same stories
def _clearest_headline(title: str, context: tuple[str, ...]) -> str:
    query = _words(title.lstrip("#"))
    if not query:
        return title
    cleaned = (clean_text(c, MAX_TITLE_CHARS + 1) for c in context)
    headlines = list(dict.fromkeys(line for line in cleaned if _is_headline(line)))
    words = {line: set(_words(line)) for line in headlines}
    best: tuple[float, int, str] | None = None
    for line in headlines:
        if not all(q in words[line] for q in query):
            continue
        typical = sum(_overlap(words[line], words[other]) for other in headlines if other != line)
        key = (-round(typical, 6), len(line), line)
        best = key if best is None or key < best else best
    return best[2] if best else title
