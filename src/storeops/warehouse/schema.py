"""The canonical data model: every warehouse table, its columns and natural key.

This module is the single place where table contracts live. Importers validate
against it, the warehouse creates tables from it, and ``docs/data-model.md`` is
checked against it by a test.

Conventions (see DESIGN.md section 3):
- money columns end in ``_fen`` and hold integer fen (1 yuan = 100 fen);
- timestamps (dtype ``timestamp``) hold UTC wall-clock values without a zone;
  "day" means the store's local business day, computed from ``stores.timezone``;
- customers are pseudonymous ids; no phone, e-mail or WeChat id is stored here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import ibis
import ibis.expr.datatypes as dt

from storeops.errors import SchemaError

DType = Literal["string", "int64", "float64", "date", "timestamp", "boolean", "json"]

_IBIS_TYPES: dict[str, dt.DataType] = {
    "string": dt.string,
    "int64": dt.int64,
    "float64": dt.float64,
    "date": dt.date,
    "timestamp": dt.Timestamp(),
    "boolean": dt.boolean,
    # JSON payloads are stored as text so every backend can hold them.
    "json": dt.string,
}


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    name: str
    dtype: DType
    description: str
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    references: tuple[str, str] | None = None  # (table, column)
    default: str | int | float | bool | None = None
    max_length: int | None = None

    @property
    def ibis_type(self) -> dt.DataType:
        return _IBIS_TYPES[self.dtype].copy(nullable=not self.required)

    @property
    def is_money(self) -> bool:
        return self.name.endswith("_fen")


@dataclass(frozen=True)
class TableSchema:
    """Contract of one canonical table."""

    name: str
    description: str
    columns: tuple[Column, ...]
    natural_key: tuple[str, ...]
    system: bool = False  # bookkeeping tables (loads, quarantine) are not importable
    _by_name: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({c.name: c for c in self.columns})
        missing = [k for k in self.natural_key if k not in self._by_name]
        if missing:
            raise SchemaError(f"table {self.name}: natural key columns {missing} are not columns")

    def column(self, name: str) -> Column:
        try:
            return self._by_name[name]
        except KeyError:
            raise SchemaError(
                f"table {self.name!r} has no column {name!r}; columns are: "
                + ", ".join(self.column_names)
            ) from None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def ibis_schema(self) -> ibis.Schema:
        return ibis.schema({c.name: c.ibis_type for c in self.columns})

    @property
    def references(self) -> list[tuple[Column, str, str]]:
        return [(c, *c.references) for c in self.columns if c.references]


class TableRegistry:
    """Name → :class:`TableSchema`; importers and backends look tables up here."""

    def __init__(self) -> None:
        self._tables: dict[str, TableSchema] = {}

    def register(self, table: TableSchema) -> TableSchema:
        if table.name in self._tables:
            raise SchemaError(f"table {table.name!r} is registered twice")
        self._tables[table.name] = table
        return table

    def __getitem__(self, name: str) -> TableSchema:
        try:
            return self._tables[name]
        except KeyError:
            raise SchemaError(
                f"unknown table {name!r}; choose one of: {', '.join(self.importable_names)}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._tables

    def __iter__(self) -> Iterator[TableSchema]:
        return iter(self._tables.values())

    @property
    def importable_names(self) -> list[str]:
        return [t.name for t in self._tables.values() if not t.system]

    def import_order(self) -> list[str]:
        """Importable tables ordered so that referenced tables come first."""
        order: list[str] = []
        seen: set[str] = set()

        def visit(name: str) -> None:
            if name in seen:
                return
            seen.add(name)
            for _, ref_table, _ in self[name].references:
                if ref_table != name:
                    visit(ref_table)
            order.append(name)

        for name in self.importable_names:
            visit(name)
        return order


TABLES = TableRegistry()

CHANNELS = ("store", "mini_program", "taobao", "tmall", "own_site", "community", "other")
ORDER_STATUSES = ("completed", "cancelled", "refunded", "partially_refunded")
PAYMENTS = ("wechat_pay", "alipay", "cash", "bank_card", "stored_value", "points", "other")


def _c(name: str, dtype: DType, description: str, **kw: object) -> Column:
    return Column(name, dtype, description, **kw)  # type: ignore[arg-type]


STORE_REF = ("stores", "store_id")

# The compact one-call-per-column layout reads like the table it declares.
# fmt: off
TABLES.register(TableSchema(
    "stores", "Physical stores and online shops of the merchant.",
    (
        _c("store_id", "string", "Store code, e.g. S001.", max_length=64),
        _c("name", "string", "Display name."),
        _c("city", "string", "City.", required=False),
        _c("timezone", "string", "IANA time zone of the store's business day.",
           default="Asia/Shanghai"),
        _c("area_m2", "float64", "Selling area in square metres.", required=False,
           minimum=0.0, maximum=1_000_000.0),
        _c("opened_on", "date", "Opening date.", required=False),
    ),
    ("store_id",),
))
TABLES.register(TableSchema(
    "zones", "Areas inside a store (for Wi-Fi dwell and heat).",
    (
        _c("store_id", "string", "Store.", references=STORE_REF),
        _c("zone_id", "string", "Zone code, unique within the store."),
        _c("name", "string", "Display name."),
        _c("area_m2", "float64", "Zone area in square metres.", required=False,
           minimum=0.0, maximum=1_000_000.0),
    ),
    ("store_id", "zone_id"),
))
TABLES.register(TableSchema(
    "entrances", "Store doors with people counters.",
    (
        _c("store_id", "string", "Store.", references=STORE_REF),
        _c("entrance_id", "string", "Entrance code, unique within the store."),
        _c("name", "string", "Display name.", required=False),
    ),
    ("store_id", "entrance_id"),
))
TABLES.register(TableSchema(
    "products", "Sellable items (SKUs).",
    (
        _c("sku", "string", "Stock-keeping unit code."),
        _c("name", "string", "Product name."),
        _c("category", "string", "Category.", required=False),
        _c("brand", "string", "Brand.", required=False),
        _c("price_fen", "int64", "List price in fen.", minimum=0),
        _c("cost_fen", "int64", "Unit cost in fen.", required=False, minimum=0),
        _c("launched_on", "date", "Launch date.", required=False),
    ),
    ("sku",),
))
TABLES.register(TableSchema(
    "customers", "Pseudonymous customers; personal data lives only in the ops database.",
    (
        _c("customer_id", "string", "Pseudonymous customer id."),
        _c("first_seen_at", "timestamp", "First time the customer was seen (UTC).",
           required=False),
        _c("home_store_id", "string", "Preferred or enrolling store.", required=False,
           references=STORE_REF),
        _c("source", "string", "Where the customer was first registered.", required=False,
           choices=CHANNELS),
        _c("birth_year", "int64", "Birth year, if known.", required=False,
           minimum=1900, maximum=2100),
        _c("gender", "string", "Gender, if known.", required=False, choices=("f", "m", "x")),
    ),
    ("customer_id",),
))
TABLES.register(TableSchema(
    "orders", "Sales transactions from every channel (one row per order).",
    (
        _c("order_id", "string", "Order number, unique across channels."),
        _c("store_id", "string", "Store that made the sale (empty for pure online orders).",
           required=False, references=STORE_REF),
        _c("channel", "string", "Sales channel.", choices=CHANNELS, default="store"),
        _c("customer_id", "string", "Customer, empty for anonymous sales.", required=False,
           references=("customers", "customer_id")),
        _c("ts", "timestamp", "Time of sale (UTC)."),
        _c("total_fen", "int64", "Amount paid after discounts, in fen.",
           minimum=0, maximum=10**12),
        _c("discount_fen", "int64", "Total discount granted, in fen.", minimum=0,
           maximum=10**12, default=0),
        _c("currency", "string", "ISO currency code.", default="CNY"),
        _c("coupon_code", "string", "Coupon redeemed, if any.", required=False),
        _c("payment", "string", "Payment method.", required=False, choices=PAYMENTS),
        _c("status", "string", "Order status.", choices=ORDER_STATUSES, default="completed"),
    ),
    ("order_id",),
))
TABLES.register(TableSchema(
    "order_lines", "Items of an order.",
    (
        _c("order_id", "string", "Order.", references=("orders", "order_id")),
        _c("line_no", "int64", "Line number within the order, from 1.", minimum=1),
        _c("sku", "string", "Product.", references=("products", "sku")),
        _c("quantity", "int64", "Units sold.", minimum=1, maximum=100_000),
        _c("unit_price_fen", "int64", "Unit price before discount, in fen.", minimum=0),
        _c("discount_fen", "int64", "Discount on this line, in fen.", minimum=0, default=0),
        _c("amount_fen", "int64", "Amount paid for this line, in fen.", minimum=0),
    ),
    ("order_id", "line_no"),
))
TABLES.register(TableSchema(
    "refunds", "Money returned to customers, linked to the original order.",
    (
        _c("refund_id", "string", "Refund number."),
        _c("order_id", "string", "Original order.", references=("orders", "order_id")),
        _c("sku", "string", "Refunded product, empty for a whole-order refund.",
           required=False, references=("products", "sku")),
        _c("quantity", "int64", "Units returned.", required=False, minimum=1),
        _c("amount_fen", "int64", "Amount refunded, in fen.", minimum=0),
        _c("ts", "timestamp", "Time of refund (UTC)."),
        _c("reason", "string", "Reason given.", required=False),
    ),
    ("refund_id",),
))
TABLES.register(TableSchema(
    "traffic_counts", "People-counter readings per entrance and interval.",
    (
        _c("store_id", "string", "Store.", references=STORE_REF),
        _c("entrance_id", "string", "Entrance (see entrances)."),
        _c("interval_start", "timestamp", "Start of the counting interval (UTC)."),
        _c("interval_seconds", "int64", "Length of the interval in seconds.",
           minimum=1, maximum=86_400, default=60),
        _c("ins", "int64", "People entering.", minimum=0, maximum=100_000),
        _c("outs", "int64", "People leaving.", minimum=0, maximum=100_000),
        _c("passers_by", "int64", "People passing the door, where the counter reports it.",
           required=False, minimum=0, maximum=1_000_000),
    ),
    ("store_id", "entrance_id", "interval_start"),
))
TABLES.register(TableSchema(
    "wifi_sightings", "Wi-Fi probe sightings of (hashed) devices by zone sensors.",
    (
        _c("store_id", "string", "Store.", references=STORE_REF),
        _c("zone_id", "string", "Zone of the sensor."),
        _c("sensor_id", "string", "Sensor id."),
        _c("ts", "timestamp", "Time of the sighting (UTC)."),
        _c("device_hash", "string", "Salted hash of the device MAC address."),
        _c("rssi", "int64", "Signal strength in dBm.", minimum=-120, maximum=0),
    ),
    ("sensor_id", "device_hash", "ts"),
))
TABLES.register(TableSchema(
    "events", "Behavioural events from apps and sites, shaped like the Segment spec.",
    (
        _c("source_id", "string", "Collector source (write key owner) that sent the event.",
           default="import"),
        _c("message_id", "string", "Segment messageId, unique per source."),
        _c("type", "string", "Segment call type.",
           choices=("track", "identify", "page", "screen", "group", "alias")),
        _c("event", "string", "Event name for track calls, e.g. 'Order Completed'.",
           required=False),
        _c("user_id", "string", "Known user id (Segment userId).", required=False),
        _c("anonymous_id", "string", "Device or cookie id (Segment anonymousId).",
           required=False),
        _c("ts", "timestamp", "Event time (Segment timestamp, UTC)."),
        _c("properties", "json", "Event properties as a JSON object.", required=False),
        _c("context", "json", "Segment context as a JSON object.", required=False),
    ),
    ("source_id", "message_id"),
))
TABLES.register(TableSchema(
    "inventory_snapshots", "Stock on hand per store, SKU and day.",
    (
        _c("store_id", "string", "Store.", references=STORE_REF),
        _c("sku", "string", "Product.", references=("products", "sku")),
        _c("date", "date", "Local business day of the snapshot."),
        _c("on_hand", "int64", "Units on hand at close.", minimum=-1_000_000),
    ),
    ("store_id", "sku", "date"),
))
TABLES.register(TableSchema(
    "staff_shifts", "Scheduled or clocked shifts of store staff.",
    (
        _c("store_id", "string", "Store.", references=STORE_REF),
        _c("staff_id", "string", "Pseudonymous staff id."),
        _c("shift_start", "timestamp", "Shift start (UTC)."),
        _c("shift_end", "timestamp", "Shift end (UTC)."),
        _c("role", "string", "Role on the shift.", default="sales",
           choices=("sales", "cashier", "manager", "stock", "other")),
    ),
    ("store_id", "staff_id", "shift_start"),
))
TABLES.register(TableSchema(
    "community_groups", "Customer community groups (WeChat / WeCom groups).",
    (
        _c("group_id", "string", "Group id."),
        _c("name", "string", "Group name."),
        _c("platform", "string", "Platform.", choices=("wecom", "wechat", "other"),
           default="wecom"),
        _c("store_id", "string", "Store running the group.", required=False,
           references=STORE_REF),
        _c("created_at", "timestamp", "Creation time (UTC).", required=False),
    ),
    ("group_id",),
))
TABLES.register(TableSchema(
    "community_members", "Membership of customers in community groups.",
    (
        _c("group_id", "string", "Group.", references=("community_groups", "group_id")),
        _c("customer_id", "string", "Customer.", references=("customers", "customer_id")),
        _c("joined_at", "timestamp", "Join time (UTC)."),
        _c("left_at", "timestamp", "Leave time (UTC), empty while a member.",
           required=False),
    ),
    ("group_id", "customer_id", "joined_at"),
))
TABLES.register(TableSchema(
    "community_messages", "Messages and interactions in community groups (no content text).",
    (
        _c("message_id", "string", "Message id."),
        _c("group_id", "string", "Group.", references=("community_groups", "group_id")),
        _c("customer_id", "string", "Sender; empty when staff posted.", required=False),
        _c("sender_role", "string", "Who sent it.", choices=("member", "staff", "bot"),
           default="member"),
        _c("ts", "timestamp", "Time sent (UTC)."),
        _c("kind", "string", "Kind of message.", default="text",
           choices=("text", "image", "link", "coupon", "sign_in", "product", "reaction",
                    "other")),
        _c("clicks", "int64", "Clicks on a link/coupon/product post.", required=False,
           minimum=0),
    ),
    ("message_id",),
))
TABLES.register(TableSchema(
    "surveys", "Customer survey answers: NPS (0-10) and CSAT (1-5).",
    (
        _c("response_id", "string", "Response id."),
        _c("survey", "string", "Survey kind.", choices=("nps", "csat")),
        _c("customer_id", "string", "Customer, if known.", required=False),
        _c("store_id", "string", "Store the answer is about.", required=False,
           references=STORE_REF),
        _c("ts", "timestamp", "Answer time (UTC)."),
        _c("score", "int64", "Score: 0-10 for NPS, 1-5 for CSAT.", minimum=0, maximum=10),
        _c("comment", "string", "Free-text comment.", required=False),
    ),
    ("response_id",),
))

# --- bookkeeping tables written by the importer -------------------------------------
TABLES.register(TableSchema(
    "load_records", "One row per imported file: what was read, loaded, skipped.",
    (
        _c("load_id", "string", "Load id."),
        _c("kind", "string", "Target table."),
        _c("file_name", "string", "File path as given."),
        _c("checksum", "string", "SHA-256 of the file bytes."),
        _c("started_at", "timestamp", "Start (UTC)."),
        _c("finished_at", "timestamp", "End (UTC)."),
        _c("rows_read", "int64", "Data rows read from the file."),
        _c("loaded", "int64", "Rows added to the table."),
        _c("duplicates", "int64", "Rows whose natural key was already stored or repeated."),
        _c("quarantined", "int64", "Rows rejected to the quarantine."),
        _c("status", "string", "loaded | already_loaded.",
           choices=("loaded", "already_loaded")),
        _c("first_errors", "json", "Up to 10 first reasons, as a JSON list.",
           required=False),
    ),
    ("load_id",),
    system=True,
))
TABLES.register(TableSchema(
    "quarantine", "Rejected rows with their raw text and an actionable reason.",
    (
        _c("load_id", "string", "Load that rejected the row."),
        _c("kind", "string", "Target table."),
        _c("file_name", "string", "Source file."),
        _c("line", "int64", "Line number in the source file (1 = first line)."),
        _c("raw", "string", "The row as it was read."),
        _c("reason", "string", "Why it was rejected and how to fix it."),
        _c("created_at", "timestamp", "When it was quarantined (UTC)."),
    ),
    ("load_id", "line"),
    system=True,
))

# --- bookkeeping tables written by the collector's spool loader ----------------------
TABLES.register(TableSchema(
    "collector_batches",
    "One row per collector request: received = accepted + duplicates + failed.",
    (
        _c("batch_id", "string", "Request id given by the collector."),
        _c("source_id", "string", "Source of the write key; empty when unauthorized.",
           required=False),
        _c("endpoint", "string", "API call, e.g. 'batch' or 'track'."),
        _c("received_at", "timestamp", "When the collector received the request (UTC)."),
        _c("status", "int64", "HTTP status of the answer."),
        _c("received", "int64", "Events in the request (1 for a request refused whole)."),
        _c("accepted", "int64", "Events written to the spool."),
        _c("duplicates", "int64", "Events dropped at the door as repeated messageIds."),
        _c("failed", "int64", "Events written to failed_events."),
        _c("loaded", "int64", "Accepted events the loader added to events."),
        _c("load_duplicates", "int64",
           "Accepted events the loader found already stored (repeats older than the "
           "door's window)."),
        _c("segment", "string", "Spool segment file the request was read from."),
    ),
    ("batch_id",),
    system=True,
))
TABLES.register(TableSchema(
    "failed_events", "Events the collector refused, with the reason and the raw payload.",
    (
        _c("batch_id", "string", "Request that carried the event."),
        _c("position", "int64", "Index of the event in the batch; -1 for a whole request."),
        _c("source_id", "string", "Source of the write key.", required=False),
        _c("received_at", "timestamp", "When the collector received it (UTC)."),
        _c("message_id", "string", "messageId, when it had one.", required=False),
        _c("type", "string", "Segment call type, when it had one.", required=False),
        _c("code", "string", "Stable reason code, e.g. 'bad_timestamp'."),
        _c("reason", "string", "What is wrong and how to fix it."),
        _c("raw", "string", "The event (or request body) as received, up to 64 KiB."),
    ),
    ("batch_id", "position"),
    system=True,
))
# fmt: on
