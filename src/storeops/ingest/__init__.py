"""Importers: source files → validated canonical tables, bad rows → quarantine.

>>> from storeops.ingest import import_file
>>> result = import_file(workspace, "orders", "pos/orders-2025-06.csv")
>>> result.rows_read == result.loaded + result.duplicates + result.quarantined
True

See ``docs/importing.md`` for formats, the mapping file and the accounting rules.
"""

from __future__ import annotations

from storeops.ingest.loader import LoadResult, import_file
from storeops.ingest.mapping import MAPPING_FILE, Mapping, load_mapping
from storeops.ingest.quarantine import QuarantinedRow, export, list_loads, show

__all__ = [
    "MAPPING_FILE",
    "LoadResult",
    "Mapping",
    "QuarantinedRow",
    "export",
    "import_file",
    "list_loads",
    "load_mapping",
    "show",
]
