"""``storeops traffic``: entries, exits, capture rate, peak hours and entrance share."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer
from rich.table import Table

from storeops.analytics.traffic import (
    Bucket,
    TrafficError,
    TrafficInsight,
    TrafficQuery,
    last_traffic_day,
)
from storeops.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    handle_errors,
    print_json,
    workspace_from,
)

#: Days shown when --from is not given (four whole weeks ending at --to).
DEFAULT_DAYS = 28

traffic_app = typer.Typer(help="Foot traffic from people counters.", no_args_is_help=True)


@traffic_app.command("summary")
@handle_errors
def summary(
    store: Annotated[str | None, typer.Option(help="Only this store.")] = None,
    since: Annotated[
        str | None, typer.Option("--from", help="First local day, YYYY-MM-DD.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="Last local day (inclusive), YYYY-MM-DD.")
    ] = None,
    by: Annotated[str, typer.Option(help="hour, day, week or month.")] = "day",
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Entries and exits per bucket, capture rate, peak hours, entrance share, vs before."""
    if by not in ("hour", "day", "week", "month"):
        raise typer.BadParameter("by must be hour, day, week or month", param_hint="--by")
    stores = (store,) if store else None
    ws = workspace_from(workspace)
    with ws.warehouse() as wh:
        end = date.fromisoformat(until) if until else last_traffic_day(wh, stores)
        if end is None and store:
            raise TrafficError(f"no counter readings for store {store!r}; check --store")
        if end is None:
            if as_json:
                print_json({"from": None, "to": None, "by": by, "buckets": [], "stores": {}})
            else:
                console.print("No counter readings in this workspace.")
            return
        start = date.fromisoformat(since) if since else end - timedelta(days=DEFAULT_DAYS - 1)
        query = TrafficQuery(date_from=start, date_to=end, store_ids=stores, by=_bucket(by))
        result = TrafficInsight(wh, query).calculate()
    if as_json:
        print_json(result.to_dict())
        return
    buckets = Table("store", by, "entries", "exits", "capture", title=f"Traffic per {by}")
    for row in result.buckets:
        buckets.add_row(
            row.store_id, row.bucket, str(row.entries), str(row.exits), _pct(row.capture_rate)
        )
    console.print(buckets)
    prev = (result.previous or {}).get("stores", {})
    totals = Table(
        "store",
        "entries",
        "vs previous",
        "capture",
        "peak hours",
        "entrances (share, vs busiest)",
        title=f"Stores {start} … {end}",
    )
    for sid, s in result.stores.items():
        change = prev.get(sid, {}).get("entries_change_pct")
        doors = ", ".join(
            f"{e} {_pct(v.share)} {v.relative_to_busiest or 0:.2f}" for e, v in s.entrances.items()
        )
        totals.add_row(
            sid,
            str(s.entries),
            "—" if change is None else f"{change:+.1%}",
            _pct(s.capture_rate),
            ", ".join(f"{h:02d}:00" for h in s.peak_hours),
            doors,
        )
    console.print(totals)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _bucket(value: str) -> Bucket:
    buckets: dict[str, Bucket] = {"hour": "hour", "week": "week", "month": "month"}
    return buckets.get(value, "day")


def register(app: typer.Typer) -> None:
    app.add_typer(traffic_app, name="traffic")
