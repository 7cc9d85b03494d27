"""Settings resolve: environment STOREOPS_* > storeops.toml > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from storeops.errors import ConfigError
from storeops.settings import SETTINGS_FILE, Settings, load_settings


def write_toml(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SETTINGS_FILE
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_settings_file(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert settings.workspace == tmp_path.resolve()
    assert settings.warehouse_backend == "duckdb"
    assert settings.warehouse_file == tmp_path.resolve() / "warehouse.duckdb"
    assert settings.ops_url == f"sqlite:///{tmp_path.resolve() / 'ops.sqlite'}"
    assert settings.default_timezone == "Asia/Shanghai"
    assert str(settings.zone) == "Asia/Shanghai"
    assert settings.currency == "CNY"
    assert settings.lock_timeout_seconds == 30.0
    assert settings.encryption_key is None
    assert settings.session_key is None


def test_settings_file_beats_defaults(tmp_path: Path) -> None:
    write_toml(
        tmp_path,
        'default_timezone = "Europe/Berlin"\nlock_timeout_seconds = 5\n'
        'warehouse_path = "data/wh.duckdb"\n',
    )
    settings = load_settings(tmp_path)
    assert settings.default_timezone == "Europe/Berlin"
    assert settings.lock_timeout_seconds == 5.0
    assert settings.warehouse_file == tmp_path.resolve() / "data" / "wh.duckdb"
    assert settings.currency == "CNY"  # not in the file: default


def test_environment_beats_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_toml(tmp_path, 'default_timezone = "Europe/Berlin"\ncurrency = "HKD"\n')
    monkeypatch.setenv("STOREOPS_DEFAULT_TIMEZONE", "UTC")
    monkeypatch.setenv("STOREOPS_LOCK_TIMEOUT_SECONDS", "2.5")
    settings = load_settings(tmp_path)
    assert settings.default_timezone == "UTC"
    assert settings.lock_timeout_seconds == 2.5
    assert settings.currency == "HKD"  # only in the file


def test_explicit_overrides_beat_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_toml(tmp_path, "lock_timeout_seconds = 5\n")
    monkeypatch.setenv("STOREOPS_LOCK_TIMEOUT_SECONDS", "7")
    assert load_settings(tmp_path, lock_timeout_seconds=1).lock_timeout_seconds == 1


def test_absolute_paths_are_kept(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "wh.duckdb"
    write_toml(tmp_path / "ws", f'warehouse_path = "{target.as_posix()}"\n')
    assert load_settings(tmp_path / "ws").warehouse_file == target


def test_ops_database_url_setting_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREOPS_OPS_DATABASE_URL", "postgresql+psycopg://ops@db/storeops")
    assert load_settings(tmp_path).ops_url == "postgresql+psycopg://ops@db/storeops"


def test_workspace_comes_from_storeops_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_toml(tmp_path / "ws", 'currency = "USD"\n')
    monkeypatch.setenv("STOREOPS_WORKSPACE", str(tmp_path / "ws"))
    settings = load_settings()
    assert settings.workspace == (tmp_path / "ws").resolve()
    assert settings.currency == "USD"
    # An explicit folder (the --workspace option) wins over the variable.
    assert load_settings(tmp_path).workspace == tmp_path.resolve()


def test_workspace_defaults_to_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_toml(tmp_path, 'currency = "EUR"\n')
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.workspace == tmp_path.resolve()
    assert settings.currency == "EUR"


def test_unknown_time_zone_in_the_file(tmp_path: Path) -> None:
    toml = write_toml(tmp_path, 'default_timezone = "Asia/Beijing"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    message = str(info.value)
    assert "default_timezone (STOREOPS_DEFAULT_TIMEZONE) = 'Asia/Beijing'" in message
    assert "use an IANA name such as 'Asia/Shanghai'" in message
    assert str(toml) in message
    assert isinstance(info.value, ValueError)


def test_bad_backend_in_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREOPS_WAREHOUSE_BACKEND", "oracle")
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    message = str(info.value)
    assert "warehouse_backend (STOREOPS_WAREHOUSE_BACKEND) = 'oracle'" in message
    assert "'duckdb' or 'spark'" in message


def test_broken_toml_is_a_config_error(tmp_path: Path) -> None:
    toml = write_toml(tmp_path, 'currency = "CNY"\ncurrency = "USD"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    assert f"{toml} is not valid TOML (Cannot overwrite a value (at line 2" in str(info.value)
    assert f"storeops init {tmp_path.resolve()}" in str(info.value)


def test_non_positive_lock_timeout_is_rejected(tmp_path: Path) -> None:
    write_toml(tmp_path, "lock_timeout_seconds = 0\n")
    with pytest.raises(ConfigError, match=r"lock_timeout_seconds .* greater than 0"):
        load_settings(tmp_path)


def test_loading_one_workspace_does_not_leak_into_the_next(tmp_path: Path) -> None:
    write_toml(tmp_path / "a", 'currency = "USD"\n')
    assert load_settings(tmp_path / "a").currency == "USD"
    assert load_settings(tmp_path / "b").currency == "CNY"
    assert Settings().currency == "CNY"


def test_secrets_are_not_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREOPS_ENCRYPTION_KEY", "s3cret-key")
    settings = load_settings(tmp_path)
    assert settings.encryption_key is not None
    assert settings.encryption_key.get_secret_value() == "s3cret-key"
    assert "s3cret-key" not in repr(settings)
