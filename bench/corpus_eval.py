"""Whole verdicts (fit + risk gate + stored fact-checks) on the realistic corpus, by split and language.

    python bench/corpus_eval.py                  # default backend, debunks imported
    python bench/corpus_eval.py --no-factchecks  # what the gate catches without any debunk
    python bench/corpus_eval.py --errors held_out

The fact-check files in examples/corpus/factchecks are imported into a temporary store exactly as
`onda data import-factchecks` does, and each trend is judged on its own `date` (a debunk counts when
published up to `[factchecks] lag_days` after it; --lag-days 0 judges with what was out that day). Reported per split
(train / held_out, examples/corpus/split.toml) and language: fit precision and recall, risky recall
for tragedy + polarizing, misinformation recall, false go (a risky-labelled trend called `fit`),
misinformation recall again 10 days later (what the watcher's re-scoring catches once the debunk is
out), how often a non-risky trend is turned risky by a fact-check (the decoys share only a name), and
the share of fit-labelled trends shown with a `medium` caution.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import tomllib
from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from brand_dna.dna import load_brand
from monitor.compose import build_embedder, build_risk_gate, build_scorer
from monitor.config import Settings
from monitor.explain import verdict_why
from monitor.models import TrendInput
from monitor.risk.claimreview import parse_claimreview
from monitor.storage import Storage


def ratio(num: int, den: int) -> str:
    return f"{num / den:.2f} ({num}/{den})" if den else "  -  "


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default=str(REPO / "examples" / "corpus"))
    parser.add_argument("--no-factchecks", action="store_true")
    parser.add_argument("--errors", choices=["train", "held_out"], default=None, help="list the misjudged lines")
    parser.add_argument("--lag-days", type=int, default=None, help="[factchecks] lag_days (default: the shipped 7)")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    split = tomllib.loads((corpus / "split.toml").read_text("utf-8"))
    tmp = Path(tempfile.mkdtemp(prefix="onda-corpus-"))
    settings = Settings(
        storage={"path": str(tmp / "onda.db")},
        model={"cache_dir": str(tmp / "cache")},
        risk={"credibility_dir": str(tmp / "cred")},
        factchecks={} if args.lag_days is None else {"lag_days": args.lag_days},
    )
    storage = Storage(tmp / "onda.db")
    if not args.no_factchecks:
        for f in sorted((corpus / "factchecks").glob("*.json*")):
            result = parse_claimreview(f.read_text("utf-8"))
            storage.save_factchecks(result.debunks, f"import:{f.name}", result.withdrawn)
    print(f"fact-checks stored: {storage.count_factchecks()}")
    embedder = build_embedder(settings)
    gate = build_risk_gate(settings, embedder, storage.load_factchecks())  # brand-independent: built once
    stats: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    errors: list[str] = []
    model_id = ""
    for part in ("train", "held_out"):
        for slug in split[part]:
            brand = load_brand(corpus / "brands" / f"{slug}.toml")
            rows = [json.loads(ln) for ln in (corpus / "trends" / f"{slug}.jsonl").read_text("utf-8").splitlines() if ln.strip()]
            scorer = build_scorer(settings, [brand], embedder, gate)
            model_id = scorer.embedder.model_id
            inputs = [TrendInput.from_json(r) for r in rows]
            verdicts = [v[brand.name] for v in scorer.score_inputs(inputs)]
            # The watcher re-scores recent trends when a debunk arrives: the same hoaxes judged 10 days on.
            later_idx = [i for i, r in enumerate(rows) if r.get("category") == "misinformation" and inputs[i].date]
            later_inputs = [replace(inputs[i], date=inputs[i].date + timedelta(days=10)) for i in later_idx]  # type: ignore[operator]
            later = dict(zip(later_idx, (v[brand.name] for v in scorer.score_inputs(later_inputs)), strict=True))
            for k, (r, v) in enumerate(zip(rows, verdicts, strict=True)):
                for lang in (r["lang"], "all"):
                    s = stats[(part, lang)]
                    label, got = r["label"], v.verdict
                    s["n"] += 1
                    s[f"label_{label}"] += 1
                    s[f"got_{got}"] += 1
                    if label == "fit" and got == "fit":
                        s["tp_fit"] += 1
                    if label == "risky":
                        cat = r.get("category") or "?"
                        key = "misinfo" if cat == "misinformation" else "tp"
                        s[f"{key}_n"] += 1
                        s[f"{key}_hit"] += got == "risky"
                        if k in later:
                            s["misinfo_later"] += later[k].verdict == "risky"
                        s["false_go"] += got == "fit"
                    if label != "risky" and any(f.layer == "factcheck" for f in v.risk.flags):
                        s["fc_false"] += 1
                    if label == "fit":
                        s["fit_medium"] += v.risk.level == "medium"
                if args.errors == part and v.verdict != r["label"]:
                    errors.append(
                        f"{r['id']:<24} {r['lang']} label={r['label']:<9} got={v.verdict:<9} fit={v.fit:.2f} "
                        f"{r['title'][:60]!r} | {verdict_why(v)[:110]}"
                    )
    storage.close()
    print(f"model {model_id}; fact-checks {'none' if args.no_factchecks else 'imported'}")
    head = f"{'split':<9}{'lang':<5}{'n':>5}  {'fit P':<16}{'fit R':<16}{'risky R (trag+pol)':<20}{'misinfo R':<16}{'misinfo R +10 d':<17}{'false go':<16}{'fc on non-risky':<16}{'fit w/ medium'}"
    print(head)
    for part in ("train", "held_out"):
        for lang in ("it", "en", "all"):
            s = stats[(part, lang)]
            print(
                f"{part:<9}{lang:<5}{s['n']:>5}  {ratio(s['tp_fit'], s['got_fit']):<16}{ratio(s['tp_fit'], s['label_fit']):<16}"
                f"{ratio(s['tp_hit'], s['tp_n']):<20}{ratio(s['misinfo_hit'], s['misinfo_n']):<16}"
                f"{ratio(s['misinfo_later'], s['misinfo_n']):<17}"
                f"{ratio(s['false_go'], s['label_risky']):<16}{ratio(s['fc_false'], s['label_fit'] + s['label_off_brand']):<16}"
                f"{ratio(s['fit_medium'], s['label_fit'])}"
            )
    for line in errors:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
