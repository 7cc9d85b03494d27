"""``storeops init`` and the --workspace / STOREOPS_WORKSPACE option."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from storeops.cli.common import WorkspaceOption, handle_errors, workspace_from
from storeops.cli.main import app
from storeops.settings import SETTINGS_FILE, load_settings
from storeops.workspace import FOLDERS

runner = CliRunner()


def test_init_creates_a_workspace(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "shop")])
    assert result.exit_code == 0, result.output
    root = (tmp_path / "shop").resolve()
    assert "workspace ready:" in result.output
    assert (root / SETTINGS_FILE).is_file()
    assert all((root / name).is_dir() for name in FOLDERS)
    assert (root / "warehouse.duckdb").is_file()
    assert (root / "ops.sqlite").is_file()


def test_init_options_are_written_to_the_settings_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "ws"), "--timezone", "Asia/Hong_Kong"])
    assert result.exit_code == 0, result.output
    assert load_settings(tmp_path / "ws").default_timezone == "Asia/Hong_Kong"


def test_init_twice_is_fine(tmp_path: Path) -> None:
    for _ in range(2):
        result = runner.invoke(app, ["init", str(tmp_path / "ws")])
        assert result.exit_code == 0, result.output


def test_init_with_a_bad_time_zone_exits_2_with_the_fix(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "ws"), "--timezone", "Shanghai"])
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert "default_timezone (STOREOPS_DEFAULT_TIMEZONE) = 'Shanghai'" in out
    assert "use an IANA name such as 'Asia/Shanghai'" in out
    assert not (tmp_path / "ws").exists()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("storeops ")


# A probe command built from the shared option, as every workspace command uses it.
probe = typer.Typer()


@probe.command()
@handle_errors
def where(workspace: WorkspaceOption = None) -> None:
    typer.echo(f"root={workspace_from(workspace).root}")


@probe.command()
def other() -> None:  # a second command keeps Typer from collapsing the group
    pass


@pytest.fixture
def ws_root(tmp_path: Path) -> Path:
    result = runner.invoke(app, ["init", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    return (tmp_path / "ws").resolve()


def test_workspace_option(ws_root: Path) -> None:
    for flag in ("--workspace", "-w"):
        result = runner.invoke(probe, ["where", flag, str(ws_root)])
        assert result.exit_code == 0, result.output
        assert result.output.strip() == f"root={ws_root}"


def test_storeops_workspace_variable(ws_root: Path) -> None:
    result = runner.invoke(probe, ["where"], env={"STOREOPS_WORKSPACE": str(ws_root)})
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"root={ws_root}"


def test_option_beats_variable(ws_root: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        probe, ["where", "-w", str(ws_root)], env={"STOREOPS_WORKSPACE": str(tmp_path)}
    )
    assert result.output.strip() == f"root={ws_root}"


def test_missing_workspace_exits_2_with_the_init_hint(tmp_path: Path) -> None:
    result = runner.invoke(probe, ["where", "-w", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    out = " ".join(result.output.split())  # Rich wraps long messages
    assert f"{(tmp_path / 'nowhere').resolve()} is not a storeops workspace" in out
    assert f"storeops init {(tmp_path / 'nowhere').resolve()}" in out
