"""The help screen (F1 or ?): keys per screen, what verdicts and risk levels mean, where files live."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import platformdirs
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from monitor.config import APP_NAME, Settings, user_config_path
from monitor.db import describe_target
from monitor.explain import level_words, verdict_words

PathList = list[tuple[str, str]]  # (what, where)

KEYS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Everywhere",
        [
            ("1 2 3 4", "Opportunities, Brand DNA, Sources, Alerts"),
            ("b", "next brand"),
            ("F1 ?", "this help (again or Esc closes it)"),
            ("ctrl+p", "command palette (Keys: every key of the screen)"),
            ("Esc", "close a panel, dialog or the trend detail"),
            ("q", "quit (asks first when Brand DNA edits are unsaved)"),
        ],
    ),
    (
        "Opportunities",
        [
            ("↑ ↓ Enter", "move, open the trend detail"),
            ("o", "off-brand trends instead of opportunities (o again: back)"),
            ("d", '"Do not ride" list (d again: back)'),
        ],
    ),
    (
        "Trend detail",
        [("u", "mark used (we rode it)"), ("n", "mark not for us (hides it)"), ("c", "copy a summary"), ("Esc", "back")],
    ),
    (
        "Brand DNA",
        [
            ("a e x", "add, edit, remove an item"),
            ("ctrl+s", "save: re-index and re-score recent trends"),
            ("z", "revert unsaved edits"),
        ],
    ),
    ("Sources", [("p", "poll the selected source now"), ("r", "read health again")]),
    ("Alerts", [("r", "reload the alert outbox")]),
]

VERDICTS: list[tuple[str, str, str]] = [
    ("fit", "bold green", "close to the brand's DNA and no risk layer objects: an opportunity"),
    ("off_brand", "yellow", "nothing in the DNA is close enough (or you marked it not for us)"),
    ("risky", "bold red", "a risk layer fired (tragedy, polarizing, misinformation, an avoided topic): stay away"),
]
LEVELS: list[tuple[str, str]] = [
    ("none", "no layer fired"),
    ("low", "weak evidence: shown, does not block a fit"),
    ("medium", "moderate evidence: check the detail before riding"),
    ("high", "strong evidence: the trend goes to Do not ride"),
]


def default_paths() -> PathList:
    """Where files live when no settings are at hand (the demo, tests): the per-user locations."""
    return [
        ("config file", str(user_config_path())),
        ("data (database, backups, demo brands)", platformdirs.user_data_dir(APP_NAME)),
        ("log", str(Path(platformdirs.user_log_dir(APP_NAME)) / "onda.log")),
    ]


def settings_paths(settings: Settings) -> PathList:
    """The files this run really uses."""
    config = settings.source_file or f"{user_config_path()} (not found: defaults in use)"
    return [
        ("config file", config),
        ("database", describe_target(settings.store_target())),
        *[("brand file", str(p)) for p in settings.brand_files()],
        ("model cache", str(settings.cache_dir())),
        ("log", str(Path(platformdirs.user_log_dir(APP_NAME)) / "onda.log")),
    ]


def _table() -> Table:
    table = Table(box=None, show_header=False, pad_edge=False, expand=True)
    table.add_column(no_wrap=True, style="bold cyan", min_width=12)
    table.add_column(ratio=1)
    return table


def help_text(paths: PathList) -> Group:
    keys = _table()
    for section, rows in KEYS:
        keys.add_row(Text(section, style="bold underline"), "")
        for key, what in rows:
            keys.add_row(key, what)
    verdicts = _table()
    for name, style, what in VERDICTS:
        verdicts.add_row(Text(verdict_words(name), style=style), what)
    levels = _table()
    for level, what in LEVELS:
        levels.add_row(level_words(level), what)
    where = _table()
    for what, path in paths:
        where.add_row(what, Text(path, overflow="fold"))
    heading = "bold reverse"
    return Group(
        Text(" Keys ", style=heading),
        keys,
        Text("\n Verdicts ", style=heading),
        verdicts,
        Text("\n Risk levels ", style=heading),
        levels,
        Text("\n Where files live ", style=heading),
        where,
    )


class HelpScreen(ModalScreen[None]):
    """Esc, F1, ? or q close it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,question_mark,q", "close", "Close")]

    def __init__(self, paths: PathList) -> None:
        super().__init__()
        self.paths = paths

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as scroll:
            scroll.border_title = "Onda help"
            scroll.border_subtitle = "Esc closes"
            yield Static(help_text(self.paths), id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)
