"""What a name in a trend title is: "juve" is a football club, "galaxy z fold" a smartphone.

Trend titles are short and name things ("milan lazio", "galaxy z fold 6", "curling"). A sentence
embedding does not place them under what a brand writes ("the latest tech at low prices", "sport for
everyone"), so real opportunities were missed. `brand_dna/data/kinds.tsv` maps ~2,000 names, as
titles write them, to a short generic kind; the scorer reads a title together with its kinds
("juve napoli, football club") as one more calibrated fit feature (`monitor.scoring`, ``kcos``) and
the verdict says which names it read that way.

Matching is on whole words with accents folded, the longest name first, so "milano design week" is
a design week and "sanremo 2025" a music festival before "2025" is anything. A match score such as
"1-3" is one word: "italia 1-3" is not the TV channel "italia 1".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from monitor.text import fold_accents

MAX_NAME_WORDS = 6
# A score ("1-3", "2:0") is one token; otherwise letter/digit runs.
_TOKEN = re.compile(r"\d+(?:[-–:]\d+)+|[^\W_]+")


def name_tokens(text: str) -> list[str]:
    """The words a name or a title is matched on: accents folded, lower case, a score kept whole."""
    return _TOKEN.findall(fold_accents(text))


@dataclass(frozen=True, slots=True)
class KindMatch:
    """A name found in a trend title and what it is."""

    name: str  # as the lexicon writes it ("galaxy z fold")
    kind: str  # "smartphone"


class KindLexicon:
    """Names → kinds; finds them in titles."""

    def __init__(self, entries: Mapping[str, str]) -> None:
        self._by_tokens: dict[tuple[str, ...], KindMatch] = {}
        for name, kind in entries.items():
            tokens = tuple(name_tokens(name))
            if not tokens or not kind.strip():
                raise ValueError(f"kind lexicon: empty name or kind in {name!r} -> {kind!r}")
            if len(tokens) > MAX_NAME_WORDS:
                raise ValueError(f"kind lexicon: {name!r} has more than {MAX_NAME_WORDS} words")
            self._by_tokens[tokens] = KindMatch(name.strip(), kind.strip())
        self._longest = max((len(t) for t in self._by_tokens), default=0)

    def __len__(self) -> int:
        return len(self._by_tokens)

    @classmethod
    def parse(cls, text: str, source: str = "kinds.tsv") -> KindLexicon:
        """`name<TAB>kind` lines; `#` comments and blank lines are skipped. A bad line is an error naming it."""
        entries: dict[str, str] = {}
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
                raise ValueError(f"{source} line {number}: expected 'name<TAB>kind', got {line[:80]!r}")
            entries[parts[0].strip().lower()] = parts[1].strip()
        return cls(entries)

    @classmethod
    def load(cls, path: Path | None = None) -> KindLexicon:
        """The packaged lexicon (brand_dna/data/kinds.tsv), or the file at `path`."""
        if path is not None:
            return cls.parse(path.read_text("utf-8"), str(path))
        return cls.parse(resources.files("brand_dna").joinpath("data/kinds.tsv").read_text("utf-8"))

    def extended(self, other: KindLexicon) -> KindLexicon:
        """This lexicon with `other`'s names added; `other` wins on the same name."""
        merged = KindLexicon({})
        merged._by_tokens = {**self._by_tokens, **other._by_tokens}
        merged._longest = max(self._longest, other._longest)
        return merged

    def find(self, text: str) -> tuple[KindMatch, ...]:
        """Names in `text`, left to right, longest first, each position used once; one match per kind."""
        tokens = name_tokens(text)
        found: list[KindMatch] = []
        kinds: set[str] = set()
        i = 0
        while i < len(tokens):
            for n in range(min(self._longest, len(tokens) - i), 0, -1):
                match = self._by_tokens.get(tuple(tokens[i : i + n]))
                if match is not None:
                    if match.kind not in kinds:
                        kinds.add(match.kind)
                        found.append(match)
                    i += n
                    break
            else:
                i += 1
        return tuple(found)


def read_with_kinds(text: str, matches: tuple[KindMatch, ...]) -> str:
    """The text the scorer embeds for `kcos`: "juve napoli" -> "juve napoli, football club"."""
    if not matches:
        return text
    return f"{text}, {', '.join(m.kind for m in matches)}"


@lru_cache(maxsize=1)
def default_kinds() -> KindLexicon:
    return KindLexicon.load()
