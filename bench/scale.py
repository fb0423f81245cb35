"""How scoring cost grows with brands and trends; the 50 brands × 5,000 trends "hour of replay".

    python bench/scale.py                    # grid 1/10/50 brands × 500/2000/5000 trends + the 50×5000 run
    python bench/scale.py --quick            # grid 1/10 brands × 500/2000 trends

Brands: 50 synthetic brands made from the three example brands (each keeps its base brand's
statements in a rotated order plus two statements borrowed from another base brand, and
gets its own name), so every brand has ~17-20 statements like a real DNA file.
Trends: distinct title + 3 headlines (bench/_common.py), scored through MultiBrandScorer
with the real risk gate, in chunks of 250 (what a busy poll round delivers).

Cost split, because embedding happens once per trend whatever the number of brands:
  embed   = SentenceTransformer encode of the trend texts (measured once per trend count)
  brands  = score_inputs with the texts already in the embedder cache: the per-brand matrix
            product, lexical/entity checks, risk per brand, verdict objects
CPU time is process CPU (user+sys, all threads); RSS from /proc/self/status.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, load_avg, md_table, trend_inputs, write_result

from brand_dna.dna import BrandDNA, load_brand

CHUNK = 250


def rss_mb() -> tuple[float, float]:
    """(current VmRSS, peak VmHWM) in MB."""
    cur = peak = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            cur = int(line.split()[1]) / 1024
        elif line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return cur, peak


def cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def make_brands(n: int) -> list[BrandDNA]:
    bases = [load_brand(REPO / "examples" / "brands" / f"{b}.toml") for b in ("lavazza", "oreo", "ducati")]
    out = []
    for i in range(n):
        base = bases[i % 3]
        other = bases[(i + 1) % 3]
        k = (i // 3) % max(1, len(base.dna))
        dna = base.dna[k:] + base.dna[:k] + other.dna[(i % 2) * 2 : (i % 2) * 2 + 2]
        out.append(dataclasses.replace(base, name=f"{base.name} #{i + 1}", dna=tuple(dna), path=None))
    return out


def build(brands: list[BrandDNA]):  # type: ignore[no-untyped-def]
    from brand_dna.embedder import SentenceEmbedder
    from monitor.compose import build_scorer
    from monitor.config import Settings

    embedder = SentenceEmbedder(threads=2, precision=Settings().model.precision)
    scorer = build_scorer(Settings(), brands, embedder)
    scorer.load()
    return scorer, embedder


def score_all(scorer, trends) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    for i in range(0, len(trends), CHUNK):
        scorer.score_inputs(trends[i : i + CHUNK])
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["ONDA_MODEL__CACHE_DIR"] = "/tmp/onda-bench-scale-cache"  # indexes: not the user's cache
    from monitor.risk import trend_text

    brand_counts = [1, 10] if args.quick else [1, 10, 50]
    trend_counts = [500, 2000] if args.quick else [500, 2000, 5000]
    all_brands = make_brands(max(brand_counts))

    # 1. The headline run, cold: 50 brands × 5,000 fresh trends, embedding included.
    headline: dict[str, object] = {}
    if not args.quick:
        rss0, _ = rss_mb()
        c0, w0 = cpu_s(), time.perf_counter()
        scorer, _ = build(all_brands)
        build_wall, build_cpu = time.perf_counter() - w0, cpu_s() - c0
        trends = trend_inputs(5000, seed=500)
        load = load_avg()
        c1 = cpu_s()
        wall = score_all(scorer, trends)
        cpu = cpu_s() - c1
        rss, peak = rss_mb()
        headline = {
            "brands": 50,
            "trends": 5000,
            "build_wall_s": round(build_wall, 1),
            "build_cpu_s": round(build_cpu, 1),
            "score_wall_s": round(wall, 1),
            "score_cpu_s": round(cpu, 1),
            "trends_per_s": round(5000 / wall, 1),
            "rss_start_mb": round(rss0),
            "rss_end_mb": round(rss),
            "peak_rss_mb": round(peak),
            "load_avg": load,
        }
        print(f"  headline: {headline}", file=sys.stderr)
        del scorer

    # 2. The grid: embed once per trend count, then per-brand cost with warm embedder cache.
    grid: list[dict[str, object]] = []
    embed_cost: dict[int, tuple[float, float]] = {}
    for nb in brand_counts:
        scorer, embedder = build(all_brands[:nb])
        for nt in trend_counts:
            trends = trend_inputs(nt, seed=1000 + nt)
            texts = [trend_text(t) for t in trends]
            if nt not in embed_cost:
                c0, w0 = cpu_s(), time.perf_counter()
                embedder._model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
                embed_cost[nt] = (time.perf_counter() - w0, cpu_s() - c0)
            embedder.encode(texts)  # warm the LRU so the next call measures the per-brand work only
            load = load_avg()
            c0 = cpu_s()
            wall = score_all(scorer, trends)
            cpu = cpu_s() - c0
            ew, ec = embed_cost[nt]
            grid.append(
                {
                    "brands": nb,
                    "trends": nt,
                    "embed_wall_s": round(ew, 2),
                    "embed_cpu_s": round(ec, 2),
                    "brand_wall_s": round(wall, 2),
                    "brand_cpu_s": round(cpu, 2),
                    "brand_ms_per_trend_brand": round(1000 * wall / (nt * nb), 3),
                    "total_wall_s": round(ew + wall, 2),
                    "rss_mb": round(rss_mb()[0]),
                    "load_avg": load,
                }
            )
            print(f"  {grid[-1]}", file=sys.stderr)
        del scorer, embedder

    if headline:
        print("50 brands × 5,000 fresh trends (cold, embedding included, chunks of 250):\n")
        print(
            md_table(
                [
                    "build (50 brand indexes)",
                    "score wall",
                    "score CPU",
                    "trends/s",
                    "RSS start → end (peak)",
                    "load avg",
                ],
                [
                    [
                        f"{headline['build_wall_s']} s",
                        f"{headline['score_wall_s']} s",
                        f"{headline['score_cpu_s']} s",
                        headline["trends_per_s"],
                        f"{headline['rss_start_mb']} → {headline['rss_end_mb']} MB ({headline['peak_rss_mb']})",
                        headline["load_avg"],
                    ]
                ],
            )
        )
        print()
    print("growth (embed measured once per trend count; brand work = score_inputs with warm embedder cache):\n")
    print(
        md_table(
            [
                "brands",
                "trends",
                "embed wall s",
                "brand work wall s",
                "ms per trend×brand",
                "total s",
                "RSS MB",
                "load avg",
            ],
            [
                [
                    g["brands"],
                    g["trends"],
                    g["embed_wall_s"],
                    g["brand_wall_s"],
                    g["brand_ms_per_trend_brand"],
                    g["total_wall_s"],
                    g["rss_mb"],
                    g["load_avg"],
                ]
                for g in grid
            ],
        )
    )
    path = write_result("scale", {"chunk": CHUNK, "headline": headline, "grid": grid})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
