"""Lexicon layer: lemma-based IT/EN term lists, idiom exceptions, evidence-weighted levels.

Terms live in data files (`data/lexicon_<lang>.toml`) so a brand guardian can extend them
without touching code. Text and terms go through the same blank spaCy pipeline with the
lookup lemmatizer, so "morti"/"morto" or "killed"/"kill" match each other.
"""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from monitor.evidence import LexiconEvidence, TermCount
from monitor.models import RiskCategory, RiskFlag, RiskLevel
from monitor.text import normalise_lang, stop_words

DATA_DIR = Path(__file__).with_name("data")
LANGS = ("it", "en")
WEIGHTS: dict[str, float] = {"severe": 3.0, "high": 2.0, "medium": 1.0, "low": 0.5}
AMPLIFIER_WEIGHT = 1.0
REPEAT_BONUS = 0.5  # per extra mention of the same term (title + headlines), at most 2 extra
CATEGORIES = ("tragedy", "polarizing", "misinformation")
# GARM brand-safety category named in reasons; a group in a lexicon file may set its own `garm`.
GARM_BY_GROUP = {
    "death": "Death, Injury or Military Conflict",
    "disaster": "Death, Injury or Military Conflict",
    "war": "Death, Injury or Military Conflict",
    "attack": "Terrorism",
    "crime": "Crime & Harmful Acts",
    "abuse": "Crime & Harmful Acts",
    "hate": "Hate Speech & Acts of Aggression",
    "misinformation": "Misinformation",
}
DEFAULT_GARM = "Debated Sensitive Social Issues"


@dataclass(frozen=True, slots=True)
class Group:
    """A group of risk terms (one topic) with its category and GARM label."""

    name: str
    category: RiskCategory
    aliases: tuple[str, ...]
    garm: str = DEFAULT_GARM
    # The group's terms count only beside one of these words ("buono" + "whatsapp": a giveaway scam).
    requires: tuple[str, ...] = ()


@dataclass(slots=True)
class LexiconData:
    """Parsed lexicon: (group, weight name) per term, amplifiers per category, idioms."""

    groups: dict[str, Group] = field(default_factory=dict)
    terms: dict[str, tuple[str, str]] = field(default_factory=dict)  # term -> (group, weight name)
    exact: set[str] = field(default_factory=set)  # terms written "=term": matched on the lower-cased form only
    amplifiers: dict[str, RiskCategory] = field(default_factory=dict)  # term -> category
    exceptions: list[str] = field(default_factory=list)

    @property
    def required(self) -> set[str]:
        """The words some group's terms need beside them (matched, never a hit on their own)."""
        return {w for g in self.groups.values() for w in g.requires}

    def merge(self, other: LexiconData) -> None:
        """Add another lexicon (e.g. a brand's extra terms); later terms win."""
        self.groups.update(other.groups)
        self.terms.update(other.terms)
        self.exact |= other.exact
        self.amplifiers.update(other.amplifiers)
        self.exceptions.extend(other.exceptions)


def _norm(term: str) -> str:
    return " ".join(term.lower().split())


def parse_lexicon(data: dict[str, Any], source: str) -> LexiconData:
    """Validate a decoded lexicon TOML; raises ValueError naming the file and the key."""
    out = LexiconData()
    groups = data.get("groups", {})
    if not isinstance(groups, dict):
        raise ValueError(f"{source}: 'groups' must be a table")
    for name, body in groups.items():
        category = body.get("category")
        if category not in CATEGORIES:
            raise ValueError(f"{source}: groups.{name}.category must be tragedy|polarizing|misinformation")
        garm = str(body.get("garm") or GARM_BY_GROUP.get(name, DEFAULT_GARM))
        requires = body.get("requires", [])
        if not isinstance(requires, list) or not all(isinstance(t, str) and _norm(t) for t in requires):
            raise ValueError(f"{source}: groups.{name}.requires must be a list of words")
        out.groups[name] = Group(
            name,
            category,
            tuple(_norm(str(a)) for a in body.get("aliases", [])),
            garm,
            tuple(_norm(t) for t in requires),
        )
        for weight in WEIGHTS:
            terms = body.get(weight, [])
            if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
                raise ValueError(f"{source}: groups.{name}.{weight} must be a list of strings")
            for t in terms:
                key = _norm(t.removeprefix("="))
                if key:
                    out.terms[key] = (name, weight)
                    if t.startswith("="):
                        out.exact.add(key)
    for category, terms in data.get("amplifiers", {}).items():
        if category not in CATEGORIES:
            raise ValueError(f"{source}: amplifiers.{category} is not a risk category")
        for t in terms:
            out.amplifiers[_norm(t)] = category
    out.exceptions = [_norm(p) for p in data.get("exceptions", {}).get("phrases", []) if _norm(p)]
    return out


def load_lexicon_file(path: Path) -> LexiconData:
    with path.open("rb") as fh:
        return parse_lexicon(tomllib.load(fh), str(path))


@dataclass(frozen=True, slots=True)
class TermHit:
    """A risk term found in a trend's text, with its group, weight and count."""

    term: str
    group: str
    weight: str
    count: int


