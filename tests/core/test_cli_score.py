"""`onda score` end to end, as a user runs it (real model, subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_onda(args: list[str], stdin: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ONDA_MODEL__CACHE_DIR": str(tmp_path / "cache"), "ONDA_RISK__CREDIBILITY_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env=env,
    )


def test_score_stdin_keeps_order_and_reports_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "title": "Sinner vince gli Australian Open", "lang": "it"}),
        "{not json",
        json.dumps({"id": "b", "title": "meteo weekend", "context": ["Pioggia al nord"]}),
        json.dumps({"id": "c"}),
        "",
        json.dumps({"id": 7, "title": "International Coffee Day", "lang": "en", "urls": ["https://example.com/x"]}),
    ]
    proc = run_onda(["score", "--brand", "examples/brands/lavazza.toml"], "\n".join(lines) + "\n", tmp_path)
    assert proc.returncode == 1, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "7"]
    for o in out:
        assert set(o) >= {"id", "verdict", "fit", "matched", "risk"}
        assert o["verdict"] in ("fit", "off_brand", "risky")
        assert set(o["risk"]) == {"level", "categories", "reasons", "evidence"}
        assert all(isinstance(r, str) for r in o["risk"]["reasons"]) and isinstance(o["why"], str)
        assert len(o["risk"]["evidence"]) >= len(o["risk"]["reasons"])  # an avoid folds its finding into one reason
        assert all({"layer", "category", "level", "garm"} <= set(e) for e in o["risk"]["evidence"])
    assert out[0]["verdict"] == "fit" and out[1]["verdict"] == "off_brand"
    errors = [line for line in proc.stderr.splitlines() if "skipped" in line]
    assert len(errors) == 2
    assert "<stdin>:2: invalid JSON" in errors[0]
    assert "<stdin>:4: missing or empty 'title'" in errors[1]
    assert "Traceback" not in proc.stderr


def test_score_bad_brand_file_is_one_clear_line(tmp_path: Path) -> None:
    brand = tmp_path / "b.toml"
    brand.write_text('[brand]\nname = "X"\n', encoding="utf-8")
    proc = run_onda(["score", "--brand", str(brand)], "", tmp_path)
    assert proc.returncode == 2
    assert "brand.dna" in proc.stderr and str(brand) in proc.stderr
    assert "Traceback" not in proc.stderr
