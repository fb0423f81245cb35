"""Onda's verdicts vs plain keyword alerts on the labelled sets (examples/fit + examples/brands).

    python bench/keyword_baseline.py

The keyword baseline is what keyword-alert tools do: any DNA content word (spaCy lookup lemma,
IT+EN, stop words dropped) or entity (brand `entities` + capitalised names found in the DNA)
in the trend TITLE → alert. A second keyword row also searches the context headlines.
Both are compared with Onda's verdicts from the real scorer (monitor.compose.build_scorer,
real risk gate). All three labels are kept: precision/recall of `fit`, and the false-go count
= trends labelled `risky` that were said `fit` (an alert that would have told a brand to
ride a tragedy).

Caveat printed with the table: the fit weights in brand_dna/data/calibration.json were fitted
on these same sets, so Onda's row is in-sample for the 5 weights; bench/calibrate.py gives the
leave-one-brand-out numbers.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, load_avg, md_table, write_result

from brand_dna.dna import BrandDNA, load_brand
from monitor.models import TrendInput
from monitor.scoring import extract_entities
from monitor.text import content_lemmas, guess_lang


def keyword_alert(brand: BrandDNA, words: set[str], entities: list[re.Pattern[str]], text: str, lang: str) -> bool:
    if content_lemmas(text, lang) & words:
        return True
    return any(p.search(text) for p in entities)


def dna_terms(brand: BrandDNA) -> tuple[set[str], list[re.Pattern[str]]]:
    words: set[str] = set()
    for _, s in brand.statements:
        words |= content_lemmas(s, "en") | content_lemmas(s, "it")
    names = sorted(set(brand.entities) | set(extract_entities(brand)) | {brand.name})
    pats = [re.compile(r"(?<!\w)" + re.escape(n) + r"(?!\w)", re.IGNORECASE) for n in names if n.strip()]
    return words, pats


def stats(labels: list[str], said_fit: list[bool]) -> dict[str, float]:
    tp = sum(1 for lab, s in zip(labels, said_fit, strict=True) if s and lab == "fit")
    alerts = sum(said_fit)
    fits = sum(1 for lab in labels if lab == "fit")
    p = tp / alerts if alerts else 0.0
    r = tp / fits if fits else 0.0
    return {
        "alerts": alerts,
        "precision": round(p, 3),
        "recall": round(r, 3),
        "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0,
        "false_go": sum(1 for lab, s in zip(labels, said_fit, strict=True) if s and lab == "risky"),
    }


def main() -> int:
    from monitor.compose import build_scorer
    from monitor.config import Settings

    settings = Settings()
    per_brand: dict[str, dict[str, dict[str, float]]] = {}
    all_labels: list[str] = []
    pooled: dict[str, list[bool]] = {"onda": [], "kw_title": [], "kw_context": []}
    load = load_avg()
    for labels_path in sorted((REPO / "examples" / "fit").glob("*.jsonl")):
        brand = load_brand(REPO / "examples" / "brands" / f"{labels_path.stem}.toml")
        rows = [json.loads(x) for x in labels_path.read_text(encoding="utf-8").splitlines() if x.strip()]
        trends = [TrendInput.from_json(r) for r in rows]
        labels = [r["label"] for r in rows]
        scorer = build_scorer(settings, [brand])
        onda = [v[brand.name].verdict == "fit" for v in scorer.score_inputs(trends)]
        words, pats = dna_terms(brand)
        kw_t, kw_c = [], []
        for t in trends:
            lang = t.lang or guess_lang(t.title, "en") or "en"
            kw_t.append(keyword_alert(brand, words, pats, t.title, lang))
            kw_c.append(keyword_alert(brand, words, pats, " . ".join([t.title, *t.context]), lang))
        per_brand[brand.name] = {
            "onda": stats(labels, onda),
            "kw_title": stats(labels, kw_t),
            "kw_context": stats(labels, kw_c),
            "n": len(labels),  # type: ignore[dict-item]
            "risky": labels.count("risky"),  # type: ignore[dict-item]
        }
        all_labels += labels
        pooled["onda"] += onda
        pooled["kw_title"] += kw_t
        pooled["kw_context"] += kw_c
    pooled_stats = {k: stats(all_labels, v) for k, v in pooled.items()}
    names = {"onda": "Onda verdict = fit", "kw_title": "keyword in title", "kw_context": "keyword in title+headlines"}
    rows = []
    for brand, d in [*per_brand.items(), ("ALL", pooled_stats)]:
        for k in ("onda", "kw_title", "kw_context"):
            s = d[k]
            rows.append(
                [
                    brand,
                    names[k],
                    s["alerts"],
                    f"{s['precision']:.2f}",
                    f"{s['recall']:.2f}",
                    f"{s['f1']:.2f}",
                    s["false_go"],
                ]
            )
    n_fit = all_labels.count("fit")
    n_risky = all_labels.count("risky")
    print(
        f"labelled trends: {len(all_labels)} ({n_fit} fit, {all_labels.count('off_brand')} off_brand, {n_risky} risky)"
    )
    print(md_table(["brand", "method", "alerts", "P(fit)", "R(fit)", "F1", "false go (risky→fit)"], rows))
    print(
        "\nOnda's row is in-sample for the 5 calibrated weights (fitted on these sets); "
        "bench/calibrate.py gives leave-one-brand-out F1."
    )
    print(f"load avg {load}")
    path = write_result(
        "keyword_baseline",
        {
            "labels": {"n": len(all_labels), "fit": n_fit, "risky": n_risky},
            "per_brand": per_brand,
            "pooled": pooled_stats,
            "load_avg": load,
        },
    )
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
