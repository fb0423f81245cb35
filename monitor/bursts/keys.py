"""Candidate keys of a post (what may burst) and its text fingerprint (what spam repeats).

Keys: hashtags (`tag:`), linked pages (`site:` domain, `title:` card title), named phrases of up
to three words (`np:`) and content lemmas (`w:`) of the text, from the spaCy blank pipelines with
lookup lemmas and stop-words out that clustering uses (`monitor.clustering.analysis`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor.bursts.model import Post
from monitor.clustering.analysis import TextAnalyser
from monitor.text import fold_accents

_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)+/\S*", re.IGNORECASE)
_MENTION = re.compile(r"@[\w.-]+")
_HASHTAG = re.compile(r"#\w+")
_NON_WORD = re.compile(r"[\W\d_]+")
MAX_PHRASE_WORDS = 3
MIN_WORDS = 2  # fewer words than this besides links, tags and mentions: a links-only post


@dataclass(frozen=True, slots=True)
class KeyedPost:
    """A post with its candidate keys and the fingerprint of its words."""

    post: Post
    keys: frozenset[str]
    fingerprint: int  # same for texts that differ only in links, numbers, mentions, case and punctuation


def bare_words(text: str) -> str:
    """The words of a text without links, mentions, hashtags, digits, punctuation and accents."""
    text = _HASHTAG.sub(" ", _MENTION.sub(" ", _URL.sub(" ", text)))
    return " ".join(_NON_WORD.sub(" ", fold_accents(text)).split())


def fingerprint(words: str) -> int:
    return int.from_bytes(hashlib.blake2b(words.encode("utf-8"), digest_size=8).digest(), "big")


def domain(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.removeprefix("www.")


class KeyExtractor:
    """Turns posts into `KeyedPost`s; None for a post that only carries links (spam resistance)."""

    def __init__(self, analyser: TextAnalyser | None = None) -> None:
        self._analyser = analyser or TextAnalyser()

    def prepare(self) -> None:
        """Load the tokenizers and lemma tables now (seconds, blocking) rather than on the first post."""
        self._analyser.ensure()

    def keyed(self, post: Post) -> KeyedPost | None:
        words = bare_words(post.text)
        if len(words.split()) < MIN_WORDS:
            return None
        keys: set[str] = {f"tag:{fold_accents(t)}" for t in post.tags if t}
        for url in post.links:
            site = domain(url)
            if site:
                keys.add(f"site:{site}")
        if post.link_title:
            title = bare_words(post.link_title)
            if title:
                keys.add(f"title:{title}")
        info = self._analyser.analyse(_HASHTAG.sub(" ", _URL.sub(" ", post.text)), post.lang)
        for phrase in info.phrases:
            if len(phrase) <= MAX_PHRASE_WORDS and any(len(w) > 2 for w in phrase):
                keys.add("np:" + " ".join(phrase))
        for lemma in info.lemmas:
            if len(lemma) > 3 and lemma.isalpha():
                keys.add(f"w:{lemma}")
        return KeyedPost(post=post, keys=frozenset(keys), fingerprint=fingerprint(words))
