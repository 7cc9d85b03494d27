"""``storeops serve``: the API (with the collector) and its scheduler, under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from storeops.cli.common import WorkspaceOption, handle_errors, workspace_from


@handle_errors
def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    access_log: Annotated[
        bool, typer.Option(help="Log every request (costly at collector rates).")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Serve the API: the Segment-compatible collector on /v1, the spool loader every
    minute. Point Segment SDKs at http://HOST:PORT with a key from `storeops sources add`."""
    import uvicorn

    from storeops.api import create_app

    app = create_app(workspace_from(workspace))
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=access_log)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
