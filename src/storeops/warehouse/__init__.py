"""The analytical warehouse: canonical tables behind one narrow interface.

>>> from storeops.warehouse import open_warehouse
>>> wh = open_warehouse(settings)          # DuckDB file or Spark, by settings
>>> wh.table("orders").count().execute()
"""

from __future__ import annotations

from collections.abc import Callable

from storeops.errors import ConfigError
from storeops.settings import Settings
from storeops.warehouse.base import Capability, Warehouse
from storeops.warehouse.schema import TABLES, Column, TableSchema


def _duckdb(settings: Settings) -> Warehouse:
    from storeops.warehouse.duckdb_backend import DuckDBWarehouse

    return DuckDBWarehouse(settings)


def _spark(settings: Settings) -> Warehouse:
    from storeops.warehouse.spark_backend import SparkWarehouse

    return SparkWarehouse(settings)


BACKENDS: dict[str, Callable[[Settings], Warehouse]] = {"duckdb": _duckdb, "spark": _spark}


def open_warehouse(settings: Settings, *, create: bool = True) -> Warehouse:
    """Open the warehouse named by ``settings.warehouse_backend``."""
    try:
        factory = BACKENDS[settings.warehouse_backend]
    except KeyError:
        raise ConfigError(
            f"unknown warehouse backend {settings.warehouse_backend!r}; "
            f"choose one of {sorted(BACKENDS)}"
        ) from None
    warehouse = factory(settings)
    if create:
        warehouse.ensure_tables()
    return warehouse


__all__ = [
    "BACKENDS",
    "TABLES",
    "Capability",
    "Column",
    "TableSchema",
    "Warehouse",
    "open_warehouse",
]
