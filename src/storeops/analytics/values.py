"""Turning engine results into plain Python values for typed results and JSON.

Query results reach pandas with NULLs spelled in several ways (``None``, ``NaN``,
``pd.NA``, ``NaT``); these helpers map all of them to ``None``.
"""

from __future__ import annotations

from typing import Any


def is_missing(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, float) and value != value)
        or (str(value) in ("<NA>", "NaT", "nan"))
    )


def int_or_none(value: Any) -> int | None:
    return None if is_missing(value) else int(value)


def float_or_none(value: Any) -> float | None:
    return None if is_missing(value) else float(value)


def bucket_label(value: Any, by: str) -> str:
    """'2026-01-05' for day, week and month buckets; '2026-01-05 10:00' for finer ones."""
    text = str(value)
    if by in ("day", "week", "month"):
        return text[:10]
    return text[:16].replace("T", " ")
