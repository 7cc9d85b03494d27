"""Small builders for import tests."""

from __future__ import annotations

from pathlib import Path

from storeops.ingest import LoadResult, import_file
from storeops.warehouse import Warehouse
from storeops.workspace import Workspace

STORES_CSV = "store_id,name,city\nS1,People's Square,Shanghai\nS2,Tianhe,Guangzhou\n"
CUSTOMERS_CSV = "customer_id,source\nC1,store\nC2,taobao\n"


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def seed_refs(target: Workspace | Warehouse, folder: Path) -> None:
    """Stores S1, S2 and customers C1, C2."""
    import_file(target, "stores", write(folder / "stores", "stores.csv", STORES_CSV))
    import_file(target, "customers", write(folder / "customers", "customers.csv", CUSTOMERS_CSV))


def counts(result: LoadResult) -> tuple[int, int, int, int]:
    assert result.rows_read == result.loaded + result.duplicates + result.quarantined
    return result.rows_read, result.loaded, result.duplicates, result.quarantined


def rows(target: Workspace | Warehouse, table: str, order_by: str) -> list[dict[str, object]]:
    if isinstance(target, Workspace):
        with target.warehouse() as wh:
            return rows(wh, table, order_by)
    return list(target.to_pyarrow(target.table(table).order_by(order_by)).to_pylist())
