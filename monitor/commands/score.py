"""`onda score` and `onda eval`: trends as JSON lines in, verdicts (or a precision/recall report) out."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import IO, Any

from monitor.commands.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    UserError,
    input_label,
    load_brand_or_exit,
    open_input,
    scorer_with_stored_factchecks,
)
from monitor.config import Settings


def read_trend_batches(
    stream: IO[str], label: str, *, max_lines: int = 512, wait_s: float = 0.05
) -> Iterator[list[tuple[int, Any, str | None]]]:
    """Batches of (line number, TrendInput or None, error) for the non-blank lines, as they arrive.

    A batch is what arrived within `wait_s` of its first line, at most `max_lines` (monitor.linebatch).
    """
    from monitor.linebatch import line_batches

    for lines in line_batches(stream, max_lines=max_lines, wait_s=wait_s):
        yield [(lineno, *parse_trend_line(raw, f"{label}:{lineno}")) for lineno, raw in lines if raw.strip()]


def parse_trend_line(raw: str, where: str) -> tuple[Any, str | None]:
    """(TrendInput, None) for a valid JSON line, else (None, "where: why")."""
    from monitor.models import TrendInput

    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        return None, f"{where}: invalid JSON ({exc.msg})"
    except (ValueError, RecursionError) as exc:  # 5000-digit numbers, [[[[... nested too deeply
        reason = "nested too deeply" if isinstance(exc, RecursionError) else "number too long"
        return None, f"{where}: invalid JSON ({reason})"
    try:
        return TrendInput.from_json(obj), None
    except ValueError as exc:
        return None, f"{where}: {exc}"


# Two throw-away titles (Italian, English) scored before the first real line, so the lazily built
# parts (model, brand index, lemma tables, risk layers) are ready and the first verdict is not late.
WARM_UP = (
    {"id": "warm-up-it", "title": "Oggi a Milano", "lang": "it"},
    {"id": "warm-up-en", "title": "Today in London", "lang": "en"},
)


def cmd_score(
    settings: Settings,
    brand_path: str,
    input_path: str,
    *,
    batch: int = 512,
    wait_s: float = 0.05,
    db: str | None = None,
) -> int:
    """Stream JSON lines in, verdict lines out (same order), each batch flushed as soon as it is scored.

    The model loads before any input is read. A batch is what arrived within `wait_s` of its first
    line (at most `batch` lines): a pipe gets verdicts while its input still arrives, a file is
    scored in full batches.
    """
    from monitor.explain import verdict_json
    from monitor.models import TrendInput

    brand = load_brand_or_exit(brand_path)
    chatty = sys.stderr.isatty()
    if chatty:
        print(f"onda score: loading the model and {brand.name}'s statements…", file=sys.stderr, flush=True)
    scorer = scorer_with_stored_factchecks(settings, brand, db)
    scorer.score_inputs([TrendInput.from_json(t) for t in WARM_UP])
    label = input_label(input_path)
    stream = open_input(input_path)
    if chatty:
        hint = ": one JSON trend per line, Ctrl-D to end" if stream.isatty() else ""
        print(f"onda score: ready, reading {label}{hint}", file=sys.stderr, flush=True)
    bad = 0
    try:
        for lines in read_trend_batches(stream, label, max_lines=batch, wait_s=wait_s):
            trends: list[Any] = []
            for _, trend, error in lines:
                if error is not None:
                    bad += 1
                    print(f"onda score: skipped {error}", file=sys.stderr)
                else:
                    trends.append(trend)
            for verdicts in scorer.score_inputs(trends) if trends else []:
                sys.stdout.write(json.dumps(verdict_json(verdicts[brand.name]), ensure_ascii=False) + "\n")
            sys.stdout.flush()
    finally:
        if stream is not sys.stdin:
            stream.close()
    return EXIT_BAD_INPUT if bad else EXIT_OK


def cmd_eval(
    settings: Settings, brand_path: str, labels_path: str, *, show_errors: bool = False, db: str | None = None
) -> int:
    """Score a labelled JSONL set and print precision/recall per verdict (and the misclassified lines)."""
    from monitor.explain import verdict_why
    from monitor.fit_eval import evaluate, format_report

    brand = load_brand_or_exit(brand_path)
    source = input_label(labels_path)
    stream = open_input(labels_path)
    rows: list[tuple[Any, str]] = []
    bad = 0
    with stream:
        for lineno, raw in enumerate(stream, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
                if not isinstance(obj, dict):
                    raise ValueError("a labelled line must be a JSON object")
                label = obj.get("label")
                if label not in ("fit", "off_brand", "risky"):
                    raise ValueError("'label' must be fit, off_brand or risky")
                from monitor.models import TrendInput

                rows.append((TrendInput.from_json(obj), label))
            except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
                bad += 1
                print(f"onda eval: skipped {source}:{lineno}: {exc}", file=sys.stderr)
    if not rows:
        raise UserError(f"{source}: no labelled lines", EXIT_BAD_INPUT)
    scorer = scorer_with_stored_factchecks(settings, brand, db)
    verdicts = [v[brand.name] for v in scorer.score_inputs([t for t, _ in rows])]
    report = evaluate([label for _, label in rows], [v.verdict for v in verdicts])
    print(format_report(report, title=f"{brand.name} — {source} ({len(rows)} trends)"))
    if show_errors:
        print("\nmisclassified:")
        for (trend, label), v in zip(rows, verdicts, strict=True):
            if v.verdict != label:
                print(f"  {trend.id}: label={label} got={v.verdict} fit={v.fit:.2f}  {trend.title[:70]}")
                print(f"      {verdict_why(v)[:150]}")
    return EXIT_BAD_INPUT if bad else EXIT_OK
