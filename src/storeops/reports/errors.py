"""Errors of the reports package."""

from __future__ import annotations

from storeops.errors import StoreOpsError


class ReportError(StoreOpsError, ValueError):
    """A report cannot be built as asked (unknown store, no data, bad option)."""


class CjkFontMissingError(StoreOpsError, RuntimeError):
    """No font with Chinese glyphs is installed, so a PDF would show empty boxes."""
