"""Small validation rules with stable codes, run before a query is built.

Each rule is a class with a ``code`` (stable: programs and tests match on it) and a
``check(query)`` that returns a message saying what to do, or None when the query
passes. :func:`validate` raises :class:`BehaviourError` for the first failure; before
any rule it refuses text with a NUL character anywhere in the query (code
``behaviour.bad_text``): no event name or property has one, and SQL engines end a
string literal there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from storeops.behaviour.events import BehaviourError

Q = TypeVar("Q")


class Rule(Generic[Q]):
    code: ClassVar[str]

    def check(self, query: Q) -> str | None:  # pragma: no cover - interface
        raise NotImplementedError


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(key)
            yield from _texts(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _texts(item)


def validate(query: Q, rules: Sequence[Rule[Q]]) -> None:
    if isinstance(query, BaseModel):
        for text in _texts(query.model_dump()):
            if "\x00" in text:
                raise BehaviourError(
                    "behaviour.bad_text",
                    f"{text!r} contains a NUL character (\\x00); remove it from the query",
                )
    for rule in rules:
        message = rule.check(query)
        if message is not None:
            raise BehaviourError(rule.code, message)


def parse_duration(text: str) -> int:
    """``"7d"``, ``"12h"``, ``"30m"``, ``"90s"`` or plain seconds → seconds."""
    units = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
    raw = text.strip().lower()
    try:
        value = int(raw[:-1]) * units[raw[-1]] if raw and raw[-1] in units else int(raw)
    except ValueError:
        raise BehaviourError(
            "behaviour.bad_duration",
            f"cannot read the duration {text!r}: write a whole number with d, h, m or s "
            "(7d, 12h, 30m, 90s)",
        ) from None
    if value <= 0:
        raise BehaviourError("behaviour.bad_duration", f"the duration {text!r} must be positive")
    return value
