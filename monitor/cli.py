"""`onda` command line: tui (default), watch, score, eval, data update.

Heavy imports (torch, textual, aiohttp) happen inside the command that needs them, so
`onda --help` and config errors answer at once. Config and input problems print one
line on stderr and exit 2 (config) or 1 (bad input lines), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from monitor.config import ConfigError, Settings, load_settings
from monitor.models import FactCheck

EXIT_OK, EXIT_BAD_INPUT, EXIT_CONFIG = 0, 1, 2


def _common(p: argparse.ArgumentParser, *, top: bool = False) -> None:
    # Sub-commands repeat the global options with SUPPRESS defaults, so `onda --config X score`
    # and `onda score --config X` both work (argparse would otherwise reset the value to None).
    default = None if top else argparse.SUPPRESS
    p.add_argument(
        "--config", metavar="PATH", default=default, help="config file (default: $ONDA_CONFIG, ./config.toml)"
    )


def _db(p: argparse.ArgumentParser, *, top: bool = False) -> None:
    p.add_argument(
        "--db", metavar="PATH", default=None if top else argparse.SUPPRESS, help="SQLite file (default: user data dir)"
    )


def _runtime(p: argparse.ArgumentParser, *, top: bool = False) -> None:
    p.add_argument(
        "--offline",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="replay bundled source snapshots through the real pollers (no network)",
    )
    _db(p, top=top)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="onda",
        description="Onda: ride the trends that fit your brand; stay away from tragedies, fights and hoaxes.",
    )
    _common(parser, top=True)
    _runtime(parser, top=True)
    sub = parser.add_subparsers(dest="command")

    tui = sub.add_parser("tui", help="the dashboard (default)")
    _common(tui)
    _runtime(tui)

    watch = sub.add_parser("watch", help="headless: poll, score, alert; JSON lines on stdout")
    _common(watch)
    _runtime(watch)
    watch.add_argument("--once", action="store_true", help="poll every source once, finish alerts, exit")
    watch.add_argument("--min-fit", type=float, default=None, help="only trend events with fit >= this")
    watch.add_argument("--only", choices=["opportunities", "risks"], default=None, help="only these trend events")

    score = sub.add_parser("score", help="score trends (JSON lines) against a brand; no polling")
    _common(score)
    _runtime(score)  # global options work after the command too (--offline is ignored here)
    score.add_argument("--brand", required=True, metavar="BRAND.toml")
    score.add_argument("--input", default="-", metavar="FILE|-", help="JSON lines (default: stdin)")

    ev = sub.add_parser("eval", help="precision/recall of verdicts on a labelled JSONL set")
    _common(ev)
    _runtime(ev)  # global options work after the command too (--offline is ignored here)
    ev.add_argument("--brand", required=True, metavar="BRAND.toml")
    ev.add_argument("--labels", required=True, metavar="FILE")
    ev.add_argument("--errors", action="store_true", help="also list the misclassified lines")

    data = sub.add_parser("data", help="manage downloaded data")
    _common(data)
    data_sub = data.add_subparsers(dest="data_command", required=True)
    upd = data_sub.add_parser("update", help="download/refresh the source-credibility lists and ClaimReview feeds")
    _common(upd)
    _runtime(upd)  # global options work after the command too (--offline is ignored here)
    imp = data_sub.add_parser("import-factchecks", help="store the debunks of a schema.org ClaimReview file")
    _common(imp)
    _runtime(imp)  # global options work after the command too (--offline is ignored here)
    imp.add_argument("file", metavar="FILE", help="DataFeed JSON, JSON array, JSON lines or claims:search JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("ONDA_LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"onda: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    command = args.command or "tui"
    try:
        if command == "score":
            return cmd_score(settings, args.brand, args.input, db=args.db)
        if command == "eval":
            return cmd_eval(settings, args.brand, args.labels, show_errors=args.errors, db=args.db)
        if command == "watch":
            return cmd_watch(settings, args)
        if command == "data" and args.data_command == "import-factchecks":
            return cmd_import_factchecks(settings, args.file, db=args.db)
        if command == "data":
            return cmd_data_update(settings, db=args.db)
        return cmd_tui(settings, args)
    except KeyboardInterrupt:
        return 130
    except _UserError as exc:
        print(f"onda: {exc}", file=sys.stderr)
        return exc.code


class _UserError(Exception):
    def __init__(self, message: str, code: int = EXIT_CONFIG) -> None:
        super().__init__(message)
        self.code = code


def _load_brand_or_exit(path: str) -> Any:
    from brand_dna.dna import BrandFileError, load_brand

    try:
        return load_brand(path)
    except BrandFileError as exc:
        raise _UserError(f"brand error: {exc}") from None


def _open_input(path: str) -> IO[str]:
    if path == "-":
        reconfigure = getattr(sys.stdin, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
        return sys.stdin
    try:
        # errors="replace": one line of broken UTF-8 must not abort the run (it becomes a bad line)
        return open(path, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise _UserError(f"cannot read {path}: {exc.strerror}", EXIT_BAD_INPUT) from None


def read_trend_lines(stream: IO[str], label: str) -> Iterator[tuple[int, Any, str | None]]:
    """(line number, TrendInput or None, error) for every non-blank line."""
    from monitor.models import TrendInput

    for lineno, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield lineno, None, f"{label}:{lineno}: invalid JSON ({exc.msg})"
            continue
        except (ValueError, RecursionError) as exc:  # 5000-digit numbers, [[[[... nested too deeply
            reason = "nested too deeply" if isinstance(exc, RecursionError) else "number too long"
            yield lineno, None, f"{label}:{lineno}: invalid JSON ({reason})"
            continue
        try:
            yield lineno, TrendInput.from_json(obj), None
        except ValueError as exc:
            yield lineno, None, f"{label}:{lineno}: {exc}"


def _scorer_with_stored_factchecks(settings: Settings, brand: Any, db: str | None) -> Any:
    """The scorer of `score` / `eval`, with the debunks kept in the store (read-only)."""
    from monitor.compose import build_embedder, build_risk_gate, build_scorer

    embedder = build_embedder(settings)
    gate = build_risk_gate(settings, embedder, _stored_factchecks(settings, db))
    return build_scorer(settings, [brand], embedder, gate)


def _stored_factchecks(settings: Settings, db: str | None) -> list[FactCheck]:
    """The debunks a scoring command uses, read-only: --db (must exist), else the user's store if any."""
    from monitor.storage import StorageError, read_factchecks

    path = Path(db) if db else settings.db_path()
    if not path.exists():
        if db:
            raise _UserError(f"database not found: {db}")
        return []
    try:
        return read_factchecks(path)
    except StorageError as exc:
        raise _UserError(str(exc)) from None


def cmd_score(settings: Settings, brand_path: str, input_path: str, *, batch: int = 512, db: str | None = None) -> int:
    """Stream JSON lines in, verdict lines out (same order), in batches for speed."""
    from monitor.explain import verdict_json

    brand = _load_brand_or_exit(brand_path)
    scorer = _scorer_with_stored_factchecks(settings, brand, db)
    label = "<stdin>" if input_path == "-" else input_path
    stream = _open_input(input_path)
    bad = 0
    pending: list[Any] = []

    def flush() -> None:
        for verdicts in scorer.score_inputs(pending):
            sys.stdout.write(json.dumps(verdict_json(verdicts[brand.name]), ensure_ascii=False) + "\n")
        sys.stdout.flush()
        pending.clear()

    try:
        for _, trend, error in read_trend_lines(stream, label):
            if error is not None:
                bad += 1
                print(f"onda score: skipped {error}", file=sys.stderr)
                continue
            pending.append(trend)
            if len(pending) >= batch:
                flush()
        if pending:
            flush()
    finally:
        if stream is not sys.stdin:
            stream.close()
    return EXIT_BAD_INPUT if bad else EXIT_OK


def cmd_eval(
    settings: Settings, brand_path: str, labels_path: str, *, show_errors: bool = False, db: str | None = None
) -> int:
    from monitor.explain import verdict_why
    from monitor.fit_eval import evaluate, format_report

    brand = _load_brand_or_exit(brand_path)
    stream = _open_input(labels_path)
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
                print(f"onda eval: skipped {labels_path}:{lineno}: {exc}", file=sys.stderr)
    if not rows:
        raise _UserError(f"{labels_path}: no labelled lines", EXIT_BAD_INPUT)
    scorer = _scorer_with_stored_factchecks(settings, brand, db)
    verdicts = [v[brand.name] for v in scorer.score_inputs([t for t, _ in rows])]
    report = evaluate([label for _, label in rows], [v.verdict for v in verdicts])
    print(format_report(report, title=f"{brand.name} — {labels_path} ({len(rows)} trends)"))
    if show_errors:
        print("\nmisclassified:")
        for (trend, label), v in zip(rows, verdicts, strict=True):
            if v.verdict != label:
                print(f"  {trend.id}: label={label} got={v.verdict} fit={v.fit:.2f}  {trend.title[:70]}")
                print(f"      {verdict_why(v)[:150]}")
    return EXIT_BAD_INPUT if bad else EXIT_OK


def cmd_watch(settings: Settings, args: argparse.Namespace) -> int:
    from monitor.watch import run_watch

    return run_watch(settings, offline=args.offline, once=args.once, db=args.db, min_fit=args.min_fit, only=args.only)


def cmd_data_update(settings: Settings, db: str | None = None) -> int:
    from monitor.risk.data_update import run

    return run(settings, db=db)


def cmd_import_factchecks(settings: Settings, file: str, db: str | None = None) -> int:
    """Store a ClaimReview file's debunks; report imported / already known / skipped with reasons."""
    from monitor.compose import open_storage
    from monitor.risk.claimreview import parse_claimreview
    from monitor.storage import StorageError

    try:
        text = Path(file).read_text("utf-8")
    except UnicodeDecodeError:
        raise _UserError(f"cannot read {file}: not UTF-8 text", EXIT_BAD_INPUT) from None
    except OSError as exc:
        raise _UserError(f"cannot read {file}: {exc.strerror}", EXIT_BAD_INPUT) from None
    try:
        result = parse_claimreview(text)
    except ValueError as exc:
        raise _UserError(f"{file}: {exc}", EXIT_BAD_INPUT) from None
    try:
        with open_storage(settings, db) as storage:
            new = storage.save_factchecks(result.debunks, f"import:{Path(file).name}")
            total = storage.count_factchecks()
    except StorageError as exc:
        raise _UserError(str(exc)) from None
    known = result.already_known(new)
    print(f"{file}: imported {new} fact-check(s), {known} already known, {result.skipped_total} skipped; {total} stored in {storage.path}")
    for reason, n in sorted(result.skipped.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  skipped {n}: {reason}")
    return EXIT_OK


def cmd_tui(settings: Settings, args: argparse.Namespace) -> int:
    from tui.run import run_tui

    return run_tui(settings, offline=bool(args.offline), db=args.db)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
