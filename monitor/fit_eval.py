"""Precision / recall per verdict (fit / off_brand / risky) and a confusion matrix: pure functions for `onda eval`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.models import VERDICTS


@dataclass(frozen=True, slots=True)
class ClassScores:
    """Precision, recall and F1 of one verdict label in an evaluation."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class EvalReport:
    """The result of `onda eval`: per-label scores, confusion matrix and accuracy."""

    labels: tuple[str, ...]
    scores: tuple[ClassScores, ...]
    confusion: tuple[tuple[int, ...], ...]  # rows = true label, columns = predicted
    accuracy: float
    false_go: int  # labelled risky, predicted fit: the costly mistake
    n: int


def evaluate(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = VERDICTS) -> EvalReport:
    if len(truth) != len(predicted):
        raise ValueError("truth and predictions differ in length")
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for t, p in zip(truth, predicted, strict=True):
        matrix[index[t]][index[p]] += 1
    scores = []
    for label, i in index.items():
        tp = matrix[i][i]
        predicted_n = sum(row[i] for row in matrix)
        actual_n = sum(matrix[i])
        precision = tp / predicted_n if predicted_n else 0.0
        recall = tp / actual_n if actual_n else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(ClassScores(label, precision, recall, f1, actual_n))
    n = len(truth)
    correct = sum(matrix[i][i] for i in range(len(labels)))
    false_go = matrix[index["risky"]][index["fit"]] if "risky" in index and "fit" in index else 0
    return EvalReport(
        labels=tuple(labels),
        scores=tuple(scores),
        confusion=tuple(tuple(r) for r in matrix),
        accuracy=correct / n if n else 0.0,
        false_go=false_go,
        n=n,
    )


def format_report(report: EvalReport, title: str = "") -> str:
    lines = [title] if title else []
    lines.append(f"{'verdict':<10} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}")
    for s in report.scores:
        lines.append(f"{s.label:<10} {s.precision:>9.2f} {s.recall:>7.2f} {s.f1:>6.2f} {s.support:>8}")
    lines.append(f"accuracy {report.accuracy:.2f} over {report.n} trends")
    risky_n = next((s.support for s in report.scores if s.label == "risky"), 0)
    lines.append(f"false go (labelled risky, verdict fit): {report.false_go} of {risky_n}")
    lines.append("")
    lines.append("confusion (rows = label, columns = verdict)")
    lines.append(" " * 11 + "".join(f"{label:>10}" for label in report.labels))
    for label, row in zip(report.labels, report.confusion, strict=True):
        lines.append(f"{label:<11}" + "".join(f"{v:>10}" for v in row))
    return "\n".join(lines)
