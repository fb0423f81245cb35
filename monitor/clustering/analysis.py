"""What clustering knows about a text: its canonical form, language, lemmas and named phrases.

Lexical signals complement the sentence vectors (see `monitor.clustering`): content lemmas
(spaCy blank pipelines with lookup lemmas) and named phrases (runs of capitalised tokens), with
the first "strong" one taken as the subject of a headline. A name after a preposition ("a
Torino", "at the White House") is a place or a circumstance, never the subject.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from monitor.text import MAX_TITLE_CHARS, LemmaTable, clean_text, import_spacy, lemma_table, split_hashtags

log = logging.getLogger(__name__)

ZERO_WIDTH_JOINER = "\u200d"


def canonical_text(text: str, max_chars: int = MAX_TITLE_CHARS) -> str:
    """A title or headline as clustering stores, compares and hashes it (`trend_id_for`).

    HTML entities decoded (left over by a feed that escapes its text twice), compatibility forms
    folded (NFKC: "ﬁ" -> "fi", full-width letters -> ASCII), then `clean_text`. Unlike
    `clean_text` it also drops the zero-width joiner: trend titles have always been stored
    without it, and keeping it now would give a known story a new id.
    """
    text = unicodedata.normalize("NFKC", html.unescape(text or ""))
    return clean_text(text.replace(ZERO_WIDTH_JOINER, " "), max_chars)


# Prepositions after which a capitalised name is a place/circumstance ("a Torino", "at the White
# House"), not the subject of the story: such names are "weak" and never decide a conflict.
_WEAK_AFTER = frozenset(
    [
        "a",
        "ad",
        "ai",
        "al",
        "all",
        "alla",
        "alle",
        "allo",
        "agli",
        "in",
        "nel",
        "nella",
        "nelle",
        "nello",
        "nei",
        "negli",
        "su",
        "sul",
        "sulla",
        "sulle",
        "sullo",
        "sui",
        "sugli",
        "da",
        "dal",
        "dalla",
        "dalle",
        "dallo",
        "dai",
        "dagli",
        "verso",
        "at",
        "in",
        "into",
        "to",
        "from",
        "near",
        "on",
    ]
)
_ARTICLES_EN = frozenset({"the"})
_JOINERS = re.compile(r"(?<=\w)[-‐‑–—/](?=\w)")


@dataclass(frozen=True, slots=True)
class TextInfo:
    """What clustering knows about one text (title or headline)."""

    norm: str
    lang: str | None  # guessed ('it' / 'en') or None
    lemmas: frozenset[str]  # content lemmas, lowercase (stopwords and 1-char tokens dropped)
    tokens: frozenset[str]  # every lowercase word token and its lemma: "is X mentioned at all"
    phrases: tuple[tuple[str, ...], ...]  # named phrases (lowercase tokens), in text order
    strong: tuple[bool, ...]  # per phrase: False when it follows a preposition (a place, a venue)
    bare: bool = False  # only names (a search query, an article title): may be contained in a headline
    # 4-letter prefixes of the tokens: _same_stem needs one, so most pairs are ruled out by a set lookup.
    prefixes: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefixes", frozenset(t[:4] for t in self.tokens if len(t) >= 4))

    @property
    def lead(self) -> tuple[str, ...] | None:
        """The first strong named phrase: in a headline, almost always the subject."""
        for phrase, strong in zip(self.phrases, self.strong, strict=True):
            if strong:
                return phrase
        return None


class TextAnalyser:
    """spaCy blank it/en tokenizers + lookup lemma tables (spacy-lookups-data); thread-safe, lazy."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._nlp: dict[str, Any] = {}
        self._tables: dict[str, LemmaTable | None] = {}
        self._stop: dict[str, frozenset[str]] = {}
        self._stop_any: frozenset[str] = frozenset()  # Italian or English stop-word (built once, not per text)

    def _load(self, lang: str) -> None:
        spacy = import_spacy()
        nlp = spacy.blank(lang)
        table: LemmaTable | None = None
        try:
            table = lemma_table(lang)
        except Exception as exc:
            log.warning("no lookup lemmas for %s (%s); clustering uses surface forms", lang, exc)
        self._nlp[lang] = nlp
        self._tables[lang] = table
        self._stop[lang] = frozenset(nlp.Defaults.stop_words)
        self._stop_any = self._stop_any | self._stop[lang]

    def ensure(self) -> None:
        with self._lock:
            for lang in ("it", "en"):
                if lang not in self._nlp:
                    self._load(lang)

    def guess_lang(self, words: Sequence[str]) -> str | None:
        """Cheap language guess: stopwords exclusive to Italian vs English; None when undecided."""
        self.ensure()
        it_only = self._stop["it"] - self._stop["en"]
        en_only = self._stop["en"] - self._stop["it"]
        it = sum(1 for w in words if w in it_only)
        en = sum(1 for w in words if w in en_only)
        if it == en:  # tie-break: inflected forms only one language's lemma table knows
            it_t, en_t = self._tables.get("it"), self._tables.get("en")
            if it_t is not None and en_t is not None:
                it = sum(1 for w in words if w in it_t and w not in en_t)
                en = sum(1 for w in words if w in en_t and w not in it_t)
        if it > en:
            return "it"
        if en > it:
            return "en"
        return None

    def analyse(self, text: str, lang: str | None = None) -> TextInfo:
        """Tokens, lookup lemmas (of the lowercased token), named phrases of one normalised text."""
        self.ensure()
        norm = canonical_text(text)
        # Split "Cagliari-Inter" / "Juve–Atalanta" so each name counts; it/en tokenizers agree on headlines.
        doc = self._nlp["it"].tokenizer(_JOINERS.sub(" - ", split_hashtags(norm)))
        words = [t.text for t in doc]
        lower = [w.lower() for w in words]
        guessed = lang if lang in ("it", "en") else self.guess_lang(lower)
        table = self._tables.get(guessed or "it")
        stop = self._stop_any
        has_upper = any(ch.isupper() for ch in norm)
        has_lower = any(ch.islower() for ch in norm)
        caseless = not (has_upper and has_lower)  # a lowercase query or an ALL-CAPS headline

        lemmas: set[str] = set()
        named_count = 0
        content_count = 0
        tokens: set[str] = set()
        phrases: list[tuple[str, ...]] = []
        strong: list[bool] = []
        current: list[str] = []
        current_strong = True
        prev_word = ""
        seq: list[str] = []  # word tokens in order, for "blackfriday" == "Black Friday"
        for word, low in zip(words, lower, strict=True):
            is_word = any(ch.isalnum() for ch in word)
            if not is_word:
                if current:
                    phrases.append(tuple(current))
                    strong.append(current_strong)
                    current = []
                prev_word = ""
                continue
            low = low.strip("'’")
            lemma = table.lemma(low) if table is not None else low
            tokens.add(low)
            tokens.add(lemma)
            seq.append(low)
            content = low not in stop and (len(low) > 1 or low.isdigit())
            if content:
                lemmas.add(lemma)
                content_count += 1
            named = content and (caseless or any(ch.isupper() for ch in word) or (bool(current) and low.isdigit()))
            if named:
                named_count += 1
                if not current:
                    current_strong = prev_word not in _WEAK_AFTER
                current.append(low)
            else:
                if current:
                    phrases.append(tuple(current))
                    strong.append(current_strong)
                    current = []
                if low in _ARTICLES_EN and prev_word in _WEAK_AFTER:
                    continue  # "at the White House": keep the preposition for the name that follows
            prev_word = low
        if current:
            phrases.append(tuple(current))
            strong.append(current_strong)
        for n in (2, 3):  # a lowercase hashtag can only be matched against joined words
            tokens.update("".join(seq[i : i + n]) for i in range(len(seq) - n + 1))
        return TextInfo(
            norm=norm,
            lang=guessed,
            lemmas=frozenset(lemmas),
            tokens=frozenset(tokens),
            phrases=tuple(phrases),
            strong=tuple(strong),
            bare=content_count > 0 and named_count == content_count,
        )
