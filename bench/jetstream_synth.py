"""Synthetic Bluesky Jetstream events in the real v1 format (see /work/shared/samples/jetstream_*).

Used by `bench/firehose.py` (a firehose at 1,000 events/s) and to write the offline replay's
recorded hour (`python bench/jetstream_synth.py --fixture`): Italian and English background
chatter, two planted rising stories (one Italian, one English), one spam burst (many accounts,
one text with changing links and numbers) and one account flooding its own hashtag, plus likes,
reposts and follows. Every text is invented.
"""

from __future__ import annotations

import argparse
import json
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "monitor" / "offline" / "snapshots" / "jetstream_hour.jsonl"
_B32 = "abcdefghijklmnopqrstuvwxyz234567"

BACKGROUND_IT = [
    "Stamattina il treno per {city} era in ritardo di venti minuti, come sempre",
    "Qualcuno sa consigliarmi un buon libro per le vacanze? Mi piacciono i gialli",
    "A {city} oggi c'è un sole bellissimo, pranzo all'aperto con i colleghi",
    "Finito il turno, ora divano e una serie tv che mi hanno consigliato",
    "Il mio gatto ha deciso che la tastiera è il suo nuovo letto",
    "Domenica si va al mercato contadino di {city}, qualcuno c'è stato?",
    "Ho provato a fare la pasta fresca in casa: disastro totale ma buonissima",
    "Riunione di tre ore che poteva essere una mail, classico lunedì",
    "Sto imparando a suonare la chitarra, dopo un mese le dita fanno ancora male",
    "Che bella la luce del tramonto sul porto di {city} stasera",
    "Consigli per un podcast di storia da ascoltare in macchina?",
    "Primo giorno di palestra dopo mesi, domani non cammino",
    "La biblioteca comunale di {city} ha riaperto la sala studio, finalmente",
    "Oggi pizza al taglio con mia sorella, quella con le patate vince sempre",
    "Ma perché le stampanti funzionano solo quando non servono",
]
BACKGROUND_EN = [
    "My coffee maker broke this morning and honestly the whole day went downhill",
    "Anyone have recommendations for a good hiking trail near {city}?",
    "Finally finished that thousand piece puzzle, took me three weeks",
    "The bus to {city} was packed again, we need more routes",
    "Started reading a new fantasy series and I cannot put it down",
    "Cooked dinner for friends tonight, the lasagna was a hit",
    "Rainy afternoon in {city}, perfect weather for a long nap",
    "Does anyone else keep forgetting their passwords every single week",
    "Our team shipped the release today, time for a long weekend",
    "Walked the dog along the river in {city}, so many ducks today",
    "Thinking about learning Italian before my trip next spring",
    "The new cafe on the corner makes the best cinnamon rolls in {city}",
]
OTHER_LANGS = [
    ("ja", "今日はとても良い天気ですね、散歩に行きます"),
    ("pt", "Hoje o dia está lindo aqui em Lisboa, vou à praia"),
    ("de", "Heute regnet es in Berlin schon wieder den ganzen Tag"),
    ("es", "Qué buen partido anoche, no me lo esperaba para nada"),
]
CITIES_IT = ["Milano", "Torino", "Bologna", "Napoli", "Genova", "Bari", "Firenze", "Palermo", "Verona", "Padova"]
CITIES_EN = ["Leeds", "Boston", "Dublin", "Denver", "Glasgow", "Portland", "Austin", "Bristol"]


@dataclass(frozen=True, slots=True)
class Story:
    """A planted story: its posts grow over `minutes` minutes ending `end_s` seconds before the end."""

    lang: str
    texts: tuple[str, ...]  # templates; {n} = a varying detail
    tag: str
    link: tuple[str, str] | None  # (url, card title) some posts embed
    per_minute: tuple[int, ...]  # posts (distinct accounts) per minute, oldest first


