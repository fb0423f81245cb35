"""How the headless core finds the dashboard: an `onda.dashboard` entry point, never an import of `tui`.

`monitor` must not import the TUI package (import-linter contract in pyproject.toml), yet `onda` and
`python -m monitor` open the dashboard by default. The `tui` package declares its runner under the
entry-point group below; the core only knows the `Dashboard` call signature.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Protocol

from monitor.config import Settings

DASHBOARD_ENTRY_POINT_GROUP = "onda.dashboard"


class DashboardNotInstalled(RuntimeError):
    """No package declares an `onda.dashboard` entry point (the `tui` package is not installed)."""


class Dashboard(Protocol):
    """Runs the dashboard until the user quits and returns the process exit code."""

    def __call__(self, settings: Settings, *, offline: bool, db: str | None = None) -> int: ...


def load_dashboard(name: str = "tui") -> Dashboard:
    """The dashboard runner declared under `onda.dashboard` with this name."""
    for ep in entry_points(group=DASHBOARD_ENTRY_POINT_GROUP, name=name):
        runner: Dashboard = ep.load()
        return runner
    raise DashboardNotInstalled(
        f"no dashboard named {name!r} is installed (entry point group {DASHBOARD_ENTRY_POINT_GROUP!r});"
        " reinstall onda-monitor"
    )
