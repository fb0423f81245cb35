from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from monitor.config import ConfigError, load_settings

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_repo_sample_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    settings = load_settings(None)
    assert settings.sources.google_trends.geo == "IT"
    assert settings.brand_files()[0].is_file()


def test_env_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "[sources.gdelt]\ninterval_s = 120\nenabled = true\n")
    monkeypatch.setenv("ONDA_SOURCES__GDELT__ENABLED", "false")
    settings = load_settings(str(path))
    assert settings.sources.gdelt.interval_s == 120
    assert settings.sources.gdelt.enabled is False


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, "[sources.gdelt]\nintervall_s = 120\n")
    with pytest.raises(ConfigError) as err:
        load_settings(str(path))
    assert str(path) in str(err.value)
    assert "sources.gdelt.intervall_s" in str(err.value)


def test_wrong_type_names_key(tmp_path: Path) -> None:
    path = write(tmp_path, "[http]\ntotal_timeout_s = \"soon\"\n")
    with pytest.raises(ConfigError, match=r"http\.total_timeout_s"):
        load_settings(str(path))


def test_bad_env_value_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "")
    monkeypatch.setenv("ONDA_HTTP__MAX_BYTES", "lots")
    with pytest.raises(ConfigError, match="ONDA_HTTP__MAX_BYTES"):
        load_settings(str(path))


def test_webhook_secret_refused_in_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[slack]\nwebhook_url = "https://hooks.slack.com/services/T/B/X"\n')
    with pytest.raises(ConfigError, match="ONDA_SLACK__WEBHOOK_URL") as err:
        load_settings(str(path))
    assert "hooks.slack.com" not in str(err.value)


def test_webhook_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONDA_SLACK__WEBHOOK_URL", "https://hooks.example/xyz")
    settings = load_settings(str(write(tmp_path, "")))
    assert settings.slack.webhook_url is not None
    assert settings.slack.webhook_url.get_secret_value() == "https://hooks.example/xyz"
    assert "xyz" not in repr(settings.slack)


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(str(tmp_path / "nope.toml"))


def test_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(str(write(tmp_path, "[http\n")))


def test_relative_paths_resolve_against_config_file(tmp_path: Path) -> None:
    sub = tmp_path / "conf"
    sub.mkdir()
    path = sub / "config.toml"
    path.write_text('[storage]\npath = "data/onda.db"\n', encoding="utf-8")
    settings = load_settings(str(path))
    assert settings.db_path() == sub.resolve() / "data" / "onda.db"


def test_cli_config_error_is_one_line_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, "[nonsense]\nx = 1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(path), "score", "--brand", "x.toml"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "nonsense" in proc.stderr and str(path) in proc.stderr
    assert "Traceback" not in proc.stderr