STORY_IT = Story(
    lang="it",
    texts=(
        "Nevica a Roma! Il Colosseo è tutto bianco, non lo vedevo così dal 2018",
        "Neve a Roma, ragazzi guardate il Colosseo imbiancato stamattina",
        "Incredibile, a Roma nevica forte: Colosseo e Fori imperiali sotto la neve",
        "Roma sotto la neve, scuole chiuse e il Colosseo sembra una cartolina",
        "Qui a Roma la neve attacca anche sulle strade, Colosseo bianchissimo",
        "Mai vista tanta neve a Roma, foto dal Colosseo alle {n}",
    ),
    tag="neveroma",
    link=("https://www.ansa.it/roma/notizie/neve_roma_colosseo.html", "Neve a Roma, il Colosseo imbiancato"),
    per_minute=(1, 2, 3, 6, 9, 12, 14, 14, 12),
)
STORY_EN = Story(
    lang="en",
    texts=(
        "Northern lights over the Alps right now, the sky above Chamonix is glowing green",
        "Aurora borealis visible from the Alps tonight, never thought I'd see this here",
        "The northern lights are out over the Alps! Photos from the valley at {n}",
        "Just saw the aurora over the Alps with my own eyes, the whole sky turned pink and green",
        "Aurora alert: the northern lights are visible across the Alps this evening",
    ),
    tag="aurora",
    link=None,
    per_minute=(1, 2, 4, 7, 10, 12, 11, 10),
)
SPAM_TEXT = "Guadagna {n}€ al giorno da casa con il metodo segreto #cryptobonus 👉 https://bit.ly/{code}"
FLOOD_TEXT = "Il mio fantacalcio va alla grande, giornata {n} #fantacalcio"


def tid(rng: random.Random) -> str:
    return "".join(rng.choice(_B32) for _ in range(13))


def did(n: int) -> str:
    """A stable fake DID per account number."""
    alphabet = string.ascii_lowercase + "234567"
    r = random.Random(n)
    return "did:plc:" + "".join(r.choice(alphabet) for _ in range(24))


def facets_for(text: str, tags: list[str], url: str | None) -> list[dict[str, Any]]:
    raw = text.encode("utf-8")
    facets: list[dict[str, Any]] = []
    for tag in tags:
        start = raw.find(f"#{tag}".encode())
        if start >= 0:
            facets.append(
                {
                    "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}],
                    "index": {"byteStart": start, "byteEnd": start + len(tag.encode()) + 1},
                }
            )
    if url:
        start = raw.find(url.encode())
        if start >= 0:
            facets.append(
                {
                    "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
                    "index": {"byteStart": start, "byteEnd": start + len(url.encode())},
                }
            )
    return facets


def post_event(
    rng: random.Random,
    author: str,
    time_us: int | str,
    text: str,
    lang: str,
    *,
    tags: list[str] | None = None,
    url: str | None = None,
    card: tuple[str, str] | None = None,
) -> dict[str, Any]:
    rkey = tid(rng)
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": "{{0|iso}}", "langs": [lang], "text": text}
    facets = facets_for(text, tags or [], url)
    if facets:
        record["facets"] = facets
    if card:
        record["embed"] = {
            "$type": "app.bsky.embed.external",
            "external": {"uri": card[0], "title": card[1], "description": ""},
        }
    return {
        "did": author,
        "time_us": time_us,
        "kind": "commit",
        "commit": {
            "rev": tid(rng),
            "operation": "create",
            "collection": "app.bsky.feed.post",
            "rkey": rkey,
            "record": record,
            "cid": "bafyrei" + tid(rng) + tid(rng),
        },
    }


def other_event(rng: random.Random, author: str, time_us: int | str) -> dict[str, Any]:
    """A like, repost or follow (what most of the firehose is)."""
    kind = rng.choices(["like", "repost", "follow"], weights=[8, 1, 1])[0]
    collection = {"like": "app.bsky.feed.like", "repost": "app.bsky.feed.repost", "follow": "app.bsky.graph.follow"}[
        kind
    ]
    subject: Any = (
        did(rng.randrange(10**6))
        if kind == "follow"
        else {
            "cid": "bafyrei" + tid(rng) + tid(rng),
            "uri": f"at://{did(rng.randrange(10**6))}/app.bsky.feed.post/{tid(rng)}",
        }
    )
    return {
        "did": author,
        "time_us": time_us,
        "kind": "commit",
        "commit": {
            "rev": tid(rng),
            "operation": "create",
            "collection": collection,
            "rkey": tid(rng),
            "record": {"$type": collection, "createdAt": "{{0|iso}}", "subject": subject},
            "cid": "bafyrei" + tid(rng) + tid(rng),
        },
    }


