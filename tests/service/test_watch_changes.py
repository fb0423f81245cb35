"""`onda watch --changes`: a script can get each story once; the `change` field and the stable id."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.cli import build_parser
from monitor.events import TrendEvent
from monitor.models import RiskAssessment, Trend, Verdict
from monitor.watch import JsonLinePrinter

REPO = Path(__file__).resolve().parents[2]


def event(change: str) -> TrendEvent:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    trend = Trend(id="t1", title="Terremoto in Calabria", lang="it", first_seen=now, last_seen=now)
    return TrendEvent(trend, {}, "rss", is_new=change == "new", risk_changed=change == "risk_changed")


def test_printer_writes_only_the_chosen_changes() -> None:
    out = io.StringIO()
    printer = JsonLinePrinter(out, changes=frozenset({"new", "risk_changed"}))
    for change in ("new", "update", "update", "risk_changed"):
        printer(event(change))
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["change"] for line in lines] == ["new", "risk_changed"]
    assert {line["id"] for line in lines} == {"t1"}


def test_changes_option_parses_a_comma_list() -> None:
    args = build_parser().parse_args(["watch", "--changes", "new, risk_changed"])
    assert args.changes == {"new", "risk_changed"}
    assert build_parser().parse_args(["watch"]).changes is None


@pytest.mark.parametrize("value", ["bogus", "new,updates", ","])
def test_changes_option_refuses_unknown_values(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["watch", "--changes", value])
    assert exit_.value.code == 2
    assert "expected a comma list of new, update, risk_changed" in capsys.readouterr().err


def test_watch_help_documents_change_and_id() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "watch", "--help"], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    text = " ".join(proc.stdout.split())
    assert '"change": "new" (first sighting), "update"' in text and '"risk_changed"' in text
    assert 'stable "id"' in text and "--changes new[,update,risk_changed]" in text


@pytest.mark.model
def test_watch_once_with_changes_new_gives_each_story_once(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ONDA_MODEL__CACHE_DIR": str(tmp_path / "cache"),
        "ONDA_RISK__CREDIBILITY_DIR": str(tmp_path),
        "ONDA_ALERTS__ENABLED": "false",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "watch", "--offline", "--once", "--changes", "new", "--db", str(tmp_path / "o.db")],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    trends = [line for line in map(json.loads, proc.stdout.splitlines()) if line["event"] == "trend"]
    ids = [t["id"] for t in trends]
    assert len(ids) >= 10 and len(ids) == len(set(ids))  # the replayed day: each story once
    assert {t["change"] for t in trends} == {"new"}


def test_each_trend_line_has_the_feedback_mark_per_brand() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    trend = Trend(id="t1", title="sinner", lang="it", first_seen=now, last_seen=now, context=["Sinner vince a Torino"])
    verdict = Verdict(id="t1", verdict="fit", fit=0.8, matched="Sinner", risk=RiskAssessment())
    out = io.StringIO()
    verdicts = {"Lavazza": verdict, "Ducati": verdict}
    JsonLinePrinter(out)(TrendEvent(trend, verdicts, "rss", is_new=True, marks={"Lavazza": "used"}))
    line = json.loads(out.getvalue())
    assert line["feedback"] == {"Lavazza": "used", "Ducati": None}
    assert line["id"] == "t1" and line["title"] == "Sinner vince a Torino"
