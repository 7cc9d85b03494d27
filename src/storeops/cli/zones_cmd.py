"""``storeops zones``: zone dwell, visits, heat and transitions from Wi-Fi sightings."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer
from rich.table import Table

from storeops.analytics.zones import ZoneInsight, ZoneQuery, last_sighting_day
from storeops.cli.common import (
    JsonOption,
    SinceOption,
    StoreOption,
    UntilOption,
    WorkspaceOption,
    console,
    handle_errors,
    print_json,
    workspace_from,
)


@handle_errors
def zones(
    store: StoreOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    gap: Annotated[float, typer.Option(help="Minutes between sightings that end a visit.")] = 10,
    min_rssi: Annotated[int, typer.Option(help="Ignore sightings weaker than this (dBm).")] = -80,
    max_days: Annotated[
        int, typer.Option(help="Devices seen on more local days are staff / fixed.")
    ] = 5,
    max_hours: Annotated[
        float, typer.Option(help="Devices present longer on one day are staff / fixed.")
    ] = 4,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Dwell time, visits and heat per zone, and zone-to-zone transitions."""
    ws = workspace_from(workspace)
    with ws.warehouse() as wh:
        # --to is the last day shown; the query's end is exclusive.
        last = date.fromisoformat(until) if until else last_sighting_day(wh, store)
        end = last + timedelta(days=1)
        start = date.fromisoformat(since) if since else end - timedelta(days=28)
        query = ZoneQuery(
            since=start,
            until=end,
            store_id=store,
            gap_minutes=gap,
            min_rssi=min_rssi,
            max_days_seen=max_days,
            max_daily_hours=max_hours,
        )
        result = ZoneInsight(wh, query).calculate()
    if as_json:
        print_json(result.to_json())
        return
    table = Table(
        "store",
        "zone",
        "name",
        "visits",
        "mean min",
        "median min",
        "p90 min",
        "visits/m²",
        "dwell min/m²",
        title=f"Zones {start} to {last}",
    )
    data = result.to_json()
    for r in data["zones"]:
        table.add_row(
            r["store_id"],
            r["zone_id"],
            r["name"] or "",
            str(r["visits"]),
            *(f"{r[c] / 60:.1f}" for c in ("mean_dwell_s", "median_dwell_s", "p90_dwell_s")),
            "" if r["visits_per_m2"] is None else f"{r['visits_per_m2']:.2f}",
            "" if r["dwell_s_per_m2"] is None else f"{r['dwell_s_per_m2'] / 60:.2f}",
        )
    console.print(table)
    moves = Table("store", "from", "to", "transitions", title="Zone-to-zone transitions")
    for t in data["transitions"]:
        moves.add_row(t["store_id"], t["from_zone"], t["to_zone"], str(t["transitions"]))
    console.print(moves)


def register(app: typer.Typer) -> None:
    app.command("zones")(zones)
