"""`python -m tui [--config PATH] [--offline]`: same as `onda tui`."""

from __future__ import annotations

import argparse
import sys

from monitor.config import ConfigError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tui")
    parser.add_argument("--config", default=None)
    parser.add_argument("--offline", action="store_true")
    parser.add_argument("--db", default=None)
    parser.add_argument("--brand", default=None, help="brand name to show first")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        sys.stderr.write(f"onda: {exc}" + "\n")
        return 2
    from tui.run import run_tui

    return run_tui(settings, offline=args.offline, db=args.db, brand=args.brand)


if __name__ == "__main__":
    raise SystemExit(main())
