"""The dashboard's mart steps on the demo workspace."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa

from storeops.marts.dashboard_forecast import build_forecast_marts_if_new_day
from storeops.marts.traffic_forecast import FORECAST_MART
from storeops.workspace import Workspace


def test_a_range_refresh_forecasts_again_only_after_a_new_day(demo_ws: Workspace) -> None:
    with demo_ws.warehouse() as wh:
        stored = wh.to_pyarrow(wh.mart(FORECAST_MART))
        last = stored.column("history_to")[0].as_py()
        # `storeops demo` forecast up to the last counted day: nothing new to fit.
        assert build_forecast_marts_if_new_day(demo_ws, wh, last, last) == 0
        # A forecast made a day earlier is refitted.
        older = stored.set_column(
            stored.schema.get_field_index("history_to"),
            "history_to",
            pa.array([last - timedelta(days=1)] * stored.num_rows, pa.date32()),
        )
        wh.write_mart(FORECAST_MART, older)
        assert build_forecast_marts_if_new_day(demo_ws, wh, last, last) > 0
        refreshed = wh.to_pyarrow(wh.mart(FORECAST_MART)).column("history_to")
        assert {d.as_py() for d in refreshed} == {last}
