"""Team-mode drill: several `onda watch` workers on one PostgreSQL; one is killed with SIGKILL every N seconds.

    python bench/team_drill.py                      # 3 workers, kill -9 every 30 s for 5 minutes
    python bench/team_drill.py --minutes 2 --kill-every 20

What runs, all on 127.0.0.1 and nothing mocked:
- a throwaway PostgreSQL (initdb in a temp dir, tests/pg_server.py), migrated with `onda db migrate`;
- one loopback source server: the bundled offline snapshots (Google Trends, GDELT, Mastodon, Bluesky)
  plus a live RSS feed that publishes a new coffee story every few seconds, so alerts keep coming;
  it logs every request with the worker's User-Agent;
- a fake Slack incoming webhook that logs every POST;
- N `onda watch` workers (separate processes, the real CLI) on the one store, polling every 10-15 s.

Every `--kill-every` seconds the drill SIGKILLs one worker (round robin) and starts it again. At the end
it stops killing, lets the survivors drain the outbox, stops them with SIGTERM and checks:
- alerts: every outbox row is `sent`, and the fake Slack got each (kind, trend) exactly once
  (lost = outbox rows not delivered; duplicated = extra POSTs for one key);
- polling: per source, two different workers never polled it within half an interval of each other
  (one poller at a time), and after each kill the dead worker's sources were polled again by another
  worker within one lease period (+ one interval).
Exit status 0 when all hold; the summary goes to stdout (and `--json FILE`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from aiohttp import web

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

import itertools

from pg_server import create_database, pg_server

from monitor.offline import BLUESKY_PATH, GDELT_PATH, GOOGLE_TRENDS_PATH
from monitor.offline.server import ReplayServer

ONDA = str(Path(sys.executable).with_name("onda"))
LEASE_S = 60.0  # MonitorService's default lease
INTERVAL_S = {"google_trends": 12.0, "gdelt": 15.0, "mastodon": 12.0, "bluesky": 10.0, "rss": 10.0}
SOURCE_OF_PATH = {
    GOOGLE_TRENDS_PATH: "google_trends",
    GDELT_PATH: "gdelt",
    "/api/v1/trends/tags": "mastodon",
    BLUESKY_PATH: "bluesky",
    "/drill/live.xml": "rss",
}
CITIES = ["Torino", "Milano", "Genova", "Bologna", "Firenze", "Roma", "Napoli", "Bari", "Palermo", "Catania", "Cagliari", "Verona", "Padova", "Trieste", "Venezia", "Parma", "Modena", "Perugia", "Ancona", "Pescara", "Lecce", "Salerno", "Brescia", "Bergamo", "Como", "Varese", "Novara", "Asti", "Cuneo", "Alba", "Pavia", "Cremona", "Mantova", "Trento", "Bolzano", "Udine", "Treviso", "Vicenza", "Rovigo", "Ferrara", "Ravenna", "Rimini", "Pesaro", "Urbino", "Siena", "Pisa", "Livorno", "Lucca", "Arezzo", "Grosseto", "Viterbo", "Latina", "Frosinone", "Caserta", "Avellino", "Benevento", "Potenza", "Matera", "Cosenza", "Reggio", "Messina", "Siracusa", "Ragusa", "Trapani", "Sassari", "Nuoro", "Oristano", "Aosta", "Imperia", "Savona", "Spezia", "Massa", "Prato", "Pistoia"]
BRAND = """[brand]
name = "Drill Caffè"
language = "it"
dna = [
  "Italian espresso coffee roaster: coffee bars, baristas and the espresso ritual",
  "Torrefazione di caffè espresso per i bar italiani",
  "Coffee culture in Italian cities: new cafés, coffee shops and barista competitions",
]
"""


@dataclass
class Drill:
    """What the loopback servers saw."""

    started: float = field(default_factory=time.monotonic)
    polls: list[tuple[float, str, str]] = field(default_factory=list)  # (t, source, worker)
    slack: list[tuple[float, str, str]] = field(default_factory=list)  # (t, kind, trend id)
    slack_bad: int = 0

    def now(self) -> float:
        return time.monotonic() - self.started


FIRST = ["Giulia", "Marco", "Sara", "Luca", "Elena", "Paolo", "Chiara", "Davide", "Marta", "Fabio", "Anna", "Stefano"]
LAST = ["Bianchi", "Ferrari", "Esposito", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "Costa"]
TEMPLATES = [
    "{first} {last} apre a {city} la caffetteria dell'anno",
    "A {city} il barista {first} {last} serve l'espresso perfetto",
    "{first} {last} di {city} vince il campionato baristi",
]


def story(k: int) -> str:
    """The k-th live story: a different person each time (144 before a name repeats), so each is its own trend."""
    first, last = FIRST[k % 12], LAST[(k % 12 + k // 12) % 12]
    return TEMPLATES[k % 3].format(first=first, last=last, city=CITIES[k % len(CITIES)])


def live_feed(drill: Drill) -> str:
    """An RSS feed that gains one story every 5 s (the last 20 are listed)."""
    n = int(drill.now() // 5) + 1
    items = []
    for k in range(max(0, n - 20), n):
        link = f"https://drill.example/caffe/{k}"
        pub = format_datetime(datetime.now(UTC))
        items.append(
            f"<item><title>{escape(story(k))}</title><link>{link}</link><guid>{link}</guid><pubDate>{pub}</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Drill</title>'
        f"<link>https://drill.example/</link><description>drill</description>{''.join(items)}</channel></rss>"
    )


class DrillServer(ReplayServer):
    """The offline replay plus the live feed and a fake Slack, logging who polled what."""

    def __init__(self, drill: Drill) -> None:
        super().__init__()
        self.drill = drill

    def make_app(self) -> web.Application:
        app = super().make_app()
        drill = self.drill

        @web.middleware
        async def log_polls(request: web.Request, handler):  # type: ignore[no-untyped-def]
            source = SOURCE_OF_PATH.get(request.path)
            if source is not None:
                drill.polls.append((drill.now(), source, request.headers.get("User-Agent", "?")))
            return await handler(request)

        async def live(_: web.Request) -> web.Response:
            return web.Response(text=live_feed(drill), content_type="application/rss+xml")

        async def slack(request: web.Request) -> web.Response:
            body = await request.json()
            found = re.search(r"Onda · (\w+) · trend ([0-9a-f]+)", json.dumps(body, ensure_ascii=False))
            if found is None:
                drill.slack_bad += 1
            else:
                drill.slack.append((drill.now(), found.group(1), found.group(2)))
            return web.Response(text="ok")

        app.middlewares.append(log_polls)
        app.router.add_get("/drill/live.xml", live)
        app.router.add_post("/drill/slack", slack)
        return app


def write_config(root: Path, base: str) -> Path:
    (root / "drill-brand.toml").write_text(BRAND, "utf-8")
    cfg = f"""[brand]
