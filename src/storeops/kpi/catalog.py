"""The KPI catalog: every metric the dashboard, reports, goals and alerts show, once.

Each :class:`Kpi` says what it means (zh/en name and definition), how it is stored in
``mart_kpi_daily`` (a numerator and a denominator per store or chain and local day),
how days and stores combine (``kind``) and which way is good (``direction``). The
formulas themselves live in :mod:`storeops.kpi.compute`, which reuses the analytics
definitions (store performance, traffic, purchases) instead of restating them.

Kinds, and how a period (week, month, chain) is rolled up from the daily rows:

- ``ratio`` — ``scale × Σ numerator / Σ denominator`` (exact, never a mean of ratios);
- ``sum`` — ``Σ numerator`` (counts and amounts);
- ``last`` — a level (a balance, a trailing-window figure): the value of the last day
  of the period; across stores the stores' last numerators add up, divided by the
  sum of their denominators when the level is itself a ratio (``level_ratio``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: The daily mart of every KPI (built by :mod:`storeops.marts.kpi_daily`).
KPI_MART = "mart_kpi_daily"

Unit = Literal["count", "ratio", "fen", "fen_per_m2", "days", "score", "items"]
Grain = Literal["store_day", "chain_day"]
Direction = Literal["up", "down"]
Kind = Literal["ratio", "sum", "last"]
Source = Literal["warehouse", "ops"]

#: Order channels that are the merchant's private domain (私域): its own community
#: groups and mini-program (DESIGN.md glossary).
PRIVATE_DOMAIN_CHANNELS = ("community", "mini_program")
#: Trailing windows of the level KPIs, in local days including the day itself.
REPEAT_WINDOW_DAYS = 365
ACTIVE_WINDOW_DAYS = 90
RETENTION_DAYS = 30
#: CSAT answers at or below this score count as a complaint (1–2 of 1–5).
COMPLAINT_MAX_CSAT = 2
#: CSAT answers at or above this score count as satisfied (4–5 of 1–5).
SATISFIED_MIN_CSAT = 4


@dataclass(frozen=True)
class Kpi:
    """One metric of the catalog."""

    id: str
    name_zh: str
    name_en: str
    definition_zh: str
    definition_en: str
    #: The formula over the warehouse (or ops DB), as numerator / denominator.
    formula: str
    unit: Unit
    grain: Grain
    direction: Direction
    kind: Kind
    #: Value = scale × numerator / denominator (100 for NPS points).
    scale: float = 1.0
    #: For ``last`` KPIs: stores combine as Σ numerator / Σ denominator.
    level_ratio: bool = False
    #: The mart also holds chain rows (``store_id = "*"``) computed over the whole
    #: business (e.g. distinct customers across stores and online channels); a chain
    #: roll-up of all stores uses them instead of adding the stores up.
    chain_rows: bool = False
    source: Source = "warehouse"

    def name(self, locale: str = "zh_CN") -> str:
        return self.name_en if _is_en(locale) else self.name_zh

    def definition(self, locale: str = "zh_CN") -> str:
        return self.definition_en if _is_en(locale) else self.definition_zh

    @property
    def bounds(self) -> tuple[float, float]:
        """The values the KPI can take: shares 0 … 1, NPS −100 … 100, the rest ≥ 0."""
        if self.unit == "ratio":
            return (0.0, 1.0)
        if self.unit == "score":
            return (-100.0, 100.0)
        return (0.0, float("inf"))

    def clamp(self, value: float) -> float:
        """``value`` moved into :attr:`bounds` (a projection can run past them)."""
        low, high = self.bounds
        return min(max(value, low), high)

    def better(self, a: float, b: float) -> bool:
        """True when ``a`` is at least as good as ``b`` in this KPI's direction."""
        return a >= b if self.direction == "up" else a <= b

    def format(self, value: float | None, locale: str = "zh_CN") -> str:
        """The value as people read it: 5.3%, ¥128.40, 1,234, 23.5 天 …"""
        if value is None or value != value:  # None or NaN
            return "—"
        en = _is_en(locale)
        if self.unit == "ratio":
            return f"{value:.1%}" if abs(value) >= 0.001 or value == 0 else f"{value:.2%}"
        if self.unit == "fen":
            yuan = value / 100
            return f"¥{yuan:,.0f}" if abs(yuan) >= 10_000 else f"¥{yuan:,.2f}"
        if self.unit == "fen_per_m2":
            return f"¥{value / 100:,.2f}/m²"
        if self.unit == "count":
            return f"{value:,.0f}"
        if self.unit == "days":
            return f"{value:,.1f} days" if en else f"{value:,.1f} 天"
        if self.unit == "items":
            return f"{value:,.2f}"
        return f"{value:,.1f}"  # score


