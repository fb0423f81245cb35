"""DataTable helpers: fixed column layouts per width, and refills that keep the cursor on the same row key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.widgets import DataTable

Row = tuple[str, Sequence[Text]]  # (row key, cells)

# (key, label, width or None = share of the flexible space, flex weight)
ColumnSpec = tuple[str, str, int | None, int]

_CELL_PADDING = 2  # DataTable pads each cell by one on both sides
_SCROLLBAR = 2
_MIN_FLEX = 8


def column_widths(specs: Sequence[ColumnSpec], total: int, wants: Mapping[str, int] | None = None) -> dict[str, int]:
    """Give fixed columns their width and split what is left between flexible columns by weight.

    `wants`: the widest content of a flexible column. A column that needs less than its share
    gets what it needs and the rest goes to the others (so a long title or reason is not cut
    while a short column keeps empty space); the leftover when everything fits goes to the
    heaviest column.
    """
    fixed = sum(w for _, _, w, _ in specs if w is not None)
    overhead = _CELL_PADDING * len(specs) + _SCROLLBAR
    flexible = [(k, weight) for k, _, w, weight in specs if w is None]
    free = max(total - fixed - overhead, _MIN_FLEX * len(flexible))
    out = {k: w for k, _, w, _ in specs if w is not None}
    wants = wants or {}
    todo = list(flexible)
    while todo:
        weights = sum(weight for _, weight in todo) or 1
        fits = [(k, weight) for k, weight in todo if k in wants and max(wants[k], _MIN_FLEX) <= free * weight // weights]
        if not fits:
            break
        for k, weight in fits:
            out[k] = max(wants[k], _MIN_FLEX)
            free -= out[k]
            todo.remove((k, weight))
    if not todo:  # everything fits: the heaviest column takes the rest
        heaviest = max(flexible, key=lambda kw: kw[1], default=None)
        if heaviest is not None:
            out[heaviest[0]] += max(free, 0)
        return out
    weights = sum(weight for _, weight in todo) or 1
    left = free
    for i, (k, weight) in enumerate(todo):
        share = left if i == len(todo) - 1 else max(free * weight // weights, _MIN_FLEX)
        out[k] = max(share, _MIN_FLEX)
        left -= share
    return out


def set_columns(
    table: DataTable[Text], specs: Sequence[ColumnSpec], total: int, wants: Mapping[str, int] | None = None
) -> dict[str, int]:
    """(Re)create the columns for the available width; rows must be re-added afterwards."""
    widths = column_widths(specs, total, wants)
    table.clear(columns=True)
    for key, label, _, _ in specs:
        table.add_column(Text(label, style="bold"), width=widths[key], key=key)
    return widths


def selected_key(table: DataTable[Text]) -> str | None:
    if table.row_count == 0:
        return None
    try:
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    except Exception:
        return None


def fill(table: DataTable[Text], rows: Sequence[Row], keep: str | None = None) -> None:
    """Replace all rows; the cursor stays on the same key (not the same index) when that row still exists.

    `keep`: the key to stay on when the table was just re-created (its cursor is gone).
    """
    keep = keep or selected_key(table)
    old_index = table.cursor_row
    scroll_y = table.scroll_y
    table.clear()
    for key, cells in rows:
        table.add_row(*cells, key=key)
    if not rows:
        return
    keys = [k for k, _ in rows]
    index = keys.index(keep) if keep in keys else min(max(old_index, 0), len(rows) - 1)
    table.scroll_to(y=scroll_y, animate=False, immediate=True)
    table.move_cursor(row=index, animate=False)
