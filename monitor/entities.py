"""Names that signal brand fit: the ones a brand's DNA names, and how a trend text is searched for them.

A name is the brand's own, one of its `entities`, or a capitalised phrase inside its statements;
a person's name ("Jannik Sinner") is also found by surname alone and as a #hashtag.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from brand_dna.dna import BrandDNA
from monitor.text import run_keys

# Words too common to be (part of) a name that signals fit; also left out of the key terms (monitor.scoring).
GENERIC_WORDS = frozenset(
    ["italian", "italiano", "italiana", "italiani", "family", "famiglia", "new", "nuovo", "nuova", "world", "mondo", "mondiale", "since", "year", "anno", "day", "giorno", "official", "ufficiale", "brand", "marchio", "partner", "partnership", "people", "gente", "life", "vita", "time", "tempo", "great", "grande", "best", "migliore", "first", "primo", "prima", "global", "globale"]
)


def _is_capitalised(token: str) -> bool:
    core = token.lstrip("¡¿\"'“(")
    return bool(core) and (core[0].isupper() or (core[0].isdigit() and any(c.isupper() for c in core)))


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    """Lower-cased given names (brand_dna/data/given_names.txt): a phrase starting with one is a person."""
    text = resources.files("brand_dna").joinpath("data/given_names.txt").read_text("utf-8")
    return frozenset(ln.strip().lower() for ln in text.splitlines() if ln.strip() and not ln.startswith("#"))


@lru_cache(maxsize=1)
def place_names() -> frozenset[str]:
    """Lower-cased place names (brand_dna/data/places.txt): where a brand is, not what it is."""
    text = resources.files("brand_dna").joinpath("data/places.txt").read_text("utf-8")
    return frozenset(ln.strip().lower() for ln in text.splitlines() if ln.strip() and not ln.startswith("#"))


def _named_after(place: str, named: str) -> bool:
    """True when `named` (the brand's name, its entities) contains the place as whole words."""
    return re.search(rf"(?<!\w){re.escape(place)}(?!\w)", named) is not None


def place_words(named: str) -> set[str]:
    """One-word place names, except those `named` (a brand's name) is named after: not key terms."""
    named = named.lower()
    return {place for place in place_names() if " " not in place and not _named_after(place, named)}


def is_place(phrase: str, brand_name: str = "") -> bool:
    """True for a phrase that is only a place ("Bologna", "Italy's"), unless the brand is named after it."""
    lowered = phrase.lower().strip().replace("’", "'")
    lowered = lowered.removesuffix("'s")
    return lowered in place_names() and not _named_after(lowered, brand_name.lower())


_PLACE_PREPOSITION = r"(?:(?:based\s+)?in|from|of|near|around|across|a|di|da|nel|nella|in\s+tutta)"


@lru_cache(maxsize=1)
def _place_pattern() -> re.Pattern[str]:
    names = sorted(place_names(), key=len, reverse=True)
    alternatives = "|".join(r"\s+".join(re.escape(w).replace("'", "['’]") for w in n.split()) for n in names)
    return re.compile(
        rf"(?:(?<!\S)(?P<prep>{_PLACE_PREPOSITION})\s+)?(?<![\w'’])(?P<place>{alternatives})(?:['’]s)?(?![\w'’-])",
        re.IGNORECASE,
    )


def without_places(statement: str, named: str = "") -> str:
    """The statement without its places, for the meaning of what the brand is.

    "Funeral home in Bologna since 1950" -> "Funeral home since 1950": a capitalised place and the
    preposition before it are left out, unless the place is part of a longer name ("Milan Fashion
    Week", "Festival di Sanremo", "Milan-based") or `named` (the brand's name and entities) names it.
    A lower-case "turkey" or "china" is a word, not a place.
    """
    named = named.lower()

    def drop(m: re.Match[str]) -> str:
        place = m.group("place")
        if not place[:1].isupper() or _named_after(place.lower().replace("’", "'"), named):
            return m.group(0)
        after = statement[m.end() : m.end() + 40].split()
        if after and after[0][:1].isupper() and statement[m.end() : m.end() + 1] == " ":
            return m.group(0)  # "Milan Fashion Week"
        start = m.start()
        before = statement[max(0, start - 60) : start].split()
        prev = before[-1] if before and statement[start - 1 : start] == " " else ""
        first_word = statement[:start].strip() == prev  # a sentence's first word is capitalised anyway
        joined = (m.group("prep") or "").lower() in ("di", "of")  # "Festival di Sanremo": one name
        if prev[:1].isupper() and prev[-1:].isalnum() and (joined or not first_word):
            return m.group(0)  # "Festival di Sanremo", "Aceto Balsamico di Modena", "KIKO Milano"
        return ""

    out = _place_pattern().sub(drop, statement)
    out = re.sub(r"\s+([,;:])", r"\1", re.sub(r"\s{2,}", " ", out)).strip(" ,;:-")
    return out or statement


def surname(phrase: str) -> str | None:
    """'Jannik Sinner' -> 'Sinner': a phrase that starts with a given name is a person, named by surname alone too."""
    words = phrase.split()
    if len(words) < 2 or len(words) > 4 or words[0].lower() not in given_names():
        return None
    rest = " ".join(words[1:])
    return rest if len(rest) >= 4 and rest.lower() not in GENERIC_WORDS else None


# Words that introduce a person in a statement ("skier Mikaela Shiffrin", "tennista Jannik Sinner"):
# the capitalised phrase after one is a person even when the given name is not in given_names.txt.
PERSON_ROLES = frozenset(
    ["skier", "athlete", "champion", "ambassador", "driver", "rider", "player", "footballer", "golfer",
     "cyclist", "runner", "swimmer", "boxer", "chef", "designer", "stylist", "singer", "rapper", "artist",
     "actor", "actress", "captain", "coach", "founder", "testimonial", "influencer", "presenter", "host",
     "sciatore", "sciatrice", "atleta", "campione", "campionessa", "ambasciatore", "ambasciatrice", "pilota",
     "giocatore", "giocatrice", "calciatore", "calciatrice", "tennista", "ciclista", "nuotatore",
     "nuotatrice", "pugile", "cuoco", "stilista", "cantante", "artista", "attore", "attrice", "capitano",
     "capitana", "allenatore", "allenatrice", "fondatore", "fondatrice", "conduttore", "conduttrice"]
)


def surname_after_role(phrase: str) -> str | None:
    """'Mikaela Shiffrin' introduced by a role word ('skier') -> 'Shiffrin'; None for a non-name."""
    words = phrase.split()
    if len(words) < 2 or len(words) > 3 or not all(w[:1].isupper() and w.replace("-", "").isalpha() for w in words):
        return None
    rest = " ".join(words[1:])
    if len(rest) < 4 or rest.lower() in GENERIC_WORDS or is_place(rest):
        return None
    return rest


def surname_within(phrase: str) -> str | None:
    """The surname of a person named anywhere in a capitalised phrase ("Official Partner Jannik Sinner")."""
    words = phrase.split()
    for k in range(len(words) - 1):
        name = surname(" ".join(words[k:]))
        if name:
            return name
    return None


def extract_entities(brand: BrandDNA) -> list[str]:
    """Names that signal fit.

    The brand name, its `entities` (an optional boost) and the capitalised phrases inside its
    statements; a person's name also by surname ("Sinner" for "Jannik Sinner": the given name is a
    common one, or a role word introduces the person, "skier Mikaela Shiffrin"). A phrase of the
    statements that is only a place ("Bologna", "Piedmont") is not a name: it says where the brand
    is, and a trend about that place is not an opportunity because of it.

    A phrase is a run of capitalised words (connectors like "di"/"of" allowed inside). A run
    at the start of a sentence is kept only when it has two or more words, since the first
    word of a sentence is capitalised anyway.
    """
    found: dict[str, None] = {brand.name: None}
    for e in brand.entities:
        found[e] = None
    connectors = {"di", "de", "del", "della", "of", "the", "da"}
    for _, statement in brand.statements:
        for sentence in re.split(r"[.!?]\s+", statement):
            tokens = re.findall(r"[^\s,/–—:;()]+|[,/–—:;()]", sentence)
            run: list[str] = []
            run_start = 0
            for pos, tok in enumerate([*tokens, ""]):
                word = tok.strip("\"'“”,")
                if word and _is_capitalised(word):
                    if not run:
                        run_start = pos
                    run.append(word)
                    continue
                if run and word.lower() in connectors and pos + 1 < len(tokens) and _is_capitalised(tokens[pos + 1]):
                    run.append(word)
                    continue
                if run and run_start == 0 and len(run) >= 2 and run[1].lower() in connectors:
                    run = run[2:]  # "Partner of Jannik Sinner" -> "Jannik Sinner"
                    run_start = 2
                if run and (run_start > 0 or len(run) >= 2):
                    phrase = " ".join(run)
                    if len(phrase) >= 3 and phrase.lower() not in GENERIC_WORDS and not is_place(phrase, brand.name):
                        found[phrase] = None
                name = surname_within(" ".join(run)) if run else None
                role = tokens[run_start - 1].lower() if run and run_start > 0 else ""
                if not name and role in PERSON_ROLES:
                    name = surname_after_role(" ".join(run))
                if name:
                    found[name] = None
                run = []
    for e in [brand.name, *brand.entities]:
        name = surname_within(e)
        if name:
            found[name] = None
    return list(found)


def entity_keys(entity: str) -> frozenset[str] | None:
    """first_run keys of both forms `entity_pattern` matches (spaced words, #hashtag); None = always search."""
    words = entity.lower().split()
    hashtag = _hashtag(entity)
    return run_keys([words[0] if words else "", *([hashtag] if hashtag else [])])


def _hashtag(entity: str) -> str:
    """The hashtag form of a name: its words run together, apostrophes dropped ("Pallone d'Oro" -> "pallonedoro")."""
    return "".join(entity.lower().split()).replace("'", "").replace("’", "")


def entity_pattern(entity: str) -> re.Pattern[str]:
    """The name as whole words (spaces, _ or - between them, any case) or as its #hashtag."""
    words = [re.escape(w) for w in entity.lower().split()]
    spaced = r"[\s_-]+".join(words)
    hashtag = _hashtag(entity)
    return re.compile(rf"(?<![\w#]){spaced}(?!\w)" + (rf"|#{re.escape(hashtag)}(?!\w)" if hashtag else ""))
