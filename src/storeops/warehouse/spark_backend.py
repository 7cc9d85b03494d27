"""The scale-out backend: the same Ibis expressions on PySpark (local or cluster).

Tables are Parquet-backed Spark tables under the workspace's Spark warehouse
folder. Plain Parquet tables have no multi-table transactions, so this backend
does not offer :attr:`Capability.ATOMIC_TRANSACTIONS`: a load that fails halfway
may leave part of a file behind (the load record is then missing, and a re-import
of the file only adds the rows that are not there yet).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from storeops.errors import BackendUnavailableError
from storeops.settings import Settings
from storeops.warehouse.base import Warehouse
from storeops.warehouse.schema import TableSchema

_SESSIONS: dict[str, Any] = {}


def spark_session(warehouse_dir: Path) -> Any:
    """One local Spark session per warehouse folder, reused within the process."""
    key = str(warehouse_dir)
    if key in _SESSIONS:
        return _SESSIONS[key]
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise BackendUnavailableError(
            "the Spark warehouse needs PySpark and Java: pip install 'storeops[spark]' "
            "and install a Java 17 runtime (apt-get install openjdk-17-jre-headless)"
        ) from exc
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("storeops")
        .config("spark.sql.warehouse.dir", str(warehouse_dir))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={warehouse_dir}")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    _SESSIONS[key] = session
    return session


class SparkWarehouse(Warehouse):
    """Warehouse on PySpark; tables are Parquet under ``<workspace>/<warehouse_path>``."""

    name = "spark"
    capabilities = frozenset()

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        path = settings.warehouse_path
        if path.endswith(".duckdb"):  # default file name makes no sense for Spark
            path = "spark-warehouse"
        self.path = settings.path(path)
        self.session = spark_session(self.path)
        self._con = ibis.pyspark.connect(self.session)

    @property
    def con(self) -> Any:
        return self._con

    def close(self) -> None:
        # The session is shared per process; stopping it would break other handles.
        pass

    def create_table(self, table: TableSchema) -> None:
        self.con.create_table(table.name, schema=table.ibis_schema, format="parquet")

    def stage(self, data: pa.Table) -> ir.Table:
        return ibis.memtable(data.to_pandas())

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield
