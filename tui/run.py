"""`onda tui`: build the real service from settings and run the dashboard.

Everything heavy is imported lazily so `import tui.run` stays cheap; the model itself
is loaded by `service.start()`, which the app runs as a worker after the first frame.
`--offline` is the demo: the dashboard edits fresh copies of the brand files in the user
data dir (`demo_brand_copies`), so trying the Brand DNA editor never changes the originals
(the example brands of a checkout stay as they are).
"""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

import platformdirs

from monitor.config import APP_NAME, BrandSettings, Settings


def run_tui(settings: Settings, *, offline: bool, db: str | None = None, brand: str | None = None) -> int:
    """Run the dashboard until the user quits; returns the process exit code."""
    from brand_dna.dna import BrandFileError
    from monitor.compose import build_service
    from monitor.storage import StorageError
    from tui.app import OndaApp, local_now
    from tui.help import settings_paths

    if offline:
        try:
            settings = demo_brand_copies(settings)
        except OSError as exc:
            sys.stderr.write(f"onda: cannot copy the brand files for the offline demo: {exc}\n")
            return 2
    try:
        service = build_service(settings, offline=offline, db=db)
    except (BrandFileError, StorageError) as exc:  # one readable line, like the other commands
        sys.stderr.write(f"onda: {exc}\n")
        return 2
    with service.storage:  # closed on every path, like `onda watch`
        log_file = _log_to_file()
        app = OndaApp(service, brand=brand, clock=local_now, paths=settings_paths(settings))
        if settings.tui.theme == "light":
            app.theme = "textual-light"
        result = app.run()
    if log_file is not None and result:
        sys.stderr.write(f"onda: see the log in {log_file}\n")
    return int(result or 0)


def demo_folder() -> Path:
    """Where the offline demo keeps its brand copies."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "demo-brands"


def demo_brand_copies(settings: Settings, folder: Path | None = None) -> Settings:
    """`settings` with each brand file replaced by a fresh copy in `folder` (default demo_folder()).

    Copied at every start, so each demo session begins from the configured files. A missing file
    keeps its path, so loading it reports that path.
    """
    folder = folder or demo_folder()
    folder.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    for i, source in enumerate(settings.brand_files()):
        if not source.is_file():
            files.append(str(source))
            continue
        copy = folder / source.name
        if str(copy) in files:  # two brand files with one name, from different folders
            copy = folder / f"{i}-{source.name}"
        shutil.copyfile(source, copy)
        files.append(str(copy))
    return settings.model_copy(update={"brand": BrandSettings(files=files)})


def _log_to_file() -> Path | None:
    """While the dashboard owns the terminal, log lines go to a file instead of corrupting the screen."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            root.removeHandler(handler)
    try:
        path = Path(platformdirs.user_log_dir("onda")) / "onda.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        root.addHandler(logging.NullHandler())
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    return path
