"""Fit the brand-fit calibration (logistic weights) on the labelled sets in examples/fit.

    python bench/calibrate.py            # report leave-one-brand-out numbers
    python bench/calibrate.py --write    # also write brand_dna/data/calibration.json

Each examples/fit/<brand>.jsonl pairs with examples/brands/<brand>.toml. Rows labelled
`risky` are left out (their fit is not the question). Reported for every held-out brand:
F1 of `fit` for Onda's combined score, for the raw cosine of the bare title (threshold tuned
on the other brands) and for keyword matching of DNA terms, overall and per language.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from brand_dna.dna import load_brand
from brand_dna.embedder import SentenceEmbedder
from monitor.models import TrendInput
from monitor.scoring import FEATURES, Calibration, MultiBrandScorer
from monitor.text import clean_text, content_lemmas, guess_lang


@dataclass
class BrandSet:
    name: str
    feats: np.ndarray  # (n, n_s, F)
    y: np.ndarray  # 1 = fit
    langs: list[str]
    title_cos: np.ndarray  # (n,) raw cosine of bare title to best statement
    keyword: np.ndarray  # (n,) 1 if a DNA content word appears in the title


def load_sets(embedder: SentenceEmbedder) -> list[BrandSet]:
    sets = []
    for labels in sorted((REPO / "examples" / "fit").glob("*.jsonl")):
        brand = load_brand(REPO / "examples" / "brands" / f"{labels.stem}.toml")
        rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()]
        rows = [r for r in rows if r["label"] in ("fit", "off_brand")]
        trends = [TrendInput.from_json(r) for r in rows]
        scorer = MultiBrandScorer([brand], embedder, calibration=Calibration.load())
        feats = scorer.features(brand.name, trends)
        titles = embedder.encode([clean_text(t.title) for t in trends])
        title_cos = (titles @ scorer.model(brand.name).matrix.T).max(axis=1)
        dna_words: set[str] = set()
        for _, s in brand.statements:
            dna_words |= content_lemmas(s, "en") | content_lemmas(s, "it")
        keyword = np.array(
            [float(bool(content_lemmas(t.title, t.lang or guess_lang(t.title, "en")) & dna_words)) for t in trends]
        )
        sets.append(
            BrandSet(
                brand.name,
                feats,
                np.array([r["label"] == "fit" for r in rows], dtype=float),
                [t.lang or guess_lang(t.title, "en") or "en" for t in trends],
                title_cos,
                keyword,
            )
        )
    return sets


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 0.3, iters: int = 50) -> tuple[np.ndarray, float]:
    """Newton-Raphson logistic regression with an L2 penalty (not on the bias)."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    reg = np.eye(xb.shape[1]) * l2
    reg[-1, -1] = 0.0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(xb @ w)))
        grad = xb.T @ (p - y) + reg @ w
        hess = xb.T @ (xb * (p * (1 - p))[:, None]) + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w[:-1], float(w[-1])


def train(sets: list[BrandSet], rounds: int = 5) -> tuple[np.ndarray, float]:
    """Multiple-instance fit: the best statement per trend is re-chosen under the current weights."""
    w = np.array([Calibration.load().weights[k] for k in FEATURES])
    b = Calibration.load().bias
    for _ in range(rounds):
        xs, ys = [], []
        for s in sets:
            logits = s.feats @ w + b
            best = logits.argmax(axis=1)
            xs.append(s.feats[np.arange(len(best)), best])
            ys.append(s.y)
        w, b = fit_logistic(np.vstack(xs), np.concatenate(ys))
    return w, b


def predict(s: BrandSet, w: np.ndarray, b: float) -> np.ndarray:
    logits = (s.feats @ w + b).max(axis=1)
    return 1 / (1 + np.exp(-logits))


def f1(y: np.ndarray, pred: np.ndarray) -> tuple[float, float, float]:
    tp = float(((pred == 1) & (y == 1)).sum())
    p = tp / max(1.0, float((pred == 1).sum()))
    r = tp / max(1.0, float((y == 1).sum()))
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def best_threshold(scores: np.ndarray, y: np.ndarray) -> float:
    candidates = np.unique(scores)
    return float(max(candidates, key=lambda t: f1(y, (scores >= t).astype(float))[2]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    parser.add_argument(
        "--precision", default="auto", choices=["auto", "fp32", "bf16", "int8"], help="[model] precision (default: as shipped)"
    )
    args = parser.parse_args()
    embedder = SentenceEmbedder(threads=2, precision=args.precision)
    print(f"model {embedder.model_id}")
    sets = load_sets(embedder)
    print(f"{'held-out brand':<16} {'lang':<4} {'n':>4} {'Onda P/R/F1':>18} {'raw cosine F1':>14} {'keyword F1':>11}")
    totals: dict[str, list[np.ndarray]] = {"y": [], "onda": [], "cos": [], "kw": [], "lang": []}
    for held in sets:
        others = [s for s in sets if s is not held]
        w, b = train(others)
        onda = (predict(held, w, b) >= 0.5).astype(float)
        thr = best_threshold(np.concatenate([s.title_cos for s in others]), np.concatenate([s.y for s in others]))
        cos = (held.title_cos >= thr).astype(float)
        for lang in ("all", "it", "en"):
            mask = np.ones(len(held.y), bool) if lang == "all" else np.array([x == lang for x in held.langs])
            if not mask.any():
                continue
            p, r, f = f1(held.y[mask], onda[mask])
            print(
                f"{held.name:<16} {lang:<4} {int(mask.sum()):>4} {p:>6.2f}/{r:.2f}/{f:.2f} "
                f"{f1(held.y[mask], cos[mask])[2]:>14.2f} {f1(held.y[mask], held.keyword[mask])[2]:>11.2f}"
            )
        totals["y"].append(held.y)
        totals["onda"].append(onda)
        totals["cos"].append(cos)
        totals["kw"].append(held.keyword)
        totals["lang"].append(np.array(held.langs))
    y = np.concatenate(totals["y"])
    langs = np.concatenate(totals["lang"])
    print("\nleave-one-brand-out, pooled:")
    for lang in ("all", "it", "en"):
        mask = np.ones(len(y), bool) if lang == "all" else langs == lang
        row = [f1(y[mask], np.concatenate(totals[k])[mask]) for k in ("onda", "cos", "kw")]
        print(
            f"  {lang:<4} n={int(mask.sum()):>4}  Onda P {row[0][0]:.2f} R {row[0][1]:.2f} F1 {row[0][2]:.2f}"
            f"   raw cosine F1 {row[1][2]:.2f}   keyword F1 {row[2][2]:.2f}"
        )
    w, b = train(sets)
    print("\nweights on all brands:", {k: round(float(v), 3) for k, v in zip(FEATURES, w, strict=True)}, "bias", round(b, 3))
    if args.write:
        out = {
            "weights": {k: round(float(v), 4) for k, v in zip(FEATURES, w, strict=True)},
            "bias": round(b, 4),
            "threshold": 0.5,
            "source": f"bench/calibrate.py on examples/fit ({', '.join(s.name for s in sets)}), "
            f"{datetime.now(UTC).date().isoformat()}, model {embedder.model_id}",
        }
        path = REPO / "brand_dna" / "data" / "calibration.json"
        path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
