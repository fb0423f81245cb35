"""Text helpers shared by sources, clustering, scoring, risk, alerts and the TUI.

The one line cleaner, the language normaliser and guess, lookup lemmas.

No trained spaCy pipelines can be installed here, so we use `spacy.blank(lang)` with the
lookup lemmatizer tables from spacy-lookups-data. Lookup tables are keyed by lowercase
forms, so text is lowercased before lemmatising.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

SUPPORTED_LANGS = ("it", "en")
MAX_TITLE_CHARS = 300  # a trend or item title
MAX_CONTEXT_CHARS = 300  # one context line of an item (a headline, a summary, a description)
# Controls, zero-width/bidi marks, word joiners and invisible operators, line/paragraph separators, BOM,
# and lone surrogates (JSON "\ud800" escapes): none belongs in one line of displayed text.
# The zero-width joiner (U+200D) stays: it holds emoji sequences together (family, flags, professions).
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u200c\u200e\u200f\u2028\u2029\u202a-\u202e\u2060-\u206f\ufeff\ud800-\udfff]"
)
_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]{0,500}>")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_lock = threading.Lock()
_spacy_lock = threading.Lock()

# Short, frequent function words: enough to tell Italian from English headlines.
_IT_HINTS = frozenset(
    ["il", "lo", "la", "i", "gli", "le", "di", "del", "della", "dei", "delle", "da", "dal", "dalla", "nel", "nella", "sul", "sulla", "per", "con", "tra", "fra", "che", "non", "un", "una", "è", "e", "ed", "al", "alla", "ai", "alle", "come", "più", "anche", "dopo", "contro", "oggi", "ecco", "perché", "chi", "sono", "ha", "hanno"]
)
_EN_HINTS = frozenset(
    ["the", "of", "and", "to", "in", "on", "for", "with", "at", "by", "from", "is", "are", "was", "were", "be", "has", "have", "after", "over", "new", "how", "why", "what", "who", "this", "that", "his", "her", "their", "its", "as", "an", "a", "vs", "says", "will", "into"]
)


def fold_accents(text: str) -> str:
    """Lower-case without accents ("Perché" -> "perche"): for loose word comparisons, never for display."""
    if text.isascii():
        return text.lower()
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


ERROR_CHARS = 300  # errors shown in health and events are one short human line


def clean_text(value: object, max_chars: int = 500, *, strip_tags: bool = False) -> str:
    """Untrusted text (any value; None is "") -> one safe line.

    NFC, no control/bidi/zero-width characters or lone surrogates, collapsed spaces, at most
    `max_chars` (a longer text is cut and ends with "…"). `strip_tags` drops HTML tags first
    (feed summaries).

    Never normalises megabytes: whitespace is collapsed *before* the safety cut (both are
    linear), so a title padded with thousands of newlines keeps its end; NFC then runs on a
    bounded string.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if strip_tags:
        text = _TAG.sub(" ", " ".join(text.split())[: max_chars * 8])
    text = _SPACE.sub(" ", _CONTROL.sub(" ", text)).strip()
    text = unicodedata.normalize("NFC", text[: max_chars * 8])
    text = _CONTROL.sub(" ", text)
    text = _SPACE.sub(" ", text).strip()
    if len(text) > max_chars:
        text = text[: max(max_chars - 1, 0)].rstrip() + "…"
    return text


_HASHTAG = re.compile(r"#(\w+)")
_CAMEL = re.compile(r"(?<=[a-zà-ÿ])(?=[A-Z])|(?<=[^\W\d])(?=\d)|(?<=\d)(?=[^\W\d])")


def split_hashtags(text: str) -> str:
    """Hashtags as words: "#BlackFriday" -> "Black Friday", "#sanremo2027" -> "sanremo 2027", "#caffè" -> "caffè"."""
    return _HASHTAG.sub(lambda m: _CAMEL.sub(" ", m.group(1)), text)


def has_control(text: str) -> bool:
    """True when `text` holds a character `clean_text` would remove (for values that must be refused, not cleaned)."""
    return _CONTROL.search(text) is not None


_RUN = re.compile(r"[^\W_]+")
# A match score ("1-3", "2:0") is one token; otherwise the same letter/digit runs as `word_runs`.
_NAME_TOKEN = re.compile(r"\d+(?:[-–:]\d+)+|" + _RUN.pattern)


def word_runs(text: str) -> set[str]:
    """The maximal letter/digit runs of `text` (what `first_run` keys are looked up in)."""
    return set(_RUN.findall(text))


def name_tokens(text: str) -> list[str]:
    """The words a known name is matched on (`monitor.kinds`): accents folded, lower case, a score kept whole."""
    return _NAME_TOKEN.findall(fold_accents(text))


def first_run(phrase: str) -> str | None:
    """The first letter/digit run of `phrase`, or None when it has none.

    A regex that matches `phrase` as a whole word (not preceded by a letter, digit or _, not
    followed by one) leaves this run as one of the text's `word_runs`: when it is absent, the
    regex cannot match, so one set lookup spares most regex searches on the scoring hot path.
    """
    m = _RUN.search(phrase)
    return m.group(0) if m else None


def run_keys(phrases: Iterable[str]) -> frozenset[str] | None:
    """The `first_run` of every phrase a whole-word regex matches; None when one has no run (always search)."""
    keys = {first_run(p) for p in phrases}
    return None if None in keys else frozenset(k for k in keys if k is not None)


def may_match(keys: frozenset[str] | None, runs: set[str]) -> bool:
    """False only when the regex behind `keys` (see `run_keys`) cannot match a text with these `word_runs`."""
    return keys is None or not keys.isdisjoint(runs)


