"""Clustering with the REAL packaged model on Italian + English headlines."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.clustering import ClusterConfig, Clusterer, canonical_text, momentum, trend_id_for
from monitor.models import SourceItem
from monitor.storage import Storage

pytestmark = pytest.mark.model


@pytest.fixture
def clusterer(real_embedder, clock, analyser):
    return Clusterer(real_embedder, None, clock, analyser=analyser)


def rss(title: str, n: int, source: str = "rss") -> SourceItem:
    return SourceItem(source=source, title=title, url=f"https://news.example/{source}/{n}", item_id=f"{source}-{n}")


SINNER_STORY = [
    SourceItem(
        source="google_trends",
        title="sinner",
        traffic=50000,
        item_id="sinner",
        context=("Sinner vince le ATP Finals a Torino", "Sinner batte Alcaraz in finale"),
        urls=("https://news.example/gt/1",),
    ),
    rss("Sinner vince le ATP Finals a Torino", 1),
    rss("Jannik Sinner trionfa alle ATP Finals di Torino", 2),
    rss("Jannik Sinner wins the ATP Finals in Turin", 3),
    SourceItem(source="wikipedia", title="Jannik Sinner", traffic=120000, item_id="Jannik_Sinner"),
    SourceItem(source="gdelt", title="Sinner batte Alcaraz e conquista le Finals", url="https://gdelt.example/a1"),
]
OTHER_STORIES = [
    rss("Juventus vince a Torino", 10),
    rss("Inter batte il Napoli a San Siro", 11),
    rss("Milan batte il Napoli a San Siro", 12),
    rss("Mattarella: la Flotilla accolga la mediazione", 13),
    rss("Sciopero dei treni venerdì, le fasce garantite", 14),
    rss("Il finale di Squid Game divide i fan", 15),
]


def test_one_story_from_many_sources_is_one_trend(clusterer: Clusterer) -> None:
    changed = clusterer.ingest(SINNER_STORY + OTHER_STORIES)
    trends = {t.id: t for t, _ in changed}
    assert len(clusterer) == 1 + len(OTHER_STORIES)
    sinner = clusterer.get(trend_id_for("sinner"))
    assert sinner is not None
    assert sinner.corroboration == 4  # google_trends, rss, wikipedia, gdelt
    assert set(sinner.sources) == {"google_trends", "rss", "wikipedia", "gdelt"}
    assert "Jannik Sinner wins the ATP Finals in Turin" in sinner.context
    assert "https://gdelt.example/a1" in sinner.urls
    assert sinner.traffic == 120000
    assert sum(n for _, n in sinner.mentions) == len(SINNER_STORY)
    assert all(is_new for _, is_new in changed)
    titles = {t.title for t in trends.values()}
    assert {o.title for o in OTHER_STORIES} <= titles


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Sinner vince le ATP Finals a Torino", "Jannik Sinner wins the ATP Finals in Turin"),
        ("sinner", "Sinner vince le ATP Finals a Torino"),
        ("cagliari inter", "Cagliari-Inter, le probabili formazioni della partita di Serie A"),
        ("Mattarella: la Flotilla accolga la mediazione", "Gaza, Mattarella: Flottilla accolga mediazione"),
        ("Apple presenta iPhone 17", "iPhone 17, Apple svela il nuovo smartphone"),
        ("Sciopero dei treni venerdì, le fasce garantite", "Sciopero generale, treni a rischio venerdì"),
        ("Meloni incontra Trump alla Casa Bianca", "Meloni meets Trump at the White House"),
        ("Ferrari, Leclerc in pole a Monza", "Charles Leclerc pole position at Italian Grand Prix"),
        ("Stranger Things", "Stranger Things 5, il finale divide i fan"),
        ("Italian espresso UNESCO bid", "Italy's espresso ritual bids for Unesco heritage status"),
        ("Terremoto in Calabria, magnitudo 5.8: tre morti nel Cosentino", "A 5.8 quake in Calabria killed three people"),
        ("Sinner wins ATP Finals", "Sinner vince le ATP Finals: Alcaraz battuto in due set a Torino"),
    ],
)
def test_same_story_different_wording_merges(clusterer: Clusterer, a: str, b: str) -> None:
    clusterer.ingest([rss(a, 1, "rss"), rss(b, 2, "gdelt")])
    assert len(clusterer) == 1, [t.title for t in clusterer.trends()]
    assert clusterer.trends()[0].corroboration == 2


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Sinner vince a Torino", "Juventus vince a Torino"),
        ("Inter batte il Napoli a San Siro", "Milan batte il Napoli a San Siro"),
        ("cagliari inter", "Juve-Atalanta, le probabili formazioni della partita di Serie A"),
        ("Mattarella alla Scala per la prima", "Mattarella: la Flotilla accolga la mediazione"),
        ("Apple presenta iPhone 17", "Xiaomi 17 Pro contro iPhone 17 Pro: chi vince la sfida"),
        ("Sciopero dei treni venerdì, le fasce garantite", "Treni, nuovo Frecciarossa Milano-Parigi"),
        ("Meloni incontra Trump alla Casa Bianca", "Meloni al Senato sulla manovra"),
        ("Ferrari, Leclerc in pole a Monza", "Ferrari presenta la nuova SF-26"),
        ("Stranger Things 5, il finale divide i fan", "Il finale di Squid Game divide i fan"),
        ("Terremoto ai Campi Flegrei, scossa di magnitudo 4.4", "Terremoto in Giappone, allerta tsunami"),
        ("Sinner vince a Torino", "Juventus win in Turin"),
        ("Inter batte il Napoli a San Siro", "Milan beat Napoli at San Siro"),
        ("Alluvione in Emilia-Romagna", "Floods in Valencia kill dozens"),
        ("Terremoto in Giappone, allerta tsunami", "Earthquake hits Campi Flegrei near Naples"),
        ("Ucraina, attacco con droni su Kiev", "Russia, attacco con droni su Mosca"),
        ("Ukraine strikes oil refinery", "Russia strikes oil refinery"),
        ("Lunedì sciopero dei treni", "Martedì sciopero dei treni"),
        ("Ucraina, attacco con droni su Kiev", "Russia strikes oil refinery near Moscow"),
    ],
)
def test_different_stories_sharing_words_stay_apart(clusterer: Clusterer, a: str, b: str) -> None:
    clusterer.ingest([rss(a, 1, "rss"), rss(b, 2, "gdelt")])
    assert len(clusterer) == 2, [t.title for t in clusterer.trends()]


def test_repoll_does_not_inflate(clusterer: Clusterer, clock) -> None:
    first = clusterer.ingest(SINNER_STORY)
    assert len(first) == 1
    trend = first[0][0]
    mentions = sum(n for _, n in trend.mentions)
    clock.advance(minutes=20)
    assert clusterer.ingest(SINNER_STORY) == []  # nothing new, nothing to re-score
    assert sum(n for _, n in trend.mentions) == mentions
    assert trend.corroboration == 4
    # Same Google Trends item with more traffic: an update, but still no new mention.
    bumped = SourceItem(source="google_trends", title="sinner", traffic=200000, item_id="sinner")
    changed = clusterer.ingest([bumped])
    assert [(t.id, new) for t, new in changed] == [(trend.id, False)]
    assert trend.traffic == 200000
    assert sum(n for _, n in trend.mentions) == mentions


def test_momentum_rising_then_falling(clusterer: Clusterer, clock) -> None:
    ((trend, is_new),) = clusterer.ingest([rss("Sciopero dei treni venerdì, le fasce garantite", 1)])
    assert is_new and trend.momentum > 0  # a new story rises
    clock.advance(hours=2)
    changed = clusterer.ingest([rss("Sciopero generale, treni a rischio venerdì", 2, "gdelt")])
    assert changed[0][0].id == trend.id and not changed[0][1]
    burst = [rss(f"Sciopero dei treni venerdì: cancellazioni e fasce garantite ({i})", 100 + i) for i in range(4)]
    clock.advance(minutes=30)
    changed = clusterer.ingest(burst)
    assert [t.id for t, _ in changed] == [trend.id]
    assert trend.momentum >= 4  # 5 mentions in the last hour vs ~0.33/h before
    # Formula check: many mentions 2-4 h ago, one now -> falling.
    later = clock.now + timedelta(hours=2)
    assert momentum(trend, later) < 0


def test_traffic_growth_adds_to_momentum(clusterer: Clusterer, clock) -> None:
    item = SourceItem(source="google_trends", title="xiaomi 17", traffic=1000, item_id="x17")
    ((trend, _),) = clusterer.ingest([item])
    clock.advance(hours=3)
    base = momentum(trend, clock.now)
    grown = SourceItem(source="google_trends", title="xiaomi 17", traffic=4000, item_id="x17")
    clusterer.ingest([grown])
    assert trend.momentum == pytest.approx(base + 2.0)  # log2(4000/1000)


def test_restart_restores_recent_trends(real_embedder, clock, analyser, tmp_path) -> None:
    storage = Storage(tmp_path / "onda.db")
    first = Clusterer(real_embedder, storage, clock, analyser=analyser)
    for trend, _ in first.ingest(SINNER_STORY[:2] + OTHER_STORIES[:1]):
        storage.save_trend(trend)
    clock.advance(hours=1)
    second = Clusterer(real_embedder, storage, clock, analyser=analyser)
    assert second.restore() == 2
    # A re-poll of an item seen before the restart is recognised; a new headline joins the story.
    assert second.ingest(SINNER_STORY[1:2]) == []
    changed = second.ingest([rss("Jannik Sinner trionfa alle ATP Finals di Torino", 2)])
    assert [(t.id, new) for t, new in changed] == [(trend_id_for("sinner"), False)]
    assert len(second) == 2


def test_expired_trends_leave_memory_and_index(real_embedder, clock, analyser) -> None:
    clusterer = Clusterer(real_embedder, None, clock, analyser=analyser, config=ClusterConfig(window=timedelta(hours=48)))
    clusterer.ingest(OTHER_STORIES)
    assert len(clusterer) == len(OTHER_STORIES)
    assert clusterer.indexed == len(OTHER_STORIES)
    clock.advance(hours=49)
    changed = clusterer.ingest([rss("Juventus vince a Torino", 10)])  # same url, but its trend is gone
    assert len(clusterer) == 1 and changed[0][1] is True
    assert clusterer.indexed == 1


def test_canonical_text_strips_controls_and_collapses() -> None:
    assert canonical_text("  Sinner\u0000 vince\n\n a\tTorino \u200b ") == "Sinner vince a Torino"
    assert canonical_text("Caff&egrave; &amp; cornetto") == "Caffè & cornetto"
    assert len(canonical_text("x" * 5000)) == 300


def test_language_guess_when_source_gives_none(clusterer: Clusterer) -> None:
    changed = clusterer.ingest(
        [rss("Sciopero dei treni venerdì, le fasce garantite", 1), rss("Earthquake hits the coast of Japan", 2)]
    )
    langs = {t.title: t.lang for t, _ in changed}
    assert langs == {
        "Sciopero dei treni venerdì, le fasce garantite": "it",
        "Earthquake hits the coast of Japan": "en",
    }


def test_hashtags_join_their_story(clusterer: Clusterer) -> None:
    clusterer.ingest(
        [
            rss("Black Friday 2026: quando inizia e le migliori offerte", 1),
            SourceItem(source="mastodon", title="#blackfriday", item_id="blackfriday"),
            SourceItem(source="bluesky", title="#BlackFriday", item_id="BlackFriday"),
        ]
    )
    assert len(clusterer) == 1 and clusterer.trends()[0].corroboration == 3


def test_repolled_items_cost_no_embedding(clock, analyser) -> None:
    from brand_dna.embedder import HashEmbedder

    class Counting(HashEmbedder):
        texts = 0

        def encode(self, texts):
            Counting.texts += len(texts)
            return super().encode(texts)

    emb = Counting()
    clusterer = Clusterer(emb, None, clock, analyser=analyser)
    clusterer.ingest(OTHER_STORIES)
    spent = Counting.texts
    assert spent == len(OTHER_STORIES)
    assert clusterer.ingest(OTHER_STORIES) == []
    assert Counting.texts == spent


def test_memory_is_capped(clock, analyser) -> None:
    from brand_dna.embedder import HashEmbedder

    clusterer = Clusterer(HashEmbedder(), None, clock, analyser=analyser, config=ClusterConfig(max_trends=5))
    for i in range(12):
        clock.advance(minutes=1)
        clusterer.ingest([rss(f"Xyz{i} Qwe{i}", i)])
    assert len(clusterer) == 5
    assert clusterer.indexed == 5
    assert {t.title for t in clusterer.trends()} == {f"Xyz{i} Qwe{i}" for i in range(7, 12)}


@pytest.mark.parametrize("english_first", [True, False])
def test_italian_and_english_reports_of_one_story_are_one_trend(clusterer: Clusterer, english_first: bool) -> None:
    english = SourceItem(
        source="bluesky",
        title="Earthquake in southern Italy",
        context=("A 5.8 quake in Calabria killed three people and injured dozens",),
        item_id="bsky-quake",
    )
    italian = SourceItem(
        source="google_trends",
        title="terremoto oggi",
        context=("Terremoto di magnitudo 5.8 in Calabria: tre morti e decine di feriti nel Cosentino",),
        lang="it",
        item_id="gt-terremoto",
    )
    for item in [english, italian] if english_first else [italian, english]:
        clusterer.ingest([item])
    assert len(clusterer) == 1, [t.title for t in clusterer.trends()]
    assert set(clusterer.trends()[0].sources) == {"bluesky", "google_trends"}


def test_workers_sharing_a_store_keep_one_row_per_story(real_embedder, clock, analyser, tmp_path) -> None:
    """Two workers poll different sources into one store: the second joins the first one's story row."""
    path = tmp_path / "team.db"
    with Storage(path) as store_a, Storage(path) as store_b:
        worker_a = Clusterer(real_embedder, store_a, clock, analyser=analyser)
        worker_b = Clusterer(real_embedder, store_b, clock, analyser=analyser)
        worker_a.restore()
        worker_b.restore()  # both start on an empty store
        (first, is_new), *_ = worker_a.ingest([rss("Sinner vince le ATP Finals a Torino", 1)])
        assert is_new
        store_a.save_trend(first)
        clock.advance(minutes=5)

        gdelt = SourceItem(source="gdelt", title="Jannik Sinner trionfa alle ATP Finals di Torino", url="https://gdelt.example/s")
        assert worker_b.sync(store_b.recent_trends()) == 1  # A's story adopted
        [(joined, joined_new)] = worker_b.ingest([gdelt])
        assert joined.id == first.id
        assert not joined_new
        assert set(joined.sources) == {"rss", "gdelt"}
        assert joined.joined["gdelt"] - joined.joined["rss"] == timedelta(minutes=5)  # who had it first, and by how much
        store_b.save_trend(joined)

        # A later learns what B added to the row; a re-poll of A's own item costs no new story.
        assert worker_a.sync(store_a.recent_trends(since=first.last_seen)) == 1
        held = worker_a.get(first.id)
        assert held is not None
        assert set(held.sources) == {"rss", "gdelt"}
        assert "https://gdelt.example/s" in held.urls
        assert held.last_seen == joined.last_seen
        assert held.joined == joined.joined  # each source's first sighting travels through the store
        assert worker_a.sync(store_a.recent_trends()) == 0  # nothing newer: nothing changes
        assert len(worker_a) == len(worker_b) == 1


def test_a_worker_without_the_sync_would_split_the_story(real_embedder, clock, analyser, tmp_path) -> None:
    """The counter-case of the test above: no sync, two rows for one story (what sync prevents)."""
    with Storage(tmp_path / "team.db") as store:
        worker_a = Clusterer(real_embedder, store, clock, analyser=analyser)
        worker_b = Clusterer(real_embedder, store, clock, analyser=analyser)
        worker_a.restore()
        worker_b.restore()
        [(first, _)] = worker_a.ingest([rss("Sinner vince le ATP Finals a Torino", 1)])
        store.save_trend(first)
        gdelt = SourceItem(source="gdelt", title="Jannik Sinner trionfa alle ATP Finals di Torino", url="https://gdelt.example/s")
        [(other, other_new)] = worker_b.ingest([gdelt])
        assert other_new
        assert other.id != first.id