def _is_en(locale: str | None) -> bool:
    return bool(locale) and str(locale).lower().startswith("en")


_PERF = "mart_store_performance_daily"

_CATALOG: tuple[Kpi, ...] = (
    Kpi(
        "entries",
        "客流",
        "Entries",
        "当日进店人数(客流计数器 ins 之和)。",
        "People counted entering the store (sum of people-counter ins).",
        f"Σ traffic_counts.ins ({_PERF}.entries)",
        "count",
        "store_day",
        "up",
        "sum",
    ),
    Kpi(
        "capture_rate",
        "进店率",
        "Capture rate",
        "进店人数 / (进店人数 + 过店人数),只计有过店计数的入口与时段。",
        "Entries / (entries + passers-by), over the doors and intervals that count passers-by.",
        "Σ ins where passers_by reported / Σ (those ins + passers_by)",
        "ratio",
        "store_day",
        "up",
        "ratio",
    ),
    Kpi(
        "conversion",
        "成交转化率",
        "Conversion",
        "门店成交笔数 / 客流。",
        "Store transactions / entries.",
        f"Σ {_PERF}.transactions / Σ {_PERF}.entries",
        "ratio",
        "store_day",
        "up",
        "ratio",
    ),
    Kpi(
        "atv",
        "客单价",
        "Average transaction value",
        "门店销售额 / 成交笔数。",
        "Store sales / transactions.",
        f"Σ {_PERF}.sales_fen / Σ {_PERF}.transactions",
        "fen",
        "store_day",
        "up",
        "ratio",
    ),
    Kpi(
        "upt",
        "连带率",
        "Units per transaction",
        "门店销售件数 / 成交笔数。",
        "Units sold in store / transactions.",
        f"Σ {_PERF}.units / Σ {_PERF}.transactions",
        "items",
        "store_day",
        "up",
        "ratio",
    ),
    Kpi(
        "sales",
        "销售额",
        "Sales",
        "门店渠道成交订单实付金额(已完成或部分退款,退款前)。",
        "Amount paid on store-channel sale orders (completed or partially refunded, "
        "before later refunds).",
        f"Σ {_PERF}.sales_fen",
        "fen",
        "store_day",
        "up",
        "sum",
    ),
    Kpi(
        "sales_per_m2",
        "坪效",
        "Sales per m²",
        "日均每平方米销售额:销售额 / (营业面积 × 天数)。",
        "Sales per square metre of selling area per day: sales / (area × days).",
        f"Σ {_PERF}.sales_fen / Σ stores.area_m2 (one area per store-day)",
        "fen_per_m2",
        "store_day",
        "up",
        "ratio",
    ),
    Kpi(
        "repeat_purchase_rate",
        "复购率",
        "Repeat-purchase rate",
        f"截至当日近 {REPEAT_WINDOW_DAYS} 天内,下单 2 次及以上的顾客 / 下单顾客"
        "(门店:该店门店渠道订单;全公司:所有渠道)。",
        f"Over the {REPEAT_WINDOW_DAYS} days up to the day: customers with 2+ purchases / "
        "customers with 1+ (store: its store-channel orders; chain: every channel).",
        "customers with ≥2 sale orders in window / customers with ≥1",
        "ratio",
        "store_day",
        "up",
        "last",
        level_ratio=True,
        chain_rows=True,
    ),
    Kpi(
        "retention_30d",
        "30日留存率",
        "30-day retention",
        f"当日首次购买的新顾客中,{RETENTION_DAYS} 天内再次购买的比例(按首购日归属;"
        f"最近 {RETENTION_DAYS} 天的首购尚未成熟,不计)。",
        f"Of the customers whose first purchase was that day, the share who bought "
        f"again within {RETENTION_DAYS} days (by first-purchase day; the last "
        f"{RETENTION_DAYS} days are not mature yet and left out).",
        "first-time buyers of the day who buy again within 30 days / first-time buyers",
        "ratio",
        "store_day",
        "up",
        "ratio",
        chain_rows=True,
    ),
    Kpi(
        "new_members",
        "新增会员",
        "New members",
        "当日首次登记的顾客数(按归属门店)。",
        "Customers first seen that day (by home store).",
        "count of customers by local day of first_seen_at",
        "count",
        "store_day",
        "up",
        "sum",
        chain_rows=True,
    ),
    Kpi(
        "active_members",
        "活跃会员",
        "Active members",
        f"截至当日近 {ACTIVE_WINDOW_DAYS} 天内有购买的顾客数。",
        f"Customers with a purchase in the {ACTIVE_WINDOW_DAYS} days up to the day.",
        f"distinct customers with a sale order in the trailing {ACTIVE_WINDOW_DAYS} days",
        "count",
        "store_day",
        "up",
        "last",
        chain_rows=True,
    ),
    Kpi(
        "private_domain_share",
        "私域销售占比",
        "Private-domain share",
        "私域渠道(社群、小程序)销售额 / 全渠道销售额。",
        "Sales through private-domain channels (community groups, mini-program) / "
        "sales through every channel.",
        "Σ total_fen of sale orders in community, mini_program / Σ total_fen of all",
        "ratio",
        "store_day",
        "up",
        "ratio",
        chain_rows=True,
    ),
    Kpi(
        "points_liability",
        "积分负债",
        "Points liability",
        "日终会员未用积分余额折合金额(每积分 1 分钱;门店按会员归属门店)。",
        "Members' unspent points at the end of the day, valued in fen (1 fen per point; a "
        "store's are its members').",
        "Σ member point-account entries up to the day × FEN_PER_POINT",
        "fen",
        "store_day",
        "down",
        "last",
        chain_rows=True,
        source="ops",
    ),
    Kpi(
        "stored_value_liability",
        "储值负债",
        "Stored-value liability",
        "日终会员储值卡余额之和(门店按会员归属门店)。",
        "Members' stored-value balances at the end of the day (a store's: its members').",
        "Σ member stored-value account entries up to the day",
        "fen",
        "store_day",
        "down",
        "last",
        chain_rows=True,
        source="ops",
    ),
    Kpi(
        "coupon_redemption_rate",
        "优惠券核销率",
        "Coupon redemption rate",
        "当日发放的优惠券中已核销(未作废)的比例,按发放日归属。",
        "Of the coupons issued that day, the share redeemed (and not voided), by issue day.",
        "coupons issued that day with a live redemption / coupons issued that day",
        "ratio",
        "chain_day",
        "up",
        "ratio",
        source="ops",
    ),
    Kpi(
        "nps",
        "净推荐值",
        "NPS",
        "(推荐者 9–10 分 − 贬损者 0–6 分) / NPS 答卷数 × 100。",
        "(promoters 9–10 − detractors 0–6) / NPS answers × 100.",
        "Σ (score ≥ 9) − Σ (score ≤ 6) / count, survey = 'nps'",
        "score",
        "store_day",
        "up",
        "ratio",
        scale=100.0,
        chain_rows=True,
    ),
    Kpi(
        "csat",
        "顾客满意度",
        "CSAT",
        f"满意度答卷中打 {SATISFIED_MIN_CSAT}–5 分的比例。",
        f"Share of CSAT answers scoring {SATISFIED_MIN_CSAT}–5 (of 1–5).",
        f"count(score ≥ {SATISFIED_MIN_CSAT}) / count, survey = 'csat'",
        "ratio",
        "store_day",
        "up",
        "ratio",
        chain_rows=True,
    ),
    Kpi(
        "complaint_rate",
        "投诉率",
        "Complaint rate",
        f"投诉数 / 门店成交笔数;投诉 = 满意度答卷 1–{COMPLAINT_MAX_CSAT} 分(不满意)。",
        f"Complaints / store transactions; a complaint is a CSAT answer of "
        f"1–{COMPLAINT_MAX_CSAT} (dissatisfied).",
        f"count(csat score ≤ {COMPLAINT_MAX_CSAT}) / Σ {_PERF}.transactions",
        "ratio",
        "store_day",
        "down",
        "ratio",
    ),
    Kpi(
        "inventory_turnover_days",
        "库存周转天数",
        "Inventory turnover days",
        "平均库存件数 / 日均销售件数(只计有库存快照的日子;无库存数据时为空)。",
        "Average units on hand / average units sold per day (days with an inventory "
        "snapshot only; empty where no inventory is recorded).",
        f"Σ inventory_snapshots.on_hand / Σ {_PERF}.units, over snapshot days",
        "days",
        "store_day",
        "down",
        "ratio",
    ),
)

#: The catalog by id, in display order.
KPIS: dict[str, Kpi] = {k.id: k for k in _CATALOG}
