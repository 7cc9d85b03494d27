"""The catalog is complete, consistent and documented; ``storeops kpi list|values``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import pytest
from tests.kpi import shop
from typer.testing import CliRunner

from storeops.cli.main import app
from storeops.kpi import KPIS
from storeops.kpi.catalog import Direction, Grain, Kind, Unit
from storeops.kpi.docs import DEFAULT_DOC, main, render_catalog, with_catalog
from storeops.marts.kpi_daily import build_kpi_mart
from storeops.workspace import Workspace

runner = CliRunner()

#: What issue 7 asks the catalog to hold at least.
REQUIRED = {
    "entries", "capture_rate", "conversion", "atv", "upt", "sales", "sales_per_m2",
    "repeat_purchase_rate", "retention_30d", "new_members", "active_members",
    "private_domain_share", "points_liability", "stored_value_liability",
    "coupon_redemption_rate", "nps", "csat", "complaint_rate", "inventory_turnover_days",
}  # fmt: skip


def test_every_kpi_is_complete() -> None:
    assert set(KPIS) >= REQUIRED
    for kpi_id, k in KPIS.items():
        assert k.id == kpi_id
        assert all((k.name_zh, k.name_en, k.definition_zh, k.definition_en, k.formula))
        assert k.unit in get_args(Unit) and k.grain in get_args(Grain)
        assert k.direction in get_args(Direction) and k.kind in get_args(Kind)
        assert not k.level_ratio or k.kind == "last"
        # Chinese names are Chinese; English ones are not.
        assert any("\u4e00" <= ch <= "\u9fff" for ch in k.name_zh), k.id
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in k.name_en + k.definition_en)


@pytest.mark.parametrize(
    ("kpi", "value", "zh", "en"),
    [
        ("conversion", 0.0561, "5.6%", "5.6%"),
        ("complaint_rate", 0.00042, "0.04%", "0.04%"),
        ("atv", 12840.0, "¥128.40", "¥128.40"),
        ("sales", 123_456_789.0, "¥1,234,568", "¥1,234,568"),
        ("entries", 1234.0, "1,234", "1,234"),
        ("inventory_turnover_days", 23.46, "23.5 天", "23.5 days"),
        ("nps", 42.0, "42.0", "42.0"),
        ("sales_per_m2", 2317.8, "¥23.18/m²", "¥23.18/m²"),
        ("upt", None, "—", "—"),
    ],
)
def test_format(kpi: str, value: float | None, zh: str, en: str) -> None:
    k = KPIS[kpi]
    assert (k.format(value, "zh_CN"), k.format(value, "en")) == (zh, en)
    assert k.name("en") == k.name_en and k.name("zh-CN") == k.name_zh


def test_direction() -> None:
    assert KPIS["conversion"].better(0.06, 0.05) and not KPIS["conversion"].better(0.05, 0.06)
    assert KPIS["complaint_rate"].better(0.001, 0.002)
    assert KPIS["inventory_turnover_days"].direction == "down"


def test_doc_table_is_the_catalog(tmp_path: Path) -> None:
    text = DEFAULT_DOC.read_text(encoding="utf-8")
    assert with_catalog(text) == text, "docs/kpi.md is stale: run python -m storeops.kpi.docs"
    for k in KPIS.values():
        assert f"| `{k.id}` | {k.name_zh} / {k.name_en} |" in render_catalog()
    stale = tmp_path / "kpi.md"
    stale.write_text(text.replace("| `conversion` |", "| `conv` |"), encoding="utf-8")
    assert main([str(stale), "--check"]) == 1
    assert main([str(stale)]) == 0 and main([str(stale), "--check"]) == 0


def test_cli_list_and_values(duckdb_workspace: Workspace) -> None:
    listed = runner.invoke(app, ["kpi", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [k["id"] for k in json.loads(listed.stdout)] == list(KPIS)
    table = runner.invoke(app, ["kpi", "list", "--lang", "en"])
    assert "Conversion" in table.output and "成交转化率" not in table.output
    assert "成交转化率" in runner.invoke(app, ["kpi", "list"]).output

    root = str(duckdb_workspace.root)
    missing = runner.invoke(app, ["kpi", "values", "sales", "-w", root])
    assert missing.exit_code == 2 and "marts refresh" in missing.output
    with duckdb_workspace.warehouse() as wh:
        shop.fill(wh)
    build_kpi_mart(duckdb_workspace)
    args = ["kpi", "values", "conversion", "sales", "--grain", "month", "-w", root]
    out = runner.invoke(app, [*args, "--store", "S1", "--from", "2026-02-01", "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert {(r["kpi"], r["period_start"]) for r in rows} == {
        (k, m) for k in ("conversion", "sales") for m in ("2026-02-01", "2026-03-01")
    }
    conv = next(r for r in rows if r["kpi"] == "conversion")
    assert conv["value"] == pytest.approx(conv["numerator"] / conv["denominator"])
    chain = runner.invoke(app, [*args, "--chain", "--lang", "en"])
    assert chain.exit_code == 0 and "Conversion" in chain.output and "│ *" in chain.output
    bad = runner.invoke(app, ["kpi", "values", "nope", "-w", root])
    assert bad.exit_code == 2 and "unknown KPI nope" in bad.output
    grain = runner.invoke(app, ["kpi", "values", "sales", "--grain", "year", "-w", root])
    assert grain.exit_code == 2 and "day, week or month" in grain.output
