"""`onda brand import|export|history`: brand DNA in the store (monitor.brands), the TOML file as import/export."""

from __future__ import annotations

import sys
from pathlib import Path

from monitor.commands.common import EXIT_BAD_INPUT, EXIT_OK, UserError
from monitor.config import Settings
from monitor.models import BrandRevision, StoredBrand


def cmd_brand_import(settings: Settings, file: str, db: str | None = None) -> int:
    """Store a brand file as the brand's new version; the same text again adds no version."""
    from brand_dna.dna import BrandFileError
    from monitor.brands import BrandBook
    from monitor.compose import open_storage
    from monitor.storage import StorageError

    try:
        with open_storage(settings, db) as storage:
            saved = BrandBook(storage, settings.user_name()).import_file(Path(file))
    except BrandFileError as exc:
        raise UserError(f"brand error: {exc}", EXIT_BAD_INPUT) from None
    except StorageError as exc:
        raise UserError(str(exc)) from None
    if saved.created:
        print(f"{saved.brand.name}: stored as version {saved.version} in {storage.path}")
    else:
        print(f"{saved.brand.name}: unchanged (version {saved.version}) in {storage.path}")
    return EXIT_OK


def cmd_brand_export(settings: Settings, name: str, output: str | None = None, db: str | None = None) -> int:
    """Write the stored brand's TOML text to `output` (or stdout); importing it back adds no version."""
    from brand_dna.toml_edit import write_atomic

    stored = _stored(settings, name, db)
    if output is None:
        sys.stdout.write(stored.toml)
        return EXIT_OK
    try:
        write_atomic(Path(output), stored.toml)
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror}", EXIT_BAD_INPUT) from None
    print(f"{name}: version {stored.version} written to {output}", file=sys.stderr)
    return EXIT_OK


def cmd_brand_history(settings: Settings, name: str, db: str | None = None) -> int:
    """One line per version, oldest first: version, when (UTC), who, what changed, what the re-score moved."""
    from monitor.compose import open_storage
    from monitor.storage import StorageError

    try:
        with open_storage(settings, db) as storage:
            revisions = storage.brand_history(name)
    except StorageError as exc:
        raise UserError(str(exc)) from None
    if not revisions:
        _stored(settings, name, db)  # says which brands there are
    for revision in revisions:
        print(history_line(revision))
    return EXIT_OK


def history_line(revision: BrandRevision) -> str:
    """`v3  2026-11-29 10:04 UTC  anna  dna +1 -0  · re-scored 200: fit->off_brand 2`."""
    when = revision.at.strftime("%Y-%m-%d %H:%M UTC")
    line = f"v{revision.version}  {when}  {revision.by or '?'}  {revision.summary}"
    if revision.rescore is not None:
        moves = revision.rescore.get("changed", {})
        moved = ", ".join(f"{k} {v}" for k, v in moves.items()) or "no verdict changed"
        line += f"  · re-scored {revision.rescore.get('rescored', 0)}: {moved}"
    return line


def _stored(settings: Settings, name: str, db: str | None) -> StoredBrand:
    from monitor.compose import open_storage
    from monitor.storage import StorageError

    try:
        with open_storage(settings, db) as storage:
            stored = storage.get_brand(name)
            names = [b.name for b in storage.stored_brands()] if stored is None else []
    except StorageError as exc:
        raise UserError(str(exc)) from None
    if stored is None:
        known = f"stored brands: {', '.join(names)}" if names else "the store holds no brand yet (onda brand import FILE)"
        raise UserError(f"no brand named {name!r} in the store ({known})", EXIT_BAD_INPUT)
    return stored
