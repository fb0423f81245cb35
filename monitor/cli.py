"""`onda` command line: tui (default), watch, score, eval, init, data update.

Heavy imports (torch, textual, aiohttp) happen inside the command that needs them, so
`onda --help` and config errors answer at once. Config and input problems print one
line on stderr and exit 2 (config) or 1 (bad input lines), never a traceback.
A first run with nothing set up says where the files go and how to create them
(`onda init`; monitor/starter.py). Longer than most modules: it is the argument
parsing and glue of every command, while the work lives in the modules they call.
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

    watch = sub.add_parser(
        "watch",
        help="headless: poll, score, alert; JSON lines on stdout",
        description="One JSON object per line per event. A story's updates share its stable \"id\"; each "
        'trend line says why it was sent in "change": "new" (first sighting), "update" (more headlines, '
        'momentum) or "risk_changed" (re-judged, e.g. after a debunk). A script that wants each story once: '
        "--changes new; the latest state of each story: keep the last line per id.",
    )
    _common(watch)
    _runtime(watch)
    watch.add_argument("--once", action="store_true", help="poll every source once, finish alerts, exit")
    watch.add_argument("--min-fit", type=float, default=None, help="only trend events with fit >= this")
    watch.add_argument("--only", choices=["opportunities", "risks"], default=None, help="only these trend events")
    watch.add_argument(
        "--changes",
        type=_trend_changes,
        default=None,
        metavar="new[,update,risk_changed]",
        help='only trend events with these "change" values (default: all); --changes new = each story once',
    )

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

    _init_parser(sub)

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


def _init_parser(sub: Any) -> None:
    from monitor.starter import DEFAULT_EXAMPLE, example_brand_names

    init = sub.add_parser(
        "init",
        help="create a config and a starter brand (asks on a terminal; --example or --name + --statement for scripts)",
        description="Writes config.toml (unless it exists) and brands/<name>.toml beside it. Where: --config PATH, "
        "else $ONDA_CONFIG, else the user config dir. Existing files are never overwritten.",
    )
    init.add_argument(
        "--config", metavar="PATH", default=argparse.SUPPRESS, help="the config file to write (default: user config dir)"
    )
    init.add_argument("--name", help="the brand's name")
    init.add_argument(
        "--statement",
        action="append",
        default=[],
        metavar="TEXT",
        help="a plain sentence about the brand, one idea each (repeat it: three are a good start)",
    )
    init.add_argument(
        "--example",
        nargs="?",
        const=DEFAULT_EXAMPLE,
        choices=example_brand_names(),
        metavar="NAME",
        help=f"copy a bundled example brand instead ({', '.join(example_brand_names())}; default {DEFAULT_EXAMPLE})",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("ONDA_LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    command = args.command or "tui"
    if command == "init":  # needs no settings: it writes them
        return cmd_init(args)
    quiet_progress_bars()
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"onda: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        if command in ("tui", "watch"):
            settings = _settings_with_brands(settings, args)
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


def quiet_progress_bars() -> None:
    """No tqdm progress bars ("Loading weights 100%|...") when stderr is not a terminal: logs stay clean.

    huggingface_hub reads HF_HUB_DISABLE_PROGRESS_BARS on import and transformers takes its default
    from it; tqdm itself honours TQDM_DISABLE. The model loads after this, so setting them is enough
    (an explicit value in the environment wins); an already imported transformers is told directly.
    """
    if sys.stderr.isatty():
        return
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # transformers: unannotated


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def cmd_init(args: argparse.Namespace) -> int:
    """Write a config and a starter brand: from flags, or by asking on a terminal."""
    from monitor.starter import StarterError, init_config_path, run_init

    try:
        done = run_init(
            init_config_path(getattr(args, "config", None)),
            name=args.name,
            statements=args.statement,
            example=args.example,
            ask=input if _interactive() else None,
            say=print,
        )
    except StarterError as exc:
        print(f"onda: init: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except (EOFError, KeyboardInterrupt):
        print("\nonda: init: cancelled, nothing written", file=sys.stderr)
        return 130
    print("\n".join(done.summary()))
    return EXIT_OK


def _settings_with_brands(settings: Settings, args: argparse.Namespace) -> Settings:
    """Settings whose brand files exist: on a first run in a terminal, offer to create them; else say how."""
    from monitor.starter import StarterError, ensure_brands, init_config_path

    try:
        written = ensure_brands(settings, init_config_path(args.config), ask=input if _interactive() else None, say=print)
        return settings if written is None else load_settings(str(written))
    except StarterError as exc:
        raise _UserError(str(exc)) from None
    except ConfigError as exc:
        raise _UserError(f"config error: {exc}") from None


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


# Two throw-away titles (Italian, English) scored before the first real line, so the lazily built
# parts (model, brand index, lemma tables, risk layers) are ready and the first verdict is not late.
_WARM_UP = (
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

    brand = _load_brand_or_exit(brand_path)
    chatty = sys.stderr.isatty()
    if chatty:
        print(f"onda score: loading the model and {brand.name}'s statements…", file=sys.stderr, flush=True)
    scorer = _scorer_with_stored_factchecks(settings, brand, db)
    scorer.score_inputs([TrendInput.from_json(t) for t in _WARM_UP])
    label = _input_label(input_path)
    stream = _open_input(input_path)
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


def _input_label(path: str) -> str:
    """How messages name an input: the path, or <stdin> for "-"."""
    return "<stdin>" if path == "-" else path


def cmd_eval(
    settings: Settings, brand_path: str, labels_path: str, *, show_errors: bool = False, db: str | None = None
) -> int:
    from monitor.explain import verdict_why
    from monitor.fit_eval import evaluate, format_report

    brand = _load_brand_or_exit(brand_path)
    source = _input_label(labels_path)
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
                print(f"onda eval: skipped {source}:{lineno}: {exc}", file=sys.stderr)
    if not rows:
        raise _UserError(f"{source}: no labelled lines", EXIT_BAD_INPUT)
    scorer = _scorer_with_stored_factchecks(settings, brand, db)
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


def _trend_changes(value: str) -> frozenset[str]:
    """`--changes new,risk_changed` -> {"new", "risk_changed"}; argparse reports a bad value."""
    from typing import get_args

    from monitor.events import TrendChange

    valid = get_args(TrendChange)
    chosen = frozenset(part.strip() for part in value.split(",") if part.strip())
    unknown = sorted(chosen - set(valid))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"{', '.join(unknown) or 'nothing'}: expected a comma list of {', '.join(valid)}")
    return chosen


def cmd_watch(settings: Settings, args: argparse.Namespace) -> int:
    from monitor.watch import run_watch

    return run_watch(
        settings,
        offline=args.offline,
        once=args.once,
        db=args.db,
        min_fit=args.min_fit,
        only=args.only,
        changes=args.changes,
    )


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
    from monitor.dashboard import DashboardNotInstalled, load_dashboard

    try:
        run_dashboard = load_dashboard()
    except DashboardNotInstalled as exc:
        raise _UserError(str(exc)) from None
    return run_dashboard(settings, offline=bool(args.offline), db=args.db)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
