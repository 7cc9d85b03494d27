"""``storeops demo`` and ``storeops summary`` through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storeops.cli.main import app
from storeops.demo import DemoTruth

runner = CliRunner()

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("cli") / "demo"
    result = runner.invoke(
        app,
        [
            "demo",
            str(target),
            "--stores",
            "2",
            "--customers",
            "120",
            "--days",
            "21",
            "--events",
            "800",
            "--seed",
            "5",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Store performance" in result.output
    assert "S001" in result.output and "S002" in result.output
    return target


def test_demo_writes_sources_and_truth(demo_dir: Path) -> None:
    truth = DemoTruth.read(demo_dir / "sources")
    assert truth.config["stores"] == 2 and truth.config["seed"] == 5
    assert (demo_dir / "sources" / "orders" / "pos" / "mapping.toml").is_file()
    assert (demo_dir / "warehouse.duckdb").is_file()


def test_summary_json(demo_dir: Path) -> None:
    result = runner.invoke(app, ["summary", "--workspace", str(demo_dir), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["store_id"] for r in rows] == ["S001", "S002"]
    truth = DemoTruth.read(demo_dir / "sources")
    for row in rows:
        real = truth.store(row["store_id"]).realised
        assert set(row) == {
            "store_id",
            "name",
            "entries",
            "transactions",
            "sales_fen",
            "conversion",
            "atv_fen",
            "customers",
            "repeat_customers",
            "repeat_purchase_rate",
        }
        assert row["entries"] == real["entries"]
        assert row["transactions"] == real["transactions"]
        assert row["conversion"] == pytest.approx(real["conversion"])


def test_summary_date_range_and_table(demo_dir: Path) -> None:
    one_day = runner.invoke(
        app,
        ["summary", "-w", str(demo_dir), "--from", "2026-10-31", "--to", "2026-10-31", "--json"],
    )
    whole = runner.invoke(app, ["summary", "-w", str(demo_dir), "--json"])
    day_rows, all_rows = json.loads(one_day.output), json.loads(whole.output)
    for d, a in zip(day_rows, all_rows, strict=True):
        assert 0 < d["entries"] < a["entries"]
    table = runner.invoke(app, ["summary", "-w", str(demo_dir)])
    assert table.exit_code == 0 and "Store performance" in table.output


def test_summary_rejects_bad_dates(demo_dir: Path) -> None:
    reversed_range = runner.invoke(
        app, ["summary", "-w", str(demo_dir), "--from", "2026-10-31", "--to", "2026-10-01"]
    )
    assert reversed_range.exit_code == 2
    assert "swap them" in reversed_range.output
    not_a_date = runner.invoke(app, ["summary", "-w", str(demo_dir), "--from", "31/10/2026"])
    assert not_a_date.exit_code == 2
    assert "YYYY-MM-DD" in not_a_date.output


def test_demo_json_output(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "demo",
            str(tmp_path / "j"),
            "--stores",
            "1",
            "--customers",
            "30",
            "--days",
            "14",
            "--events",
            "200",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["quarantined"] == data["planted_malformed"] == 23
    assert data["rows_read"] == data["loaded"] + data["duplicates"] + data["quarantined"]
    assert [r["store_id"] for r in data["summary"]] == ["S001"]


def test_demo_rejects_bad_config(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", str(tmp_path / "bad"), "--stores", "0"])
    assert result.exit_code == 2
    assert "stores must be between" in result.output


def test_demo_rerun_is_idempotent_and_refuses_other_settings(demo_dir: Path) -> None:
    again = runner.invoke(
        app,
        [
            "demo",
            str(demo_dir),
            "--stores",
            "2",
            "--customers",
            "120",
            "--days",
            "21",
            "--events",
            "800",
            "--seed",
            "5",
            "--json",
        ],
    )
    assert again.exit_code == 0, again.output
    data = json.loads(again.output)
    assert data["loaded"] == 0
    assert {load["status"] for load in data["loads"]} == {"already_loaded"}
    other = runner.invoke(app, ["demo", str(demo_dir), "--stores", "3"])
    assert other.exit_code == 2
    assert "other settings" in other.output
