"""Train the risk classifier layer (monitor/risk/classifier.py) for one embedding model.

    python bench/train_risk.py            # report leave-one-brand-out numbers on the train brands
    python bench/train_risk.py --write    # also store the head in monitor/risk/data/risk_classifier.json

Training titles: the corpus's TRAIN brands (examples/corpus/split.toml) plus the curated sets
(the calibration half of examples/risk/cases.jsonl, examples/fit/*.jsonl), the GARM prototype headlines
(monitor/risk/data/prototypes.toml, categories that may reach `high`, and the safe examples) and the
brand-free titles of examples/risk/titles (labelled by helpers who never saw the held-out brands).
Held-out corpus brands are never read here. One L2-regularised logistic regression per risk
category, positives = that category, negatives = everything labelled safe (fit / off_brand),
over the title's embedding plus one indicator per title word (`title_words`) seen in at least
--min-count training titles (each worth --word-value, the scale the L2 penalty sees).
The thresholds come from leave-one-brand-out scores of the train brands: `high` is the lowest
probability at which at most --high-fp of their safe titles are flagged (`HIGH_FP`), `medium` at most --medium-fp.
A left-out brand's stories are also left out of its training (titles at cosine >= --decontam of
one of its titles, or whose content words contain or are contained in one of its titles'): the
same story told under two brands made leave-one-brand-out look better than a new brand would see.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from brand_dna.embedder import make_embedder
from monitor.models import TrendInput
from monitor.profiles import profile_key
from monitor.risk import embedding_text
from monitor.risk.classifier import DATA_FILE, ClassifierHead, WordSet, title_words

sys.path.insert(0, str(REPO / "bench"))
from _common import fit_logistic

CATEGORIES = ("tragedy", "polarizing", "misinformation")
# How many safe train titles the classifier may stop at `high`: the largest share at which the whole
# verdicts on the train brands (leave-one-brand-out, stories removed) keep fit recall >= 0.65 in Italian
# and in English (issue 11's bar). Multilingual USE, shares 5-10 %: fit recall 0.68 / 0.67 / 0.66 /
# 0.655 / 0.646 / 0.638 and risky recall 0.79 / 0.82 / 0.84 / 0.845 / 0.845 / 0.858 -> 8 %. MiniLM's
# Italian fit recall is under 0.65 even without a classifier (0.63): it keeps the earlier 6 %.
HIGH_FP = {"use-multilingual": 0.08, "sentence-transformers": 0.06}


def rows_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def label_of(row: dict) -> str:
    if row.get("label") == "risky":
        return str(row.get("category") or "")
    return "safe"


def train(x: np.ndarray, labels: list[str], l2: float) -> tuple[np.ndarray, np.ndarray]:
    ws, bs = [], []
    lab = np.array(labels)
    for cat in CATEGORIES:
        keep = (lab == cat) | (lab == "safe")
        w, b = fit_logistic(x[keep], (lab[keep] == cat).astype(float), l2, iters=30)
        ws.append(w)
        bs.append(b)
    return np.array(ws, dtype=np.float32), np.array(bs, dtype=np.float32)


def vocabulary(word_sets: list[WordSet], min_count: int) -> tuple[str, ...]:
    """Title words seen in at least `min_count` of the training titles."""
    counts = Counter(w for ws in word_sets for w in ws)
    return tuple(sorted(w for w, n in counts.items() if n >= min_count))


def word_matrix(word_sets: list[WordSet], words: tuple[str, ...], value: float) -> np.ndarray:
    index = {w: j for j, w in enumerate(words)}
    out = np.zeros((len(word_sets), len(words)), dtype=np.float32)
    for i, ws in enumerate(word_sets):
        for w in ws:
            if w in index:
                out[i, index[w]] = value
    return out


def fit_head(
    x: np.ndarray, word_sets: list[WordSet], labels: list[str], args: argparse.Namespace
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], np.ndarray | None]:
    """(vector weights, bias, words, word weights per word present) trained on these titles."""
    words = vocabulary(word_sets, args.min_count) if args.word_value > 0 else ()
    if not words:
        w, b = train(x, labels, args.l2)
        return w, b, (), None
    w, b = train(np.hstack([x, word_matrix(word_sets, words, args.word_value)]), labels, args.l2)
    dim = x.shape[1]
    return w[:, :dim], b, words, (w[:, dim:] * args.word_value).astype(np.float32)


def same_story(x_train: np.ndarray, w_train: list[WordSet], x_held: np.ndarray, w_held: list[WordSet], cosine: float) -> np.ndarray:
    """Mask of training titles that tell one of the held titles' stories (see the module docstring)."""
    if len(x_held) == 0:
        return np.zeros(len(x_train), dtype=bool)
    mask = (x_train @ x_held.T).max(axis=1) >= cosine
    held = [ws for ws in w_held if len(ws) >= 2]
    for i, ws in enumerate(w_train):
        if not mask[i] and len(ws) >= 2 and any(ws <= h or h <= ws for h in held):
            mask[i] = True
    return np.asarray(mask)


def threshold_for(safe_scores: np.ndarray, max_fp: float) -> float:
    """Lowest probability that flags at most `max_fp` of the safe titles."""
    if len(safe_scores) == 0:
        return 0.5
    k = int(np.floor(max_fp * len(safe_scores)))
    ordered = np.sort(safe_scores)[::-1]
    return float(min(0.99, ordered[k] + 1e-4)) if k < len(ordered) else 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--backend", default="use-multilingual", choices=["use-multilingual", "sentence-transformers"])
    parser.add_argument("--model", default="")
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--min-count", type=int, default=3, help="a title word needs this many training titles to get a weight")
    parser.add_argument("--word-value", type=float, default=1.0, help="scale of a title word's indicator (0: vectors only)")
    parser.add_argument("--decontam", type=float, default=0.75, help="cosine at which a title is the left-out brand's story")
    parser.add_argument(
        "--high-fp", type=float, default=None, help="share of safe train titles allowed at high (default: per backend, HIGH_FP)"
    )
    parser.add_argument("--medium-fp", type=float, default=0.15, help="share of safe train titles allowed at medium")
    parser.add_argument("--no-titles", action="store_true", help="leave out the independent risk titles (examples/risk/titles)")
    args = parser.parse_args()
    if args.high_fp is None:
        args.high_fp = HIGH_FP[args.backend]
    embedder = make_embedder(args.backend, args.model, threads=2)
    corpus = REPO / "examples" / "corpus"
    split = tomllib.loads((corpus / "split.toml").read_text("utf-8"))
    brand_rows = {slug: rows_of(corpus / "trends" / f"{slug}.jsonl") for slug in split["train"]}
    # The curated risk cases keep their own held-out half (ids ending in an odd digit) as a second check.
    extra = [r for r in rows_of(REPO / "examples" / "risk" / "cases.jsonl") if r["id"][-1].isdigit() and int(r["id"][-1]) % 2 == 0]
    for path in sorted((REPO / "examples" / "fit").glob("*.jsonl")):
        extra += rows_of(path)
    protos = tomllib.loads((REPO / "monitor" / "risk" / "data" / "prototypes.toml").read_text("utf-8"))
    for cat in protos["category"]:
        if cat.get("max_level", "high") == "high":
            extra += [{"title": e, "label": "risky", "category": cat["risk"]} for e in cat["examples"]]
    extra += [{"title": e, "label": "safe"} for e in protos["safe"]["examples"]]
    if not args.no_titles:
        # Brand-free titles labelled by helpers that never saw the corpus's held-out brands (examples/risk/titles).
        for path in sorted((REPO / "examples" / "risk" / "titles").glob("*.jsonl")):
            extra += rows_of(path)

    def texts(rows: list[dict]) -> list[str]:
        return [embedding_text(TrendInput.from_json({"id": "x", **{k: v for k, v in r.items() if k in ("title", "context")}})) for r in rows]

    def read(rows: list[dict]) -> tuple[np.ndarray, list[WordSet]]:
        """The rows' vectors and title words, both of the text the gate embeds."""
        embedded = texts(rows)
        words = [title_words(t, r.get("lang")) for t, r in zip(embedded, rows, strict=True)]
        return np.asarray(embedder.encode(embedded), dtype=np.float32), words

    (x_extra, w_extra), y_extra = read(extra), [label_of(r) for r in extra]
    read_brand = {slug: read(rows) for slug, rows in brand_rows.items()}
    x_brand = {slug: x for slug, (x, _) in read_brand.items()}
    w_brand = {slug: w for slug, (_, w) in read_brand.items()}
    y_brand = {slug: [label_of(r) for r in rows] for slug, rows in brand_rows.items()}
    print(f"model {embedder.model_id}; {len(extra)} curated titles + {sum(len(v) for v in y_brand.values())} corpus train titles")

    # Leave one train brand out: its titles scored by a head trained on everything else but its stories.
    scores, labels, langs = [], [], []
    removed = 0
    for held in split["train"]:
        others = [s for s in split["train"] if s != held]
        x = np.vstack([x_extra, *[x_brand[s] for s in others]])
        y = y_extra + [lab for s in others for lab in y_brand[s]]
        ws = w_extra + [w for s in others for w in w_brand[s]]
        keep = np.flatnonzero(~same_story(x, ws, x_brand[held], w_brand[held], args.decontam))
        removed += len(y) - len(keep)
        w, b, words, word_w = fit_head(x[keep], [ws[i] for i in keep], [y[i] for i in keep], args)
        head = ClassifierHead(CATEGORIES, w, b, 1.0, 1.0, words=words, word_weights=word_w)
        scores.append(head.probabilities(x_brand[held], w_brand[held]))
        labels += y_brand[held]
        langs += [r.get("lang", "") for r in brand_rows[held]]
    print(f"left out as the same story as the held brand: {removed} training titles over {len(split['train'])} folds")
    p_all = np.vstack(scores)
    best = p_all.max(axis=1)
    lab = np.array(labels)
    safe = lab == "safe"
    high = threshold_for(best[safe], args.high_fp)
    medium = min(high, threshold_for(best[safe], args.medium_fp))
    print(f"thresholds from LOBO: high {high:.3f}, medium {medium:.3f}")
    for lang in ("it", "en", "all"):
        m = np.ones(len(lab), bool) if lang == "all" else np.array([x == lang for x in langs])
        for cat in (*CATEGORIES, "safe"):
            sel = m & (lab == cat)
            if sel.any():
                print(f"  {lang:<4}{cat:<15} n={int(sel.sum()):>4}  high {float((best[sel] >= high).mean()):.2f}  medium+ {float((best[sel] >= medium).mean()):.2f}")
    if args.write:
        x = np.vstack([x_extra, *x_brand.values()])
        y = y_extra + [lab2 for s in split["train"] for lab2 in y_brand[s]]
        w, b, words, word_w = fit_head(x, w_extra + [w2 for s in split["train"] for w2 in w_brand[s]], y, args)
        head = ClassifierHead(
            CATEGORIES,
            w,
            b,
            high,
            medium,
            source=f"bench/train_risk.py, l2 {args.l2}, {len(words)} title words (min count {args.min_count}, value "
            f"{args.word_value}), corpus train brands + curated sets + brand-free titles, "
            f"{datetime.now(UTC).date().isoformat()}, model {embedder.model_id}",
            words=words,
            word_weights=word_w,
        )
        data = json.loads(DATA_FILE.read_text("utf-8")) if DATA_FILE.exists() else {}
        data[profile_key(embedder.model_id)] = head.to_json()
        DATA_FILE.write_text(json.dumps(data) + "\n", encoding="utf-8")
        print(f"wrote {DATA_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
