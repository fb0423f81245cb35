"""Cold start of `onda tui` and the memory of a long `onda watch`.

    python bench/cold_start.py                 # TUI first screen + first scored trend, then a 10-minute watch
    python bench/cold_start.py --minutes 2     # shorter watch
    python bench/cold_start.py --no-watch      # TUI only

1. TUI: a fresh Python process builds the real service (monitor.compose.build_service, offline
   replay, temp DB) and runs tui.app.OndaApp headless with `App.run_test()`. Times are from
   just before the process is spawned to: the first screen (run_test has mounted the app and
   the first refresh is done; the model loads in a worker, so it must not wait for it), the
   model_ready status, and the first TrendEvent (first scored trend).
2. Watch: `python -m monitor watch` (the `onda watch` entry point) as a subprocess, with only
   the google_trends source enabled and pointed at a local Google-Trends-format server
   (bench/e2e_latency.TrendsFeed) that serves NEW trends on every poll (30 per poll, every
   10 s), so the service keeps growing its working set like a live day. VmRSS of the child
   is sampled every 5 s from /proc; printed per minute with the peak (VmHWM).
   (`onda watch --offline` replays static snapshots that answer 304 after the first poll, so it
   would not exercise growth; this is the same command on a replay that changes.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, load_avg, md_table, write_result

TUI_CHILD = r"""
import asyncio, json, os, sys, time
T0 = float(os.environ["BENCH_T0"])
sys.path.insert(0, os.environ["BENCH_REPO"])
from monitor.config import Settings
from monitor.compose import build_service
from monitor.events import StatusEvent, TrendEvent
from tui.app import OndaApp

marks = {"imports_s": time.time() - T0}
settings = Settings()
service = build_service(settings, offline=True, db=os.environ["BENCH_DB"])
marks["service_built_s"] = time.time() - T0
done = asyncio.Event()

def listen(ev):
    now = time.time() - T0
    if isinstance(ev, StatusEvent) and ev.kind == "model_ready":
        marks.setdefault("model_ready_s", now)
    if isinstance(ev, TrendEvent):
        marks.setdefault("first_trend_event_s", now)
        done.set()

service.subscribe(listen)

async def main():
    app = OndaApp(service)
    async with app.run_test(size=(160, 45)) as pilot:
        marks["first_screen_s"] = time.time() - T0
        marks["model_loaded_at_first_screen"] = bool(getattr(service.scorer.embedder, "loaded", False))
        marks["screen"] = type(app.screen).__name__
        try:
            await asyncio.wait_for(done.wait(), 180)
        except TimeoutError:
            pass
        await pilot.pause()
        marks["rows_visible"] = len(app.query("DataTable")) > 0
