"""Schema migrations of the ops database with Alembic.

``upgrade(engine)`` brings any ops database — new, or created by an older storeops —
to the current schema in one transaction; ``pending(engine)`` tells whether it is
behind; ``revise(engine, message)`` (developers) writes a new migration from the
difference between the tables declared in ``storeops.opsdb`` and a database at head.
``tests/opsdb/test_migrations.py`` fails when the migrations and the tables disagree.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from storeops.opsdb.tables import metadata

SCRIPTS = Path(__file__).with_name("migrations")
#: The baseline revision and its tables: ops databases made before migrations existed
#: (by ``create_all``) have some or all of them and no version yet.
BASELINE = "0001"
BASELINE_TABLES = (
    "workspace_meta",
    "audit_log",
    "identifiers",
    "identity_overrides",
    "collector_sources",
)


def _config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def head() -> str:
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def current(engine: Engine) -> str | None:
    with engine.connect() as con:
        return MigrationContext.configure(con).get_current_revision()


def pending(engine: Engine) -> bool:
    return current(engine) != head()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to ``revision`` in one transaction. A database from before migrations
    (``workspace_meta`` but no version) gets any missing baseline table and is stamped
    at the baseline first."""
    cfg = _config(engine)
    with engine.begin() as con:
        cfg.attributes["connection"] = con
        version = MigrationContext.configure(con).get_current_revision()
        if version is None and "workspace_meta" in inspect(con).get_table_names():
            tables = [metadata.tables[name] for name in BASELINE_TABLES]
            metadata.create_all(con, tables=tables, checkfirst=True)
            command.stamp(cfg, BASELINE)
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate down to ``revision`` (``base`` drops every table)."""
    cfg = _config(engine)
    with engine.begin() as con:
        cfg.attributes["connection"] = con
        command.downgrade(cfg, revision)


def revise(engine: Engine, message: str) -> None:
    """Autogenerate a migration script against ``engine`` (a database at head)."""
    cfg = _config(engine)
    with engine.begin() as con:
        cfg.attributes["connection"] = con
        command.revision(cfg, message=message, autogenerate=True)
