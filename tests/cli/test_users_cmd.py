"""``storeops users`` and ``storeops apikeys`` from the command line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from storeops.access import authenticate, verify_key
from storeops.cli.main import app
from storeops.workspace import Workspace

runner = CliRunner()


def test_users_and_keys(duckdb_workspace: Workspace) -> None:
    root = str(duckdb_workspace.root)
    made = runner.invoke(
        app,
        ["users", "add", "li", "--role", "store_manager", "--store", "S1", "--password-stdin",
         "-w", root, "--json"],
        input="a long enough password\n",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["stores"] == ["S1"]
    engine = duckdb_workspace.ops_engine()
    assert authenticate(engine, "li", "a long enough password").stores == frozenset({"S1"})
    args = ["users", "add", "x", "--role", "store_manager", "--password-stdin", "-w", root]
    bad = runner.invoke(app, args, input="a long enough password\n")
    assert bad.exit_code == 2 and "at least one store" in bad.output
    listed = json.loads(runner.invoke(app, ["users", "list", "-w", root, "--json"]).stdout)
    assert listed[0]["username"] == "li"

    key = json.loads(
        runner.invoke(app, ["apikeys", "add", "till", "--store", "S1", "-w", root, "--json"]).stdout
    )
    assert verify_key(engine, key["key"]) is not None
    listing = runner.invoke(app, ["apikeys", "list", "-w", root])
    assert key["prefix"] in listing.output and key["key"] not in listing.output
    assert runner.invoke(app, ["apikeys", "revoke", key["prefix"], "-w", root]).exit_code == 0
    assert verify_key(engine, key["key"]) is None
    again = runner.invoke(app, ["apikeys", "revoke", key["prefix"], "-w", root])
    assert again.exit_code == 2 and "no live API key" in again.output
