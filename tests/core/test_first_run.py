"""First run: `onda init` and what `onda` / `onda watch` do with no config and no brand (fresh HOME)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

import monitor.commands.init
from brand_dna.dna import load_brand
from monitor import cli
from monitor.config import Settings, load_settings
from monitor.starter import (
    StarterError,
    ensure_brands,
    example_brand_names,
    example_brand_text,
    file_stem,
    interactive_init,
    write_brand,
    write_example,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME, working directory outside the checkout, no ONDA_ or XDG_ variables."""
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    for name in list(os.environ):
        if name.startswith(("ONDA_", "XDG_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    return home


def config_dir(home: Path) -> Path:
    return home / ".config" / "onda"


def fresh_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONDA_", "XDG_"))}
    return {**env, "HOME": str(home), "PYTHONPATH": str(REPO)}


def scripted(answers: list[str]) -> tuple[list[str], list[str], object]:
    """An `ask` that replays answers (EOFError when they run out), with the prompts and said lines kept."""
    prompts: list[str] = []
    said: list[str] = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        if not answers:
            raise EOFError
        return answers.pop(0)

    return prompts, said, ask


# -- bundled examples ------------------------------------------------------------------------
def test_example_brands_are_package_data_identical_to_the_checkout_examples() -> None:
    names = example_brand_names()
    assert names == sorted(p.stem for p in (REPO / "examples" / "brands").glob("*.toml"))
    for name in names:
        assert example_brand_text(name) == (REPO / "examples" / "brands" / f"{name}.toml").read_text("utf-8")
    with pytest.raises(StarterError, match="there are: ducati, lavazza, oreo"):
        example_brand_text("nutella")


def test_file_stem_is_a_plain_file_name() -> None:
    assert file_stem("Caffè Rossi & Figli") == "caffe-rossi-figli"
    assert file_stem("../../etc/passwd") == "etc-passwd"
    assert file_stem("東京") == "brand"


# -- writing -----------------------------------------------------------------------------------
def test_write_brand_makes_a_loadable_brand_and_a_config_that_watches_it(home: Path) -> None:
    config = config_dir(home) / "config.toml"
    done = write_brand(config, "Caffè Rossi", ["Torrefazione di Milano dal 1950", " espresso  per i bar "])
    assert done.brand == config_dir(home) / "brands" / "caffe-rossi.toml"
    assert done.brand_written and done.config_written
    brand = load_brand(done.brand)
    assert brand.name == "Caffè Rossi"
    assert brand.dna == ("Torrefazione di Milano dal 1950", "espresso per i bar")
    settings = load_settings(None)  # the lookup finds the user config from any directory
    assert settings.brand_files() == [done.brand]


def test_write_example_is_harmless_to_repeat_and_never_overwrites(home: Path) -> None:
    config = config_dir(home) / "config.toml"
    first = write_example(config)
    again = write_example(config)
    assert first.brand_written and not again.brand_written and not again.config_written
    assert again.config_lists_brand
    assert load_brand(first.brand).name == "Lavazza"
    first.brand.write_text(first.brand.read_text("utf-8") + "# my edit\n", encoding="utf-8")
    with pytest.raises(StarterError, match=r"lavazza\.toml already exists"):
        write_example(config)
    assert first.brand.read_text("utf-8").endswith("# my edit\n")


def test_an_existing_config_is_left_alone_and_the_summary_says_what_to_add(home: Path) -> None:
    config = config_dir(home) / "config.toml"
    write_example(config, "oreo")
    before = config.read_bytes()
    done = write_brand(config, "Acme", ["Anvils and rockets for coyotes"])
    assert config.read_bytes() == before
    assert not done.config_written and not done.config_lists_brand
    assert any('add "brands/acme.toml" to its [brand] files' in line for line in done.summary())


def test_a_brand_needs_a_statement(home: Path) -> None:
    with pytest.raises(StarterError, match=r"brand\.dna"):
        write_brand(config_dir(home) / "config.toml", "Acme", [])
    assert not config_dir(home).joinpath("config.toml").exists()


# -- asking --------------------------------------------------------------------------------------
def test_interactive_init_asks_a_name_and_three_statements(home: Path) -> None:
    prompts, said, ask = scripted(["  Acme  ", "", "Anvils for coyotes", "x" * 600, "Rockets", "Desert deliveries"])
    done = interactive_init(config_dir(home) / "config.toml", ask, said.append)  # type: ignore[arg-type]
    assert load_brand(done.brand).dna == ("Anvils for coyotes", "Rockets", "Desert deliveries")
    assert [p.strip() for p in prompts[1:]] == ["1:", "1:", "2:", "2:", "3:"]  # empty and too long asked again
    assert any("at least one sentence" in s for s in said) and any("at most 500" in s for s in said)


def test_interactive_init_with_no_name_copies_the_example(home: Path) -> None:
    _, said, ask = scripted([""])
    done = interactive_init(config_dir(home) / "config.toml", ask, said.append)  # type: ignore[arg-type]
    assert load_brand(done.brand).name == "Lavazza"


def test_first_run_not_on_a_terminal_says_where_and_how(home: Path) -> None:
    settings = load_settings(None)
    target = config_dir(home) / "config.toml"
    with pytest.raises(StarterError) as err:
        ensure_brands(settings, target, ask=None, say=print)
    msg = str(err.value)
    assert str(target) in msg and "onda init --example" in msg and "onda init --name" in msg
    assert not target.exists()


def test_first_run_offer_declined_writes_nothing(home: Path) -> None:
    _, said, ask = scripted(["n"])
    with pytest.raises(StarterError, match="onda init"):
        ensure_brands(load_settings(None), config_dir(home) / "config.toml", ask=ask, say=said.append)  # type: ignore[arg-type]
    assert not config_dir(home).exists()


def test_a_configured_but_missing_brand_names_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[brand]\nfiles = ["gone.toml"]\n', encoding="utf-8")
    with pytest.raises(StarterError) as err:
        ensure_brands(load_settings(str(config)), tmp_path / "unused.toml", ask=lambda _: "y", say=print)
    assert f"brand file not found: {tmp_path / 'gone.toml'}" in str(err.value)
    assert f"[brand] files in {config}" in str(err.value)


def test_ensure_brands_is_silent_when_the_brands_exist(tmp_path: Path) -> None:
    brand = tmp_path / "b.toml"
    brand.write_text('[brand]\nname = "B"\ndna = ["x"]\n', encoding="utf-8")
    settings = Settings(brand={"files": [str(brand)]})
    assert ensure_brands(settings, tmp_path / "c.toml", ask=None, say=print) is None


# -- the command line ------------------------------------------------------------------------------
def test_onda_init_flags(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["init", "--name", "Acme", "--statement", "Anvils for coyotes", "--statement", "Rockets"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    brand = config_dir(home) / "brands" / "acme.toml"
    assert f"created {brand}" in out and f"created {config_dir(home) / 'config.toml'}" in out
    assert load_brand(brand).dna == ("Anvils for coyotes", "Rockets")
    assert cli.main(argv) == 0  # the same again changes nothing
    assert "already there, unchanged" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["init", "--example", "--name", "X"], "either --example or --name"),
        (["init", "--name", "X"], "at least one --statement"),
        (["init", "--statement", "x"], "give --name NAME"),
        (["init"], "not a terminal"),
    ],
)
def test_onda_init_refuses_incomplete_flags(
    home: Path, capsys: pytest.CaptureFixture[str], argv: list[str], error: str
) -> None:
    assert cli.main(argv) == 2
    assert error in capsys.readouterr().err
    assert not config_dir(home).exists()


def test_onda_init_writes_where_config_points(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "team" / "onda.toml"
    assert cli.main(["init", "--example", "ducati", "--config", str(target)]) == 0
    data = tomllib.loads(target.read_text("utf-8"))
    assert data == {"brand": {"files": ["brands/ducati.toml"]}}
    assert load_settings(str(target)).brand_files() == [tmp_path / "team" / "brands" / "ducati.toml"]


def test_first_run_in_a_terminal_creates_the_files_and_goes_on(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["", "Acme", "Anvils for coyotes", "Rockets", "Desert deliveries"])
    monkeypatch.setattr("builtins.input", lambda _prompt="": next(answers))
    monkeypatch.setattr(monitor.commands.init, "interactive", lambda: True)
    started: list[Settings] = []
    monkeypatch.setattr(cli, "cmd_watch", lambda settings, args: started.append(settings) or 0)
    assert cli.main(["watch", "--once"]) == 0
    assert started and started[0].brand_files() == [config_dir(home) / "brands" / "acme.toml"]
    assert "Welcome to Onda" in capsys.readouterr().out


def test_first_run_outside_the_checkout_is_one_clear_message(home: Path, tmp_path: Path) -> None:
    """`cd /tmp && onda --offline` with a fresh HOME and no terminal: no traceback, where and how."""
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "--offline"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path / "work",
        env=fresh_env(home),
    )
    assert proc.returncode == 2, proc.stderr
    assert "examples/brands/lavazza.toml: brand file not found" not in proc.stderr
    assert "nothing to watch yet" in proc.stderr
    assert str(config_dir(home) / "config.toml") in proc.stderr
    assert "onda init --example" in proc.stderr and "Traceback" not in proc.stderr
    assert time.monotonic() - started < 60  # answered before any model is loaded


def read_until(fd: int, needle: str, timeout: float = 60.0) -> str:
    """Read a pty until `needle` appears (or fail at the deadline)."""
    seen = ""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"{needle!r} never came; got {seen!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            seen += chunk.decode("utf-8", "replace")
    assert needle in seen, seen
    return seen


def test_onda_init_on_a_real_terminal(home: Path, tmp_path: Path) -> None:
    """The interactive `onda init` through a pseudo-terminal, as a user types it."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "init"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=tmp_path / "work",
        env=fresh_env(home),
    )
    os.close(follower)
    try:
        for prompt, answer in [("Brand name", "Acme"), ("1: ", "Anvils for coyotes"), ("2: ", "Rockets"), ("3: ", "")]:
            read_until(leader, prompt)
            os.write(leader, answer.encode() + b"\n")
        read_until(leader, "next: ")
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        os.close(leader)
    assert load_brand(config_dir(home) / "brands" / "acme.toml").dna == ("Anvils for coyotes", "Rockets")
