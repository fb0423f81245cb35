"""Fit the brand-fit calibration (logistic weights) of one embedding model on the training brands.

    python bench/calibrate.py                      # corpus: fit on the train brands, report held-out brands
    python bench/calibrate.py --write              # also write the model's `fit` profile (calibration.json)
    python bench/calibrate.py --set examples/fit   # the old curated sets, leave-one-brand-out
    python bench/calibrate.py --backend sentence-transformers [--model NAME]

The corpus (examples/corpus) is split by brand in examples/corpus/split.toml: weights and the
decision threshold are fitted on the `train` brands only and every reported number is on the
`held_out` brands. The threshold is read off the pooled leave-one-brand-out scores of the train
brands: where some threshold keeps them inside the quality bar (`--bar`, issue 11's fit precision
≥ 0.75 and recall ≥ 0.65), the one furthest inside it (the largest smaller margin); otherwise the
best F1 (`--bar none`, the rule before stop 22).
Rows labelled `risky` are left out (their fit is not the question). Reported: F1 of `fit` for
Onda's combined score, for the raw cosine of the bare title (threshold tuned on the train brands)
and for keyword matching of DNA terms, per brand and pooled, per language.
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
from brand_dna.embedder import Embedder, make_embedder
from monitor.models import TrendInput
from monitor.scoring import FEATURES, Calibration, MultiBrandScorer
from monitor.text import clean_text, content_lemmas, guess_lang

sys.path.insert(0, str(REPO / "bench"))
from _common import fit_logistic


@dataclass
class BrandSet:
    name: str
    feats: np.ndarray  # (n, n_s, F)
    y: np.ndarray  # 1 = fit
    langs: list[str]
    title_cos: np.ndarray  # (n,) raw cosine of bare title to best statement
    keyword: np.ndarray  # (n,) 1 if a DNA content word appears in the title


def pairs(directory: Path) -> list[tuple[Path, Path]]:
    """(labels, brand file) pairs: examples/fit + examples/brands, or <corpus>/trends + <corpus>/brands."""
    if (directory / "trends").is_dir():
        return [(lab, directory / "brands" / f"{lab.stem}.toml") for lab in sorted((directory / "trends").glob("*.jsonl"))]
    return [(lab, directory.parent / "brands" / f"{lab.stem}.toml") for lab in sorted(directory.glob("*.jsonl"))]


def load_sets(embedder: Embedder, directory: Path) -> list[BrandSet]:
    sets = []
    for labels, brand_file in pairs(directory):
        brand = load_brand(brand_file)
        rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()]
        rows = [r for r in rows if r["label"] in ("fit", "off_brand")]
        trends = [TrendInput.from_json(r) for r in rows]
        scorer = MultiBrandScorer([brand], embedder, calibration=Calibration.load(embedder.model_id))
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
                labels.stem,
                feats,
                np.array([r["label"] == "fit" for r in rows], dtype=float),
                [t.lang or guess_lang(t.title, "en") or "en" for t in trends],
                title_cos,
                keyword,
            )
        )
    return sets


START = Calibration(weights={"sem": 0.5, "ent": 2.0, "kw": 1.0, "cos": 2.0, "kcos": 2.0}, bias=-4.0)


def train(sets: list[BrandSet], rounds: int = 5) -> tuple[np.ndarray, float]:
    """Multiple-instance fit: the best statement per trend is re-chosen under the current weights."""
    w = np.array([START.weights[k] for k in FEATURES])
    b = START.bias
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


def bar_threshold(scores: np.ndarray, y: np.ndarray, bar: tuple[float, float] | None) -> float:
    """The threshold furthest inside the bar (precision, recall): the largest min(P - p, R - r) >= 0.

    Train F1 is flat over a wide range of thresholds; inside it, this is the one that keeps the most
    room on both sides of the bar the judgement is held to. No threshold inside the bar: the best F1.
    """
    if bar is None:
        return best_threshold(scores, y)
    p_min, r_min = bar
    inside = []
    for t in np.unique(scores):
        p, r, _ = f1(y, (scores >= t).astype(float))
        margin = min(p - p_min, r - r_min)
        if margin >= 0:
            inside.append((margin, float(t)))
    return max(inside)[1] if inside else best_threshold(scores, y)


def parse_bar(value: str) -> tuple[float, float] | None:
    """`--bar`: "P,R" (two numbers in [0, 1]) or "none"."""
    if value == "none":
        return None
    parts = value.split(",")
    try:
        p, r = (float(x) for x in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'P,R' such as 0.75,0.65, or none; got {value!r}") from None
    if not (0 <= p <= 1 and 0 <= r <= 1):
        raise argparse.ArgumentTypeError(f"precision and recall are between 0 and 1; got {value!r}")
    return p, r


def report(title: str, rows: list[tuple[BrandSet, np.ndarray, np.ndarray]]) -> None:
    """rows: (brand set, Onda prediction, raw-cosine prediction) per evaluated brand."""
    print(f"\n{title}")
    print(f"{'brand':<18} {'lang':<4} {'n':>4} {'fit':>4} {'Onda P/R/F1':>18} {'raw cosine F1':>14} {'keyword F1':>11}")
    for s, onda, cos in rows:
        for lang in ("all", "it", "en"):
            mask = np.ones(len(s.y), bool) if lang == "all" else np.array([x == lang for x in s.langs])
            if not mask.any():
                continue
            p, r, f = f1(s.y[mask], onda[mask])
            print(
                f"{s.name:<18} {lang:<4} {int(mask.sum()):>4} {int(s.y[mask].sum()):>4} {p:>6.2f}/{r:.2f}/{f:.2f} "
                f"{f1(s.y[mask], cos[mask])[2]:>14.2f} {f1(s.y[mask], s.keyword[mask])[2]:>11.2f}"
            )
    y = np.concatenate([s.y for s, _, _ in rows])
    langs = np.concatenate([np.array(s.langs) for s, _, _ in rows])
    preds = {
        "onda": np.concatenate([o for _, o, _ in rows]),
        "cos": np.concatenate([c for _, _, c in rows]),
        "kw": np.concatenate([s.keyword for s, _, _ in rows]),
    }
    print("pooled:")
    for lang in ("all", "it", "en"):
        mask = np.ones(len(y), bool) if lang == "all" else langs == lang
        row = [f1(y[mask], preds[k][mask]) for k in ("onda", "cos", "kw")]
        print(
            f"  {lang:<4} n={int(mask.sum()):>4}  Onda P {row[0][0]:.2f} R {row[0][1]:.2f} F1 {row[0][2]:.2f}"
            f"   raw cosine F1 {row[1][2]:.2f}   keyword F1 {row[2][2]:.2f}"
        )


def main() -> int:
    import tomllib

    from monitor.profiles import profile_key

    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="write the model's fit profile into calibration.json")
    parser.add_argument("--set", default=str(REPO / "examples" / "corpus"), help="corpus dir or examples/fit")
    parser.add_argument("--backend", default="use-multilingual", choices=["use-multilingual", "sentence-transformers"])
    parser.add_argument("--model", default="", help="sentence-transformers model name or path")
    parser.add_argument(
        "--bar",
        type=parse_bar,
        default=(0.75, 0.65),
        help="'P,R': the threshold furthest inside this fit precision and recall on the train brands; 'none': best F1",
    )
    parser.add_argument(
        "--precision", default="auto", choices=["auto", "fp32", "bf16", "int8"], help="[model] precision (default: as shipped)"
    )
    args = parser.parse_args()
    embedder = make_embedder(args.backend, args.model, threads=2, precision=args.precision)
    directory = Path(args.set)
    print(f"model {embedder.model_id}, labelled sets {directory}")
    sets = load_sets(embedder, directory)
    split_file = directory / "split.toml"
    if split_file.exists():
        split = tomllib.loads(split_file.read_text("utf-8"))
        train_sets = [s for s in sets if s.name in split["train"]]
        held_sets = [s for s in sets if s.name in split["held_out"]]
    else:  # the old curated sets: every brand is held out once
        train_sets, held_sets = sets, []
    # Leave-one-brand-out inside the training brands: honest numbers to choose the threshold on.
    lobo: list[tuple[BrandSet, np.ndarray]] = []
    for held in train_sets:
        w, b = train([s for s in train_sets if s is not held])
        lobo.append((held, predict(held, w, b)))
    y_lobo = np.concatenate([s.y for s, _ in lobo])
    p_lobo = np.concatenate([p for _, p in lobo])
    threshold = 0.5 if not held_sets else min(0.9, max(0.1, bar_threshold(p_lobo, y_lobo, args.bar)))
    bar_p, bar_r, _ = f1(y_lobo, (p_lobo >= threshold).astype(float))
    rule = (
        f"furthest inside the bar P >= {args.bar[0]}, R >= {args.bar[1]}"
        if args.bar is not None and bar_p >= args.bar[0] and bar_r >= args.bar[1]
        else "best F1" + (" (no threshold is inside the bar)" if args.bar is not None else "")
    )
    print(f"threshold {threshold:.4f}: {rule}")
    cos_thr = best_threshold(np.concatenate([s.title_cos for s in train_sets]), np.concatenate([s.y for s in train_sets]))
    report(
        f"train brands, leave-one-brand-out (threshold {threshold:.2f})",
        [(s, (p >= threshold).astype(float), (s.title_cos >= cos_thr).astype(float)) for s, p in lobo],
    )
    w, b = train(train_sets)
    if held_sets:
        report(
            "HELD-OUT brands (weights and thresholds from the train brands only)",
            [(s, (predict(s, w, b) >= threshold).astype(float), (s.title_cos >= cos_thr).astype(float)) for s in held_sets],
        )
    print("\nweights on the train brands:", {k: round(float(v), 3) for k, v in zip(FEATURES, w, strict=True)}, "bias", round(b, 3))
    if args.write:
        path = REPO / "brand_dna" / "data" / "calibration.json"
        data = json.loads(path.read_text("utf-8"))
        key = profile_key(embedder.model_id)
        profile = data["profiles"].setdefault(key, {})
        profile["fit"] = {
            "weights": {k: round(float(v), 4) for k, v in zip(FEATURES, w, strict=True)},
            "bias": round(b, 4),
            "threshold": round(threshold, 4),
            "source": f"bench/calibrate.py on {directory.relative_to(REPO) if directory.is_relative_to(REPO) else directory}"
            f" train brands ({', '.join(s.name for s in train_sets)}), {datetime.now(UTC).date().isoformat()},"
            f" model {embedder.model_id}",
        }
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote profile {key!r} fit into {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
