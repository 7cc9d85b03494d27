"""The canonical schema registry: contracts every importer and backend relies on."""

from __future__ import annotations

import pytest

from storeops.errors import SchemaError
from storeops.warehouse import TABLES, Column, TableSchema
from storeops.warehouse.schema import TableRegistry

# The tables the foundation issue promises (docs/data-model.md documents them).
CANONICAL = {
    "stores", "zones", "entrances", "products", "customers", "orders", "order_lines",
    "refunds", "traffic_counts", "wifi_sightings", "events", "inventory_snapshots",
    "staff_shifts", "community_groups", "community_members", "community_messages",
    "surveys",
}  # fmt: skip


def test_registry_holds_the_canonical_and_bookkeeping_tables() -> None:
    assert set(TABLES.importable_names) == CANONICAL
    assert {t.name for t in TABLES if t.system} == {
        "load_records",
        "quarantine",
        "collector_batches",
        "failed_events",
    }


@pytest.mark.parametrize("table", list(TABLES), ids=lambda t: t.name)
def test_natural_key_columns_exist_and_are_required(table: TableSchema) -> None:
    assert table.natural_key
    for name in table.natural_key:
        assert table.column(name).required, f"{table.name}.{name} is in the key but optional"


@pytest.mark.parametrize("table", list(TABLES), ids=lambda t: t.name)
def test_references_point_at_the_natural_key_of_an_existing_table(table: TableSchema) -> None:
    for column, ref_table, ref_column in table.references:
        assert ref_table in TABLES, f"{table.name}.{column.name} -> unknown {ref_table}"
        target = TABLES[ref_table]
        assert target.column(ref_column).dtype == column.dtype
        assert target.natural_key == (ref_column,)


def test_import_order_puts_referenced_tables_first() -> None:
    order = TABLES.import_order()
    assert sorted(order) == sorted(TABLES.importable_names)
    position = {name: i for i, name in enumerate(order)}
    for name in order:
        for column, ref_table, _ in TABLES[name].references:
            assert position[ref_table] < position[name], (name, column.name, ref_table)
    assert order[0] == "stores"


@pytest.mark.parametrize("table", list(TABLES), ids=lambda t: t.name)
def test_money_columns_are_integer_fen(table: TableSchema) -> None:
    for column in table.columns:
        if column.is_money:
            assert column.dtype == "int64", f"{table.name}.{column.name} must be int64 fen"
            assert column.minimum is not None and column.minimum >= 0


@pytest.mark.parametrize("table", list(TABLES), ids=lambda t: t.name)
def test_column_contracts_are_consistent(table: TableSchema) -> None:
    names = table.column_names
    assert len(names) == len(set(names)), "duplicate column names"
    for column in table.columns:
        assert column.description.strip()
        if column.minimum is not None and column.maximum is not None:
            assert column.minimum <= column.maximum
        if column.choices is not None:
            assert column.dtype == "string"
            if column.default is not None:
                assert column.default in column.choices
        assert column.ibis_type.nullable is (not column.required)


def test_orders_contract() -> None:
    orders = TABLES["orders"]
    assert orders.natural_key == ("order_id",)
    assert orders.column("customer_id").required is False
    assert orders.column("ts").dtype == "timestamp"
    assert orders.column("total_fen").dtype == "int64"
    assert orders.column("channel").default == "store"


def test_unknown_names_raise_schema_error_with_the_choices() -> None:
    with pytest.raises(SchemaError, match=r"unknown table 'sales'; choose one of: stores, "):
        TABLES["sales"]
    with pytest.raises(SchemaError, match=r"has no column 'price'; columns are: sku, name"):
        TABLES["products"].column("price")
    assert "sales" not in TABLES


def test_a_natural_key_must_name_columns() -> None:
    with pytest.raises(SchemaError, match=r"natural key columns \['id'\] are not columns"):
        TableSchema("t", "T.", (Column("a", "string", "A."),), ("id",))


def test_a_table_cannot_be_registered_twice() -> None:
    registry = TableRegistry()
    table = TableSchema("t", "T.", (Column("a", "string", "A."),), ("a",))
    registry.register(table)
    with pytest.raises(SchemaError, match="registered twice"):
        registry.register(table)