files = ["drill-brand.toml"]

[sources.google_trends]
interval_s = {INTERVAL_S["google_trends"]}
url = "{base}{GOOGLE_TRENDS_PATH}"
[sources.gdelt]
interval_s = {INTERVAL_S["gdelt"]}
url = "{base}{GDELT_PATH}"
[sources.mastodon]
interval_s = {INTERVAL_S["mastodon"]}
instance = "{base}"
[sources.bluesky]
interval_s = {INTERVAL_S["bluesky"]}
url = "{base}{BLUESKY_PATH}"
[sources.rss]
interval_s = {INTERVAL_S["rss"]}
feeds = ["{base}/drill/live.xml"]
[sources.wikipedia]
enabled = false

[risk]
factcheck_feeds = []

[alerts]
require_rising = false
cooldown_min = 0
max_per_hour = 100000
"""
    path = root / "drill.toml"
    path.write_text(cfg, "utf-8")
    return path


@dataclass
class Worker:
    name: str
    env: dict[str, str]
    config: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as err:
            self.proc = subprocess.Popen(
                [ONDA, "--config", str(self.config), "watch"],
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=self.env,
            )

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def outbox_rows(url: str) -> list[tuple[str, str, str]]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT kind, trend_id, status FROM alert_outbox").fetchall()
    return [(str(k), str(t), str(s)) for k, t, s in rows]


def check_polls(drill: Drill, kills: list[tuple[float, str]], workers: list[str]) -> dict[str, object]:
    by_source: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for t, source, who in drill.polls:
        by_source[source].append((t, who))
    overlaps: list[str] = []
    for source, seq in by_source.items():
        seq.sort()
        half = INTERVAL_S[source] / 2
        for (t0, w0), (t1, w1) in itertools.pairwise(seq):
            if w0 != w1 and t1 - t0 < half and not any(t0 - 1 <= kt <= t1 for kt, _ in kills):
                overlaps.append(f"{source}: {w0} at {t0:.1f}s and {w1} at {t1:.1f}s")
    takeovers: list[float] = []
    for kt, killed in kills:
        for seq in by_source.values():
            before = [w for t, w in seq if t < kt]
            if not before or before[-1] != killed:
                continue  # not the dead worker's source
            after = [t for t, w in seq if t > kt and w != killed]
            restarted = [t for t, w in seq if t > kt]
            if after or restarted:
                takeovers.append(min(after + restarted) - kt)
    per_worker = Counter(who for _, _, who in drill.polls)
    return {
        "polls": len(drill.polls),
        "polls_per_source": dict(Counter(source for _, source, _ in drill.polls)),
        "polls_per_worker": {w: per_worker.get(w, 0) for w in workers},
        "overlapping_polls": overlaps,
        "takeover_s_max": round(max(takeovers), 1) if takeovers else None,
        "takeovers": len(takeovers),
    }


async def run(args: argparse.Namespace) -> dict[str, object]:
    drill = Drill()
    server = DrillServer(drill)
    base = await server.start()
    root = Path(tempfile.mkdtemp(prefix="onda-drill-"))
    config = write_config(root, base)
    with pg_server() as pg:
        url = create_database(pg, "onda")
        common = {
            **os.environ,
            "ONDA_STORAGE__URL": url,
            "ONDA_SLACK__WEBHOOK_URL": f"{base}/drill/slack",
            "ONDA_MODEL__CACHE_DIR": str(root / "cache"),
            "ONDA_RISK__CREDIBILITY_DIR": str(root / "cred"),
            "TOKENIZERS_PARALLELISM": "false",
            "OMP_NUM_THREADS": "1",
        }
        await asyncio.to_thread(
            subprocess.run, [ONDA, "--config", str(config), "db", "migrate"], env=common, check=True, capture_output=True
        )
        workers = []
        for i in range(args.workers):
            name = f"drill-w{i + 1}"
            home = root / name
            home.mkdir()
            env = {**common, "HOME": str(home), "ONDA_HTTP__USER_AGENT": name}
            workers.append(Worker(name, env, config, root / f"{name}.log"))
        for w in workers:
            w.start()
        kills: list[tuple[float, str]] = []
        end = time.monotonic() + args.minutes * 60
        k = 0
        while time.monotonic() < end:
            await asyncio.sleep(min(args.kill_every, max(0.0, end - time.monotonic())))
            if time.monotonic() >= end:
                break
            victim = workers[k % len(workers)]
            k += 1
            victim.kill()
            kills.append((drill.now(), victim.name))
            print(f"{drill.now():6.1f}s kill -9 {victim.name}; {len(drill.slack)} alerts so far", flush=True)
            victim.start()
        print(f"{drill.now():6.1f}s drain: {args.drain_s:.0f} s without kills", flush=True)
        await asyncio.sleep(args.drain_s)
        for w in workers:
            w.stop()
        rows = outbox_rows(url)
    await server.stop()

    keys = Counter((kind, tid) for _, kind, tid in drill.slack)
    status = Counter(s for _, _, s in rows)
    outbox_keys = {(k, t) for k, t, _ in rows}
    lost = [key for key in outbox_keys if key not in keys]
    duplicated = sum(n - 1 for n in keys.values() if n > 1)
    unknown = [key for key in keys if key not in outbox_keys]
    result: dict[str, object] = {
        "workers": args.workers,
        "minutes": args.minutes,
        "kills": len(kills),
        "stories_published": int(drill.now() // 5) + 1,
        "outbox_rows": len(rows),
        "outbox_status": dict(status),
        "slack_posts": len(drill.slack),
        "slack_unparsed": drill.slack_bad,
        "lost": len(lost),
        "duplicated": duplicated,
        "posted_without_outbox_row": len(unknown),
        **check_polls(drill, kills, [w.name for w in workers]),
        "logs": str(root),
    }
    ok = (
        not lost
        and duplicated == 0
        and not unknown
        and status.get("sent", 0) == len(rows)
        and not result["overlapping_polls"]
        and (result["takeover_s_max"] is None or float(result["takeover_s_max"]) <= LEASE_S + max(INTERVAL_S.values()) + 5)  # type: ignore[arg-type]
        and len(rows) > 0
    )
    result["ok"] = ok
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--kill-every", type=float, default=30.0)
    parser.add_argument("--drain-s", type=float, default=LEASE_S + 30)
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2), "utf-8")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