class _LangMatcher:
    """One language: blank spaCy + lookup lemmatizer + PhraseMatchers on LEMMA."""

    def __init__(self, lang: str, lex: LexiconData) -> None:
        from monitor.text import import_spacy

        import_spacy()
        from spacy.matcher import PhraseMatcher

        from monitor.text import blank_pipeline

        self.lang = lang
        self.lex = lex
        nlp = blank_pipeline(lang)
        self.nlp = nlp
        self._lock = threading.Lock()  # spaCy objects are not documented as thread-safe
        # Lemma matching joins inflections, but the lookup table also merges some names with common
        # words (Meloni/melone, NATO/nato=born, woke/wake): those terms are written "=term" and
        # matched on the lower-cased surface form instead.
        self.terms = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self.exact_terms = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.idioms = PhraseMatcher(nlp.vocab, attr="LEMMA")
        keys = list(lex.terms) + [a for a in lex.amplifiers if a not in lex.terms]
        keys += sorted(w for w in lex.required if w not in lex.terms and w not in lex.amplifiers)
        for key, doc in zip(keys, nlp.pipe(keys), strict=True):
            (self.exact_terms if key in lex.exact else self.terms).add(key, [doc])
        if lex.exceptions:
            self.idioms.add("IDIOM", list(nlp.pipe(lex.exceptions)))

    def _weight(self, key: str) -> float:
        term = self.lex.terms.get(key)
        return WEIGHTS[term[1]] if term else 0.0

    def hits(self, texts: Sequence[str]) -> list[tuple[list[TermHit], dict[str, list[str]]]]:
        """Per text: term hits outside idioms, and amplifier terms per category."""
        with self._lock:
            return self._hits(texts)

    def _hits(self, texts: Sequence[str]) -> list[tuple[list[TermHit], dict[str, list[str]]]]:
        out: list[tuple[list[TermHit], dict[str, list[str]]]] = []
        strings = self.nlp.vocab.strings
        for doc in self.nlp.pipe((t.lower() for t in texts), batch_size=256):
            idiom_spans = [(s, e) for _, s, e in self.idioms(doc)]
            spans: list[tuple[int, int, str]] = []
            for match_id, s, e in [*self.terms(doc), *self.exact_terms(doc)]:
                if any(a <= s and e <= b for a, b in idiom_spans):
                    continue
                spans.append((s, e, strings[match_id]))
            # Longest match wins where terms overlap ("violenza domestica" over "violenza").
            # Same span under several keys (inflections share a lemma): the heaviest term counts.
            spans.sort(key=lambda x: (-(x[1] - x[0]), x[0], -self._weight(x[2])))
            taken: list[tuple[int, int]] = []
            counts: dict[str, int] = {}
            for s, e, key in spans:
                if any(s < b and a < e for a, b in taken):
                    continue
                taken.append((s, e))
                counts[key] = counts.get(key, 0) + 1
            term_hits: list[TermHit] = []
            amps: dict[str, list[str]] = {}
            for key, n in counts.items():
                if key in self.lex.terms:
                    group, weight = self.lex.terms[key]
                    needs = self.lex.groups[group].requires
                    if needs:
                        present = [w for w in needs if w in counts]
                        if not present:
                            continue
                        found = amps.setdefault(self.lex.groups[group].category, [])
                        found += [w for w in present if w not in found]  # shown with the term: "'buono' with 'whatsapp'"
                    term_hits.append(TermHit(key, group, weight, n))
                elif key in self.lex.amplifiers:
                    amps.setdefault(self.lex.amplifiers[key], []).append(key)
            out.append((term_hits, amps))
        return out


def score_hits(
    hits: Iterable[TermHit], amps: dict[str, list[str]], groups: dict[str, Group], brand: bool = False
) -> list[RiskFlag]:
    """Pure policy: hits -> one flag per matched group; the words decide the level, not how often they repeat.

    A title alone must be judged as well as a title with ten headlines, so the level comes from the
    strongest term of the category: a "severe" or "high" term (a death, a flood, a war, an election)
    is high on its own; a "medium" term is medium, and high together with an amplifier of the same
    category ("Salvini" + "polemica"); "low" terms stay low.
    Repetitions only raise the reported score (`LexiconEvidence.score`). `brand`: the terms come from
    the brand's own lexicon file.
    """
    by_cat: dict[str, list[TermHit]] = {}
    for h in hits:
        by_cat.setdefault(groups[h.group].category, []).append(h)
    flags: list[RiskFlag] = []
    for category, chits in by_cat.items():
        score = sum(WEIGHTS[h.weight] * (1 + REPEAT_BONUS * min(h.count - 1, 2)) for h in chits)
        amp_terms = amps.get(category, [])
        score += AMPLIFIER_WEIGHT * len(amp_terms)
        strong = any(h.weight in ("severe", "high") for h in chits)
        mediums = sum(1 for h in chits if h.weight == "medium")
        level: RiskLevel
        if strong or (mediums and amp_terms):
            level = "high"
        elif mediums:
            level = "medium"
        else:
            level = "low"
        by_group: dict[str, list[TermHit]] = {}
        for h in chits:
            by_group.setdefault(h.group, []).append(h)
        for group, ghits in by_group.items():
            ghits.sort(key=lambda h: (-WEIGHTS[h.weight], -h.count, h.term))
            glevel: RiskLevel = level if any(h.weight != "low" for h in ghits) else "low"
            evidence = LexiconEvidence(
                group=group,
                terms=tuple(TermCount(h.term, h.count, group) for h in ghits),
                related=tuple(TermCount(h.term, h.count, h.group) for h in chits if h.group != group),
                amplifiers=tuple(amp_terms),
                score=round(score, 2),
                brand=brand,
            )
            flags.append(
                RiskFlag(
                    category=groups[group].category,
                    level=glevel,
                    garm=groups[group].garm,
                    evidence=evidence,
                    strength=round(min(score / 6.0, 1.0), 3),
                )
            )
    return flags


