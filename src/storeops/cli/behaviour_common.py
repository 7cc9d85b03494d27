"""Options shared by the behaviour commands (funnel, retention, paths)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer

from storeops.behaviour.events import CountBy

CountByOption = Annotated[
    str,
    typer.Option(
        "--count-by",
        help="customer (after identity resolution) or anonymous_id (devices).",
    ),
]
KnownOnlyOption = Annotated[
    bool,
    typer.Option("--known-only", help="customer mode: leave out devices never linked to a user."),
]


def count_by_from(value: str) -> CountBy:
    if value == "customer":
        return "customer"
    if value == "anonymous_id":
        return "anonymous_id"
    raise typer.BadParameter("use customer or anonymous_id", param_hint="--count-by")


def _day(text: str, hint: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date YYYY-MM-DD", param_hint=hint) from None


def day_range(since: str | None, until: str | None) -> tuple[date | None, date | None]:
    """``--from`` (inclusive) and ``--to`` (inclusive) → [start, end) local days."""
    start = _day(since, "--from") if since else None
    end = _day(until, "--to") + timedelta(days=1) if until else None
    return start, end
