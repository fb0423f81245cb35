"""Edit keys of one TOML table in place, keeping everything else byte for byte (tomlkit).

Comments, blank lines, key order, quoting and array layout of the keys that are not changed stay as
they were; a changed list is edited item by item (a minimal edit script), so the comments next to
the items that stay are kept too. New keys go at the end of the table. `write_atomic` replaces a
file through a temporary file in the same folder, so a crash never leaves half a file.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Array

Value = str | float | list[str] | None  # None removes the key
_INLINE_MAX = 88  # a new list longer than this (as one line) is written one item per line


def edit_table(text: str | None, table: str, changes: Mapping[str, Value]) -> str:
    """`text` with `changes` applied to `[table]`; `text` None (or not TOML) starts a new document."""
    doc = _parse(text)
    if table not in doc:
        doc[table] = tomlkit.table()
    target: Any = doc[table]
    for key, value in changes.items():
        if value is None:
            if key in target:
                del target[key]
        elif isinstance(value, list):
            current = target.get(key)
            if isinstance(current, Array):
                _edit_array(current, value)
            else:
                target[key] = _new_array(value)
        else:
            target[key] = value
    return tomlkit.dumps(doc)


def _parse(text: str | None) -> tomlkit.TOMLDocument:
    if text is None:
        return tomlkit.document()
    try:
        return tomlkit.parse(text)
    except TOMLKitError:
        return tomlkit.document()


def _edit_array(array: Array, new: list[str]) -> None:
    """Turn `array` into `new` with the fewest item edits (items that stay keep their comments)."""
    old = [str(v) for v in array]
    ops = difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in reversed(ops):  # from the end: earlier indexes stay valid
        if tag == "equal":
            continue
        common = min(i2 - i1, j2 - j1)
        for k in range(common):
            array[i1 + k] = new[j1 + k]
        for _ in range(i1 + common, i2):
            del array[i1 + common]
        for k in range(j1 + common, j2):
            array.insert(i1 + (k - j1), new[k])


def _new_array(values: list[str]) -> Array:
    array = tomlkit.array()
    array.extend(values)
    if len(array.as_string()) > _INLINE_MAX:
        array.multiline(True)
    return array


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8) through a temporary file in the same folder, keeping its mode."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.chmod(mode)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
