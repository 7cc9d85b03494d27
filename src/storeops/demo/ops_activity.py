"""The demo merchant's loyalty and coupon activity in the ops database.

The warehouse says who bought what and when; the ops database holds what that did to
points, stored value and coupons. :func:`seed_ops_activity` plays the demo's member
orders through the real services, each at its business time, so the KPI layer's
points and stored-value liabilities have a daily history and the coupon redemption
rate has issue days:

- **members**: every demo customer enrolled (``import``) at their first purchase, at
  their home store (:func:`storeops.loyalty.backfill.enrol_many`);
- **earns**: each completed or partly refunded member order earns by the real rules
  (:func:`storeops.loyalty.earn_rules.points_for`: 1 point per yuan paid, standard
  tier), posted in bulk with the order's time (:func:`~storeops.loyalty.backfill.earn_many`);
- **redemptions**: at some orders a member with at least :data:`REDEEM_MIN` points
  redeems a part of them in blocks of 500 (:meth:`PointsLedger.redeem`);
- **refund clawbacks**: each refund of a partly refunded order takes its share of the
  points back (:meth:`PointsLedger.refund`);
- **expiry**: the monthly expiry job (:meth:`PointsLedger.expire`, 1st of the month,
  03:00 local) removes points older than a year;
- **stored value**: members who paid orders with stored value top up before (充500送50
  / 充1000送120, :class:`StoredValue`) and spend the order's amount (refunds of those
  orders give it back); a few more members top up once and keep the balance;
- **coupons**: a 满200减40 coupon campaign (:data:`PROGRAM_ID`): before each of the
  demo's monthly promotion windows a batch of codes is issued to members (most who
  will use the promotion, and more who will not), and the recipients' coupon orders
  redeem them (:meth:`PromotionService.redeem`, priced from the order's lines).

Everything is decided by a random stream of the demo seed and replayed in time order
against a plain Python model of the lots and balances (:class:`_Book`), so the same
seed gives the same ledger, and the model's figures — recorded in the demo truth as
``ops_activity`` — are an independent account of what the ledger must hold. Every
operation has an idempotency key derived from the demo data: running it again
changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from time import perf_counter
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from rich.progress import Progress
from sqlalchemy import Engine, event

from storeops.demo._util import rng_for
from storeops.demo.truth import DemoTruth
from storeops.loyalty.backfill import Earn, NewMember, earn_many, enrol_many
from storeops.loyalty.earn_rules import PaidLine, points_for
from storeops.loyalty.points import PointsLedger, PointsPolicy
from storeops.loyalty.stored_value import DEFAULT_BONUSES, StoredValue, bonus_for
from storeops.promotions import codes as codelib
from storeops.promotions.errors import CouponNotApplicableError
from storeops.promotions.model import Basket, Line, make_program
from storeops.promotions.service import PromotionService
from storeops.warehouse import Warehouse
from storeops.workspace import Workspace

#: The demo's random stream for ops activity (the generators use 1 … 20).
_STREAM = 41
#: A member redeems at an order with this probability when they have REDEEM_MIN points.
REDEEM_PROBABILITY = 0.08
REDEEM_MIN = 1_000
REDEEM_BLOCK = 500
#: Share of members (with 2+ orders) who top up stored value once without spending it.
SAVER_SHARE = 0.03
#: The coupon campaign: 满200减40 codes, issued 3 days before each promotion window.
PROGRAM_ID = "DEMO-MJ200-40"
COUPON_OFF_FEN = 4_000
COUPON_MIN_SPEND_FEN = 20_000
ISSUE_DAYS_BEFORE = 3
#: Of the members who will use the promotion in a window, the share sent a code; and
#: how many other (recently active) members get one per such recipient.
COUPON_REACH = 0.6
COUPON_EXTRA_PER_USER = 1.6
CODE_LENGTH = 12
#: Local hours of the jobs: codes are issued at 10:00, the expiry job runs at 03:00.
ISSUE_HOUR, EXPIRY_HOUR = 10, 3

Step = Callable[[str], None]


@dataclass
class OpsActivity:
    """What :func:`seed_ops_activity` planted, from its own model of the ledger."""

    members: int = 0
    members_enrolled_now: int = 0
    points: dict[str, int] = field(default_factory=dict)
    stored_value: dict[str, int] = field(default_factory=dict)
    coupons: dict[str, Any] = field(default_factory=dict)
    #: Chain levels at the end of each month's last local day (and the last demo day):
    #: ``{day: {"points_liability_fen": …, "stored_value_liability_fen": …}}``.
    liabilities: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Levels on the last demo day per member store.
    liabilities_by_store: dict[str, dict[str, int]] = field(default_factory=dict)
    operations: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def planted(self) -> dict[str, Any]:
        """What the truth records: the same for a seed (no timing, no count of members
        new to this run)."""
        data = self.to_dict()
        for volatile in ("members_enrolled_now", "seconds"):
            data.pop(volatile)
        return data


# -- the model ----------------------------------------------------------------------------
@dataclass
class _Lot:
    seq: int
    expires: datetime
    remaining: int


@dataclass
class _Book:
    """Lots and balances as the ledger must hold them, replayed in time order."""

    expiry: timedelta
    lots: dict[str, list[_Lot]] = field(default_factory=lambda: defaultdict(list))
    earned_by_order: dict[str, tuple[int, int]] = field(default_factory=dict)  # order → pts, seq
    clawed_target: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    refunded: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    sv: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    #: (time, asset, member, amount) for every change of a member balance.
    moves: list[tuple[datetime, str, str, int]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _seq: int = 0

    def balance(self, member: str) -> int:
        return sum(lot.remaining for lot in self.lots[member])

    def available(self, member: str, at: datetime) -> int:
        return sum(lot.remaining for lot in self.lots[member] if lot.expires > at)

    def _move(self, at: datetime, asset: str, member: str, amount: int) -> None:
        self.moves.append((at, asset, member, amount))

    def earn(self, member: str, order: str, points: int, at: datetime) -> None:
        self._seq += 1
        self.lots[member].append(_Lot(self._seq, at + self.expiry, points))
        self.earned_by_order[order] = (points, self._seq)
        self._move(at, "points", member, points)
        self.counts["earns"] += 1
        self.counts["earned"] += points

    def redeem(self, member: str, points: int, at: datetime) -> None:
        left = points
        for lot in sorted(self.lots[member], key=lambda x: (x.expires, x.seq)):
            if left == 0:
                break
            if lot.expires > at and lot.remaining:
                part = min(lot.remaining, left)
                lot.remaining -= part
                left -= part
        assert left == 0, "redemption above the available points"
        self._move(at, "points", member, -points)
        self.counts["redemptions"] += 1
        self.counts["redeemed"] += points

    def clawback(
        self, member: str, order: str, refund_fen: int, order_fen: int, at: datetime
    ) -> None:
        """PointsLedger.refund: own lot first, then earliest expiry (expired or not)."""
        earned, own = self.earned_by_order.get(order, (0, -1))
        self.refunded[order] += refund_fen
        total_target = earned * self.refunded[order] // order_fen
        target = total_target - self.clawed_target[order]
        self.clawed_target[order] = total_target
        take = min(target, self.balance(member))
        left = take
        lots = sorted(self.lots[member], key=lambda x: (x.seq != own, x.expires, x.seq))
        for lot in lots:
            if left == 0:
                break
            part = min(lot.remaining, left)
            lot.remaining -= part
            left -= part
        if take:
            self._move(at, "points", member, -take)
        self.counts["clawbacks"] += 1
        self.counts["clawed_back"] += take
        self.counts["unrecovered"] += target - take

    def expire(self, as_of: datetime) -> None:
        for member, lots in self.lots.items():
            for lot in lots:
                if lot.expires <= as_of and lot.remaining:
                    self._move(as_of, "points", member, -lot.remaining)
                    self.counts["expired_lots"] += 1
                    self.counts["expired"] += lot.remaining
                    lot.remaining = 0

    def top_up(self, member: str, amount: int, at: datetime) -> None:
        bonus = bonus_for(amount, DEFAULT_BONUSES)
        self.sv[member] += amount + bonus
        self._move(at, "stored_value", member, amount + bonus)
        self.counts["top_ups"] += 1
        self.counts["cash_fen"] += amount
        self.counts["bonus_fen"] += bonus

    def spend(self, member: str, amount: int, at: datetime) -> None:
        assert self.sv[member] >= amount
        self.sv[member] -= amount
        self._move(at, "stored_value", member, -amount)
        self.counts["spends"] += 1
        self.counts["spent_fen"] += amount

    def sv_refund(self, member: str, amount: int, at: datetime) -> None:
        self.sv[member] += amount
        self._move(at, "stored_value", member, amount)
        self.counts["sv_refunds"] += 1
        self.counts["sv_refunded_fen"] += amount


# -- reading the warehouse --------------------------------------------------------------
_LIVE = ("completed", "partially_refunded")


def _frames(wh: Warehouse) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    customers = wh.to_pandas(
        wh.table("customers").select("customer_id", "first_seen_at", "home_store_id")
    ).sort_values("customer_id", ignore_index=True)
    o = wh.table("orders")
    orders = wh.to_pandas(
        o.filter(o.customer_id.notnull() & o.status.isin(_LIVE)).select(
            "order_id",
            "customer_id",
            "store_id",
            "channel",
            "ts",
            "total_fen",
            "coupon_code",
            "payment",
            "status",
        )
    ).sort_values(["ts", "order_id"], ignore_index=True)
    r = wh.table("refunds")
    partly = o.filter(o.customer_id.notnull() & (o.status == "partially_refunded"))
    refunds = wh.to_pandas(
        r.join(partly.select("order_id"), "order_id").select(
            "refund_id", "order_id", "amount_fen", "ts"
        )
    ).sort_values(["ts", "refund_id"], ignore_index=True)
    return customers, orders, refunds


def _baskets(wh: Warehouse, order_ids: list[str]) -> dict[str, list[Line]]:
    if not order_ids:
        return {}
    lines, products = wh.table("order_lines"), wh.table("products")
    wanted = lines.filter(lines.order_id.isin(order_ids))
    j = wanted.left_join(products.select("sku", "category"), "sku")
    frame = wh.to_pandas(
        j.select("order_id", "line_no", lines.sku, "unit_price_fen", "quantity", "category")
    ).sort_values(["order_id", "line_no"])
    out: dict[str, list[Line]] = defaultdict(list)
    for row in _records(frame):
        category = None if pd.isna(row["category"]) else str(row["category"])
        out[str(row["order_id"])].append(
            Line(str(row["sku"]), int(row["unit_price_fen"]), int(row["quantity"]), category)
        )
    return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _utc(ts: Any) -> datetime:
    return pd.Timestamp(ts).to_pydatetime().replace(tzinfo=None)


# -- the plan -----------------------------------------------------------------------------
@dataclass(order=True)
class _Event:
    at: datetime
    rank: int  # at one moment: jobs, then top-ups, refunds, orders
    key: str
    kind: str = field(compare=False)
    data: dict[str, Any] = field(compare=False, default_factory=dict)


def _local_to_utc(day: date, hour: int, tz: ZoneInfo) -> datetime:
    local = datetime.combine(day, time(hour), tzinfo=tz)
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def _month_starts(first: date, last: date) -> list[date]:
    out, d = [], date(first.year, first.month, 1)
    while d <= last:
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        if d <= last:
            out.append(d)
    return out


def _windows(truth: DemoTruth) -> list[list[date]]:
    """The promotion's days grouped by month (each month's window)."""
    by_month: dict[tuple[int, int], list[date]] = defaultdict(list)
    for text in truth.promotion.get("days", []):
        d = date.fromisoformat(text)
        by_month[(d.year, d.month)].append(d)
    return [sorted(days) for _, days in sorted(by_month.items())]


def _codes(rng: np.random.Generator, count: int, taken: set[str]) -> list[str]:
    alphabet = np.array(list(codelib.ALPHABET))
    out: list[str] = []
    while len(out) < count:
        code = "".join(rng.choice(alphabet, CODE_LENGTH))
        if code not in taken:
            taken.add(code)
            out.append(code)
    return out


@contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Callable[[int], None]]:
    if not enabled:
        yield lambda _n: None
        return
    with Progress(transient=True) as bar:
        task = bar.add_task("loyalty and coupon activity", total=total)
        yield lambda n: bar.advance(task, n)


class _Player:
    """Plays the planned events into the ops database and the model, one handler per
    event kind; earns wait in a batch until an operation of their member (or the
    expiry job) needs them in the ledger."""

    def __init__(
        self,
        engine: Engine,
        policy: PointsPolicy,
        order_fen: dict[str, int],
        sv_orders: set[str],
        baskets: dict[str, list[Line]],
    ) -> None:
        self.points = PointsLedger(engine, policy)
        self.sv = StoredValue(engine)
        self.promotions = PromotionService(engine)
        self.book = _Book(expiry=timedelta(days=policy.expiry_days))
        self.order_fen, self.sv_orders, self.baskets = order_fen, sv_orders, baskets
        self.pending: list[Earn] = []
        self.pending_members: set[str] = set()
        self.batches: dict[str, dict[str, Any]] = {}
        self.handlers: dict[str, Callable[[_Event, np.ndarray], None]] = {
            "order": self.order,
            "refund": self.refund,
            "expire": self.expire,
            "top_up": self.top_up,
            "issue": self.issue,
            "coupon": self.coupon,
        }

    def flush(self) -> None:
        if self.pending:
            earn_many(self.points, self.pending)
            self.pending.clear()
            self.pending_members.clear()

    def _ready(self, member: str) -> None:
        if member in self.pending_members:
            self.flush()

    def order(self, ev: _Event, draw: np.ndarray) -> None:
        """Points redeemed at the till (sometimes), stored value paid (topped up first
        when short), then the order's earn."""
        member, oid, fen, at = str(ev.data["member"]), ev.key, int(ev.data["fen"]), ev.at
        avail = self.book.available(member, at)
        if avail >= REDEEM_MIN and draw[0] < REDEEM_PROBABILITY:
            points = REDEEM_BLOCK * (1 + int(draw[1] * (avail // REDEEM_BLOCK)))
            self._ready(member)
            self.points.redeem(member, points, key=f"demo:redeem:{oid}", reference=oid, at=at)
            self.book.redeem(member, points, at)
        if oid in self.sv_orders:
            need = fen - self.book.sv[member]
            if need > 0:
                amount, before = _top_up_for(need), at - timedelta(minutes=2)
                self.sv.top_up(member, amount, key=f"demo:top-up:{oid}", reference=oid, at=before)
                self.book.top_up(member, amount, before)
            self.sv.spend(member, fen, key=f"demo:spend:{oid}", reference=oid, at=at)
            self.book.spend(member, fen, at)
        points = points_for([PaidLine("order", None, fen)], tier="standard")
        if points > 0:
            self.pending.append(Earn(member, points, at, f"demo:earn:{oid}", oid))
            self.pending_members.add(member)
            self.book.earn(member, oid, points, at)

    def refund(self, ev: _Event, _draw: np.ndarray) -> None:
        member, oid, fen = str(ev.data["member"]), str(ev.data["order"]), int(ev.data["fen"])
        self._ready(member)
        self.points.refund(member, order_id=oid, refund_id=ev.key, refund_fen=fen,
                           order_fen=self.order_fen[oid], at=ev.at)  # fmt: skip
        self.book.clawback(member, oid, fen, self.order_fen[oid], ev.at)
        if oid in self.sv_orders:
            self.sv.refund(member, fen, key=f"demo:sv-refund:{ev.key}", reference=oid, at=ev.at)
            self.book.sv_refund(member, fen, ev.at)

    def expire(self, ev: _Event, _draw: np.ndarray) -> None:
        self.flush()
        self.points.expire(ev.at)
        self.book.expire(ev.at)

    def top_up(self, ev: _Event, _draw: np.ndarray) -> None:
        member, fen = str(ev.data["member"]), int(ev.data["fen"])
        self.sv.top_up(member, fen, key=f"demo:{ev.key}", at=ev.at)
        self.book.top_up(member, fen, ev.at)

    def issue(self, ev: _Event, _draw: np.ndarray) -> None:
        self.promotions.import_codes(
            PROGRAM_ID, ev.data["codes"], key=f"demo:coupons:{ev.key}",
            valid_from=ev.at, valid_until=ev.data["until"], at=ev.at,
        )  # fmt: skip
        self.batches[ev.key] = {
            "issued_at": ev.at.isoformat(),
            "issued_on": ev.data["day"].isoformat(),
            "issued": len(ev.data["codes"]),
            "redeemed": 0,
            "refused": 0,
        }

    def coupon(self, ev: _Event, _draw: np.ndarray) -> None:
        batch, order = self.batches[ev.data["batch"]], str(ev.data["order"])
        basket = Basket(tuple(self.baskets[order]), ev.data["store"], ev.data["channel"], order)
        try:
            self.promotions.redeem(ev.data["code"], order_id=order, basket=basket,
                                   key=f"demo:redeem-coupon:{order}",
                                   customer_id=str(ev.data["member"]), at=ev.at)  # fmt: skip
            batch["redeemed"] += 1
        except CouponNotApplicableError:
            batch["refused"] += 1  # e.g. the order's list price is below ¥200


def seed_ops_activity(
    ws: Workspace,
    wh: Warehouse,
    truth: DemoTruth,
    *,
    progress: bool = False,
    policy: PointsPolicy | None = None,
) -> OpsActivity:
    """Plant the demo's loyalty and coupon activity (module doc) and return its figures.

    Idempotent: every operation has a key derived from the demo data, so running it
    again on the same workspace changes nothing and returns the same figures.
    """
    started = perf_counter()
    seed = int(truth.config["seed"])
    tz = ZoneInfo(str(truth.config.get("timezone", ws.settings.default_timezone)))
    end_day = date.fromisoformat(truth.period["end"])
    start_day = date.fromisoformat(truth.period["start"])
    rng = rng_for(seed, _STREAM)
    customers, orders, refunds = _frames(wh)
    engine = ws.ops_engine()
    _quick_commits(engine)
    try:
        result = _seed(engine, wh, truth, customers, orders, refunds, rng, tz,
                       start_day, end_day, policy or PointsPolicy(), progress)  # fmt: skip
    finally:
        engine.dispose()
    result.seconds = round(perf_counter() - started, 2)
    return result


def _seed(
    engine: Engine,
    wh: Warehouse,
    truth: DemoTruth,
    customers: pd.DataFrame,
    orders: pd.DataFrame,
    refunds: pd.DataFrame,
    rng: np.random.Generator,
    tz: ZoneInfo,
    start_day: date,
    end_day: date,
    policy: PointsPolicy,
    progress: bool,
) -> OpsActivity:
    activity = OpsActivity(members=len(customers))
    home = dict(zip(customers["customer_id"].astype(str), customers["home_store_id"], strict=True))
    activity.members_enrolled_now = enrol_many(
        engine,
        [
            NewMember(
                member_id=str(c["customer_id"]),
                enrolled_at=_utc(c["first_seen_at"]),
                store_id=None if pd.isna(c["home_store_id"]) else str(c["home_store_id"]),
                customer_id=str(c["customer_id"]),
            )
            for c in _records(customers)
        ],
    )
    events: list[_Event] = []
    order_fen: dict[str, int] = {}
    sv_orders: set[str] = set()
    for o in _records(orders):
        oid, at, fen = str(o["order_id"]), _utc(o["ts"]), int(o["total_fen"])
        order_fen[oid] = fen
        if o["payment"] == "stored_value":
            sv_orders.add(oid)
        events.append(_Event(at, 3, oid, "order", {"member": str(o["customer_id"]), "fen": fen}))
    member_of = dict(
        zip(orders["order_id"].astype(str), orders["customer_id"].astype(str), strict=True)
    )
    for r in _records(refunds):
        oid = str(r["order_id"])
        events.append(
            _Event(_utc(r["ts"]), 2, str(r["refund_id"]), "refund",
                   {"member": member_of[oid], "order": oid, "fen": int(r["amount_fen"])})
        )  # fmt: skip
    for month in _month_starts(start_day, end_day):
        events.append(_Event(_local_to_utc(month, EXPIRY_HOUR, tz), 0, month.isoformat(), "expire"))
    # Savers: a few members with 2+ orders top up once at one of their orders.
    by_member = orders.groupby("customer_id", sort=True)
    savers_drawn = rng.random(by_member.ngroups)
    for (member, group), u in zip(by_member, savers_drawn, strict=True):
        if u < SAVER_SHARE and len(group) >= 2:
            pick = group.iloc[int(rng.integers(len(group)))]
            amount = 100_000 if rng.random() < 0.3 else 50_000
            events.append(_Event(_utc(pick.ts) - timedelta(minutes=3), 1, f"saver:{member}",
                                 "top_up", {"member": str(member), "fen": amount}))  # fmt: skip
    coupon_plan = _plan_coupons(truth, orders, customers, rng, tz)
    for batch in coupon_plan:
        events.append(_Event(batch["at"], 0, batch["key"], "issue", batch))
        for use in batch["uses"]:
            events.append(_Event(use["at"], 4, use["order"], "coupon", use))
    baskets = _baskets(wh, [u["order"] for b in coupon_plan for u in b["uses"]])
    events.sort()

    player = _Player(engine, policy, order_fen, sv_orders, baskets)
    _ensure_program(player.promotions, start_day, end_day, tz)
    draws = iter(rng.random((len(events), 2)))
    with _progress(progress, len(events)) as advance:
        for ev in events:
            player.handlers[ev.kind](ev, next(draws))
            advance(1)
        player.flush()
    book, coupon_counts = player.book, player.batches
    activity.operations = sum(
        book.counts[k] for k in ("redemptions", "clawbacks", "top_ups", "spends", "sv_refunds")
    ) + sum(b["redeemed"] + b["refused"] + 1 for b in coupon_counts.values())
    _figures(activity, book, coupon_counts, home, tz, start_day, end_day)
    return activity


def _quick_commits(engine: Engine) -> None:
    """SQLite: commits without waiting for the disk (``synchronous=NORMAL``; the file
    is in WAL mode). Thousands of small transactions then take seconds instead of half
    a minute of fsyncs. Trade-off: a power cut during the seeding may lose its last
    transactions — each whole, never half — and running the demo again redoes them."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _normal(dbapi_con: Any, _record: Any) -> None:
        cur = dbapi_con.cursor()
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


def _top_up_for(need: int) -> int:
    """The smallest usual top-up (¥500, ¥1,000, then whole ¥1,000s) that with its bonus
    covers ``need`` fen."""
    for amount in (50_000, 100_000):
        if amount + bonus_for(amount, DEFAULT_BONUSES) >= need:
            return amount
    thousands = -(-(need - bonus_for(need, DEFAULT_BONUSES)) // 100_000)
    return max(thousands, 2) * 100_000


def _ensure_program(service: PromotionService, start: date, end: date, tz: ZoneInfo) -> None:
    program = make_program(
        PROGRAM_ID, "coupon",
        {"amount_off_fen": COUPON_OFF_FEN, "min_spend_fen": COUPON_MIN_SPEND_FEN},
        name="满200减40 会员券 (demo)",
        starts_at=_local_to_utc(start, 0, tz),
        ends_at=_local_to_utc(end + timedelta(days=1), 0, tz),
    )  # fmt: skip
    service.create_program(program, actor="demo")


def _plan_coupons(
    truth: DemoTruth,
    orders: pd.DataFrame,
    customers: pd.DataFrame,
    rng: np.random.Generator,
    tz: ZoneInfo,
) -> list[dict[str, Any]]:
    """Per promotion window: the batch of codes, its recipients and their uses."""
    local_day = pd.to_datetime(orders["ts"]).dt.tz_localize("UTC").dt.tz_convert(tz).dt.date
    first_seen = dict(
        zip(customers["customer_id"].astype(str), customers["first_seen_at"], strict=True)
    )
    taken: set[str] = set()
    plan = []
    for days in _windows(truth):
        issue_day = days[0] - timedelta(days=ISSUE_DAYS_BEFORE)
        at = _local_to_utc(issue_day, ISSUE_HOUR, tz)
        until = _local_to_utc(days[-1] + timedelta(days=1), 0, tz)
        used = orders[local_day.isin(days) & orders["coupon_code"].notna()]
        users = sorted({str(m) for m in used["customer_id"]})
        reached = [
            m for m, u in zip(users, rng.random(len(users)), strict=True) if u < COUPON_REACH
        ]
        window_start = pd.Timestamp(at) - pd.Timedelta(days=120)
        active = orders[(orders["ts"] >= window_start) & (orders["ts"] < pd.Timestamp(at))]
        others = sorted({str(m) for m in active["customer_id"]} - set(users))
        extra = min(len(others), round(COUPON_EXTRA_PER_USER * len(reached)))
        chosen = (
            sorted(rng.choice(np.array(others, dtype=object), extra, replace=False))
            if extra
            else []
        )
        recipients = [m for m in reached + chosen if _utc(first_seen[m]) <= at]
        if not recipients:
            continue
        codes = _codes(rng, len(recipients), taken)
        code_of = dict(zip(recipients, codes, strict=True))
        key = issue_day.isoformat()
        uses = []
        for m in sorted(set(reached) & set(code_of)):
            first = used[used["customer_id"].astype(str) == m].iloc[0]  # by time
            store = None if pd.isna(first.store_id) else str(first.store_id)
            uses.append({
                "member": m, "code": code_of[m], "order": str(first.order_id),
                "at": _utc(first.ts), "store": store, "channel": str(first.channel), "batch": key,
            })  # fmt: skip
        plan.append({"key": key, "at": at, "day": issue_day, "until": until,
                     "codes": sorted(codes), "uses": uses})  # fmt: skip
    return plan


def _figures(
    activity: OpsActivity,
    book: _Book,
    batches: dict[str, dict[str, Any]],
    home: dict[str, Any],
    tz: ZoneInfo,
    start_day: date,
    end_day: date,
) -> None:
    c = book.counts
    outstanding_points = sum(book.balance(m) for m in list(book.lots))
    activity.points = {
        "earn_transactions": c["earns"],
        "earned": c["earned"],
        "redemptions": c["redemptions"],
        "redeemed": c["redeemed"],
        "clawbacks": c["clawbacks"],
        "clawed_back": c["clawed_back"],
        "unrecovered": c["unrecovered"],
        "expired_lots": c["expired_lots"],
        "expired": c["expired"],
        "outstanding": outstanding_points,
        "members_with_points": sum(1 for m in list(book.lots) if book.balance(m) > 0),
    }
    activity.stored_value = {
        "members": sum(1 for m in book.sv),
        "top_ups": c["top_ups"],
        "cash_fen": c["cash_fen"],
        "bonus_fen": c["bonus_fen"],
        "spends": c["spends"],
        "spent_fen": c["spent_fen"],
        "refunds": c["sv_refunds"],
        "refunded_fen": c["sv_refunded_fen"],
        "outstanding_fen": sum(book.sv.values()),
    }
    issued = sum(b["issued"] for b in batches.values())
    redeemed = sum(b["redeemed"] for b in batches.values())
    activity.coupons = {
        "program_id": PROGRAM_ID,
        "rule": "满200减40",
        "batches": [batches[k] for k in sorted(batches)],
        "issued": issued,
        "redeemed": redeemed,
        "redemption_rate": redeemed / issued if issued else None,
    }
    from storeops.pos.service import FEN_PER_POINT  # the POS owns the point value

    moves = pd.DataFrame(book.moves, columns=["at", "asset", "member", "amount"])
    if moves.empty:
        return
    moves["day"] = pd.to_datetime(moves["at"]).dt.tz_localize("UTC").dt.tz_convert(tz).dt.date
    moves["store"] = moves["member"].map(home)
    days = [d - timedelta(days=1) for d in _month_starts(start_day, end_day)] + [end_day]
    for d in days:
        upto = moves[moves["day"] <= d]
        activity.liabilities[d.isoformat()] = {
            "points_liability_fen": int(upto.loc[upto.asset == "points", "amount"].sum())
            * FEN_PER_POINT,
            "stored_value_liability_fen": int(
                upto.loc[upto.asset == "stored_value", "amount"].sum()
            ),
        }
    final = moves[moves["day"] <= end_day]
    for store, part in final.groupby("store", sort=True):
        activity.liabilities_by_store[str(store)] = {
            "points_liability_fen": int(part.loc[part.asset == "points", "amount"].sum())
            * FEN_PER_POINT,
            "stored_value_liability_fen": int(
                part.loc[part.asset == "stored_value", "amount"].sum()
            ),
        }


__all__ = ["PROGRAM_ID", "OpsActivity", "seed_ops_activity"]
