"""The demo merchant's goals, so the dashboard has some to show: the planning
documents' numbers (conversion toward 6 %, NPS 42 → 55, repeat purchase up) for the
chain, and a few per store, each starting 12 weeks before the last demo day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from sqlalchemy import Engine, func, select

from storeops.goals.service import Goal, GoalCreate, add_goal, current_value
from storeops.kpi.catalog import KPIS
from storeops.opsdb.goal_tables import goals
from storeops.warehouse import Warehouse

Mode = Literal["to", "plus", "times"]

#: (kpi, store or None, how the target follows from the baseline, amount, days from
#: start to deadline, note): ``to`` an absolute target as the plans quote them (the
#: baseline improved by a tenth when it is better already), ``plus`` points added,
#: ``times`` a factor.
DEMO_GOALS: tuple[tuple[str, str | None, Mode, float, int, str], ...] = (
    ("conversion", None, "to", 0.06, 180, "门店转化率提升至 6%"),
    ("nps", None, "to", 55.0, 365, "NPS 提升至 55"),
    ("repeat_purchase_rate", None, "plus", 0.03, 365, "复购率 12 个月提升 3 个百分点"),
    ("atv", "S001", "times", 1.10, 180, "S001 客单价 +10%"),
    ("conversion", "S002", "to", 0.06, 120, "S002 转化率提升至 6%"),
    ("nps", "S003", "plus", 8.0, 180, "S003 NPS +8"),
    ("inventory_turnover_days", None, "times", 0.8, 180, "库存周转天数缩短 20%"),
)


def demo_target(kpi: str, baseline: float, mode: Mode, amount: float) -> float:
    k = KPIS[kpi]
    if mode == "times":
        return round(baseline * amount, 4)
    if mode == "plus":
        return baseline + amount if k.direction == "up" else baseline - amount
    if k.better(baseline, amount):  # already there: aim a tenth further
        return baseline * (1.1 if k.direction == "up" else 0.9)
    return amount


def seed_demo_goals(engine: Engine, wh: Warehouse, end: date) -> list[Goal]:
    """Add :data:`DEMO_GOALS` (once: nothing when goals exist already)."""
    with engine.connect() as con:
        if con.execute(select(func.count()).select_from(goals)).scalar_one():
            return []
    start = end - timedelta(weeks=12)
    added = []
    for kpi, store, mode, amount, days, note in DEMO_GOALS:
        baseline = current_value(wh, kpi, store, start - timedelta(days=1))
        if baseline is None:
            continue
        target = demo_target(kpi, baseline, mode, amount)
        new = GoalCreate(
            kpi=kpi, store_id=store, target=target, start=start,
            deadline=start + timedelta(days=days), baseline=baseline, note=note,
        )  # fmt: skip
        added.append(add_goal(engine, wh, new, actor="demo"))
    return added
