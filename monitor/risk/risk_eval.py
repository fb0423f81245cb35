"""Measure the risk gate on a labelled JSONL set (examples/risk/cases.jsonl).

`risky` is predicted when the brand-independent assessment is level "high" (what makes the scorer
say `risky`). Each case is judged on its own `date` (the calendar layer needs it). Reported per
language and per split: calibration = ids ending in an even digit, held-out = the rest.

    python -m monitor.risk.risk_eval [--cases FILE] [--credibility DIR] [--hash] [--show-errors]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from monitor.explain import risk_reasons
from monitor.models import RiskAssessment, TrendInput

DEFAULT_CASES = Path(__file__).resolve().parents[2] / "examples" / "risk" / "cases.jsonl"


@dataclass(frozen=True, slots=True)
class Case:
    """One labelled trend of the risk evaluation set."""

    trend: TrendInput
    label: str
    category: str | None
    day: date
    note: str = ""

    @property
    def split(self) -> str:
        last = self.trend.id[-1]
        return "calibration" if last.isdigit() and int(last) % 2 == 0 else "held-out"


def load_cases(path: Path) -> list[Case]:
    out: list[Case] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        obj: dict[str, Any] = json.loads(line)
        if obj.get("label") not in ("risky", "safe"):
            raise ValueError(f"{path}:{n}: label must be risky|safe")
        out.append(
            Case(
                trend=TrendInput.from_json(obj),
                label=obj["label"],
                category=obj.get("category"),
                day=date.fromisoformat(obj["date"]),
                note=obj.get("note", ""),
            )
        )
    return out


@dataclass(slots=True)
class Metrics:
    """Confusion counts of the risk evaluation, with precision and recall."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, risky: bool, predicted: bool, what: str) -> None:
        if risky and predicted:
            self.tp += 1
        elif risky:
            self.fn += 1
            self.errors.append("FALSE GO  " + what)
        elif predicted:
            self.fp += 1
            self.errors.append("FALSE STOP " + what)
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def false_go(self) -> float:
        """Share of risky-labelled trends the gate let through (not high)."""
        return self.fn / (self.tp + self.fn) if self.tp + self.fn else 0.0

    def line(self, name: str) -> str:
        n = self.tp + self.fp + self.fn + self.tn
        return (
            f"{name:<24} n={n:<4} precision={self.precision:.2f} recall={self.recall:.2f} "
            f"false-go={self.false_go:.2f} (tp={self.tp} fp={self.fp} fn={self.fn} tn={self.tn})"
        )


def assess_cases(gate: Any, cases: Sequence[Case], layers: set[str] | None = None) -> list[RiskAssessment]:
    """Brand-independent assessment of every case, each judged on its own date (batched per date).

    `layers` keeps only those layers' flags (ablation: how much does each layer catch alone?).
    """
    from monitor.risk import embedding_text

    vectors = None
    if gate.embedder is not None:
        vectors = gate.embedder.encode([embedding_text(c.trend) for c in cases])
    out: list[RiskAssessment | None] = [None] * len(cases)
    by_day: dict[date, list[int]] = {}
    for i, c in enumerate(cases):
        by_day.setdefault(c.day, []).append(i)
    saved = gate.today
    try:
        for day, idx in by_day.items():
            gate.today = lambda d=day: d
            flags = gate.assess_base([cases[i].trend for i in idx], vectors[idx] if vectors is not None else None)
            for i, f in zip(idx, flags, strict=True):
                out[i] = RiskAssessment.from_flags([x for x in f if layers is None or x.layer in layers])
    finally:
        gate.today = saved
    return [a for a in out if a is not None]


def metrics_by_group(cases: Sequence[Case], results: Sequence[RiskAssessment]) -> dict[str, Metrics]:
    groups: dict[str, Metrics] = {}
    for c, r in zip(cases, results, strict=True):
        reasons = risk_reasons(r)
        what = f"{c.trend.id} [{r.level}] {c.trend.title!r}: {reasons[0] if reasons else 'no flag'}"
        for key in (f"{c.trend.lang} {c.split}", f"{c.trend.lang} all", f"all {c.split}", "all all"):
            groups.setdefault(key, Metrics()).add(c.label == "risky", r.level == "high", what)
    return groups


def report(groups: dict[str, Metrics], *, show_errors: bool = False) -> Iterable[str]:
    order = [f"{lang} {split}" for lang in ("it", "en", "all") for split in ("calibration", "held-out", "all")]
    for key in order:
        if key in groups:
            yield groups[key].line(key)
    if show_errors:
        yield ""
        yield from groups["all all"].errors


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=Path, default=DEFAULT_CASES)
    p.add_argument("--credibility", type=Path, default=None, help="directory with credibility lists")
    p.add_argument("--hash", action="store_true", help="HashEmbedder (plumbing only, meaningless numbers)")
    p.add_argument("--show-errors", action="store_true")
    p.add_argument("--layers", default="", help="comma-separated layers to keep (ablation), e.g. prototype")
    args = p.parse_args(argv)
    from brand_dna.embedder import Embedder, HashEmbedder, make_embedder
    from monitor.config import ModelSettings
    from monitor.risk import CredibilityIndex, RiskGate

    model = ModelSettings()  # the default backend, as users get it
    embedder: Embedder = (
        HashEmbedder() if args.hash else make_embedder(model.backend, model.name, threads=2, precision=model.precision)
    )
    gate = RiskGate(embedder, credibility=CredibilityIndex.load(args.credibility))
    cases = load_cases(args.cases)
    layers = {x.strip() for x in args.layers.split(",") if x.strip()} or None
    results = assess_cases(gate, cases, layers)
    for line in report(metrics_by_group(cases, results), show_errors=args.show_errors):
        sys.stdout.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
