"""The set-lookup prefilter in front of the entity and anniversary regexes never hides a match."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.entities import entity_keys, entity_pattern
from monitor.risk.calendar import _alias_keys, _alternation
from monitor.text import first_run, word_runs

# Words like names in DNA files and anniversaries: letters (incl. accented), digits, apostrophes, dots.
word = st.text(alphabet="abcèéàòùzß019'.&-_#+AÈZ", min_size=1, max_size=8)
phrase = st.lists(word, min_size=1, max_size=3).map(" ".join)
filler = st.text(alphabet="ab é'#_-.,:!?\n0", max_size=12)


def test_word_runs_and_first_run() -> None:
    assert word_runs("valentino_rossi vince #misano d'oro") == {"valentino", "rossi", "vince", "misano", "d", "oro"}
    assert first_run("d'oro") == "d"
    assert first_run("'ndrangheta") == "ndrangheta"
    assert first_run("&") is None
    for entity, text in [("Valentino Rossi", "ieri valentino-rossi ha vinto"), ("Pallone d'Oro", "il #pallonedoro a sinner"), ("Lavazza", "lavazza, caffè")]:
        keys = entity_keys(entity)
        assert entity_pattern(entity).search(text) and keys is not None and not keys.isdisjoint(word_runs(text))
    assert entity_keys("Lavazza") is not None and entity_keys("Lavazza").isdisjoint(word_runs("un caffè al bar"))  # type: ignore[union-attr]


@settings(max_examples=400, deadline=None)
@given(entity=phrase, before=filler, after=filler, hashtag=st.booleans())
def test_entity_prefilter_never_hides_a_match(entity: str, before: str, after: str, hashtag: bool) -> None:
    words = entity.lower().split()
    inner = "#" + "".join(words).replace("'", "") if hashtag else " ".join(words)
    text = (before + inner + after).lower()
    if entity_pattern(entity).search(text):
        keys = entity_keys(entity)
        assert keys is None or not keys.isdisjoint(word_runs(text)), (entity, text, keys)


@settings(max_examples=400, deadline=None)
@given(terms=st.lists(phrase, min_size=1, max_size=3), pick=st.integers(0, 2), before=filler, after=filler)
def test_anniversary_prefilter_never_hides_a_match(terms: list[str], pick: int, before: str, after: str) -> None:
    pattern = _alternation(terms)
    if pattern is None:
        return
    text = " ".join((before + terms[pick % len(terms)] + after).lower().split())
    if pattern.search(text):
        keys = _alias_keys(terms)
        assert keys is None or not keys.isdisjoint(word_runs(text)), (terms, text, keys)
