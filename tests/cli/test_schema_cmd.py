"""``storeops schema list|show``."""

from __future__ import annotations

import json

import pytest
from rich.console import Console
from typer.testing import CliRunner

from storeops.cli import schema_cmd
from storeops.cli.main import app
from storeops.warehouse import TABLES
from storeops.warehouse.docs import table_to_dict

runner = CliRunner()


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Print tables 200 columns wide so cells do not wrap."""
    monkeypatch.setattr(schema_cmd, "console", Console(width=200))


def test_list_shows_every_importable_table_in_import_order() -> None:
    result = runner.invoke(app, ["schema", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["name"] for r in rows] == TABLES.import_order()
    orders = next(r for r in rows if r["name"] == "orders")
    assert orders == {
        "name": "orders",
        "description": TABLES["orders"].description,
        "natural_key": ["order_id"],
        "columns": 11,
        "system": False,
    }


def test_list_all_adds_the_bookkeeping_tables() -> None:
    result = runner.invoke(app, ["schema", "list", "--all", "--json"])
    names = [r["name"] for r in json.loads(result.output)]
    assert names[-4:] == ["load_records", "quarantine", "collector_batches", "failed_events"]


@pytest.mark.usefixtures("wide")
def test_list_as_a_table() -> None:
    result = runner.invoke(app, ["schema", "list"])
    assert result.exit_code == 0, result.output
    for name in TABLES.importable_names:
        assert name in result.output
    assert "store_id, entrance_id, interval_start" in result.output
    assert "load_records" not in result.output


def test_show_json_is_the_full_contract() -> None:
    result = runner.invoke(app, ["schema", "show", "order_lines", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data == table_to_dict(TABLES["order_lines"])
    assert data["natural_key"] == ["order_id", "line_no"]
    quantity = next(c for c in data["columns"] if c["name"] == "quantity")
    assert quantity == {
        "name": "quantity",
        "type": "int64",
        "required": True,
        "default": None,
        "minimum": 1,
        "maximum": 100_000,
        "choices": None,
        "references": None,
        "max_length": None,
        "money": False,
        "description": "Units sold.",
    }
    sku = next(c for c in data["columns"] if c["name"] == "sku")
    assert sku["references"] == "products.sku"
    assert next(c for c in data["columns"] if c["name"] == "amount_fen")["money"] is True


@pytest.mark.usefixtures("wide")
def test_show_as_a_table() -> None:
    result = runner.invoke(app, ["schema", "show", "orders"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "references customers.customer_id" in out
    assert "one of wechat_pay, alipay, cash, bank_card, stored_value, points, other" in out
    assert "range 0 – 1,000,000,000,000; default 0" in out
    assert "natural key: order_id" in out


def test_show_unknown_table_exits_2_listing_the_choices() -> None:
    result = runner.invoke(app, ["schema", "show", "order"])
    assert result.exit_code == 2
    out = " ".join(result.output.split())  # Rich wraps long messages
    assert "unknown table 'order'; choose one of: " + ", ".join(TABLES.importable_names) in out


def test_schema_needs_no_workspace() -> None:
    result = runner.invoke(app, ["schema", "show", "stores", "--json"])
    assert json.loads(result.output)["natural_key"] == ["store_id"]
