"""``storeops promotions`` and ``storeops coupons`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from storeops.cli.main import app
from storeops.workspace import Workspace

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_programs_coupons_redeem_and_void(duckdb_workspace: Workspace, tmp_path: Path) -> None:
    w = ["-w", str(duckdb_workspace.root)]
    example = tmp_path / "programs.toml"
    example.write_text(_run("promotions", "example"), encoding="utf-8")
    added = json.loads(_run("promotions", "add", str(example), *w, "--json"))
    assert all(a["created"] for a in added) and len(added) == 6
    again = json.loads(_run("promotions", "add", str(example), *w, "--json"))
    assert not any(a["created"] for a in again)
    listed = json.loads(_run("promotions", "list", *w, "--json"))
    assert {p["program_id"] for p in listed} >= {"MJ-200-300", "WELCOME-20"}
    assert "Promotion programs" in _run("promotions", "list", *w)
    shown = json.loads(_run("promotions", "show", "MJ-200-300", *w, "--json"))
    assert shown["params"]["tiers"] == [[20000, 4000], [30000, 8000]]

    issued = json.loads(
        _run("coupons", "issue", "WELCOME-20", "-n", "2", "--key", "b1", *w, "--json")
    )
    code = issued["codes"][0]
    assert (
        json.loads(_run("coupons", "issue", "WELCOME-20", "-n", "2", "--key", "b1", *w, "--json"))
        == issued
    )
    codes_file = tmp_path / "codes.csv"
    codes_file.write_text("PARTNER0001,x\nPARTNER0002,y\n", encoding="utf-8")
    assert (
        json.loads(_run("coupons", "import", "WELCOME-20", str(codes_file), *w, "--json"))["count"]
        == 2
    )
    # the same file again: the derived key replays the answer
    assert "2 code(s) imported" in _run("coupons", "import", "WELCOME-20", str(codes_file), *w)

    quoted = json.loads(
        _run(
            "promotions",
            "quote",
            "--line",
            "A1:25000:1:tops",
            "--code",
            code,
            "--customer",
            "C1",
            *w,
            "--json",
        )
    )
    assert quoted["discount_fen"] == 4000  # 满200减40 beats the 20-yuan coupon (no stacking)
    assert quoted["coupons"][0]["reason"] == "outranked"
    redeem = ["coupons", "redeem", code, "--order", "O1", "--total", "15000", "--customer", "C1"]
    done = json.loads(_run(*redeem, *w, "--json"))
    assert done["discount_fen"] == 2000
    assert json.loads(_run(*redeem, *w, "--json")) == done  # retry: same answer
    second = runner.invoke(
        app,
        ["coupons", "redeem", code, "--order", "O2", "--total", "15000", "--customer", "C1", *w],
    )
    assert second.exit_code == 2 and "used already" in second.output
    rid = str(done["redemption_id"])
    assert "voided" in _run("coupons", "void", rid, *w)
    assert "voided" in _run("coupons", "void", rid, *w)  # the same void again: no change
    coupon = json.loads(_run("coupons", "show", code, *w, "--json"))
    assert coupon["status"] == "issued" and coupon["redemptions"][0]["voided_at"]
    bad = runner.invoke(app, ["coupons", "redeem", code, "--order", "O3", "--line", "oops", *w])
    assert bad.exit_code == 2 and "SKU:UNIT_PRICE_FEN" in bad.output
    assert "paused" in _run("promotions", "status", "WELCOME-20", "paused", *w)
