"""A small hand-built KPI mart (two stores and the chain, 140 days with a weekly
pattern and noise) with planted dips, for evaluation tests that need no demo."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from storeops.workspace import Workspace, init_workspace

END = date(2026, 10, 31)
DAYS = 140
WEEKLY = np.array([0.85, 0.8, 0.85, 0.9, 1.05, 1.45, 1.4])
#: Planted: S1's counters lose most of a day; S2's conversion collapses.
ENTRIES_DIP = ("S1", date(2026, 10, 20))
CONVERSION_DIP = ("S2", date(2026, 10, 27))


def kpi_rows() -> pa.Table:
    rng = np.random.default_rng(7)
    days = [END - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    weekly = WEEKLY[np.array([d.weekday() for d in days])]
    rows: dict[str, list[object]] = {
        k: [] for k in ("store_id", "day", "kpi", "numerator", "denominator", "value")
    }
    chain_entries = np.zeros(DAYS)
    for store, level, conv in (("S1", 400.0, 0.08), ("S2", 300.0, 0.10)):
        entries = np.round(level * weekly * rng.lognormal(0, 0.07, DAYS))
        rate = conv * rng.lognormal(0, 0.06, DAYS)
        for name, (s, d) in (("entries", ENTRIES_DIP), ("conversion", CONVERSION_DIP)):
            if s == store:
                i = days.index(d)
                if name == "entries":
                    entries[i] = round(entries[i] * 0.1)
                else:
                    rate[i] *= 0.2
        tx = np.round(entries * rate)
        chain_entries += entries
        for i, day in enumerate(days):
            for kpi, num, den in (("entries", entries[i], 1.0), ("conversion", tx[i], entries[i])):
                rows["store_id"].append(store)
                rows["day"].append(day)
                rows["kpi"].append(kpi)
                rows["numerator"].append(float(num))
                rows["denominator"].append(float(den))
                rows["value"].append(float(num / den) if den else None)
    for i, day in enumerate(days):
        rows["store_id"].append("*")
        rows["day"].append(day)
        rows["kpi"].append("entries")
        rows["numerator"].append(float(chain_entries[i]))
        rows["denominator"].append(1.0)
        rows["value"].append(float(chain_entries[i]))
    return pa.table(
        {
            "store_id": pa.array(rows["store_id"], pa.string()),
            "day": pa.array(rows["day"], pa.date32()),
            "kpi": pa.array(rows["kpi"], pa.string()),
            "numerator": pa.array(rows["numerator"], pa.float64()),
            "denominator": pa.array(rows["denominator"], pa.float64()),
            "value": pa.array(rows["value"], pa.float64()),
        }
    )


@pytest.fixture
def kpi_workspace(tmp_path: Path) -> Workspace:
    ws = init_workspace(tmp_path / "ws")
    with ws.warehouse() as wh:
        wh.write_mart("mart_kpi_daily", kpi_rows())
    return ws
