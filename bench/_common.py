"""Shared helpers for the bench scripts: a synthetic trend corpus, machine facts, result files.

The corpus recombines the titles and headlines of the labelled sets (examples/fit, examples/risk)
so every generated trend text is DISTINCT: the embedder caches by text, and a benchmark that
re-encodes the same strings would only measure the cache.
"""

from __future__ import annotations

import json
import os
import platform
import random
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
PY = str(Path(sys.executable))

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def load_avg() -> str:
    """The 1/5/15-minute load averages, printed beside every number (the CPU is shared)."""
    a, b, c = os.getloadavg()
    return f"{a:.2f} {b:.2f} {c:.2f}"


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
    }
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        pass
    try:
        import sentence_transformers

        info["sentence_transformers"] = sentence_transformers.__version__
    except ImportError:
        pass
    return info


def git_rev() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return "?"


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {
        "bench": name,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": git_rev(),
        "machine": machine(),
        **data,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def md_table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(x) for x in row) + " |")
    return "\n".join(lines)


@dataclass(frozen=True)
class Pool:
    titles: list[tuple[str, str]]  # (title, lang)
    headlines: list[str]


def load_pool() -> Pool:
    titles: list[tuple[str, str]] = []
    headlines: list[str] = []
    files = sorted((REPO / "examples" / "fit").glob("*.jsonl")) + sorted((REPO / "examples" / "risk").glob("*.jsonl"))
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            row = row.get("trend", row) if isinstance(row.get("trend"), dict) else row
            title = row.get("title")
            if isinstance(title, str) and title.strip():
                titles.append((title, row.get("lang") or "en"))
            for h in row.get("context") or []:
                if isinstance(h, str) and h.strip():
                    headlines.append(h)
    return Pool(titles=titles, headlines=sorted(set(headlines)))


def make_trends(n: int, *, seed: int, headlines: int = 3, min_headline_chars: int = 50) -> list[dict[str, Any]]:
    """n distinct trend dicts (onda score input lines): a real title + `headlines` recombined headlines.

    Headlines shorter than `min_headline_chars` are skipped so a trend text is ~60-75 tokens,
    like a real trend with 3 news headlines. Different seeds give disjoint texts with
    overwhelming probability; a set guards it within one call.
    """
    full = load_pool()
    pool = Pool(full.titles, [h for h in full.headlines if len(h) >= min_headline_chars])
    rng = random.Random(seed)
    seen: set[tuple[str, ...]] = set()
    out: list[dict[str, Any]] = []
    while len(out) < n:
        title, lang = rng.choice(pool.titles)
        ctx = tuple(rng.sample(pool.headlines, headlines)) if headlines else ()
        key = (title, *ctx)
        if key in seen:
            continue
        seen.add(key)
        out.append({"id": f"b{seed}-{len(out)}", "title": title, "lang": lang, "context": list(ctx)})
    return out


def trend_inputs(n: int, *, seed: int) -> list[Any]:
    from monitor.models import TrendInput

    return [TrendInput.from_json(d) for d in make_trends(n, seed=seed)]


def fit_logistic(x: Any, y: Any, l2: float = 0.3, iters: int = 50) -> tuple[Any, float]:
    """Newton-Raphson logistic regression with an L2 penalty (not on the bias); numpy arrays in, (w, b) out."""
    import numpy as np

    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    reg = np.eye(xb.shape[1]) * l2
    reg[-1, -1] = 0.0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-np.clip(xb @ w, -30, 30)))
        grad = xb.T @ (p - y) + reg @ w
        hess = xb.T @ (xb * (p * (1 - p))[:, None]) + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w[:-1], float(w[-1])
