"""The demo merchant: a deterministic simulator whose source files go through the real
importers, with the planted truth recorded for tests and docs.

>>> from storeops.demo import DemoConfig, build_demo
>>> build = build_demo("demo-workspace", DemoConfig(stores=2, customers=300, days=60))
"""

from __future__ import annotations

from storeops.demo.build import (
    DemoBuild,
    GeneratedDemo,
    build_demo,
    generate_sources,
    import_sources,
)
from storeops.demo.config import DemoConfig
from storeops.demo.truth import DemoTruth, StoreTruth

__all__ = [
    "DemoBuild",
    "DemoConfig",
    "DemoTruth",
    "GeneratedDemo",
    "StoreTruth",
    "build_demo",
    "generate_sources",
    "import_sources",
]
