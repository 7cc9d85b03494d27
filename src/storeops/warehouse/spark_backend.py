"""The scale-out backend: the same Ibis expressions on PySpark (local or cluster).

Tables are Parquet-backed Spark tables under the workspace's Spark warehouse
folder. Plain Parquet tables have no multi-table transactions, so this backend
does not offer :attr:`Capability.ATOMIC_TRANSACTIONS`: a load that fails halfway
may leave part of a file behind (the load record is then missing, and a re-import
of the file only adds the rows that are not there yet).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from storeops.errors import BackendUnavailableError, SchemaError
from storeops.settings import Settings
from storeops.warehouse.base import Warehouse
from storeops.warehouse.schema import TableSchema


@ibis.udf.scalar.builtin(name="from_utc_timestamp")
def _spark_from_utc(ts: dt.timestamp, tz: str) -> dt.timestamp:
    """Spark's from_utc_timestamp(ts, tz) -> local wall-clock timestamp."""


@ibis.udf.scalar.builtin(name="to_utc_timestamp")
def _spark_to_utc(ts: dt.timestamp, tz: str) -> dt.timestamp:
    """Spark's to_utc_timestamp(ts, tz): wall-clock time in tz -> UTC."""


_SESSION: list[Any] = []


def spark_session() -> Any:
    """The process's local Spark session (Spark allows one SparkContext per process).

    Each :class:`SparkWarehouse` works in its own child session (``newSession()``) and
    its own Spark database, so several workspaces can be open in one process.
    """
    if _SESSION:
        return _SESSION[0]
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise BackendUnavailableError(
            "the Spark warehouse needs PySpark and Java: pip install 'storeops[spark]' "
            "and install a Java 17 runtime (apt-get install openjdk-17-jre-headless)"
        ) from exc
    # Python workers must run this interpreter (with pyarrow, pandas, storeops), not
    # whatever `python3` comes first on PATH; PySpark reads only the variable.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    scratch = Path(tempfile.gettempdir()) / "storeops-spark"
    session = (
        SparkSession.builder.master("local[2]")
        .appName("storeops")
        # Tables carry explicit locations; this only catches stray managed tables.
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={scratch}")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    _SESSION.append(session)
    return session


def _sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class SparkWarehouse(Warehouse):
    """Warehouse on PySpark; tables are Parquet under ``<workspace>/<warehouse_path>``.

    Spark runs without a Hive metastore, so its catalog lives in memory and starts
    empty in every process. Each table is therefore an *external* Parquet table at a
    fixed folder (``<warehouse>/<table>``): re-registering it in a new process picks
    up the data already there, where a managed table would refuse the existing folder.
    """

    name = "spark"
    capabilities = frozenset()

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        path = settings.warehouse_path
        if path.endswith(".duckdb"):  # default file name makes no sense for Spark
            path = "spark-warehouse"
        self.path = settings.path(path).resolve()
        self.path.mkdir(parents=True, exist_ok=True)
        # One Spark database per warehouse folder: two workspaces in one process
        # must not see each other's tables.
        digest = hashlib.sha256(str(self.path).encode()).hexdigest()[:16]
        self.database = f"storeops_{digest}"
        self.session = spark_session().newSession()
        self.session.sql(
            f"CREATE DATABASE IF NOT EXISTS {self.database} "
            f"LOCATION {_sql_string(self.path.as_uri())}"
        )
        self.session.catalog.setCurrentDatabase(self.database)
        self._con = ibis.pyspark.connect(self.session)
        self._register_marts()

    @property
    def con(self) -> Any:
        return self._con

    def close(self) -> None:
        # The session is shared per process; stopping it would break other handles.
        pass

    def create_table(self, table: TableSchema) -> None:
        from ibis.backends.pyspark.datatypes import PySparkSchema

        self.session.catalog.createTable(
            table.name,
            path=(self.path / table.name).as_uri(),
            source="parquet",
            schema=PySparkSchema.from_ibis(table.ibis_schema),
        )

    def _register_marts(self) -> None:
        """Make marts written by an earlier process visible again (see the class doc).

        Only complete writes count (Spark's ``_SUCCESS`` marker): a folder left by a
        write that died halfway stays unregistered until the mart is written again.
        """
        known = set(self.con.list_tables())
        for folder in sorted(self.path.glob("mart_*")):
            if (folder / "_SUCCESS").is_file() and folder.name not in known:
                self.session.catalog.createTable(
                    folder.name, path=folder.as_uri(), source="parquet"
                )

    def write_mart(self, name: str, data: pa.Table) -> None:
        # Like the canonical tables, marts are external Parquet tables at a fixed
        # folder: a managed table would refuse that folder in the next process.
        if not name.startswith("mart_"):
            raise SchemaError(f"mart names start with 'mart_' (got {name!r})")
        location = (self.path / name).as_uri()
        from ibis.backends.pyspark.datatypes import PySparkSchema

        schema = PySparkSchema.from_ibis(ibis.Schema.from_pyarrow(data.schema))
        frame = self.session.createDataFrame(data.to_pandas(), schema=schema)
        frame.write.mode("overwrite").parquet(location)
        self.session.sql(f"DROP TABLE IF EXISTS `{name}`")
        self.session.catalog.createTable(name, path=location, source="parquet")

    def stage(self, data: pa.Table) -> ir.Table:
        return ibis.memtable(data.to_pandas())

    def _convert_zone(self, ts: ir.TimestampValue, timezone: ir.StringValue) -> ir.TimestampValue:
        return _spark_from_utc(ts, timezone)

    def _zone_to_utc(self, local: ir.TimestampValue, zone: str) -> ir.TimestampValue:
        return _spark_to_utc(local, ibis.literal(zone))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield
