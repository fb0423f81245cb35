"""BurstDetector: planted stories burst (Italian and English), spam, floods and steady chatter do not."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from monitor.bursts import BurstConfig, BurstDetector, KeyExtractor, Post
from monitor.offline.server import _events, render_template, snapshot_text
from monitor.sources.jetstream_frames import decode_frame

BUCKET_US = 60_000_000
START = 1_783_170_000 * 1_000_000 // BUCKET_US * BUCKET_US  # a bucket boundary in July 2026

CHATTER = [
    "Stamattina il treno era in ritardo di venti minuti, come sempre",
    "Qualcuno sa consigliarmi un buon libro per le vacanze estive",
    "Il mio gatto ha deciso che la tastiera è il suo nuovo letto",
    "Riunione di tre ore che poteva essere una mail, classico lunedì",
    "Anyone have recommendations for a good hiking trail nearby",
    "Cooked dinner for friends tonight, the lasagna was a hit",
    "Walked the dog along the river, so many ducks today",
    "Finally finished that thousand piece puzzle after three weeks",
]


@pytest.fixture(scope="module")
def extractor(analyser) -> KeyExtractor:  # type: ignore[no-untyped-def]
    return KeyExtractor(analyser)


class Stream:
    """Posts in time order, minute by minute, with unique ids."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.posts: list[Post] = []

    def add(self, minute: int, author: str, text: str, lang: str = "it", tags: tuple[str, ...] = ()) -> None:
        at = START + minute * BUCKET_US + self.rng.randrange(BUCKET_US)
        self.posts.append(Post(f"{author}/{len(self.posts)}", author, at, text, lang, tags))

    def chatter(self, minutes: int, per_minute: int = 4) -> None:
        for minute in range(minutes):
            for _ in range(per_minute):
                self.add(minute, f"did:plc:bg{self.rng.randrange(300)}", self.rng.choice(CHATTER))

    def run(self, extractor: KeyExtractor, config: BurstConfig | None = None, end_minute: int = 30) -> BurstDetector:
        detector = BurstDetector(config or BurstConfig(), extractor)
        for post in sorted(self.posts, key=lambda p: p.time_us):
            detector.add(post)
        detector.advance(START + end_minute * BUCKET_US)
        return detector


def _story(stream: Stream, texts: list[str], lang: str, counts: list[int], first_minute: int, tag: str = "") -> None:
    n = 0
    for i, count in enumerate(counts):
        for _ in range(count):
            n += 1
            text = texts[n % len(texts)]
            stream.add(
                first_minute + i,
                f"did:plc:{lang}{first_minute}x{n}",
                f"{text} #{tag}" if tag else text,
                lang,
                (tag,) if tag else (),
            )


NEVE = [
    "Nevica a Roma, il Colosseo è tutto bianco stamattina",
    "Neve a Roma: guardate il Colosseo imbiancato",
    "A Roma la neve attacca sulle strade, Colosseo bianchissimo",
]
AURORA = [
    "Northern lights over the Alps right now, the sky is glowing green",
    "The aurora is visible from the Alps tonight, never thought I'd see this",
    "Northern lights across the Alps this evening, unreal colours",
]


def test_finds_an_italian_and_an_english_story_with_their_first_post(extractor: KeyExtractor) -> None:
    stream = Stream()
    stream.chatter(30)
    _story(stream, NEVE, "it", [1, 3, 8, 12], first_minute=20, tag="neveroma")
    _story(stream, AURORA, "en", [2, 6, 10], first_minute=22)
    bursts = stream.run(extractor).drain()
    assert len(bursts) == 2, [b.keys for b in bursts]
    neve = next(b for b in bursts if b.lang == "it")
    aurora = next(b for b in bursts if b.lang == "en")
    assert "Roma" in neve.title and "tag:neveroma" in neve.keys and neve.posts >= 5 and neve.texts >= 2
    assert "Alps" in aurora.title and aurora.samples and all(s != aurora.title for s in aurora.samples)
    first_neve = min(p.time_us for p in stream.posts if "did:plc:it20" in p.author)
    assert neve.first_seen.timestamp() * 1e6 <= first_neve + 2 * BUCKET_US  # the rise, not the peak
    assert neve.bucket_start < datetime.fromtimestamp((START + 24 * BUCKET_US) / 1e6, UTC)  # within 3 buckets


def test_one_text_from_many_accounts_is_spam_not_a_story(extractor: KeyExtractor) -> None:
    stream = Stream()
    stream.chatter(30)
    for minute in (20, 21, 22):
        for n in range(15):  # links and numbers change; the words do not
            text = f"Guadagna {300 + n}€ al giorno con il metodo segreto https://bit.ly/x{minute}{n} #cryptobonus"
            stream.add(minute, f"did:plc:spam{minute}x{n}", text, tags=("cryptobonus",))
    detector = stream.run(extractor)
    assert detector.drain() == []
    assert detector.stats.spam > 0


def test_one_account_posting_fifty_times_is_not_a_trend(extractor: KeyExtractor) -> None:
    stream = Stream()
    stream.chatter(30)
    for n in range(50):
        stream.add(20 + n // 10, "did:plc:flooder", f"Il mio fantacalcio va alla grande, giornata {n} numero {n * 7}")
    assert stream.run(extractor).drain() == []


def test_links_only_posts_are_not_counted(extractor: KeyExtractor) -> None:
    stream = Stream()
    stream.chatter(30)
    for n in range(40):
        stream.add(20 + n // 10, f"did:plc:l{n}", f"https://example.com/offerta/{n} #promo", tags=("promo",))
    detector = stream.run(extractor)
    assert detector.drain() == [] and detector.stats.links_only == 40


def test_a_steady_busy_key_is_a_baseline_not_a_burst(extractor: KeyExtractor) -> None:
    stream = Stream()
    stream.chatter(40)
    for minute in range(40):  # the same topic all along, from many accounts
        for n in range(8):
            stream.add(
                minute,
                f"did:plc:c{minute}x{n}",
                f"Caffè al bar con {['Luca', 'Anna', 'Marco'][n % 3]} prima del lavoro",
            )
    assert stream.run(extractor, end_minute=40).drain() == []


def test_a_lucky_bucket_of_a_quiet_word_is_not_a_burst(extractor: KeyExtractor) -> None:
    """A word a couple of accounts use each minute reaches 6 once: a z-score calls that a burst, Poisson odds do not."""
    stream = Stream()
    stream.chatter(30)
    rng = random.Random(3)
    places = ["Bari", "Como", "Lecce", "Pisa", "Siena", "Trento", "Udine", "Lucca"]
    for minute in range(30):
        for n in range(6 if minute == 24 else 1 + (minute % 3 == 0)):  # usually 1-2 a minute
            stream.add(minute, f"did:plc:t{minute}x{n}", f"Che bel tramonto stasera sul lago vicino a {rng.choice(places)}")
    assert stream.run(extractor).drain() == []


def test_a_new_story_with_exactly_min_authors_bursts(extractor: KeyExtractor) -> None:
    """The Poisson odds never ask more of a brand-new key than `min_authors` (5) distinct accounts."""
    stream = Stream()
    stream.chatter(30)
    _story(stream, NEVE, "it", [5], first_minute=20, tag="neveroma")
    bursts = stream.run(extractor).drain()
    assert len(bursts) == 1 and bursts[0].posts == BurstConfig().min_authors == 5


def test_one_quiet_warm_up_bucket_does_not_make_a_busy_word_burst_later(extractor: KeyExtractor) -> None:
    """A word at ~9 a minute that had a quiet warm-up minute (2) is not a story when it has 15 right after."""
    stream = Stream()
    stream.chatter(10)
    places = ["Bari", "Como", "Lecce", "Pisa", "Siena", "Trento", "Udine", "Lucca", "Asti", "Enna"]
    for minute, count in enumerate([9, 2, 9, 15, 9, 10, 8]):
        for n in range(count):
            stream.add(minute, f"did:plc:s{minute}x{n}", f"Oggi pranzo all'aperto con i colleghi a {places[n % 10]}")
    assert stream.run(extractor, BurstConfig(warmup_buckets=3), end_minute=7).drain() == []


def test_nothing_is_reported_while_warming_up(extractor: KeyExtractor) -> None:
    stream = Stream()
    _story(stream, NEVE, "it", [10, 12], first_minute=0)
    assert stream.run(extractor, BurstConfig(warmup_buckets=5), end_minute=3).drain() == []
    assert stream.run(extractor, BurstConfig(warmup_buckets=0), end_minute=3).drain() != []


def test_memory_stays_within_the_key_cap(extractor: KeyExtractor) -> None:
    detector = BurstDetector(BurstConfig(max_keys=500), extractor)
    rng = random.Random(3)
    for n in range(3000):  # ~6 new keys per post
        words = " ".join(f"parola{rng.randrange(10**9)}" for _ in range(4))
        detector.add(Post(f"a/{n}", f"did:plc:{n}", START + n * 1000, f"Oggi {words} #tag{n}", "it", (f"tag{n}",)))
        assert detector.tracked <= 500
    assert detector.tracked > 100


def test_the_recorded_offline_hour_has_both_stories_and_no_spam(extractor: KeyExtractor) -> None:
    now = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    detector = BurstDetector(BurstConfig(), extractor)
    for event in _events(render_template(snapshot_text("jetstream_hour.jsonl"), now)):
        post = decode_frame(event.line, frozenset({"it", "en"})).post
        if post is not None:
            detector.add(post)
    detector.advance(int(now.timestamp() * 1e6))
    bursts = detector.drain()
    assert sorted(b.lang or "" for b in bursts) == ["en", "it"]
    joined = " ".join(" ".join((b.title, *b.samples, *b.keys)) for b in bursts).lower()
    assert "colosseo" in joined and "northern lights" in joined
    assert "cryptobonus" not in joined and "fantacalcio" not in joined


def test_a_second_story_sharing_a_common_word_is_still_reported(extractor: KeyExtractor) -> None:
    stream = Stream()
    stream.chatter(40)
    _story(stream, NEVE, "it", [1, 4, 10, 12, 12, 12], first_minute=15, tag="neveroma")  # goes on for a while
    papa = [
        "Il Papa a sorpresa in piazza San Pietro stamattina, folla enorme a Roma",
        "Udienza straordinaria del Papa in piazza San Pietro, Roma blindata",
        "Piazza San Pietro piena per il Papa, tutti i pellegrini a Roma oggi",
    ]
    _story(stream, papa, "it", [2, 8, 12], first_minute=24)
    bursts = stream.run(extractor, end_minute=40).drain()
    assert len(bursts) == 2, [b.keys for b in bursts]
    assert any("Colosseo" in b.title for b in bursts) and any("Pietro" in b.title for b in bursts)
