"""Importing the headless service packages loads neither the TUI toolkit nor the model stack.

tests/core covers monitor, monitor.cli/scoring/storage/config and brand_dna; this covers what
`onda watch` and plugin authors import: monitor.service, monitor.sources, monitor.risk,
monitor.alerts (what each import adds is reported separately).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

from hardening_support import REPO

HEAVY = ("textual", "textual_serve", "torch", "sentence_transformers", "tui")


MODULES = ("monitor.service", "monitor.sources", "monitor.risk", "monitor.alerts", "monitor.watch")


def test_service_packages_load_no_heavy_module() -> None:
    """One fresh interpreter imports them in turn and reports what each one dragged in."""
    code = (
        "import importlib, json, sys\n"
        "report = {}\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        f"    report[name] = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(json.dumps(report))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO, check=True)
    report = json.loads(out.stdout)
    assert set(report) == set(MODULES)
    assert report == {m: [] for m in MODULES}, f"heavy modules loaded on import: {report}"


def test_import_contracts_hold() -> None:
    """`lint-imports` checks the layer contracts in pyproject.toml (monitor never imports tui, ...).

    import-linter is in the `dev` extra, so a missing tool is a failure, not a skip.
    """
    assert importlib.util.find_spec("importlinter") is not None, "import-linter is missing: pip install -e '.[dev]'"
    code = "import sys; from importlinter.cli import lint_imports_command; sys.argv = ['lint-imports']; lint_imports_command()"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout
