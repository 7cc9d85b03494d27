"""A workspace: one folder holding settings, both databases, spool, quarantine, outbox
and reports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from storeops import __version__
from storeops.errors import WorkspaceError
from storeops.opsdb import init_ops_database, make_engine
from storeops.settings import SETTINGS_FILE, Settings, load_settings
from storeops.warehouse import Warehouse, open_warehouse

FOLDERS = ("spool", "quarantine", "outbox", "reports", "sources")

DEFAULT_TOML = """\
# storeops workspace settings. Environment variables STOREOPS_<NAME> override these.
warehouse_backend = "{backend}"     # "duckdb" (embedded) or "spark"
warehouse_path = "{warehouse_path}"
# ops_database_url = "postgresql+psycopg://user@host/storeops"   # default: ops.sqlite here
default_timezone = "{timezone}"
currency = "CNY"
lock_timeout_seconds = 30
"""


@dataclass
class Workspace:
    """An opened workspace."""

    settings: Settings

    @property
    def root(self) -> Path:
        return self.settings.workspace

    def folder(self, name: str) -> Path:
        return self.root / name

    def warehouse(self) -> Warehouse:
        return open_warehouse(self.settings)

    def ops_engine(self) -> Engine:
        """An engine on the ops database, migrated to the current schema first."""
        init_ops_database(self.settings.ops_url)
        return make_engine(
            self.settings.ops_url, lock_timeout_seconds=self.settings.lock_timeout_seconds
        )


def init_workspace(
    directory: Path | str,
    *,
    backend: str = "duckdb",
    timezone: str = "Asia/Shanghai",
) -> Workspace:
    """Create (or complete) a workspace in ``directory``; existing data is kept."""
    root = Path(directory).resolve()
    # Validate before anything is written: a storeops.toml with a bad value would
    # otherwise stay behind and make every later command (and a re-run) fail.
    load_settings(root, warehouse_backend=backend, default_timezone=timezone)
    root.mkdir(parents=True, exist_ok=True)
    toml = root / SETTINGS_FILE
    if not toml.exists():
        warehouse_path = "warehouse.duckdb" if backend == "duckdb" else "spark-warehouse"
        toml.write_text(
            DEFAULT_TOML.format(backend=backend, warehouse_path=warehouse_path, timezone=timezone),
            encoding="utf-8",
        )
    for name in FOLDERS:
        (root / name).mkdir(exist_ok=True)
    settings = load_settings(root)
    with open_warehouse(settings):
        pass
    init_ops_database(settings.ops_url, storeops_version=__version__)
    return Workspace(settings)


def open_workspace(directory: Path | str | None = None) -> Workspace:
    """Open an existing workspace (``directory``, ``$STOREOPS_WORKSPACE`` or the cwd)."""
    settings = load_settings(directory)
    if not (settings.workspace / SETTINGS_FILE).is_file():
        raise WorkspaceError(
            f"{settings.workspace} is not a storeops workspace (no {SETTINGS_FILE}). "
            f"Create one with `storeops init {settings.workspace}` or pass --workspace DIR."
        )
    return Workspace(settings)
