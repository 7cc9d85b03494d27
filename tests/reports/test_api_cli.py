"""``storeops report …`` and ``GET /api/reports``: the file lands in reports/, its
path is printed; a store manager downloads only their stores' reports."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from storeops.access import create_key
from storeops.api.app import create_app
from storeops.cli.main import app
from storeops.workspace import Workspace, init_workspace

ROUTES = ("storeops.api.routes.reports",)


def test_cli_writes_into_the_reports_folder(demo: Workspace) -> None:
    runner = CliRunner()
    args = ["--store", "S002", "--format", "xlsx", "--date", "2026-10-30", "--lang", "en"]
    got = runner.invoke(app, ["report", "daily", *args, "-w", str(demo.root)])
    assert got.exit_code == 0, got.output
    path = Path(got.output.strip().splitlines()[-1])
    assert path == demo.folder("reports") / "daily-S002-2026-10-30-en.xlsx" and path.is_file()
    as_json = runner.invoke(app, ["report", "monthly", "--date", "2026-10-05", "--format",
                                  "html", "--json", "-w", str(demo.root)])  # fmt: skip
    assert as_json.exit_code == 0, as_json.output
    built = json.loads(as_json.output)
    assert built["period"] == "2026-10" and built["date_to"] == "2026-10-31"
    assert Path(built["path"]).name == "monthly-chain-2026-10-zh_CN.html"
    into = demo.root / "elsewhere" / "new-folder"
    named = runner.invoke(app, ["report", "weekly", "--date", "2026-10-21", "--format", "html",
                                "--out", str(into), "-w", str(demo.root)])  # fmt: skip
    assert named.exit_code == 0, named.output
    assert Path(named.output.strip().splitlines()[-1]).parent == into
    file = demo.root / "elsewhere" / "week.xlsx"
    exact = runner.invoke(app, ["report", "weekly", "--date", "2026-10-21", "--format", "xlsx",
                                "--out", str(file), "-w", str(demo.root)])  # fmt: skip
    assert exact.exit_code == 0 and file.is_file(), exact.output
    for args, message in (
        (["--out", str(file), "--format", "pdf"], "does not end in .pdf"),
        (["--store", "S999"], "unknown store 'S999'"),
        (["--format", "docx"], "unknown format 'docx'"),
        (["--date", "yesterday"], "is not a date; use YYYY-MM-DD"),
        (["--lang", "fr"], "choose zh_CN or en"),
    ):
        bad = runner.invoke(app, ["report", "weekly", *args, "-w", str(demo.root)])
        assert bad.exit_code == 2 and message in bad.output, (args, bad.output)


def _client(ws: Workspace, role: str, store: str | None = None) -> TestClient:
    key = create_key(ws.ops_engine(), role, role, store_id=store)["key"]
    return TestClient(create_app(ws, route_modules=ROUTES, background_jobs=False),
                      headers={"Authorization": f"Bearer {key}"})  # fmt: skip


def test_download_is_limited_to_the_callers_stores(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    names = ["daily-S1-2026-10-30-zh_CN.pdf", "weekly-S2-2026-W44-en.xlsx",
             "monthly-chain-2026-10-zh_CN.html"]  # fmt: skip
    for name in names:
        (ws.folder("reports") / name).write_bytes(f"content of {name}".encode())
    (ws.folder("reports") / ".daily-S1-2026-10-31-zh_CN.pdf.partial").write_bytes(b"half")
    manager = _client(ws, "store_manager", "S1")
    listed = manager.get("/api/reports")
    assert listed.status_code == 200
    assert [r["name"] for r in listed.json()["reports"]] == [names[0]]
    got = manager.get(f"/api/reports/{names[0]}")
    assert got.status_code == 200 and got.content == f"content of {names[0]}".encode()
    assert got.headers["content-type"] == "application/pdf"
    for other in (names[1], names[2], "daily-S1-2026-10-31-zh_CN.pdf", "../storeops.toml",
                  ".daily-S1-2026-10-31-zh_CN.pdf.partial"):  # fmt: skip
        assert manager.get(f"/api/reports/{other}").status_code == 404, other
    assert manager.get("/api/reports", params={"store": "S2"}).status_code == 404
    analyst = _client(ws, "analyst")
    every = analyst.get("/api/reports").json()["reports"]
    assert {r["name"] for r in every} == set(names)
    assert analyst.get("/api/reports", params={"store": "S2"}).json()["reports"][0]["period"] == (
        "2026-W44"
    )
    xlsx = analyst.get(f"/api/reports/{names[1]}")
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert _client(ws, "pos", "S1").get("/api/reports").status_code == 403
    assert TestClient(create_app(ws, route_modules=ROUTES)).get("/api/reports").status_code == 401


def test_the_server_starts_and_stops_the_report_job(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    app_ = create_app(ws, route_modules=ROUTES)  # background jobs on
    with TestClient(app_) as client:  # runs the lifespan: the job is scheduled …
        assert client.get("/health").status_code == 200
    # … and cancelled on the way out without an error


def test_a_workspace_without_the_kpi_mart_says_what_to_run(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    got = CliRunner().invoke(app, ["report", "daily", "-w", str(ws.root)])
    assert got.exit_code == 2 and "storeops marts refresh" in got.output, got.output
