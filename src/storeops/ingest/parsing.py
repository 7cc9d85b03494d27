"""Vectorized parsers: Ibis expressions turning source strings into canonical types.

Each parser returns a :class:`Parsed` pair: the typed value (NULL where the text
does not parse) and the message for a row whose text is present but unusable.
The expressions only use operations that compile on DuckDB and on Spark
(``try_cast``, regular expressions, ``concat_ws``), so one validator serves both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from storeops.warehouse.schema import Column

_UTC = dt.Timestamp(timezone="UTC")
_NAIVE = dt.Timestamp()
_INT = r"^[+-]?[0-9]{1,18}$"
_FEN = r"^[+-]?[0-9]{1,16}$"
_YUAN = r"^([+-]?)([0-9]{1,14})(?:\.([0-9]{0,2}))?$"
_FLOAT = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
# A UTC offset after a time of day: "…10:00:00+08:00", "…10:00+0800", "…10:00Z".
_OFFSET = r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"
_MONEY_NOISE = r"[¥￥,\s]|RMB|CNY|元"
_TRUE = ("true", "1", "yes", "y", "t", "是")
_FALSE = ("false", "0", "no", "n", "f", "否")


@dataclass(frozen=True)
class Parsed:
    value: ir.Value
    #: True where the text is present but cannot become a value.
    invalid: ir.BooleanValue
    #: What is wrong, e.g. ``is not a whole number``.
    problem: str


@dataclass(frozen=True)
class ParseOptions:
    timezone: str
    format: str | None = None
    money_unit: str = "fen"
    #: Wall-clock time in a zone -> UTC; the warehouse's ``utc_from_local``.
    to_utc: LocalToUtc | None = None


LocalToUtc = Callable[[ir.TimestampValue, str], ir.TimestampValue]


def _local_to_utc_text(local: ir.TimestampValue, zone: str) -> ir.TimestampValue:
    """Portable fallback when no warehouse supplies a conversion."""
    return (local.cast(dt.string) + f" {zone}").try_cast(_UTC).cast(dt.timestamp)


Parser = Callable[[ir.StringValue, Column, ParseOptions], Parsed]
PARSERS: dict[str, Parser] = {}


def parser(dtype: str) -> Callable[[Parser], Parser]:
    def deco(func: Parser) -> Parser:
        PARSERS[dtype] = func
        return func

    return deco


def _bad(text: ir.StringValue, value: ir.Value) -> ir.BooleanValue:
    return text.notnull() & value.isnull()


@parser("string")
@parser("json")
def parse_string(text: ir.StringValue, column: Column, opts: ParseOptions) -> Parsed:
    return Parsed(text, ibis.literal(False), "")


@parser("int64")
def parse_int(text: ir.StringValue, column: Column, opts: ParseOptions) -> Parsed:
    if column.is_money:
        return parse_money(text, column, opts)
    # DuckDB's TRY_CAST rounds "12.5" to 13; a regex keeps integers strict everywhere.
    value = _integer(text, r"[,\s]", _INT)
    return Parsed(value, _bad(text, value), "is not a whole number")


def _integer(text: ir.StringValue, noise: str, pattern: str) -> ir.IntegerValue:
    # Plain digits are by far the common case: test them with one cheap regex and
    # only strip separators/currency signs from the rest.
    cleaned = text.re_replace(noise, "")
    slow = ibis.ifelse(cleaned.re_search(pattern), cleaned.try_cast(dt.int64), ibis.null(dt.int64))
    plain = ibis.ifelse(text.re_search(pattern), text.try_cast(dt.int64), slow)
    # Cheaper still: a value that prints back as its text, with no more digits than
    # the pattern allows, is what the pattern would accept.
    digits = int(re.search(r"\{1,(\d+)\}", pattern).group(1))  # type: ignore[union-attr]
    value = text.try_cast(dt.int64)
    bound = 10**digits  # no abs(): it overflows on the smallest int64
    canonical = (value.cast(dt.string) == text) & (value < bound) & (value > -bound)
    return ibis.ifelse(canonical, value, plain)


def parse_money(text: ir.StringValue, column: Column, opts: ParseOptions) -> Parsed:
    cleaned = text.re_replace(_MONEY_NOISE, "")
    if opts.money_unit == "fen":
        value = _integer(text, _MONEY_NOISE, _FEN)
        problem = (
            "is not a whole number of fen (if the file gives yuan, set "
            f'money.{column.name} = "yuan" in mapping.toml)'
        )
        return Parsed(value, _bad(text, value), problem)
    # Yuan → fen with integer arithmetic only: "1234.5" → 1234 * 100 + "50".
    sign = cleaned.re_extract(_YUAN, 1)
    whole = cleaned.re_extract(_YUAN, 2).try_cast(dt.int64)
    cents = cleaned.re_extract(_YUAN, 3).rpad(2, "0").try_cast(dt.int64)
    fen = whole * 100 + cents
    value = ibis.ifelse(
        cleaned.re_search(_YUAN), ibis.ifelse(sign == "-", -fen, fen), ibis.null(dt.int64)
    )
    return Parsed(value, _bad(text, value), "is not an amount in yuan (e.g. ¥1,234.56)")


@parser("float64")
def parse_float(text: ir.StringValue, column: Column, opts: ParseOptions) -> Parsed:
    cleaned = text.re_replace(r"[,\s]", "")
    value = ibis.ifelse(
        cleaned.re_search(_FLOAT), cleaned.try_cast(dt.float64), ibis.null(dt.float64)
    )
    return Parsed(value, _bad(text, value), "is not a number")


@parser("boolean")
def parse_bool(text: ir.StringValue, column: Column, opts: ParseOptions) -> Parsed:
    lowered = text.lower()
    value = ibis.cases(
        (lowered.isin(_TRUE), True), (lowered.isin(_FALSE), False), else_=ibis.null(dt.boolean)
    )
    return Parsed(value, _bad(text, value), "is not true/false")


@parser("date")
def parse_date(text: ir.StringValue, column: Column, opts: ParseOptions) -> Parsed:
    # Text not in the given format may still be ISO 8601 (e.g. re-exported rows).
    iso = normalise(text, opts.format, with_time=False).fill_null(text) if opts.format else text
    # A date-time in a date column keeps its date part (Excel writes midnight times).
    iso = ibis.ifelse(iso.re_search(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T]"), iso.substr(0, 10), iso)
    value = iso.try_cast(dt.date)
    hint = f" with format {opts.format!r}" if opts.format else " (expected YYYY-MM-DD)"
    return Parsed(value, _bad(text, value), f"is not a valid date{hint}")


@parser("timestamp")
def parse_timestamp(text: ir.StringValue, column: Column, opts: ParseOptions) -> Parsed:
    iso = normalise(text, opts.format, with_time=True).fill_null(text) if opts.format else text
    # No back-references: DuckDB writes them \\1, Spark $1. ISO text has no other "T".
    iso = iso.replace("T", " ")
    iso = ibis.ifelse(iso.endswith("Z"), iso.re_replace(r"\s*Z$", "+00:00"), iso)
    # With an offset the text names its own instant; without one it is wall-clock
    # time in the mapping's zone. An offset's sign is among the last six characters,
    # a cheap test that spares most rows the regular expression.
    tail = iso.right(6)
    signed = tail.contains("+") | tail.contains("-")
    to_utc = opts.to_utc or _local_to_utc_text
    value = ibis.ifelse(
        signed & iso.re_search(_OFFSET),
        iso.try_cast(_UTC).cast(dt.timestamp),
        to_utc(iso.try_cast(dt.timestamp), opts.timezone),
    )
    hint = f" with format {opts.format!r}" if opts.format else " (expected YYYY-MM-DD HH:MM:SS)"
    return Parsed(value, _bad(text, value), f"is not a valid time{hint}")


_DIRECTIVE = {
    "Y": r"([0-9]{4})",
    "m": r"([0-9]{1,2})",
    "d": r"([0-9]{1,2})",
    "H": r"([0-9]{1,2})",
    "M": r"([0-9]{1,2})",
    "S": r"([0-9]{1,2})",
    "f": r"([0-9]{1,6})",
    "z": r"(Z|[+-][0-9]{2}:?[0-9]{2})",
}


def normalise(text: ir.StringValue, fmt: str | None, *, with_time: bool) -> ir.StringValue:
    """Rewrite text in strptime-style ``fmt`` to ISO 8601 with regular expressions.

    ``try_cast`` is the only date parser that never fails a whole query on both
    backends, so custom formats are turned into ISO text first.
    """
    assert fmt is not None
    pattern = ["^"]
    groups: dict[str, int] = {}
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            d = fmt[i + 1]
            if d == "%":
                pattern.append("%")
            else:
                groups[d] = len(groups) + 1
                pattern.append(_DIRECTIVE[d])
            i += 2
            continue
        pattern.append(r"\s+" if ch == " " else re.escape(ch))
        i += 1
    pattern.append("$")
    regex = "".join(pattern)

    def part(d: str, width: int, default: str) -> ir.StringValue:
        if d not in groups:
            return ibis.literal(default)
        return text.re_extract(regex, groups[d]).lpad(width, "0")

    out = part("Y", 4, "1970") + "-" + part("m", 2, "01") + "-" + part("d", 2, "01")
    if with_time:
        out = out + " " + part("H", 2, "00") + ":" + part("M", 2, "00") + ":" + part("S", 2, "00")
        if "f" in groups:
            out = out + "." + text.re_extract(regex, groups["f"]).rpad(6, "0")
        if "z" in groups:
            out = out + text.re_extract(regex, groups["z"])
    return ibis.ifelse(text.re_search(regex), out, ibis.null(dt.string))
