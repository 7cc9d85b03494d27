"""Workspaces: init creates everything, re-running keeps data, open checks."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import create_engine, text

from storeops import __version__
from storeops.errors import ConfigError, WorkspaceError
from storeops.settings import SETTINGS_FILE, load_settings
from storeops.warehouse import TABLES
from storeops.workspace import FOLDERS, init_workspace, open_workspace


def _meta(root: Path) -> dict[str, str]:
    engine = create_engine(f"sqlite:///{root / 'ops.sqlite'}")
    with engine.connect() as con:
        rows = con.execute(text("SELECT key, value FROM workspace_meta")).all()
    engine.dispose()
    return {key: value for key, value in rows}


def test_init_creates_settings_folders_and_both_databases(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "shop")
    root = (tmp_path / "shop").resolve()
    assert ws.root == root
    assert (root / SETTINGS_FILE).is_file()
    for name in FOLDERS:
        assert (root / name).is_dir()
        assert ws.folder(name) == root / name
    assert {"spool", "quarantine", "outbox", "reports"} <= set(FOLDERS)
    assert (root / "warehouse.duckdb").is_file()
    assert _meta(root) == {"storeops_version": __version__}
    with ws.warehouse() as wh:
        assert {t.name for t in TABLES} <= set(wh.con.list_tables())


def test_settings_file_records_the_choices(tmp_path: Path) -> None:
    init_workspace(tmp_path / "ws", timezone="Europe/London")
    settings = load_settings(tmp_path / "ws")
    assert settings.default_timezone == "Europe/London"
    assert settings.warehouse_backend == "duckdb"
    assert settings.warehouse_path == "warehouse.duckdb"
    assert settings.lock_timeout_seconds == 30


def test_init_on_each_backend(workspace_backend_root: tuple[str, Path]) -> None:
    backend, root = workspace_backend_root
    settings = load_settings(root)
    assert settings.warehouse_backend == backend
    expected = "warehouse.duckdb" if backend == "duckdb" else "spark-warehouse"
    assert settings.warehouse_path == expected
    assert (root / expected).exists()


@pytest.fixture
def workspace_backend_root(workspace: object, backend: str) -> tuple[str, Path]:
    from storeops.workspace import Workspace

    assert isinstance(workspace, Workspace)
    return backend, workspace.root


def test_init_is_idempotent_and_keeps_data_and_settings(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    toml = ws.root / SETTINGS_FILE
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('currency = "CNY"', 'currency = "HKD"'),
        encoding="utf-8",
    )
    with ws.warehouse() as wh:
        wh.append("stores", pa.table({"store_id": ["S1"], "name": ["A"], "timezone": ["UTC"]}))
    (ws.folder("reports") / "keep.txt").write_text("x", encoding="utf-8")

    again = init_workspace(tmp_path / "ws", timezone="Europe/Paris")

    assert again.settings.currency == "HKD"
    assert again.settings.default_timezone == "Asia/Shanghai"  # file kept, not rewritten
    assert (again.folder("reports") / "keep.txt").read_text(encoding="utf-8") == "x"
    with again.warehouse() as wh:
        assert wh.count("stores") == 1
    assert _meta(again.root) == {"storeops_version": __version__}


def test_init_completes_a_partial_workspace(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    (ws.root / "outbox").rmdir()
    init_workspace(ws.root)
    assert (ws.root / "outbox").is_dir()


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"timezone": "Mars/Olympus"}, "default_timezone (STOREOPS_DEFAULT_TIMEZONE)"),
        ({"backend": "oracle"}, "warehouse_backend (STOREOPS_WAREHOUSE_BACKEND)"),
    ],
)
def test_init_rejects_bad_values_before_writing_anything(
    tmp_path: Path, kwargs: dict[str, str], needle: str
) -> None:
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        init_workspace(tmp_path / "ws", **kwargs)
    assert not (tmp_path / "ws").exists()


def test_open_workspace_on_a_plain_folder_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError) as info:
        open_workspace(tmp_path)
    message = str(info.value)
    assert f"{tmp_path.resolve()} is not a storeops workspace (no storeops.toml)" in message
    assert f"storeops init {tmp_path.resolve()}" in message
    assert "--workspace" in message
    assert isinstance(info.value, FileNotFoundError)


def test_open_workspace_uses_storeops_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    init_workspace(tmp_path / "ws")
    monkeypatch.setenv("STOREOPS_WORKSPACE", str(tmp_path / "ws"))
    assert open_workspace().root == (tmp_path / "ws").resolve()
    assert open_workspace(tmp_path / "ws").root == (tmp_path / "ws").resolve()


def test_open_workspace_defaults_to_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    init_workspace(tmp_path / "ws")
    monkeypatch.chdir(tmp_path / "ws")
    assert open_workspace().root == (tmp_path / "ws").resolve()
