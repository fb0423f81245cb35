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

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from monitor.text import has_control, name_tokens

MAX_NAME_WORDS = 6


@dataclass(frozen=True, slots=True)
class KindMatch:
    """A name found in a trend title and what it is."""

    name: str  # as the lexicon writes it ("galaxy z fold")
    kind: str  # "smartphone"


class KindLexicon:
    """Names → kinds; finds them in titles. Built by `parse` / `load`; never changes afterwards."""

    def __init__(self, by_tokens: dict[tuple[str, ...], KindMatch] | None = None) -> None:
        self._by_tokens = dict(by_tokens or {})
        self._longest = max((len(t) for t in self._by_tokens), default=0)

    def __len__(self) -> int:
        return len(self._by_tokens)

    @classmethod
    def parse(cls, text: str, source: str = "kinds.tsv") -> KindLexicon:
        """`name<TAB>kind` lines; lines starting with `#` and blank lines are skipped.

        A bad line is a ValueError naming the source and the line.
        """
        by_tokens: dict[tuple[str, ...], KindMatch] = {}
        for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            where = f"{source} line {number}"
            if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
                raise ValueError(f"{where}: expected 'name<TAB>kind', got {line[:80]!r}")
            name, kind = parts[0].strip().lower(), parts[1].strip()
            if has_control(line):
                raise ValueError(f"{where}: control characters in {line[:80]!r}")
            tokens = tuple(name_tokens(name))
            if not tokens:
                raise ValueError(f"{where}: the name {name!r} has no letters or digits")
            if len(tokens) > MAX_NAME_WORDS:
                raise ValueError(f"{where}: the name {name!r} has more than {MAX_NAME_WORDS} words")
            by_tokens[tokens] = KindMatch(name, kind)
        return cls(by_tokens)

    @classmethod
    def load(cls, path: Path | None = None) -> KindLexicon:
        """The packaged lexicon (brand_dna/data/kinds.tsv), or the file at `path` (OSError, ValueError)."""
        if path is None:
            return cls.parse(resources.files("brand_dna").joinpath("data/kinds.tsv").read_text("utf-8"))
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path}: not UTF-8 text (byte {exc.start})") from None
        return cls.parse(text, str(path))

    def extended(self, other: KindLexicon) -> KindLexicon:
        """This lexicon with `other`'s names added; `other` wins on the same name."""
        return KindLexicon({**self._by_tokens, **other._by_tokens})

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
