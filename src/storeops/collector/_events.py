"""Per-event validation and shaping: a Segment call becomes one spool event or one
failure with a stable code.

Rules are small classes in a registry keyed by call type (no ``if type == …``
chains). They run once per event on the request path, so each is a couple of dict
lookups; anything heavier (PII scrubbing, serialization) runs only for events that
passed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any, ClassVar

from storeops.identity.identifiers import normalize
from storeops.privacy.crypto import BlindIndex

#: Segment's limit for one event (bytes of JSON).
MAX_EVENT_BYTES = 32 * 1024
#: Longest messageId, userId, anonymousId or event name kept.
MAX_ID_CHARS = 256
#: Raw payloads kept in ``failed_events`` are cut at this many characters.
MAX_RAW_CHARS = 64 * 1024
#: Timestamps outside [EARLIEST, received + FUTURE_SLACK] are refused.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)

TYPES = ("track", "identify", "page", "screen", "group", "alias")

# The C encoder made once: json.dumps builds one per call, which costs four times the
# encoding of a small object. allow_nan=False: NaN is not JSON (parsers refuse it).
_encode = c_make_encoder(None, None, encode_basestring, None, ":", ",", False, False, False)


def dumps_compact(obj: Any) -> str:
    """Compact JSON text, non-ASCII kept as is."""
    return "".join(_encode(obj, 0))


@dataclass(frozen=True)
class Failure:
    """Why one event was refused."""

    code: str
    reason: str


class Rule:
    """One check on a raw event dict; ``check`` returns a reason, or None when fine."""

    code: ClassVar[str]

    def check(self, event: dict[str, Any]) -> str | None:
        raise NotImplementedError


class HasIdentity(Rule):
    code = "missing_identity"

    def check(self, event: dict[str, Any]) -> str | None:
        if event.get("userId") in (None, "") and event.get("anonymousId") in (None, ""):
            return "the event has neither userId nor anonymousId: send at least one"
        return None


class RequiredString(Rule):
    """A field that must be a non-empty string of bounded length."""

    code = "missing_field"

    def __init__(self, name: str, hint: str) -> None:
        self.name = name
        self.hint = hint

    def check(self, event: dict[str, Any]) -> str | None:
        value = event.get(self.name)
        if type(value) is not str or not value or value.isspace():
            return f"{self.name} is required for {event.get('type')} calls ({self.hint})"
        if len(value) > MAX_ID_CHARS:
            return f"{self.name} is longer than {MAX_ID_CHARS} characters"
        return None


class ObjectField(Rule):
    """``properties``, ``traits``, ``context``: an object when present."""

    code = "bad_field"

    def __init__(self, name: str) -> None:
        self.name = name

    def check(self, event: dict[str, Any]) -> str | None:
        value = event.get(self.name)
        if value is not None and not isinstance(value, dict):
            return f"{self.name} must be a JSON object, got {type(value).__name__}"
        return None


_COMMON: tuple[Rule, ...] = (HasIdentity(), ObjectField("context"))
RULES: dict[str, tuple[Rule, ...]] = {
    "track": (
        *_COMMON,
        RequiredString("event", "the action's name, e.g. 'Product Viewed'"),
        ObjectField("properties"),
    ),
    "identify": (*_COMMON, ObjectField("traits")),
    "page": (*_COMMON, ObjectField("properties")),
    "screen": (*_COMMON, ObjectField("properties")),
    "group": (
        *_COMMON,
        RequiredString("groupId", "the account or group the user belongs to"),
        ObjectField("traits"),
    ),
    "alias": (*_COMMON, RequiredString("previousId", "the id the user had before")),
}


def _page_properties(event: dict[str, Any]) -> dict[str, Any]:
    props = dict(event.get("properties") or {})
    for key in ("name", "category"):
        if event.get(key) is not None:
            props.setdefault(key, event[key])
    return props


#: What goes into the ``properties`` column per call type.
PAYLOAD: dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]] = {
    "track": lambda e: e.get("properties"),
    "identify": lambda e: e.get("traits"),
    "page": _page_properties,
    "screen": _page_properties,
    "group": lambda e: {"groupId": e["groupId"], "traits": e.get("traits") or {}},
    "alias": lambda e: {"previousId": e["previousId"]},
}


def parse_timestamp(value: Any, received_us: int) -> tuple[int | None, str | None]:
    """Microseconds since the epoch (UTC), or a reason why ``value`` is unusable."""
    if type(value) is not str:
        return None, f"timestamp must be an ISO 8601 string, got {type(value).__name__}"
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        return None, (
            f"timestamp {value[:64]!r} is not ISO 8601; send e.g. '2025-06-18T10:15:00.000Z'"
        )
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)  # Segment reads zone-less timestamps as UTC
    # A float has 0.24 µs resolution at today's epoch seconds: rounding is exact, and
    # three times cheaper than timedelta arithmetic.
    us = round(ts.timestamp() * 1_000_000)
    if us < _EARLIEST_US or us > received_us + _SLACK_US:
        return None, (
            f"timestamp {value[:64]!r} is outside the accepted range (2000-01-01 to one day "
            "after receipt): check the device clock"
        )
    return us, None


_EARLIEST_US = round(EARLIEST.timestamp() * 1_000_000)
_SLACK_US = FUTURE_SLACK // timedelta(microseconds=1)


class PiiPolicy:
    """Replaces (``hash``) or removes (``drop``) phone numbers and e-mail addresses.

    A value is personal when its key is in ``keys`` (compared without case, ``_``,
    ``-`` and spaces), or when it is a string that looks like an e-mail address under
    any key. Phone numbers are only recognised by key: 11-digit order, member and
    product ids are common and would be destroyed by a digit pattern. ``userId`` and
    ``anonymousId`` that look like a phone number or e-mail are always hashed, under
    both policies, because dropping them would orphan the event; hashing keeps the
    same person on the same id.

    Hashes are ``bi:<kind>:<blind index>`` with storeops' normalization, so they
    match ``identifiers.blind_index`` in the ops database.
    """

    _EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    _MOBILE_ID = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
    _SEPARATORS = re.compile(r"[\s-]")
    #: Folded-key verdicts and hashes are cached (events repeat both); bounded so
    #: that senders choosing random keys or values cannot grow memory.
    CACHE_SIZE = 65_536

    def __init__(self, mode: str, keys: list[str] | tuple[str, ...], index: BlindIndex) -> None:
        self.mode = mode
        self.keys = frozenset(self._fold(k) for k in keys)
        self._index = index
        self._key_cache: dict[str, bool] = {}
        self._hash_cache: dict[tuple[str, str], str] = {}

    @staticmethod
    def _fold(key: str) -> str:
        return key.lower().replace("_", "").replace("-", "").replace(" ", "")

    def _personal_key(self, key: str) -> bool:
        verdict = self._key_cache.get(key)
        if verdict is None:
            verdict = self._fold(key) in self.keys
            if len(self._key_cache) < self.CACHE_SIZE:
                self._key_cache[key] = verdict
        return verdict

    def _hash(self, kind: str, value: Any) -> str:
        text = str(value)
        cached = self._hash_cache.get((kind, text))
        if cached is None:
            norm = normalize(kind, text) or text.strip().lower()
            cached = f"bi:{kind}:{self._index(kind, norm)}"
            if len(self._hash_cache) >= self.CACHE_SIZE:
                self._hash_cache.clear()
            self._hash_cache[(kind, text)] = cached
        return cached

    def scrub(self, obj: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``obj`` without personal values (``obj`` itself when it has none)."""
        out: dict[str, Any] | None = None
        for key, value in obj.items():
            kind = type(value)
            # Plain strings and numbers under ordinary keys are the common case: they
            # leave after one type check and one cached dictionary lookup.
            if kind is str:
                if self._personal_key(key):
                    new = self._personal(value)
                elif "@" in value and self._EMAIL.match(value.strip()):
                    new = _DROP if self.mode == "drop" else self._hash("email", value)
                else:
                    continue
            elif kind is int:
                if not self._personal_key(key):
                    continue
                new = self._personal(value)
            elif kind is dict:
                new = self.scrub(value)
            elif kind is list:
                new = self._list(key, value)
            else:
                continue
            if new is not value:
                if out is None:
                    out = dict(obj)
                if new is _DROP:
                    del out[key]
                else:
                    out[key] = new
        return obj if out is None else out

    def _personal(self, value: str | int) -> Any:
        if self.mode == "drop":
            return _DROP
        return self._hash("email" if "@" in str(value) else "phone", value)

    def _list(self, key: str, values: list[Any]) -> list[Any]:
        items = []
        changed = False
        for value in values:
            new = self.scrub({key: value}).get(key, _DROP)
            changed = changed or new is not value
            items.append(new)
        if not changed:
            return values
        return [v for v in items if v is not _DROP]

    def identity(self, value: str) -> str:
        """``userId`` / ``anonymousId``: hashed when it is a phone number or e-mail."""
        if "@" in value:
            text = value.strip()
            if self._EMAIL.match(text):
                return self._hash("email", text)
        elif 11 <= len(value) <= 20 and self._MOBILE_ID.match(self._SEPARATORS.sub("", value)):
            return self._hash("phone", value.strip())
        return value


