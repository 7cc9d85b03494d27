"""Shared CLI pieces: the --workspace option, JSON output, error reporting."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from storeops.errors import ConfigError, StoreOpsError
from storeops.workspace import Workspace, open_workspace

console = Console()
err_console = Console(stderr=True)

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        envvar="STOREOPS_WORKSPACE",
        help="Workspace folder (default: $STOREOPS_WORKSPACE or the current folder).",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")
]

StoreOption = Annotated[str | None, typer.Option("--store", help="Only this store.")]
SinceOption = Annotated[str | None, typer.Option("--from", help="First local day, YYYY-MM-DD.")]
#: An inclusive last day, as store managers say "from the 1st to the 28th".
UntilOption = Annotated[
    str | None, typer.Option("--to", help="Last local day (inclusive), YYYY-MM-DD.")
]

LangOption = Annotated[str, typer.Option("--lang", help="zh_CN (default) or en.")]

P = ParamSpec("P")
R = TypeVar("R")


def workspace_from(path: Path | None) -> Workspace:
    return open_workspace(path)


def parse_day(value: str | None, option: str) -> date | None:
    """A ``YYYY-MM-DD`` option value as a date (None stays None); anything else is a
    :class:`ConfigError` naming the option, which :func:`handle_errors` reports."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{option} {value!r} is not a date; use YYYY-MM-DD") from None


def print_json(data: Any) -> None:
    """Write ``data`` as JSON on stdout (no Rich markup, stable for scripts)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn :class:`StoreOpsError` and invalid query values (pydantic) into a clear
    message and exit status 2."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except StoreOpsError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None
        except ValidationError as exc:
            for problem in exc.errors():
                field = ".".join(str(p) for p in problem["loc"])
                message = str(problem["msg"]).removeprefix("Value error, ")
                where = f"{field}: " if field else ""
                err_console.print(
                    f"[bold red]error:[/] {where}{message}", highlight=False, soft_wrap=True
                )
            raise typer.Exit(code=2) from None

    return wrapper
