"""End-to-end latency: payload served → TrendEvent → Slack POST, through the real MonitorService.

    python bench/e2e_latency.py                       # 2,000 trends, 25 per poll, poll every 2 s
    python bench/e2e_latency.py --trends 500 --per-poll 25 --interval 2

Everything runs on 127.0.0.1 in this one process (one asyncio loop, like `onda watch`):
  * a Google-Trends-format RSS server (trending/rss, `ht:` namespace) that serves the next
    `--per-poll` NEW trends on every request and records the instant each response is handed
    to aiohttp (`served`);
  * the real service from monitor.compose.build_service (packaged model, real risk gate,
    SQLite in a temp dir, AlertDispatcher) with only the google_trends source enabled and
    pointed at that server, interval `--interval` s, no jitter;
  * a fake Slack incoming webhook (aiohttp) as ONDA_SLACK__WEBHOOK_URL, recording arrivals.
Every served item carries a unique news URL; a new story's TrendEvent is matched to its served
item by URL. An update of an existing story is timed from the latest poll served before it (one
source, polls never overlap, so that poll caused it; matching by URL fails for big stories,
which keep only MAX_URLS links).

Reported: poll→event latency (served → TrendEvent emitted: parse, cluster, embed, score,
store), p50/p95/max, and per-poll batch; Slack: event → POST arrival, split into the alert's
wait in the paced queue (1 message/s per webhook, by design) and the send itself (POST arrival
→ the dispatcher's alert_sent event, i.e. the response leg), plus the first alert after each
poll (no queue in front of it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, load_avg, load_pool, md_table, write_result
from aiohttp import web

HT = "https://trends.google.com/trending/rss"


def pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


def ms(x: float | None) -> int | None:
    return None if x is None else round(1000 * x)


class TrendsFeed:
    """Serves `per_poll` new items per request, in the Google Trends trending/rss format."""

    def __init__(self, total: int, per_poll: int, seed: int = 11) -> None:
        pool = load_pool()
        rng = random.Random(seed)
        heads = [h for h in pool.headlines if len(h) >= 40]
        self.items: list[tuple[str, list[str], str]] = []
        seen: set[str] = set()
        while len(self.items) < total:
            title = rng.choice(pool.titles)[0]
            words = title.split()
            # vary titles so most items are their own story (a few still cluster, as in real life)
            title = f"{title} {rng.choice(heads).split()[0]}" if title.lower() in seen else title
            seen.add(title.lower())
            n = len(self.items)
            self.items.append((title, rng.sample(heads, 2), f"https://news.example/item/{n}"))
            del words
        self.per_poll = per_poll
        self.next = 0
        self.served_at: dict[str, float] = {}  # url -> perf_counter when the response was handed over
        self.polls: list[tuple[float, int]] = []

        self.live = False  # until the model is ready, serve warm-up items that are not measured
        self.warm_served = 0

    def done(self) -> bool:
        return self.next >= len(self.items)

    async def handle(self, request: web.Request) -> web.Response:
        if self.live:
            batch = self.items[self.next : self.next + self.per_poll]
            self.next += len(batch)
        else:  # the model is still loading: the first poll's processing waits for it; not measured
            n = self.warm_served
            batch = [
                (f"Warm-up trend {n + k}", [f"Warm-up headline number {n + k}"], f"https://news.example/warm/{n + k}")
                for k in range(5)
            ]
            self.warm_served += len(batch)
        now = datetime.now(UTC)
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<rss xmlns:atom="http://www.w3.org/2005/Atom" xmlns:ht="{HT}" version="2.0"><channel>'
            "<title>Daily Search Trends</title><description>Recent searches</description>"
            "<link>https://trends.google.com/trending/rss?geo=IT</link>"
        ]
        for title, heads, url in batch:
            news = "".join(
                f"<ht:news_item><ht:news_item_title>{escape(h)}</ht:news_item_title><ht:news_item_snippet/>"
                f"<ht:news_item_url>{escape(url)}{'' if k == 0 else f'?v={k}'}</ht:news_item_url>"
                "<ht:news_item_source>Bench</ht:news_item_source></ht:news_item>"
                for k, h in enumerate(heads)
            )
            parts.append(
                f"<item><title>{escape(title)}</title><ht:approx_traffic>20000+</ht:approx_traffic><description/>"
                f"<link>https://trends.google.com/trending/rss?geo=IT</link><pubDate>{format_datetime(now)}</pubDate>"
                f"{news}</item>"
            )
        parts.append("</channel></rss>")
        body = "\n".join(parts)
        t = time.perf_counter()
        if self.live and batch:
            for _, _, url in batch:
                self.served_at[url] = t
            self.polls.append((t, len(batch)))
        return web.Response(text=body, content_type="application/rss+xml", charset="utf-8")


class FakeSlack:
    def __init__(self) -> None:
        self.arrivals: list[tuple[float, str]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        self.arrivals.append((time.perf_counter(), body))
        return web.Response(text="ok")


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, int(port)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    feed = TrendsFeed(args.trends, args.per_poll)
    slack = FakeSlack()
    feed_app = web.Application()
    feed_app.router.add_get("/trending/rss", feed.handle)
    slack_app = web.Application()
    slack_app.router.add_post("/hook", slack.handle)
    feed_runner, feed_port = await serve(feed_app)
    slack_runner, slack_port = await serve(slack_app)

    tmp = Path(tempfile.mkdtemp(prefix="onda-e2e-"))
    os.environ["ONDA_SLACK__WEBHOOK_URL"] = f"http://127.0.0.1:{slack_port}/hook"
    from monitor.compose import build_service
    from monitor.config import Settings
    from monitor.events import AlertEvent, StatusEvent, TrendEvent

    off = {"enabled": False}
    settings = Settings(
        brand={"files": [str(REPO / "examples" / "brands" / f"{b}.toml") for b in args.brands]},
        model={"cache_dir": str(tmp / "cache")},
        storage={"path": str(tmp / "onda.db")},
        risk={"credibility_dir": str(tmp / "cred"), "factcheck_feeds": []},
        sources={
            "google_trends": {"url": f"http://127.0.0.1:{feed_port}/trending/rss", "interval_s": args.interval},
            "rss": off,
            "gdelt": off,
            "wikipedia": off,
            "mastodon": off,
            "bluesky": off,
            "jitter": 0.0,
        },
        alerts={"require_rising": False, "cooldown_min": 0, "max_per_hour": 100_000, "min_fit": 0.0},
    )
    service = build_service(settings, offline=False)
    event_lat: list[float] = []
    new_lat: list[float] = []  # first sighting of a story
    upd_lat: list[float] = []  # an existing story grew (its newest item is the one timed)
    unmatched = 0
    event_at: dict[str, float] = {}
    sent_at: dict[str, float] = {}
    queued_at: dict[str, float] = {}
    alert_titles: dict[str, str] = {}
    ready_at: list[float] = []

    def listener(ev: Any) -> None:
        nonlocal unmatched
        now = time.perf_counter()
        if isinstance(ev, TrendEvent):
            served = [feed.served_at[u] for u in ev.trend.urls if u in feed.served_at and feed.served_at[u] <= now]
            if not served:
                unmatched += 1
                return
            start = max(served)
            if not ev.is_new:
                # The event was caused by the latest poll (one source, polls never overlap); the item
                # timed is that poll's, since a big story keeps only MAX_URLS of its URLs.
                start = max([start, *(t for t, _ in feed.polls if t <= now)])
            event_lat.append(now - start)
            (new_lat if ev.is_new else upd_lat).append(now - start)
            event_at[ev.trend.id] = now
        elif isinstance(ev, AlertEvent):
            if ev.status == "queued":
                queued_at.setdefault(ev.alert.trend_id, now)
            elif ev.status == "sent":
                sent_at.setdefault(ev.alert.trend_id, now)
                alert_titles[ev.alert.trend_id] = str(ev.alert.payload.get("title", ""))
        elif isinstance(ev, StatusEvent) and ev.kind == "model_ready":
            ready_at.append(now)
            feed.live = True

    service.subscribe(listener)
    load_start = load_avg()
    t0 = time.perf_counter()
    await service.start()
    deadline = t0 + args.timeout
    while time.perf_counter() < deadline and not (  # noqa: ASYNC110 - a timed poll of several conditions
        feed.done() and feed.polls and time.perf_counter() - feed.polls[-1][0] > args.interval * 3
    ):
        await asyncio.sleep(0.5)
    # let the paced Slack queue drain for a while (bounded)
    drain_until = time.perf_counter() + args.slack_drain
    while time.perf_counter() < drain_until and len(slack.arrivals) < len(queued_at or sent_at):  # noqa: ASYNC110
        await asyncio.sleep(0.5)
    load_end = load_avg()
    await service.stop()
    await feed_runner.cleanup()
    await slack_runner.cleanup()

    # Slack: one webhook, strictly sequential sends, so the POST of an alert is the last arrival
    # at or before its alert_sent event.
    import bisect

    sent_order = sorted(sent_at.items(), key=lambda kv: kv[1])
    arrivals = sorted(t for t, _ in slack.arrivals)
    ev_to_arrival, queue_wait, send_leg, first_after_poll = [], [], [], []
    poll_times = [t for t, n in feed.polls if n]
    seen_polls: set[int] = set()
    for trend_id, t_sent in sent_order:
        k = bisect.bisect_right(arrivals, t_sent) - 1
        t_ev = event_at.get(trend_id)
        if k < 0 or t_ev is None or arrivals[k] < t_ev:
            continue
        t_arr = arrivals[k]
        ev_to_arrival.append(t_arr - t_ev)
        send_leg.append(max(0.0, t_sent - t_arr))
        q = queued_at.get(trend_id, t_ev)
        queue_wait.append(max(0.0, t_arr - q))
        poll_idx = max((i for i, p in enumerate(poll_times) if p <= t_ev), default=-1)
        if poll_idx not in seen_polls:
            seen_polls.add(poll_idx)
            first_after_poll.append(t_arr - t_ev)
    return {
        "trends_served": feed.next,
        "polls": len(poll_times),
        "per_poll": args.per_poll,
        "interval_s": args.interval,
        "brands": args.brands,
        "model_ready_s": round(ready_at[0] - t0, 2) if ready_at else None,
        "events": len(event_lat),
        "unmatched_events": unmatched,
        "poll_to_event_ms": {
            "p50": ms(pct(event_lat, 50)),
            "p95": ms(pct(event_lat, 95)),
            "max": round(1000 * max(event_lat)) if event_lat else None,
            "mean": round(1000 * statistics.fmean(event_lat)) if event_lat else None,
        },
        "new_story_ms": {"n": len(new_lat), "p50": ms(pct(new_lat, 50)), "p95": ms(pct(new_lat, 95))},
        "updated_story_ms": {"n": len(upd_lat), "p50": ms(pct(upd_lat, 50)), "p95": ms(pct(upd_lat, 95))},
        "alerts_queued": len(queued_at),
        "alerts_sent": len(sent_at),
        "alerts_matched": len(ev_to_arrival),
        "slack_posts": len(slack.arrivals),
        "event_to_slack_ms": {"p50": ms(pct(ev_to_arrival, 50)), "p95": ms(pct(ev_to_arrival, 95))},
        "first_alert_after_poll_ms": {
            "p50": ms(pct(first_after_poll, 50)),
            "p95": ms(pct(first_after_poll, 95)),
            "n": len(first_after_poll),
        },
        "slack_queue_wait_ms": {"p50": ms(pct(queue_wait, 50)), "p95": ms(pct(queue_wait, 95))},
        "slack_send_leg_ms": {"p50": ms(pct(send_leg, 50)), "p95": ms(pct(send_leg, 95))},
        "load_avg_start": load_start,
        "load_avg_end": load_end,
        "wall_s": round(time.perf_counter() - t0, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trends", type=int, default=2000)
    parser.add_argument("--per-poll", type=int, default=25)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--brands", nargs="+", default=["lavazza", "oreo", "ducati"])
    parser.add_argument("--timeout", type=float, default=900.0, help="hard stop for the replay (s)")
    parser.add_argument("--slack-drain", type=float, default=30.0, help="extra seconds for queued Slack posts")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import logging

    logging.basicConfig(level=logging.ERROR, filename=os.environ.get("BENCH_LOG"))  # apscheduler's "skipped: max instances" is expected under load
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    res = asyncio.run(run(args))
    p = res["poll_to_event_ms"]
    print(
        f"{res['trends_served']} trends in {res['polls']} polls ({res['per_poll']}/poll every {res['interval_s']} s), "
        f"brands {', '.join(res['brands'])}; model ready after {res['model_ready_s']} s; load avg "
        f"{res['load_avg_start']} → {res['load_avg_end']}\n"
    )
    print(
        md_table(
            ["measure", "n", "p50 ms", "p95 ms", "max ms"],
            [
                ["served → TrendEvent (parse+cluster+embed+score+store)", res["events"], p["p50"], p["p95"], p["max"]],
                [
                    "  new stories only",
                    res["new_story_ms"]["n"],
                    res["new_story_ms"]["p50"],
                    res["new_story_ms"]["p95"],
                    "",
                ],
                [
                    "  updates of existing stories",
                    res["updated_story_ms"]["n"],
                    res["updated_story_ms"]["p50"],
                    res["updated_story_ms"]["p95"],
                    "",
                ],
                [
                    "TrendEvent → Slack POST arrives (all alerts)",
                    res["slack_posts"],
                    res["event_to_slack_ms"]["p50"],
                    res["event_to_slack_ms"]["p95"],
                    "",
                ],
                [
                    "  of which: wait in paced queue (1 msg/s)",
                    "",
                    res["slack_queue_wait_ms"]["p50"],
                    res["slack_queue_wait_ms"]["p95"],
                    "",
                ],
                [
                    "  Slack POST arrival → alert_sent (response leg)",
                    "",
                    res["slack_send_leg_ms"]["p50"],
                    res["slack_send_leg_ms"]["p95"],
                    "",
                ],
                [
                    "first alert after a poll: TrendEvent → Slack",
                    res["first_alert_after_poll_ms"]["n"],
                    res["first_alert_after_poll_ms"]["p50"],
                    res["first_alert_after_poll_ms"]["p95"],
                    "",
                ],
            ],
        )
    )
    print(
        f"\nalerts queued {res['alerts_queued']}, Slack posts received {res['slack_posts']}, "
        f"unmatched events {res['unmatched_events']}, wall {res['wall_s']} s"
    )
    path = write_result("e2e_latency", res)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