_DROP: Any = object()


def _identity(value: Any, policy: PiiPolicy) -> tuple[str | None, str | None]:
    """A userId / anonymousId as stored (hashed when personal), or why it is unusable."""
    if value is None or value == "":
        return None, None
    if type(value) is str:
        if len(value) > MAX_ID_CHARS:
            return None, f"ids are limited to {MAX_ID_CHARS} characters"
        return policy.identity(value), None
    if type(value) in (int, float):
        return str(value), None  # some SDKs send numeric user ids
    return None, "userId and anonymousId must be strings"


def shape_event(
    raw: Any,
    *,
    call_type: str | None,
    received_us: int,
    policy: PiiPolicy,
) -> tuple[dict[str, Any] | None, Failure | None]:
    """One raw call → the spool event (short keys) or a :class:`Failure`.

    ``call_type`` is the endpoint's type (``/v1/track``) or None for ``/v1/batch``,
    where each event names its own ``type``.
    """
    if not isinstance(raw, dict):
        return None, Failure("not_an_object", "each event must be a JSON object")
    kind = call_type or raw.get("type")
    rules = RULES.get(kind) if isinstance(kind, str) else None
    if rules is None:
        return None, Failure(
            "bad_type", f"type {kind!r} is not a Segment call; use one of {', '.join(TYPES)}"
        )
    if call_type is not None and raw.get("type") not in (None, call_type):
        return None, Failure(
            "bad_type", f"type {raw.get('type')!r} was sent to the /v1/{call_type} endpoint"
        )
    for rule in rules:
        reason = rule.check(raw)
        if reason is not None:
            return None, Failure(rule.code, reason)

    message_id = raw.get("messageId")
    if message_id is None:
        # Without an id a retry could not be told from a new event; an id derived from
        # the content makes a repeated send of the same call a duplicate.
        content = json.dumps(raw, sort_keys=True, default=str).encode(errors="replace")
        message_id = "auto-" + hashlib.sha256(content).hexdigest()[:32]
    elif not isinstance(message_id, str) or not message_id or len(message_id) > MAX_ID_CHARS:
        return None, Failure(
            "bad_message_id", f"messageId must be a non-empty string of at most {MAX_ID_CHARS}"
        )
    user_id, why = _identity(raw.get("userId"), policy)
    if why is None:
        anonymous_id, why = _identity(raw.get("anonymousId"), policy)
    if why is not None:
        return None, Failure("bad_field", why)

    stamp = raw.get("timestamp")
    if stamp is None:
        ts_us: int | None = received_us
    else:
        ts_us, why = parse_timestamp(stamp, received_us)
        if why is not None:
            return None, Failure("bad_timestamp", why)

    payload = PAYLOAD[str(kind)](raw)
    props = dumps_compact(policy.scrub(payload)) if payload else None
    context = raw.get("context")
    if context:
        traits = context.get("traits")
        if isinstance(traits, dict) and traits:
            context = dict(context, traits=policy.scrub(traits))
        ctx = dumps_compact(context)
    else:
        ctx = None
    size = len(props or "") + len(ctx or "") + len(message_id) + 64
    if size * 4 > MAX_EVENT_BYTES:  # could be over in UTF-8 bytes: count them
        text = (props or "") + (ctx or "") + message_id
        size = len(text.encode(errors="replace")) + 64
    if size > MAX_EVENT_BYTES:
        return None, Failure(
            "event_too_large",
            f"the event is {size:,} bytes; Segment's limit is {MAX_EVENT_BYTES:,} per event",
        )
    return {
        "m": message_id,
        "y": kind,
        "e": raw.get("event") if kind == "track" else None,
        "u": user_id,
        "a": anonymous_id,
        "t": ts_us,
        "p": props,
        "c": ctx,
    }, None


