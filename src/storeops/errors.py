"""The storeops exception hierarchy.

Every error raised on purpose by storeops derives from :class:`StoreOpsError`, and
each subclass also inherits the builtin exception that matches its meaning, so
callers may catch either::

    StoreOpsError
    ├── ConfigError (ValueError)            settings or storeops.toml are wrong
    ├── WorkspaceError (FileNotFoundError)  no workspace where one was expected
    ├── SchemaError (KeyError)              unknown table or column
    ├── MappingError (ValueError)           a mapping.toml cannot be applied
    ├── ImportFileError (ValueError)        a file cannot be read at all
    ├── BackendUnavailableError (RuntimeError)  an optional backend is not installed
    └── LockTimeoutError (TimeoutError)     a database stayed locked too long

Messages say what is wrong and what to do about it.
"""

from __future__ import annotations


class StoreOpsError(Exception):
    """Root of every error storeops raises on purpose."""


class ConfigError(StoreOpsError, ValueError):
    """Settings (environment or storeops.toml) are invalid."""


class WorkspaceError(StoreOpsError, FileNotFoundError):
    """A workspace is missing or incomplete."""


class SchemaError(StoreOpsError, KeyError):
    """A table or column name is not part of the canonical data model."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class MappingError(StoreOpsError, ValueError):
    """A column mapping cannot be applied to a file."""


class ImportFileError(StoreOpsError, ValueError):
    """A source file cannot be read at all (as opposed to single bad rows)."""


class BackendUnavailableError(StoreOpsError, RuntimeError):
    """An optional backend (e.g. PySpark) is requested but not installed."""


class LockTimeoutError(StoreOpsError, TimeoutError):
    """A database lock was not released within the configured time."""
