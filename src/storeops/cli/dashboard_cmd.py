"""``storeops dashboard demo-logins``: the demo's dashboard users (used by ``make demo``)."""

from __future__ import annotations

from typing import Annotated

import typer

from storeops.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    handle_errors,
    print_json,
    workspace_from,
)
from storeops.dashboard.demo_logins import ensure_demo_keys, ensure_demo_logins

dashboard_app = typer.Typer(help="The web dashboard (served by `storeops serve`).")


@dashboard_app.command("demo-logins")
@handle_errors
def demo_logins(
    url: Annotated[str, typer.Option(help="Where the dashboard will be served.")] = (
        "http://127.0.0.1:8000"
    ),
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create the demo's owner and store-manager logins (kept when they exist) and
    print them. For demo workspaces only: the passwords are fixed and documented."""
    ws = workspace_from(workspace)
    with ws.warehouse() as wh:
        stores = wh.to_pandas(wh.table("stores").select("store_id").order_by("store_id"))
    if stores.empty:
        raise typer.BadParameter("the workspace has no stores; build it with `storeops demo`")
    added_keys = ensure_demo_keys(ws)
    logins = ensure_demo_logins(ws, str(stores["store_id"].iloc[0]))
    if as_json:
        print_json({"url": url, "keys_added": added_keys,
                    "logins": [vars(login) for login in logins]})  # fmt: skip
        return
    console.print(f"\n[bold]Dashboard:[/] {url}/login")
    for login in logins:
        scope = f" (store {', '.join(login.stores)})" if login.stores else " (every store)"
        console.print(
            f"  log in as [bold]{login.username}[/] / [bold]{login.password}[/] — "
            f"{login.role}{scope}"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(dashboard_app, name="dashboard")
