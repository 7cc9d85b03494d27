"""The event collector: Segment's HTTP tracking API into the warehouse ``events``.

Public API (the modules behind it are private)::

    Collector(ws).start()        # the service behind POST /v1/{batch,track,...}
    load_spool(ws) -> LoadReport # sealed spool segments into the warehouse, exactly once
    collector_stats(ws)          # counters per source, loaded and pending
    recent_failures(ws)          # refused events with code, reason and raw payload
    add_source / list_sources / revoke_source   # write keys (ops database)

See ``docs/collector.md`` for the API, limits, PII policy and guarantees.
"""

from __future__ import annotations

from storeops.collector._events import MAX_EVENT_BYTES, PiiPolicy
from storeops.collector._loader import LoadReport, load_spool
from storeops.collector._service import ENDPOINTS, MAX_BATCH_BYTES, Answer, Collector
from storeops.collector._sources import (
    Source,
    SourceError,
    add_source,
    list_sources,
    revoke_source,
)
from storeops.collector._spool import SpoolError, SpoolWriter
from storeops.collector._stats import collector_stats, recent_failures

__all__ = [
    "ENDPOINTS",
    "MAX_BATCH_BYTES",
    "MAX_EVENT_BYTES",
    "Answer",
    "Collector",
    "LoadReport",
    "PiiPolicy",
    "Source",
    "SourceError",
    "SpoolError",
    "SpoolWriter",
    "add_source",
    "collector_stats",
    "list_sources",
    "load_spool",
    "recent_failures",
    "revoke_source",
]