_SHARED: dict[tuple[str, str], _LangMatcher] = {}
_SHARED_LOCK = threading.Lock()


class Lexicon:
    """IT + EN matchers, built lazily once (spaCy import + init costs ~1-2 s)."""

    def __init__(self, extra: dict[str, LexiconData] | None = None, data_dir: Path = DATA_DIR) -> None:
        self._data_dir = data_dir
        self._extra = extra or {}
        self._matchers: dict[str, _LangMatcher] = {}
        self._lock = threading.Lock()
        self.groups: dict[str, Group] = {}
        for lang in LANGS:
            self.groups.update(self._data(lang).groups)

    def _data(self, lang: str) -> LexiconData:
        lex = load_lexicon_file(self._data_dir / f"lexicon_{lang}.toml")
        if lang in self._extra:
            lex.merge(self._extra[lang])
        return lex

    def matcher(self, lang: str) -> _LangMatcher:
        with self._lock:
            if lang not in self._matchers:
                if self._extra:
                    self._matchers[lang] = _LangMatcher(lang, self._data(lang))
                else:  # the stock lexicon is shared by every gate in the process
                    with _SHARED_LOCK:
                        key = (str(self._data_dir), lang)
                        if key not in _SHARED:
                            _SHARED[key] = _LangMatcher(lang, self._data(lang))
                        self._matchers[lang] = _SHARED[key]
            return self._matchers[lang]

    def assess(self, texts: Sequence[str], langs: Sequence[str | None]) -> list[list[RiskFlag]]:
        """Flags per text. Known language -> its lexicon; unknown -> both, hits merged.

        Read with both, a one-word term that is a function word of the other language is not
        evidence: English "DEI" is Italian "dei" ("sciopero dei treni").
        """
        per_text: list[tuple[list[TermHit], dict[str, list[str]]]] = [([], {}) for _ in texts]
        keys = [lang_key(lg) for lg in langs]
        for lang in LANGS:
            idx = [i for i, k in enumerate(keys) if k in (lang, None)]
            if not idx:
                continue
            results = self.matcher(lang).hits([texts[i] for i in idx])
            for i, (hits, amps) in zip(idx, results, strict=True):
                if keys[i] is None:
                    hits = [h for h in hits if h.term not in _other_function_words(lang)]
                seen = {h.term for h in per_text[i][0]}
                per_text[i][0].extend(h for h in hits if h.term not in seen)
                for cat, terms in amps.items():
                    lst = per_text[i][1].setdefault(cat, [])
                    lst.extend(t for t in terms if t not in lst)
        return [score_hits(hits, amps, self.groups) for hits, amps in per_text]


@lru_cache(maxsize=len(LANGS))
def _other_function_words(lang: str) -> frozenset[str]:
    """The other lexicon languages' stop words: no evidence in a text read with every lexicon."""
    return frozenset().union(*(stop_words(o) for o in LANGS if o != lang))


def lang_key(lang: str | None) -> str | None:
    """The lexicon for `lang` ('it-IT' -> 'it', see `normalise_lang`); languages without one -> None (use both)."""
    key = normalise_lang(lang)
    return key if key in LANGS else None


class BrandLexicon:
    """A brand's own risk terms (lexicon file format), matched in its trend's language (or both)."""

    def __init__(self, data: LexiconData) -> None:
        self.data = data
        self._matchers: dict[str, _LangMatcher] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path) -> BrandLexicon:
        return cls(load_lexicon_file(path))

    def assess(self, text: str, lang: str | None) -> list[RiskFlag]:
        key = lang_key(lang)
        hits: list[TermHit] = []
        amps: dict[str, list[str]] = {}
        for lg in [key] if key else list(LANGS):
            with self._lock:
                if lg not in self._matchers:
                    self._matchers[lg] = _LangMatcher(lg, self.data)
                matcher = self._matchers[lg]
            [(h, a)] = matcher.hits([text])
            seen = {x.term for x in hits}
            hits.extend(x for x in h if x.term not in seen)
            for cat, terms in a.items():
                amps.setdefault(cat, []).extend(t for t in terms if t not in amps.get(cat, []))
        return score_hits(hits, amps, self.data.groups, brand=True)
