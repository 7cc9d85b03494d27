"""A stand-in for the KPI layer's contract (``KPIS``, ``kpi_values(grain="day")``)
over ``mart_store_performance_daily``, for tests of report mechanics that must not
depend on the catalog's contents."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from storeops.warehouse import Warehouse


@dataclass(frozen=True)
class FakeKpi:
    id: str
    name_zh: str
    name_en: str
    unit: str
    kind: str
    num: str
    den: str | None
    grain: str = "store_day"
    direction: str = "up"

    def name(self, locale: str) -> str:
        return self.name_zh if locale == "zh_CN" else self.name_en

    def definition(self, locale: str) -> str:
        return f"{self.name(locale)} ({self.num}/{self.den or 1})"

    def format(self, value: float | None, locale: str) -> str:
        if value is None:
            return "–"
        if self.unit == "ratio":
            return f"{value:.2%}"
        if self.unit == "fen":
            return f"¥{value / 100:,.2f}"
        return f"{value:,.0f}"


KPIS: dict[str, FakeKpi] = {
    k.id: k
    for k in (
        FakeKpi("sales", "销售额", "Sales", "fen", "sum", "sales_fen", None),
        FakeKpi("entries", "客流", "Entries", "count", "sum", "entries", None),
        FakeKpi(
            "conversion", "成交转化率", "Conversion", "ratio", "ratio", "transactions", "entries"
        ),
        FakeKpi("atv", "客单价", "ATV", "fen", "ratio", "sales_fen", "transactions"),
    )
}


def _period_start(day: date, grain: str) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


class FakeSource:
    catalog: Mapping[str, FakeKpi] = KPIS

    def values(
        self,
        wh: Warehouse,
        kpi_ids: Sequence[str],
        *,
        grain: str,
        date_from: date,
        date_to: date,
        stores: list[str] | None,
        chain: bool,
    ) -> pd.DataFrame:
        t = wh.mart("mart_store_performance_daily")
        t = t.filter((t.day >= date_from) & (t.day <= date_to))
        if stores:
            t = t.filter(t.store_id.isin(stores))
        df = wh.to_pandas(t)
        if chain:
            df["store_id"] = "*"
        df["period_start"] = [_period_start(d, grain) for d in pd.to_datetime(df["day"]).dt.date]
        sums = df.groupby(["store_id", "period_start"], as_index=False)[
            ["entries", "transactions", "sales_fen"]
        ].sum()
        out = []
        for kid in kpi_ids:
            k = KPIS[kid]
            for _, r in sums.iterrows():
                num = float(r[k.num])
                den = float(r[k.den]) if k.den else 1.0
                out.append(
                    {
                        "store_id": r["store_id"],
                        "period_start": r["period_start"],
                        "kpi": kid,
                        "numerator": num,
                        "denominator": den,
                        "value": num / den if den else None,
                    }
                )
        cols = ["store_id", "period_start", "kpi", "value", "numerator", "denominator"]
        return pd.DataFrame(out, columns=cols)
