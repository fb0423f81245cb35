"""`onda tui`: build the real service from settings and run the dashboard.

Everything heavy is imported lazily so `import tui.run` stays cheap; the model itself
is loaded by `service.start()`, which the app runs as a worker after the first frame.
"""

from __future__ import annotations

import sys

from monitor.config import Settings


def run_tui(settings: Settings, *, offline: bool, db: str | None = None, brand: str | None = None) -> int:
    """Run the dashboard until the user quits; returns the process exit code."""
    from tui.app import OndaApp, local_now

    try:
        from monitor.compose import build_service
    except ImportError as exc:  # pragma: no cover - only while the service is being written
        # TODO(lead): monitor.compose.build_service is the composition root the TUI expects.
        sys.stderr.write(f"onda tui: the monitor service is not available ({exc})" + "\n")
        return 2
    from brand_dna.dna import BrandFileError
    from monitor.storage import StorageError

    try:
        service = build_service(settings, offline=offline, db=db)
    except (BrandFileError, StorageError) as exc:  # one readable line, like the other commands
        sys.stderr.write(f"onda: {exc}\n")
        return 2
    app = OndaApp(service, brand=brand, clock=local_now)
    if settings.tui.theme == "light":
        app.theme = "textual-light"
    result = app.run()
    storage = getattr(service, "storage", None)
    if storage is not None and hasattr(storage, "close"):
        storage.close()
    return int(result or 0)
