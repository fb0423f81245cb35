"""How the headless core finds the dashboard: entry points, never an import of `tui`.

`monitor` must not import the TUI package (import-linter contract in pyproject.toml), yet `onda` and
`python -m monitor` open the dashboard by default and `onda serve` puts it in a browser. The `tui`
package declares its runners under the entry-point groups below; the core only knows their call
signatures (`Dashboard`, `DashboardServer`).
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any, Protocol

from monitor.config import Settings

DASHBOARD_ENTRY_POINT_GROUP = "onda.dashboard"
DASHBOARD_SERVER_ENTRY_POINT_GROUP = "onda.dashboard_server"


class DashboardNotInstalled(RuntimeError):
    """No package declares the dashboard entry point asked for (the `tui` package is not installed)."""


class Dashboard(Protocol):
    """Runs the dashboard until the user quits and returns the process exit code."""

    def __call__(self, settings: Settings, *, offline: bool, db: str | None = None) -> int: ...


class DashboardServer(Protocol):
    """Serves the dashboard to browsers at host:port until interrupted; returns the process exit code.

    Each browser session runs its own dashboard with the same config, `--offline`, `--db` and first
    `brand` as the server; `public_url` is the address browsers use (behind a reverse proxy).
    """

    def __call__(
        self,
        settings: Settings,
        *,
        offline: bool,
        db: str | None,
        brand: str | None,
        host: str,
        port: int,
        public_url: str | None,
    ) -> int: ...


def load_dashboard(name: str = "tui") -> Dashboard:
    """The dashboard runner declared under `onda.dashboard` with this name."""
    runner: Dashboard = _load(DASHBOARD_ENTRY_POINT_GROUP, name)
    return runner


def load_dashboard_server(name: str = "tui") -> DashboardServer:
    """The dashboard server declared under `onda.dashboard_server` with this name."""
    server: DashboardServer = _load(DASHBOARD_SERVER_ENTRY_POINT_GROUP, name)
    return server


def _load(group: str, name: str) -> Any:
    for ep in entry_points(group=group, name=name):
        return ep.load()
    raise DashboardNotInstalled(
        f"no dashboard named {name!r} is installed (entry point group {group!r}); reinstall onda-monitor"
    )
