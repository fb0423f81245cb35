"""What the `onda` commands share: exit codes, the one-line user error, brand and input opening, the scorer.

Heavy imports (torch, the embedder, the store) happen inside the functions, so importing a command
module stays cheap (`onda --help` answers at once).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Any

from monitor.config import Settings
from monitor.models import FactCheck

EXIT_OK, EXIT_BAD_INPUT, EXIT_CONFIG = 0, 1, 2


class UserError(Exception):
    """A config or input problem: `onda` prints it on one line and exits with `code` (no traceback)."""

    def __init__(self, message: str, code: int = EXIT_CONFIG) -> None:
        super().__init__(message)
        self.code = code


def load_brand_or_exit(path: str) -> Any:
    """The brand file at `path` (a BrandDNA); a bad file is a UserError."""
    from brand_dna.dna import BrandFileError, load_brand

    try:
        return load_brand(path)
    except BrandFileError as exc:
        raise UserError(f"brand error: {exc}") from None


def open_input(path: str) -> IO[str]:
    """`path` opened for reading as UTF-8 text (broken bytes replaced), or stdin for "-"."""
    if path == "-":
        reconfigure = getattr(sys.stdin, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
        return sys.stdin
    try:
        # errors="replace": one line of broken UTF-8 must not abort the run (it becomes a bad line)
        return open(path, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}", EXIT_BAD_INPUT) from None


def input_label(path: str) -> str:
    """How messages name an input: the path, or <stdin> for "-"."""
    return "<stdin>" if path == "-" else path


def scorer_with_stored_factchecks(settings: Settings, brand: Any, db: str | None) -> Any:
    """The scorer of `score` / `eval`, with the debunks kept in the store (read-only)."""
    from monitor.compose import build_embedder, build_risk_gate, build_scorer

    embedder = build_embedder(settings)
    gate = build_risk_gate(settings, embedder, stored_factchecks(settings, db))
    return build_scorer(settings, [brand], embedder, gate)


def stored_factchecks(settings: Settings, db: str | None) -> list[FactCheck]:
    """The debunks a scoring command uses: --db (must exist), else the configured store if any.

    A SQLite file is only read (any file will do); a PostgreSQL store is opened like any command does.
    """
    from monitor.storage import Storage, StorageError, read_factchecks

    target = settings.store_target(db)
    if not isinstance(target, Path):  # a URL
        try:
            with Storage(target) as storage:
                return storage.load_factchecks()
        except StorageError as exc:
            raise UserError(str(exc)) from None
    path = target
    if not path.exists():
        if db:
            raise UserError(f"database not found: {db}")
        return []
    try:
        return read_factchecks(path)
    except StorageError as exc:
        raise UserError(str(exc)) from None
