"""`onda` command line: tui, serve, watch, score, eval, init, data update, db, brand.

Sub-commands: tui (default), serve, watch, score, eval, init, data update|import-factchecks, db migrate|copy,
brand import|export|history. This module parses the arguments and calls the command; the commands are in monitor/commands/
(score/eval, init, data, db, brand), monitor/watch.py, tui/run.py and tui/serve.py (the last two found through
entry points, monitor/dashboard.py). Heavy imports (torch, textual, aiohttp)
happen inside the command that needs them, so `onda --help` and config errors answer at once.
Config and input problems print one line on stderr and exit 2 (config) or 1 (bad input lines),
never a traceback. A first run with nothing set up says where the files go and how to create them
(`onda init`; monitor/starter.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from monitor.commands.brand import cmd_brand_export, cmd_brand_history, cmd_brand_import
from monitor.commands.common import EXIT_CONFIG, UserError
from monitor.commands.data import cmd_data_update, cmd_import_factchecks
from monitor.commands.db import cmd_db_copy, cmd_db_migrate
from monitor.commands.init import cmd_init, settings_with_brands
from monitor.commands.score import cmd_eval, cmd_score
from monitor.config import ConfigError, Settings, load_settings


def _common(p: argparse.ArgumentParser, *, top: bool = False) -> None:
    # Sub-commands repeat the global options with SUPPRESS defaults, so `onda --config X score`
    # and `onda score --config X` both work (argparse would otherwise reset the value to None).
    default = None if top else argparse.SUPPRESS
    p.add_argument(
        "--config", metavar="PATH", default=default, help="config file (default: $ONDA_CONFIG, ./config.toml)"
    )


def _db(p: argparse.ArgumentParser, *, top: bool = False) -> None:
    p.add_argument(
        "--db",
        metavar="PATH",
        default=None if top else argparse.SUPPRESS,
        help="SQLite file or postgresql:// URL (default: [storage] url, else user data dir)",
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

    _serve_parser(sub)

    watch = sub.add_parser(
        "watch",
        help="headless: poll, score, alert; JSON lines on stdout",
        description="One JSON object per line per event. A story's updates share its stable \"id\"; each "
        'trend line says why it was sent in "change": "new" (first sighting), "update" (more headlines, '
        'momentum) or "risk_changed" (re-judged, e.g. after a debunk). A script that wants each story once: '
        "--changes new; the latest state of each story: keep the last line per id. \"feedback\" holds each "
        'brand\'s current mark on the story ("used", "not_for_us" or null).',
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
    _db_parser(sub)
    _brand_parser(sub)
    return parser


def _serve_parser(sub: Any) -> None:
    serve = sub.add_parser(
        "serve",
        help="the dashboard in a browser (textual-serve); one dashboard per browser session",
        description="Serves the dashboard at http://HOST:PORT; each browser session runs its own dashboard with "
        "these options. It has no authentication of its own: keep the default 127.0.0.1, or put it behind a "
        "reverse proxy that asks for one (README, 'Running Onda for a team').",
    )
    _common(serve)
    _runtime(serve)
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    serve.add_argument("--brand", default=None, metavar="NAME", help="the brand each session shows first")
    serve.add_argument(
        "--public-url",
        default=None,
        metavar="URL",
        help="the address browsers use, e.g. https://onda.example.com behind a reverse proxy (default: http://HOST:PORT)",
    )


def _db_parser(sub: Any) -> None:
    db = sub.add_parser("db", help="create/upgrade a store, or copy one into another (e.g. SQLite to PostgreSQL)")
    _common(db)
    db_sub = db.add_subparsers(dest="db_command", required=True)
    migrate = db_sub.add_parser("migrate", help="create or upgrade the store's schema; prints its version")
    _common(migrate)
    _db(migrate)
    migrate.add_argument(
        "--url", default=None, metavar="URL", help="postgresql://… or sqlite:PATH (default: the configured store)"
    )
    copy = db_sub.add_parser(
        "copy",
        help="copy every table of one store into another",
        description="Copies all tables, one transaction per table; rows already in the target are kept, never "
        "copied twice. Refuses a target that already has trends unless --force.",
    )
    _common(copy)
    copy.add_argument(
        "--from", dest="source", required=True, metavar="STORE", help="sqlite:PATH, a path or postgresql://…"
    )
    copy.add_argument(
        "--to", dest="target", required=True, metavar="STORE", help="postgresql://…, sqlite:PATH or a path"
    )
    copy.add_argument("--force", action="store_true", help="copy into a target that already has trends")


def _brand_parser(sub: Any) -> None:
    brand = sub.add_parser(
        "brand",
        help="brand DNA kept in the store: import, export, history",
        description="The store keeps each brand's DNA with its history; running dashboards and workers re-score "
        "when it changes. A configured brand file is imported at start when its text is new to the store.",
    )
    _common(brand)
    brand_sub = brand.add_subparsers(dest="brand_command", required=True)
    imp = brand_sub.add_parser("import", help="store a brand file (TOML) as the brand's new version")
    imp.add_argument("file", metavar="FILE", help="a brand DNA file (DESIGN.md format)")
    exp = brand_sub.add_parser("export", help="write the stored brand as a brand file (TOML)")
    exp.add_argument("name", metavar="NAME", help="the brand's name")
    exp.add_argument("-o", "--output", metavar="FILE", default=None, help="file to write (default: stdout)")
    hist = brand_sub.add_parser("history", help="who changed the brand, when, and what")
    hist.add_argument("name", metavar="NAME", help="the brand's name")
    for p in (imp, exp, hist):
        _common(p)
        _runtime(p)  # global options work after the command too (--offline is ignored here)


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
    """The `onda` console entry point: parse, load the settings, run the command; returns the exit code."""
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
        if command in ("tui", "serve", "watch"):
            settings = settings_with_brands(settings, args)
        if command == "score":
            return cmd_score(settings, args.brand, args.input, db=args.db)
        if command == "eval":
            return cmd_eval(settings, args.brand, args.labels, show_errors=args.errors, db=args.db)
        if command == "watch":
            return cmd_watch(settings, args)
        if command == "serve":
            return cmd_serve(settings, args)
        if command == "data" and args.data_command == "import-factchecks":
            return cmd_import_factchecks(settings, args.file, db=args.db)
        if command == "data":
            return cmd_data_update(settings, db=args.db)
        if command == "db" and args.db_command == "migrate":
            return cmd_db_migrate(settings, args.url, db=args.db)
        if command == "db":
            return cmd_db_copy(args.source, args.target, force=args.force)
        if command == "brand":
            return cmd_brand(settings, args)
        return cmd_tui(settings, args)
    except KeyboardInterrupt:
        return 130
    except UserError as exc:
        print(f"onda: {exc}", file=sys.stderr)
        return exc.code
    except Exception as exc:
        from brand_dna.embedder import EmbedderError  # here: importing it loads numpy, which --help does not need

        if not isinstance(exc, EmbedderError):
            raise
        print(f"onda: {exc}", file=sys.stderr)  # a [model] name or path that cannot be loaded
        return EXIT_CONFIG


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


def cmd_brand(settings: Settings, args: argparse.Namespace) -> int:
    """`onda brand import|export|history` (monitor.commands.brand)."""
    if args.brand_command == "import":
        return cmd_brand_import(settings, args.file, db=args.db)
    if args.brand_command == "export":
        return cmd_brand_export(settings, args.name, args.output, db=args.db)
    return cmd_brand_history(settings, args.name, db=args.db)


def cmd_watch(settings: Settings, args: argparse.Namespace) -> int:
    """`onda watch`: headless polling, JSON lines on stdout (monitor.watch)."""
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


def cmd_tui(settings: Settings, args: argparse.Namespace) -> int:
    """`onda` / `onda tui`: the dashboard (found through the `onda.dashboard` entry point)."""
    from monitor.dashboard import DashboardNotInstalled, load_dashboard

    try:
        run_dashboard = load_dashboard()
    except DashboardNotInstalled as exc:
        raise UserError(str(exc)) from None
    return run_dashboard(settings, offline=bool(args.offline), db=args.db)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """`onda serve`: the dashboard in a browser (found through the `onda.dashboard_server` entry point)."""
    from monitor.dashboard import DashboardNotInstalled, load_dashboard_server

    try:
        serve_dashboard = load_dashboard_server()
    except DashboardNotInstalled as exc:
        raise UserError(str(exc)) from None
    return serve_dashboard(
        settings,
        offline=bool(args.offline),
        db=args.db,
        brand=args.brand,
        host=args.host,
        port=args.port,
        public_url=args.public_url,
    )


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
