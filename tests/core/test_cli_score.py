"""`onda score` end to end, as a user runs it (real model, subprocess)."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import pytest

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


def test_a_model_that_cannot_be_loaded_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONDA_MODEL__BACKEND", "sentence-transformers")
    monkeypatch.setenv("ONDA_MODEL__NAME", str(tmp_path / "no-such-model"))
    for command in (["score"], ["eval", "--labels", "examples/fit/lavazza.jsonl"]):
        proc = run_onda([*command, "--brand", "examples/brands/lavazza.toml"], '{"id": "a", "title": "caffè"}\n', tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert f"onda: cannot load embedding model '{tmp_path / 'no-such-model'}'" in proc.stderr
        assert "Traceback" not in proc.stderr


def onda_process(args: list[str], tmp_path: Path, **streams: Any) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ONDA_MODEL__CACHE_DIR": str(tmp_path / "cache"), "ONDA_RISK__CREDIBILITY_DIR": str(tmp_path)}
    return subprocess.Popen([sys.executable, "-m", "monitor", *args], cwd=REPO, env=env, **streams)


def read_line(stream: IO[bytes], timeout: float) -> bytes:
    """One line from a pipe, or b"" if none came within `timeout` (select: the pipe is read unbuffered)."""
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return line
        byte = os.read(stream.fileno(), 1)
        if not byte:
            return line
        line += byte
    return line


def test_score_answers_each_line_while_the_input_is_still_open(tmp_path: Path) -> None:
    """`(echo x; sleep; echo y) | onda score`: the verdict of x comes before y is even written."""
    proc = onda_process(
        ["score", "--brand", "examples/brands/lavazza.toml"],
        tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(json.dumps({"id": "x", "title": "Sinner vince gli Australian Open"}).encode() + b"\n")
        proc.stdin.flush()
        first = read_line(proc.stdout, timeout=240)  # start-up (model, indexes) on a busy machine
        assert first, "no verdict while the input was still open: the whole input was awaited"
        assert json.loads(first)["id"] == "x"
        proc.stdin.write(json.dumps({"id": "y", "title": "Alluvione in Emilia"}).encode() + b"\n")
        proc.stdin.close()
        assert json.loads(read_line(proc.stdout, timeout=120))["id"] == "y"
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()


def test_score_on_a_terminal_loads_the_model_before_reading(tmp_path: Path) -> None:
    """stderr a terminal: "loading…" then "ready" are said before any input exists."""
    leader, follower = pty.openpty()
    proc = onda_process(
        ["score", "--brand", "examples/brands/lavazza.toml"],
        tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=follower,
    )
    os.close(follower)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        said = b""
        deadline = time.monotonic() + 240
        while b"ready" not in said and time.monotonic() < deadline:
            if select.select([leader], [], [], 1.0)[0]:
                said += os.read(leader, 1024)
        assert b"loading the model" in said and b"ready, reading <stdin>" in said, said
        assert b"Loading weights" not in said
        proc.stdin.write(b'{"id": "z", "title": "Festa del caff\xc3\xa8"}\n')
        proc.stdin.close()
        assert json.loads(read_line(proc.stdout, timeout=120))["id"] == "z"
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        os.close(leader)


@pytest.mark.model
def test_no_progress_bars_when_stderr_is_not_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sentence-transformers draws "Loading weights 100%|███|" with tqdm: not into a log or a pipe."""
    monkeypatch.setenv("ONDA_MODEL__BACKEND", "sentence-transformers")
    for name in ("HF_HUB_DISABLE_PROGRESS_BARS", "TQDM_DISABLE"):
        monkeypatch.delenv(name, raising=False)
    proc = run_onda(["score", "--brand", "examples/brands/lavazza.toml"], '{"id": "a", "title": "Sinner"}\n', tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["id"] == "a"
    assert "Loading weights" not in proc.stderr and "%|" not in proc.stderr and "\r" not in proc.stderr


def test_eval_labels_from_stdin_are_named_stdin(tmp_path: Path) -> None:
    labels = "\n".join(
        [
            json.dumps({"id": "a", "title": "Sinner vince gli Australian Open", "label": "fit"}),
            json.dumps({"id": "b", "title": "Terremoto in Calabria, morti", "label": "risky"}),
            "{broken",
        ]
    )
    proc = run_onda(["eval", "--brand", "examples/brands/lavazza.toml", "--labels", "-"], labels + "\n", tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "Lavazza — <stdin> (2 trends)" in proc.stdout
    assert "— - (" not in proc.stdout
    assert "onda eval: skipped <stdin>:3:" in proc.stderr
