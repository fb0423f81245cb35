"""`onda init` and the first-run offer of `onda` / `onda watch`: a config and a starter brand (monitor/starter.py)."""

from __future__ import annotations

import argparse
import sys

from monitor.commands.common import EXIT_CONFIG, EXIT_OK, UserError
from monitor.config import ConfigError, Settings, load_settings


def interactive() -> bool:
    """Whether to ask questions: both stdin and stdout are a terminal."""
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
            ask=input if interactive() else None,
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


def settings_with_brands(settings: Settings, args: argparse.Namespace) -> Settings:
    """Settings whose brand files exist: on a first run in a terminal, offer to create them; else say how."""
    from monitor.starter import StarterError, ensure_brands, init_config_path

    try:
        written = ensure_brands(settings, init_config_path(args.config), ask=input if interactive() else None, say=print)
        return settings if written is None else load_settings(str(written))
    except StarterError as exc:
        raise UserError(str(exc)) from None
    except ConfigError as exc:
        raise UserError(f"config error: {exc}") from None
