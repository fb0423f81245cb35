"""`onda data update` and `onda data import-factchecks`: the downloaded lists and the stored debunks."""

from __future__ import annotations

import sys
from pathlib import Path

from monitor.commands.common import EXIT_BAD_INPUT, EXIT_OK, UserError
from monitor.config import Settings


def cmd_data_update(settings: Settings, db: str | None = None) -> int:
    """Refresh the credibility lists and ClaimReview feeds (monitor.risk.data_update)."""
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
        raise UserError(f"cannot read {file}: not UTF-8 text", EXIT_BAD_INPUT) from None
    except OSError as exc:
        raise UserError(f"cannot read {file}: {exc.strerror}", EXIT_BAD_INPUT) from None
    try:
        result = parse_claimreview(text)
    except ValueError as exc:
        raise UserError(f"{file}: {exc}", EXIT_BAD_INPUT) from None
    try:
        with open_storage(settings, db) as storage:
            write = storage.save_factchecks(result.debunks, f"import:{Path(file).name}", withdrawn=result.withdrawn)
            total = storage.count_factchecks()
    except StorageError as exc:
        raise UserError(str(exc)) from None
    print(
        f"{file}: imported {write.new} fact-check(s), {write.updated} updated, {result.unchanged(write)} already known,"
        f" {write.withdrawn} withdrawn (now rated true), {result.skipped_total} skipped; {total} stored in {storage.path}"
    )
    for reason, n in sorted(result.skipped.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  skipped {n}: {reason}")
    for note, n in sorted(result.notes.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {n} {note}")
    if not result.reviews:
        print(f"{file}: no rated ClaimReview in it: nothing to import", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK
