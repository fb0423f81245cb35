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


def test_misspelt_env_section_is_an_error_naming_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "")
    monkeypatch.setenv("ONDA_MODLE__THREADS", "4")
    with pytest.raises(ConfigError) as err:
        load_settings(str(path))
    assert str(err.value) == "environment ONDA_MODLE__THREADS: unknown section 'modle' (did you mean ONDA_MODEL__THREADS?)"


def test_unknown_env_section_without_a_near_name_lists_the_sections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONDA_XYZZY__ON", "1")
    with pytest.raises(ConfigError, match=r"environment ONDA_XYZZY__ON: unknown section 'xyzzy' \(sections: brand, model,"):
        load_settings(str(write(tmp_path, "")))


def test_misspelt_env_key_names_the_variable_and_the_nearest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "")
    monkeypatch.setenv("ONDA_SOURCES__GDLET__ENABLED", "false")  # the misspelt part is deep inside
    with pytest.raises(ConfigError) as err:
        load_settings(str(path))
    assert str(err.value) == (
        "environment ONDA_SOURCES__GDLET__ENABLED: key 'sources.gdlet': unknown key "
        "(did you mean ONDA_SOURCES__GDELT__ENABLED?)"
    )


def test_misspelt_file_key_suggests_the_nearest(tmp_path: Path) -> None:
    path = write(tmp_path, "[alerts]\ncooldown_mins = 5\n")
    with pytest.raises(ConfigError) as err:
        load_settings(str(path))
    assert str(err.value) == f"{path}: key 'alerts.cooldown_mins': unknown key (did you mean 'alerts.cooldown_min'?)"
    with pytest.raises(ConfigError, match=r"key 'allerts': unknown key \(did you mean 'alerts'\?\)"):
        load_settings(str(write(tmp_path, "[allerts]\nenabled = true\n")))


def test_other_onda_variables_are_not_settings_and_stay_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets, the config path, the log level and per-brand webhook names have no `__`: never errors."""
    path = write(tmp_path, '[slack]\nbrand_webhook_env = {"Lavazza" = "ONDA_SLACK_LAVAZZA"}\n')
    for name in ("ONDA_SLACK_LAVAZZA", "ONDA_WEBHOOK_SECRET", "ONDA_YOUTUBE_API_KEY", "ONDA_FACTCHECK_API_KEY"):
        monkeypatch.setenv(name, "secret")
    monkeypatch.setenv("ONDA_LOG_LEVEL", "info")
    monkeypatch.setenv("ONDA_CONFIG", str(path))
    monkeypatch.setenv("ONDA_SLACK__WEBHOOK_URL", "https://hooks.example/x")
    monkeypatch.setenv("onda_model__threads", "3")  # case does not matter, like every override
    settings = load_settings(None)
    assert settings.slack.brand_webhook_env == {"Lavazza": "ONDA_SLACK_LAVAZZA"}
    assert settings.model.threads == 3