DENSE = (0.55, 0.35)  # Italian, English shares of the offline hour's chatter
REALISTIC = (0.03, 0.45)  # roughly Bluesky's: much English, little Italian, the rest other languages


def background_post(
    rng: random.Random, author: str, time_us: int | str, mix: tuple[float, float] = DENSE
) -> dict[str, Any]:
    roll = rng.random()
    if roll < mix[0]:
        text = rng.choice(BACKGROUND_IT).format(city=rng.choice(CITIES_IT))
        return post_event(rng, author, time_us, text, "it")
    if roll < mix[0] + mix[1]:
        text = rng.choice(BACKGROUND_EN).format(city=rng.choice(CITIES_EN))
        return post_event(rng, author, time_us, text, "en")
    lang, text = rng.choice(OTHER_LANGS)
    return post_event(rng, author, time_us, text, lang)


def story_post(rng: random.Random, story: Story, author: str, time_us: int | str) -> dict[str, Any]:
    text = rng.choice(story.texts).format(n=f"{rng.randrange(6, 23)}:{rng.randrange(60):02d}")
    tags: list[str] = []
    if rng.random() < 0.5:
        text += f" #{story.tag}"
        tags.append(story.tag)
    card = story.link if story.link and rng.random() < 0.3 else None
    return post_event(rng, author, time_us, text, story.lang, tags=tags, card=card)


def spam_post(rng: random.Random, author: str, time_us: int | str) -> dict[str, Any]:
    code = "".join(rng.choice(string.ascii_letters) for _ in range(7))
    url = f"https://bit.ly/{code}"
    text = SPAM_TEXT.format(n=rng.choice([300, 500, 700, 900]), code=code)
    return post_event(rng, author, time_us, text, "it", tags=["cryptobonus"], url=url)


def flood_post(rng: random.Random, author: str, time_us: int | str, n: int) -> dict[str, Any]:
    return post_event(rng, author, time_us, FLOOD_TEXT.format(n=n), "it", tags=["fantacalcio"])


def recorded_hour(seed: int = 16, minutes: int = 60) -> Iterator[tuple[int, dict[str, Any]]]:
    """(seconds before the end, event) of the offline replay's hour, oldest first."""
    rng = random.Random(seed)
    out: list[tuple[int, dict[str, Any]]] = []
    span = minutes * 60
    accounts = 400
    for _ in range(minutes * 6):  # background: ~6 posts a minute
        out.append((rng.randrange(5, span), background_post(rng, did(rng.randrange(accounts)), "")))
    for _ in range(minutes * 3):  # likes, reposts, follows (the real stream has many more)
        out.append((rng.randrange(5, span), other_event(rng, did(rng.randrange(accounts)), "")))
    fresh = 10_000  # story and spam accounts: not the background ones
    for story, end_s in ((STORY_IT, 150), (STORY_EN, 210)):
        start = end_s + 60 * len(story.per_minute)
        for minute, count in enumerate(story.per_minute):
            for _ in range(count):
                fresh += 1
                at = start - 60 * minute - rng.randrange(60)
                out.append((at, story_post(rng, story, did(fresh), "")))
    for _ in range(45):  # spam: 45 accounts, one text, over 6 minutes
        fresh += 1
        out.append((rng.randrange(240, 600), spam_post(rng, did(fresh), "")))
    flooder = did(fresh + 1)
    for n in range(50):  # one account, 50 posts in 5 minutes
        out.append((rng.randrange(300, 600), flood_post(rng, flooder, "", n + 1)))
    out.sort(key=lambda pair: -pair[0])
    yield from out


def write_fixture(path: Path = FIXTURE) -> int:
    lines = []
    for before, event in recorded_hour():
        event["time_us"] = f"@@{before}@@"
        text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        text = text.replace(f'"@@{before}@@"', f"{{{{-{before}s|us}}}}")
        lines.append(text.replace('"{{0|iso}}"', f'"{{{{-{before}s|iso}}}}"'))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fixture", action="store_true", help=f"write the offline replay's hour to {FIXTURE}")
    args = ap.parse_args()
    if args.fixture:
        print(f"{write_fixture()} events -> {FIXTURE}")


if __name__ == "__main__":
    main()
