"""Dynamic customer tags: rules over profile columns, kept in ``mart_customer_tags``.

Rules live in a TOML file (the workspace's ``tags.toml``, else the defaults
shipped beside this module)::

    [[tags]]
    name = "high_spender"
    label_zh = "高消费"
    label_en = "High spender"
    where = "spend_fen >= 100000 and orders >= 3"

``where`` is a small, safe expression language — comparisons, ``and``/``or``/
``not``, ``in [..]`` and numbers or strings — over the profile columns (see
``storeops.analytics.profiles``); nothing is evaluated as Python.

Each apply recomputes every customer's tags (one vectorized query) and keeps
the history incrementally: a tag that still holds keeps its ``since`` time; a new
one gets the current time; one that no longer holds is dropped. Every row carries
the ``computed_at`` time of the run that confirmed it.
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from storeops.analytics.profiles import profiles_expr
from storeops.errors import StoreOpsError
from storeops.warehouse import Warehouse

TAGS_MART = "mart_customer_tags"
DEFAULT_RULES = Path(__file__).with_name("default_tags.toml")


class TagRuleError(StoreOpsError, ValueError):
    """A tag rule cannot be parsed or refers to unknown columns."""


@dataclass(frozen=True)
class TagRule:
    name: str
    where: str
    label_zh: str = ""
    label_en: str = ""


def load_rules(path: Path | None = None) -> list[TagRule]:
    path = path or DEFAULT_RULES
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TagRuleError(f"cannot read tag rules {path}: {exc}") from exc
    rules = []
    for i, entry in enumerate(data.get("tags", []), start=1):
        if not isinstance(entry, dict) or "name" not in entry or "where" not in entry:
            raise TagRuleError(f"{path.name}: tag #{i} needs a name and a where expression")
        unknown = set(entry) - {"name", "where", "label_zh", "label_en"}
        if unknown:
            raise TagRuleError(
                f"{path.name}: tag {entry['name']!r} has unknown keys {sorted(unknown)}"
            )
        rules.append(TagRule(**entry))
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise TagRuleError(f"{path.name}: tag names must be unique")
    return rules


_COMPARE = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.In: lambda a, b: a.isin(b),
    ast.NotIn: lambda a, b: ~a.isin(b),
}


def compile_rule(rule: TagRule, table: ir.Table) -> ir.BooleanValue:
    """Translate a ``where`` expression into an Ibis boolean over ``table``."""
    try:
        tree = ast.parse(rule.where, mode="eval")
    except SyntaxError as exc:
        raise TagRuleError(f"tag {rule.name!r}: cannot parse {rule.where!r}: {exc.msg}") from exc

    def build(node: ast.AST) -> Any:
        if isinstance(node, ast.BoolOp):
            parts = [build(v) for v in node.values]
            out = parts[0]
            for part in parts[1:]:
                out = (out & part) if isinstance(node.op, ast.And) else (out | part)
            return out
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ~build(node.operand)
        if isinstance(node, ast.Compare):
            left = build(node.left)
            out = None
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                fn = _COMPARE.get(type(op))
                if fn is None:
                    raise TagRuleError(
                        f"tag {rule.name!r}: operator {type(op).__name__} is not allowed"
                    )
                right = build(comparator)
                part = fn(left, right)
                out = part if out is None else out & part
                left = right
            return out
        if isinstance(node, ast.Name):
            if node.id not in table.columns:
                raise TagRuleError(
                    f"tag {rule.name!r}: unknown column {node.id!r}; profile columns are "
                    + ", ".join(table.columns)
                )
            return table[node.id]
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str):
            return node.value
        if isinstance(node, ast.List | ast.Tuple):
            return [build(e) for e in node.elts]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -build(node.operand)
        raise TagRuleError(
            f"tag {rule.name!r}: {type(node).__name__} is not allowed in a where expression "
            "(use comparisons, and/or/not, in [...], numbers and strings)"
        )

    expr = build(tree.body)
    if not isinstance(expr, ir.BooleanValue):
        raise TagRuleError(f"tag {rule.name!r}: the where expression must be a condition")
    return expr


def tags_expr(wh: Warehouse, rules: list[TagRule], *, as_of: date) -> ir.Table:
    profiles = profiles_expr(wh, as_of=as_of)
    parts = [
        profiles.filter(compile_rule(rule, profiles).fill_null(False)).select(
            "customer_id", tag=ibis.literal(rule.name)
        )
        for rule in rules
    ]
    return ibis.union(*parts) if len(parts) > 1 else parts[0]


def apply_tags(
    wh: Warehouse, rules: list[TagRule], *, as_of: date, now: datetime | None = None
) -> pd.DataFrame:
    """Recompute tags and store them with their since / computed_at times."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    fresh = wh.to_pandas(tags_expr(wh, rules, as_of=as_of))
    if TAGS_MART in wh.con.list_tables():
        old = wh.to_pandas(wh.mart(TAGS_MART))[["customer_id", "tag", "since"]]
    else:
        old = pd.DataFrame(columns=["customer_id", "tag", "since"])
    merged = fresh.merge(old, on=["customer_id", "tag"], how="left")
    merged["since"] = pd.to_datetime(merged["since"]).fillna(pd.Timestamp(now))
    merged["computed_at"] = pd.Timestamp(now)
    merged = merged.sort_values(["customer_id", "tag"]).reset_index(drop=True)
    wh.write_mart(TAGS_MART, pa.Table.from_pandas(merged, preserve_index=False))
    return merged