_EMAIL_IN_TEXT = re.compile(r"[^@\s\"'<>,;:]+@[^@\s\"'<>,;:]+\.[A-Za-z]{2,}")
_MOBILE_IN_TEXT = re.compile(r"(?<!\w)(?:\+?86[\s-]?)?1[3-9]\d{9}(?!\w)")


def raw_text(raw: Any, policy: PiiPolicy) -> str:
    """The event as JSON text for ``failed_events``, without personal data, cut at
    :data:`MAX_RAW_CHARS`. A refused event is not trusted to be well formed, so the
    text is also masked for anything shaped like an e-mail or a mainland mobile."""
    if isinstance(raw, dict):
        raw = policy.scrub(raw)
        for key in ("userId", "anonymousId"):
            if isinstance(raw.get(key), str):
                raw = dict(raw, **{key: policy.identity(raw[key])})
    try:
        text = raw if isinstance(raw, str) else dumps_compact(raw)
    except (TypeError, ValueError):
        text = repr(raw)
    return mask_text(text[:MAX_RAW_CHARS])


def mask_text(text: str) -> str:
    """Replace e-mail- and mobile-shaped substrings of a text nobody could parse."""
    text = _EMAIL_IN_TEXT.sub("<email>", text)
    return _MOBILE_IN_TEXT.sub("<phone>", text)