asyncio.run(main())
print("BENCH " + json.dumps(marks))
os._exit(0)
"""


def tui_cold_start() -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="onda-tui-"))
    env = dict(os.environ)
    env.update(
        {
            "BENCH_REPO": str(REPO),
            "BENCH_DB": str(tmp / "onda.db"),
            "ONDA_MODEL__CACHE_DIR": str(tmp / "cache"),
            "ONDA_RISK__CREDIBILITY_DIR": str(tmp / "cred"),
            "HF_HUB_OFFLINE": "1",
        }
    )
    load = load_avg()
    env["BENCH_T0"] = repr(time.time())
    proc = subprocess.run(
        [sys.executable, "-c", TUI_CHILD], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"TUI child failed (rc {proc.returncode}): {proc.stderr[-800:]}")
    marks = json.loads(line[6:])
    marks["load_avg"] = load
    return marks


def child_rss(pid: int) -> tuple[float, float]:
    cur = peak = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            cur = int(line.split()[1]) / 1024
        elif line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return cur, peak


async def watch_rss(minutes: float, per_poll: int, interval: float) -> dict[str, object]:
    from aiohttp import web
    from e2e_latency import TrendsFeed, serve

    feed = TrendsFeed(int(minutes * 60 / interval + 5) * per_poll, per_poll, seed=23)
    feed.live = True
    app = web.Application()
    app.router.add_get("/trending/rss", feed.handle)
    runner, port = await serve(app)
    tmp = Path(tempfile.mkdtemp(prefix="onda-watch-"))
    env = dict(os.environ)
    off = "false"
    env.update(
        {
            "HF_HUB_OFFLINE": "1",
            "ONDA_BRAND__FILES": json.dumps(
                [str(REPO / "examples" / "brands" / f"{b}.toml") for b in ("lavazza", "oreo", "ducati")]
            ),
            "ONDA_MODEL__CACHE_DIR": str(tmp / "cache"),
            "ONDA_STORAGE__PATH": str(tmp / "onda.db"),
            "ONDA_RISK__CREDIBILITY_DIR": str(tmp / "cred"),
            "ONDA_RISK__FACTCHECK_FEEDS": "[]",
            "ONDA_SOURCES__GOOGLE_TRENDS__URL": f"http://127.0.0.1:{port}/trending/rss",
            "ONDA_SOURCES__GOOGLE_TRENDS__INTERVAL_S": str(interval),
            "ONDA_SOURCES__JITTER": "0",
            "ONDA_SOURCES__RSS__ENABLED": off,
            "ONDA_SOURCES__GDELT__ENABLED": off,
            "ONDA_SOURCES__WIKIPEDIA__ENABLED": off,
            "ONDA_SOURCES__MASTODON__ENABLED": off,
            "ONDA_SOURCES__BLUESKY__ENABLED": off,
            "ONDA_ALERTS__ENABLED": off,
        }
    )
    env.pop("ONDA_CONFIG", None)
    env.pop("ONDA_SLACK__WEBHOOK_URL", None)
    out_path = tmp / "watch.jsonl"
    with out_path.open("w") as out, (tmp / "watch.err").open("w") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "monitor", "watch", cwd=str(tmp), env=env, stdout=out, stderr=err
        )
        t0 = time.perf_counter()
        samples: list[tuple[float, float, float]] = []
        loads: list[str] = []
        try:
            while time.perf_counter() - t0 < minutes * 60 and proc.returncode is None:
                await asyncio.sleep(5)
                try:
                    cur, peak = child_rss(proc.pid)
                except OSError:
                    break
                samples.append((time.perf_counter() - t0, cur, peak))
                if len(samples) % 12 == 0:
                    loads.append(load_avg())
        finally:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 30)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
            await runner.cleanup()
    events = sum(1 for ln in out_path.read_text().splitlines() if '"event": "trend"' in ln)
    per_minute = []
    for m in range(1, int(minutes) + 1):
        at = [s for s in samples if s[0] <= m * 60]
        if at:
            per_minute.append({"minute": m, "rss_mb": round(at[-1][1]), "peak_mb": round(at[-1][2])})
    return {
        "minutes": minutes,
        "per_poll": per_poll,
        "interval_s": interval,
        "trends_served": feed.next,
        "trend_events": events,
        "per_minute": per_minute,
        "peak_rss_mb": round(max((s[2] for s in samples), default=0)),
        "load_avg_per_minute": loads,
        "exit_code": proc.returncode,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--no-watch", action="store_true")
    parser.add_argument("--no-tui", action="store_true")
    args = parser.parse_args()
    result: dict[str, object] = {}
    if not args.no_tui:
        tui = tui_cold_start()
        result["tui"] = tui
        print(
            md_table(
                ["`onda tui` cold start (fresh process, headless run_test)", "seconds", "load avg"],
                [
                    ["imports done", f"{tui['imports_s']:.2f}", tui["load_avg"]],
                    ["service built (no model yet)", f"{tui['service_built_s']:.2f}", ""],
                    [
                        f"first screen ({tui.get('screen')}; model loaded then: {tui.get('model_loaded_at_first_screen')})",
                        f"{tui['first_screen_s']:.2f}",
                        "",
                    ],
                    ["model ready (worker)", f"{tui.get('model_ready_s', float('nan')):.2f}", ""],
                    ["first scored trend (TrendEvent)", f"{tui.get('first_trend_event_s', float('nan')):.2f}", ""],
                ],
            )
        )
        print()
    if not args.no_watch:
        w = asyncio.run(watch_rss(args.minutes, per_poll=30, interval=10.0))
        result["watch"] = w
        print(
            f"`onda watch` on a changing replay: {w['trends_served']} trends served, {w['trend_events']} trend events, "
            f"{args.minutes:g} min\n"
        )
        per_minute = w["per_minute"]
        assert isinstance(per_minute, list)
        loads = w["load_avg_per_minute"]
        assert isinstance(loads, list)
        print(
            md_table(
                ["minute", "VmRSS MB", "peak (VmHWM) MB", "load avg"],
                [
                    [p["minute"], p["rss_mb"], p["peak_mb"], loads[i] if i < len(loads) else ""]
                    for i, p in enumerate(per_minute)
                ],
            )
        )
    if args.no_watch:
        name = "cold_start_tui"
    else:
        name = "cold_start" if args.minutes >= 10 else f"cold_start_{args.minutes:g}min"
    path = write_result(name, result)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