def guess_lang(text: str, default: str | None = None) -> str | None:
    """'it' or 'en' from function-word counts; `default` when there is no evidence."""
    words = [w.lower() for w in _WORD.findall(text)]
    it = sum(w in _IT_HINTS for w in words)
    en = sum(w in _EN_HINTS for w in words)
    if it == en:
        if any(ch in text for ch in "àèéìòù"):
            return "it"
        return default
    return "it" if it > en else "en"


# Names and ISO 639-2 codes some feeds give instead of an ISO 639-1 code.
LANGUAGE_ALIASES = {
    "italian": "it",
    "english": "en",
    "french": "fr",
    "german": "de",
    "spanish": "es",
    "portuguese": "pt",
    "dutch": "nl",
    "russian": "ru",
    "chinese": "zh",
    "japanese": "ja",
    "arabic": "ar",
    "korean": "ko",
    "polish": "pl",
    "romanian": "ro",
    "greek": "el",
    "turkish": "tr",
    "ukrainian": "uk",
    "ita": "it",
    "eng": "en",
}


def normalise_lang(value: object) -> str | None:
    """A language tag or name as a lowercase code, or None.

    'it-IT' / 'IT' / 'ita' / 'Italian' / 'en_GB' -> 'it' / 'it' / 'it' / 'it' / 'en'. None for a
    non-string, a blank, or anything that is not a 2-3 letter code once the region is dropped.
    """
    if not isinstance(value, str):
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    code = LANGUAGE_ALIASES.get(code, code)
    return code if 2 <= len(code) <= 3 and code.isalpha() else None


def import_spacy() -> Any:
    """Import spaCy without letting thinc import torch.

    Blank pipelines never use it, and the probe alone costs ~4 s and ~200 MB. torch stays
    importable for a sentence-transformers model later.
    """
    import sys

    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy

        return spacy
    with _spacy_lock:
        if "spacy" in sys.modules:  # another thread got here first
            import spacy

            return spacy
        sys.modules["torch"] = None  # type: ignore[assignment]  # thinc.compat: "no torch"
        try:
            import spacy
            import spacy.lookups
            import spacy.matcher
        finally:
            del sys.modules["torch"]
    return spacy


def lemma_lookups(lang: str) -> Any:
    """The spaCy `Lookups` holding `lang`'s lemma_lookup table, loaded once per process.

    The Italian table is ~100 MB in memory: clustering, the risk lexicon and scoring all
    share this one copy instead of each loading its own (the lock keeps two first callers
    from loading two copies).
    """
    with _lock:
        return _load_lookups(lang)


@lru_cache(maxsize=4)
def _load_lookups(lang: str) -> Any:
    import_spacy()
    from spacy.lookups import load_lookups

    return load_lookups(lang, ["lemma_lookup"])


LEMMA_MEMO_MAX = 100_000  # words remembered per language (a few MB); past it the memo starts again
LEMMA_MEMO_WORD = 40  # longer tokens (untrusted text can hold 1,000-character ones) are looked up, not remembered


class LemmaTable:
    """One language's lookup lemmas, with a memo of the words looked up.

    spaCy's `Table` hashes every string key on access (~10 µs per word from Python); words repeat
    (Zipf), so a plain dict in front makes a lookup ~10x cheaper for clustering, scoring and the
    Jetstream burst detector alike. Safe across threads (single dict operations under the GIL).
    """

    def __init__(self, table: Any) -> None:
        self._table = table
        self._memo: dict[str, str] = {}

    def lemma(self, word: str) -> str:
        """The lemma of a lowercase word; the word itself when the table does not know it."""
        found = self._memo.get(word)
        if found is None:
            found = str(self._table.get(word, word))
            if len(word) > LEMMA_MEMO_WORD:
                return found
            if len(self._memo) >= LEMMA_MEMO_MAX:
                self._memo.clear()
            self._memo[word] = found
        return found

    def __contains__(self, word: object) -> bool:
        return word in self._table


def lemma_table(lang: str) -> LemmaTable:
    """`lang`'s lemma table (loaded once per process, shared; see `lemma_lookups`)."""
    with _lock:
        return _lemma_table(lang)


@lru_cache(maxsize=4)
def _lemma_table(lang: str) -> LemmaTable:
    return LemmaTable(_load_lookups(lang).get_table("lemma_lookup"))


def blank_pipeline(lang: str) -> Any:
    """A new blank spaCy pipeline for `lang` ('it'/'en') with a lookup lemmatizer on the shared table."""
    spacy = import_spacy()
    lang = lang if lang in SUPPORTED_LANGS else "en"
    nlp = spacy.blank(lang)
    lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    lemmatizer.initialize(lookups=lemma_lookups(lang))
    return nlp


@lru_cache(maxsize=4)
def _lookup(lang: str) -> tuple[LemmaTable, frozenset[str]]:
    """The lemma table and stop words for `lang`."""
    import_spacy()
    from spacy.util import get_lang_class

    return lemma_table(lang), frozenset(get_lang_class(lang).Defaults.stop_words)


def stop_words(lang: str) -> frozenset[str]:
    """The stop words spaCy lists for `lang` (English for a language without a pipeline)."""
    return _lookup(lang if lang in SUPPORTED_LANGS else "en")[1]


def content_lemmas(text: str, lang: str | None) -> set[str]:
    """Lemmas minus stop words and very short tokens: the lexical 'keys' of a text.

    Uses the same lookup table as the spaCy lemmatizer with a regex word split: it is
    on the scoring hot path, where the full tokenizer cost ~20x more for the same keys.
    """
    table, stop = _lookup(lang if lang in SUPPORTED_LANGS else "en")
    out: set[str] = set()
    for word in _WORD.findall(text.lower()):
        for part in re.split(r"['’]", word):
            if len(part) > 2 and part not in stop:
                out.add(table.lemma(part))
    return out
