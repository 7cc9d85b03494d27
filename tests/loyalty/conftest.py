"""Ledger tests use the shared ops databases (tests/ops_engines.py, tests/conftest.py)."""

from tests.ops_engines import new_engine

__all__ = ["new_engine"]
