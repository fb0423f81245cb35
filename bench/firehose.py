"""A synthetic Bluesky firehose through the real Jetstream client and burst detector.

A loopback websocket server (a separate process, so its CPU is not counted) streams live
Jetstream v1 events at `--rate` events/s (default 1,000: ~92 % likes, reposts and follows,
~8 % posts in many languages, a quarter of them Italian or English) for `--minutes` (default 10).
Two stories (one Italian, one English) and one spam burst are planted after the warm-up; the
measured process runs `JetstreamSource` as the runner would (a poll every `--poll-s`) and reports:

* CPU share of one core of the client + detector (process CPU time / wall time, after start-up),
* RSS at start (spaCy lemma tables loaded), at the end and its peak, sampled every 10 s,
* detection delay of each planted story: from its first post to its burst, in seconds and buckets,
* whether the spam burst stayed out.

    python bench/firehose.py --minutes 2 --bucket-s 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import resource
import time
from datetime import UTC, datetime
from typing import Any

from _common import load_avg, md_table, write_result
from jetstream_synth import (
    DENSE,
    REALISTIC,
    STORY_EN,
    STORY_IT,
    background_post,
    did,
    other_event,
    spam_post,
    story_post,
)

POST_COLLECTION = "app.bsky.feed.post"
POST_SHARE = 0.075  # ~75 posts/s at 1,000 events/s


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


# -- the server (its own process) -----------------------------------------------------------------
def _ramp(bucket_s: float) -> list[tuple[float, int]]:
    """(seconds after the story starts, distinct accounts posting in that bucket): 1, 3, 8, then 15 per bucket."""
    return [(i * bucket_s, n) for i, n in enumerate((1, 3, 8, 15, 15, 15, 15, 15))]


def _schedule(start_s: float, bucket_s: float, rng: random.Random) -> list[float]:
    times: list[float] = []
    for offset, count in _ramp(bucket_s):
        times.extend(start_s + offset + rng.random() * bucket_s for _ in range(count))
    return sorted(times)


def serve(
    port_q: Any, rate: int, seconds: float, bucket_s: float, plan_q: Any, filtered: bool, mix: tuple[float, float]
) -> None:
    """Run the firehose websocket on 127.0.0.1 until `seconds` after the first client connects.

    `filtered`: like the real Jetstream, send only the `wantedCollections` (the client asks for posts).
    """
    from aiohttp import web

    rng = random.Random(7)

    async def subscribe(request: web.Request) -> web.WebSocketResponse:
        wanted = set(request.query.getall("wantedCollections", [])) if filtered else set()
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        t0 = time.time()
        plan: dict[str, list[float]] = {
            "it": [t0 + t for t in _schedule(0.4 * seconds, bucket_s, rng)],
            "en": [t0 + t for t in _schedule(0.5 * seconds, bucket_s, rng)],
            "spam": [t0 + 0.45 * seconds + i * bucket_s / 12 for i in range(60)],
        }
        plan_q.put({k: v[0] for k, v in plan.items()})
        sent = 0
        fresh = 10**6
        tick = 0.01
        while time.time() - t0 < seconds and not ws.closed:
            now = time.time()
            due = int((now - t0) * rate) - sent
            now_us = int(now * 1e6)
            for _ in range(max(0, due)):
                sent += 1
                author = did(rng.randrange(200_000))
                if rng.random() < POST_SHARE:
                    event = background_post(rng, author, now_us, mix)
                elif POST_COLLECTION in wanted:
                    continue  # a like, repost or follow: not wanted, so the server does not send it
                else:
                    event = other_event(rng, author, now_us)
                await ws.send_str(json.dumps(event))
            for name in ("it", "en", "spam"):
                times = plan[name]
                while times and times[0] <= now:
                    times.pop(0)
                    fresh += 1
                    if name == "spam":
                        event = spam_post(rng, did(fresh), now_us)
                    else:
                        event = story_post(rng, STORY_IT if name == "it" else STORY_EN, did(fresh), now_us)
                    await ws.send_str(json.dumps(event))
            await asyncio.sleep(tick)
        await ws.close()
        return ws

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/subscribe", subscribe)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_q.put(runner.addresses[0][1])
        await asyncio.sleep(seconds + 120)
        await runner.cleanup()

    asyncio.run(main())


# -- the measured process ---------------------------------------------------------------------------
async def measure(
    url: str, seconds: float, bucket_s: float, poll_s: float, plan_q: Any, langs: frozenset[str]
) -> dict[str, Any]:
    from monitor.bursts import BurstConfig
    from monitor.sources.base import NotModified, PollContext
    from monitor.sources.jetstream import JetstreamSource, StreamConfig

    source = JetstreamSource(
        StreamConfig(urls=(url,), langs=langs),
        BurstConfig(bucket_s=bucket_s, warmup_buckets=3),
        catchup_timeout_s=5.0,
    )
    rss_bare = _rss_mb()
    source.detector.prepare()  # the text tools load once (seconds): not part of the steady state measured
    ctx = PollContext(fetcher=None, now=lambda: datetime.now(UTC))  # type: ignore[arg-type]
    rss0, cpu0, wall0 = _rss_mb(), _cpu_s(), time.time()
    rss: list[tuple[float, float]] = [(0.0, rss0)]
    found: list[tuple[float, Any]] = []
    next_sample = 10.0
    plan: dict[str, float] | None = None
    while time.time() - wall0 < seconds + 2 * bucket_s:
        try:
            for item in await source.poll(ctx):
                found.append((time.time(), item))
        except NotModified:
            pass
        if plan is None and not plan_q.empty():
            plan = plan_q.get()
        elapsed = time.time() - wall0
        if elapsed >= next_sample:
            rss.append((round(elapsed), _rss_mb()))
            next_sample += 10.0
        await asyncio.sleep(poll_s)
    cpu = _cpu_s() - cpu0
    wall = time.time() - wall0
    counts = dict(source.stream.counts)
    tracked = source.detector.tracked
    await source.close()
    stories: list[list[Any]] = []
    marks = {"it": "colosseo", "en": "alps"}  # a word every post of the planted story has
    for name, mark in marks.items():
        first = (plan or {}).get(name)
        hit = next((t for t, i in found if mark in " ".join((i.title, *i.context)).lower()), None)
        if first is None or hit is None:
            stories.append([name, "no", "-", "-"])
        else:
            stories.append([name, "yes", f"{hit - first:.0f} s", f"{(hit - first) / bucket_s:.1f}"])
    spam_hit = any("guadagna" in " ".join((i.title, *i.context)).lower() for _, i in found)
    return {
        "frames": counts.get("frames", 0),
        "events_per_s": round(counts.get("frames", 0) / wall, 1),  # frames the client received per second
        "posts_in_langs": counts.get("posts", 0),
        "cpu_share_of_one_core": round(cpu / wall, 4),
        "rss_before_text_tools_mb": round(rss_bare, 1),
        "rss_start_mb": round(rss0, 1),
        "rss_end_mb": round(rss[-1][1], 1),
        "rss_peak_mb": round(max(r for _, r in rss), 1),
        "rss_series": rss,
        "keys_tracked_at_end": tracked,
        "bursts": [(i.title, i.item_id, i.traffic) for _, i in found],
        "stories": stories,
        "spam_reported": spam_hit,
        "counts": counts,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--rate", type=int, default=1000, help="events per second")
    ap.add_argument("--bucket-s", type=float, default=60.0)
    ap.add_argument(
        "--unfiltered",
        action="store_true",
        help="send likes, reposts and follows too (a server ignoring wantedCollections)",
    )
    ap.add_argument(
        "--mix",
        choices=["dense", "realistic"],
        default="dense",
        help="languages of the chatter: dense = 55 %% it, 35 %% en (pessimistic); realistic = 3 %% it, 45 %% en",
    )
    ap.add_argument("--langs", default="it,en", help="post languages watched (comma-separated)")
    ap.add_argument("--poll-s", type=float, default=2.0, help="how often the source is polled (the runner's interval)")
    args = ap.parse_args()
    seconds = args.minutes * 60
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    ctx = multiprocessing.get_context("spawn")
    port_q, plan_q = ctx.Queue(), ctx.Queue()
    server = ctx.Process(
        target=serve,
        args=(
            port_q,
            args.rate,
            seconds,
            args.bucket_s,
            plan_q,
            not args.unfiltered,
            DENSE if args.mix == "dense" else REALISTIC,
        ),
        daemon=True,
    )
    server.start()
    try:
        port = port_q.get(timeout=60)
        result = asyncio.run(
            measure(
                f"http://127.0.0.1:{port}/subscribe",
                seconds,
                args.bucket_s,
                args.poll_s,
                plan_q,
                frozenset(args.langs.split(",")),
            )
        )
    finally:
        server.terminate()
        server.join(5)
    result.update(
        minutes=args.minutes,
        rate=args.rate,
        langs=args.langs,
        bucket_s=args.bucket_s,
        filtered=not args.unfiltered,
        load=load_avg(),
    )
    print(f"load average: {result['load']}")
    print(
        md_table(
            [
                "frames/s received",
                "posts in langs",
                "CPU (one core)",
                "RSS before text tools",
                "RSS start",
                "RSS end",
                "RSS peak",
                "keys tracked",
            ],
            [
                [
                    result["events_per_s"],
                    result["posts_in_langs"],
                    f"{100 * result['cpu_share_of_one_core']:.1f} %",
                    f"{result['rss_before_text_tools_mb']} MB",
                    f"{result['rss_start_mb']} MB",
                    f"{result['rss_end_mb']} MB",
                    f"{result['rss_peak_mb']} MB",
                    result["keys_tracked_at_end"],
                ]
            ],
        )
    )
    print()
    print(md_table(["story", "detected", "delay from first post", "buckets"], result["stories"]))
    print(f"\nspam burst reported: {result['spam_reported']}; bursts: {result['bursts']}")
    name = "firehose" + ("_unfiltered" if args.unfiltered else "") + ("" if args.langs == "it,en" else f"_{args.langs}")
    name += "" if args.mix == "dense" else f"_{args.mix}"
    print(f"written {write_result(name, result)}")


if __name__ == "__main__":
    main()
