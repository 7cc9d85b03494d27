"""Validation as Ibis expressions: one pass decides, per row, load or quarantine.

The staged strings (``_c0 … _cN``, ``_line``) become a *checked* table with the
canonical columns and one boolean per rule; ``good`` and ``bad`` are two filters of
it. Referential rules are left joins against the referenced warehouse tables
(plus the file's own keys for self-references). Nothing here loops over rows in
Python, and the same expressions run on DuckDB and Spark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from storeops.errors import MappingError
from storeops.ingest.mapping import Mapping
from storeops.ingest.parsing import PARSERS, ParseOptions
from storeops.ingest.readers import REPLACEMENT, SourceRows
from storeops.warehouse.base import Warehouse
from storeops.warehouse.schema import Column, TableSchema

Expr = Callable[[ir.Table], ir.Value]


@dataclass(frozen=True)
class Rule:
    """One check: ``failed(t)`` is true for a bad row, ``message(t)`` says why."""

    code: str
    failed: Callable[[ir.Table], ir.BooleanValue]
    message: Callable[[ir.Table], ir.StringValue]


@dataclass
class Plan:
    checked: ir.Table  # _line, typed canonical columns, _bad
    wide: ir.Table  # the same plus the staged columns, texts and one flag per rule (_fN)
    rules: list[Rule]
    keep: list[str]  # staged columns carried along (_line, _c0.._cN[, _raw])
    table: TableSchema
    columns: dict[str, int | None]  # canonical column → source position

    def good(self, checked: ir.Table | None = None) -> ir.Table:
        """Rows passing every rule: _line + canonical columns."""
        source = self.wide if checked is None else checked
        return source.filter(~source._bad).select("_line", *self.table.column_names)

    def bad(self, lines: list[int] | None = None) -> ir.Table:
        """Rows failing a rule: staged columns + _reason (all failed rules, "; "-joined).

        ``lines``, the rejected rows' lines when they are known and few (from a
        materialized checked table), lets the engine re-check only those rows: the
        filter on ``_line`` goes down to the staged data, before any parser runs.
        """
        wide = self.wide
        rejected = wide.filter(wide._bad if lines is None else wide._line.isin(lines) & wide._bad)
        reasons = [
            ibis.ifelse(rejected[f"_f{i}"], rule.message(rejected), ibis.null(dt.string))
            for i, rule in enumerate(self.rules)
        ]
        return rejected.select(*self.keep, _reason=ibis.literal("; ").join(reasons))


def resolve_columns(
    table: TableSchema, header: list[str], mapping: Mapping, file_name: str
) -> dict[str, int | None]:
    """Canonical column → position in the file (None when absent)."""
    canonical = {name.lower(): name for name in table.column_names}
    found: dict[str, int] = {}
    for src in mapping.columns:
        if src not in header:
            raise MappingError(
                f"mapping: columns.{src!r}: {file_name} has no column {src!r}; its header is: "
                + ", ".join(repr(h) for h in header)
            )
    for pos, name in enumerate(header):
        target = mapping.columns.get(name) or canonical.get(name.strip().lower())
        if target is not None and target not in found:
            found[target] = pos
    result: dict[str, int | None] = {}
    for column in table.columns:
        position = found.get(column.name)
        if (
            position is None
            and column.required
            and column.default is None
            and column.name not in mapping.constants
        ):
            raise MappingError(
                f"{file_name} has no column for {table.name}.{column.name} (required: "
                f"{column.description}). Its header is: {', '.join(header)}. Rename the "
                f'column, or add [columns] "<your header>" = "{column.name}" to mapping.toml'
            )
        result[column.name] = position
    return result


def _quote(text: ir.StringValue) -> ir.StringValue:
    # Long fields would drown the reason; 60 characters identify the value.
    return '"' + text.substr(0, 60) + '"'


def build_plan(
    warehouse: Warehouse,
    table: TableSchema,
    staged: ir.Table,
    rows: SourceRows,
    mapping: Mapping,
    *,
    file_name: str,
    shortcuts: bool = True,
) -> Plan:
    """The checked table of ``staged``; see the module doc.

    ``shortcuts`` allows reference checks against a list of the file's unknown
    values (one small query first) instead of a join of every row.
    """
    positions = resolve_columns(table, rows.header, mapping, file_name)
    tz = mapping.timezone or warehouse.settings.default_timezone
    source_cols = [c for c in staged.columns if c.startswith("_c")]
    keep = ["_line", *source_cols] + (["_raw"] if "_raw" in staged.columns else [])

    # 1. text of every canonical column (constants and defaults filled in)
    texts: dict[str, ir.StringValue] = {}
    for column in table.columns:
        texts[f"_t_{column.name}"] = _text_of(
            staged, column, positions[column.name], mapping, rows.padded
        )
    base = staged.select(*keep, **texts)

    # 2. typed values
    typed_values: dict[str, ir.Value] = {}
    rules: list[Rule] = []
    for column in table.columns:
        opts = ParseOptions(
            timezone=tz,
            format=mapping.formats.get(column.name),
            money_unit=mapping.money.get(column.name, "fen"),
            to_utc=warehouse.utc_from_local,
        )
        parsed = PARSERS[column.dtype](base[f"_t_{column.name}"], column, opts)
        value = parsed.value
        if column.choices:
            value = value.lower()
        typed_values[column.name] = value
        rules.extend(_column_rules(column, parsed.problem, positions[column.name], rows.header))
    typed = base.mutate(**typed_values)
    # "Text present but no value" refers to the parsed column, so each parser runs
    # once per row instead of once more inside the flag.
    typed = typed.mutate(
        **{
            f"_inv_{c.name}": (
                ibis.literal(False)
                if c.dtype in ("string", "json")
                else typed[f"_t_{c.name}"].notnull() & typed[c.name].isnull()
            )
            for c in table.columns
        }
    )

    # 3. referential rules: one left join per referencing column
    for i, (column, ref_table, ref_col) in enumerate(table.references):
        flag = f"_ref{i}"
        keys = warehouse.table(ref_table).select(_k=ibis._[ref_col].cast(dt.string))
        if ref_table == table.name:
            keys = keys.union(typed.select(_k=typed[ref_col].cast(dt.string)))
        unknown = (
            _unknown_values(warehouse, typed[column.name].cast(dt.string), keys)
            if shortcuts
            else None
        )
        if unknown is None:
            keys = keys.distinct().mutate(**{flag: ibis.literal(True)})
            typed = typed.left_join(keys, typed[column.name].cast(dt.string) == keys._k)
            typed = typed.drop("_k")
        else:
            # Same flag as the join gives (TRUE = found, NULL = not), without
            # carrying every column of the file through a hash join.
            found = (
                ibis.ifelse(typed[column.name].cast(dt.string).isin(unknown), None, True)
                if unknown
                else ibis.literal(True)
            )
            typed = typed.mutate(**{flag: found.cast(dt.boolean)})
        rules.append(_reference_rule(column, ref_table, flag))

    if rows.replaced:
        rules.append(_encoding_rule(source_cols, rows.encoding))

    # SQL's three-valued logic would turn NOT(NULL OR …) into NULL and drop the row
    # from both sides; every rule is made two-valued. Each rule becomes a column so
    # a backend can materialize the checked table once (see loader.materialize).
    flags = {f"_f{i}": r.failed(typed).fill_null(False) for i, r in enumerate(rules)}
    checked = typed.mutate(**flags)
    any_failed = ibis.or_(*[checked[f] for f in flags]) if flags else ibis.literal(False)
    wide = checked.mutate(_bad=any_failed)
    narrow = wide.select("_line", *table.column_names, "_bad")
    return Plan(
        checked=narrow,
        wide=wide,
        rules=rules,
        keep=keep,
        table=table,
        columns=positions,
    )


#: Up to this many unknown reference values are checked with a list instead of a join.
UNKNOWN_LISTED = 1_000


def _unknown_values(
    warehouse: Warehouse, values: ir.StringValue, keys: ir.Table
) -> list[str] | None:
    """Distinct values of ``values`` that are not in ``keys._k``; None if too many.

    The distinct values of a referencing column are few next to its rows (50
    stores, 100k customers in 10M orders), so finding the unknown ones first and
    testing rows against that short list is far cheaper than joining every row
    with all its columns to the referenced table.
    """
    distinct = values.as_table().select(_v=values).distinct()
    distinct = distinct.filter(distinct._v.notnull())
    missing = distinct.anti_join(keys, distinct._v == keys._k).limit(UNKNOWN_LISTED + 1)
    found = warehouse.to_pyarrow(missing).column("_v").to_pylist()
    return None if len(found) > UNKNOWN_LISTED else sorted(found)


def first_per_key(good: ir.Table, key: tuple[str, ...]) -> ir.Table:
    """Keep the first row (lowest line) of each natural key in the file.

    A grouped ``min(_line)`` plus a semi-join hashes instead of sorting, which a
    ``row_number()`` window would need.
    """
    firsts = good.group_by(list(key)).aggregate(_first=good._line.min())
    preds = [good[k] == firsts[k] for k in key] + [good._line == firsts._first]
    return good.semi_join(firsts, preds)


def new_rows(warehouse: Warehouse, candidates: ir.Table, table: TableSchema) -> ir.Table:
    """Rows whose natural key is not stored yet (the stored row wins)."""
    existing = warehouse.table(table.name).select(*table.natural_key)
    preds = [candidates[k] == existing[k] for k in table.natural_key]
    return candidates.anti_join(existing, preds)


# -- rule builders ------------------------------------------------------------------------
def _text_of(
    staged: ir.Table,
    column: Column,
    pos: int | None,
    mapping: Mapping,
    padded: frozenset[str] | None = None,
) -> ir.StringValue:
    if column.name in mapping.constants:
        constant = mapping.constants[column.name]
        text = str(constant).lower() if isinstance(constant, bool) else str(constant)
        return ibis.literal(text, dt.string)
    default = None if column.default is None else ibis.literal(str(column.default), dt.string)
    if pos is None:
        return default if default is not None else ibis.null(dt.string)
    raw = staged[f"_c{pos}"]
    # The reader may know that no value of the column is padded (see SourceRows).
    text = (_strip(raw) if padded is None or f"_c{pos}" in padded else raw).nullif("")
    return text if default is None else text.fill_null(default)


#: The characters ``StringValue.strip`` removes.
_SPACES = (" ", "\t", "\n", "\r", "\x0b", "\x0c")


def _strip(text: ir.StringValue) -> ir.StringValue:
    # Trimming a character set costs ~0.7 s per 2M values on DuckDB; testing the
    # ends first costs ~0.03 s, and padded values are rare. ``text < "!"`` is true
    # for an empty text or one starting with a space or control character (strip
    # leaves the latter as it is, so the test may be generous, never short).
    padded = ibis.or_(text < "!", *[text.endswith(c) for c in _SPACES])
    return ibis.ifelse(padded, text.strip(), text)


def _column_rules(column: Column, problem: str, pos: int | None, header: list[str]) -> list[Rule]:
    name = column.name
    t_col, inv_col = f"_t_{name}", f"_inv_{name}"
    where = f" (column {header[pos]!r})" if pos is not None and header[pos] != name else ""
    rules = [
        Rule(
            f"{name}.type",
            lambda t: t[inv_col],
            lambda t: ibis.literal(f"{name}{where}: ") + _quote(t[t_col]) + f" {problem}",
        )
    ]
    if column.required:
        rules.append(
            Rule(
                f"{name}.required",
                lambda t: t[t_col].isnull(),
                lambda t: ibis.literal(f"{name}{where} is required but empty"),
            )
        )
    if column.max_length is not None:
        limit = column.max_length
        rules.append(
            Rule(
                f"{name}.length",
                lambda t: t[name].length() > limit,
                lambda t: (
                    ibis.literal(f"{name}: ")
                    + _quote(t[t_col])
                    + f" is longer than {limit} characters"
                ),
            )
        )
    if column.choices:
        choices = column.choices
        rules.append(
            Rule(
                f"{name}.choice",
                lambda t: t[name].notnull() & ~t[name].isin(choices),
                lambda t: (
                    ibis.literal(f"{name}: ")
                    + _quote(t[t_col])
                    + f" is not one of: {', '.join(choices)}"
                ),
            )
        )
    if column.minimum is not None:
        low = column.minimum
        rules.append(
            Rule(
                f"{name}.minimum",
                lambda t: t[name] < low,
                lambda t: (
                    ibis.literal(f"{name}: ")
                    + _quote(t[t_col])
                    + f" is below the minimum {_num(low, column)}"
                ),
            )
        )
    if column.maximum is not None:
        high = column.maximum
        rules.append(
            Rule(
                f"{name}.maximum",
                lambda t: t[name] > high,
                lambda t: (
                    ibis.literal(f"{name}: ")
                    + _quote(t[t_col])
                    + f" is above the maximum {_num(high, column)}"
                ),
            )
        )
    return rules


def _num(bound: float, column: Column) -> str:
    text = f"{bound:g}" if not float(bound).is_integer() else str(int(bound))
    return f"{text} fen" if column.is_money else text


def _reference_rule(column: Column, ref_table: str, flag: str) -> Rule:
    name = column.name
    return Rule(
        f"{name}.reference",
        lambda t: t[name].notnull() & t[flag].isnull(),
        lambda t: (
            ibis.literal(f"{name} ")
            + _quote(t[f"_t_{name}"])
            + f" is not in {ref_table}: import {ref_table} first or fix the code"
        ),
    )


def _encoding_rule(source_cols: list[str], encoding: str) -> Rule:
    def failed(t: ir.Table) -> ir.BooleanValue:
        return ibis.or_(*[t[c].contains(REPLACEMENT) for c in source_cols])

    return Rule(
        "encoding",
        failed,
        lambda t: ibis.literal(
            f"the line holds bytes that are not valid {encoding} text: save the file as "
            'UTF-8, or set encoding = "..." in mapping.toml'
        ),
    )
