"""The collector service: one request in, one spool line and one answer out.

Everything on the request path runs on the event loop without awaiting, except the
wait for the spool's fsync, so the door's dedupe set needs no lock: an event's
messageId is claimed before the await and released again if the write fails.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import time
import uuid
import zlib
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow.compute as pc

from storeops.collector._events import (
    MAX_EVENT_BYTES,
    Failure,
    PiiPolicy,
    dumps_compact,
    mask_text,
    raw_text,
    shape_event,
)
from storeops.collector._sources import KeyCache
from storeops.collector._spool import LOADED, SpoolError, SpoolWriter, read_records, segments
from storeops.privacy.crypto import blind_index_from
from storeops.workspace import Workspace

#: Segment's limit for one ``/v1/batch`` request (bytes of JSON, after gunzip).
MAX_BATCH_BYTES = 500 * 1024
#: The door's dedupe window advances in steps of this many seconds.
GENERATION_SECONDS = 600.0
ENDPOINTS = ("batch", "track", "identify", "page", "screen", "group", "alias")
UNAUTHORIZED_REASON = (
    "no valid write key: send it as the HTTP basic-auth user name (password empty), "
    "as Segment SDKs do; create one with `storeops sources add SOURCE_ID`"
)

_EPOCH_US = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


@dataclass
class Answer:
    """The HTTP answer to one request (status and a JSON body)."""

    status: int
    body: dict[str, Any]

    @property
    def content(self) -> bytes:
        return dumps_compact(self.body).encode(errors="replace")


@dataclass
class _Pending:
    answer: Answer
    line: bytes | None = None
    claimed: list[str] = field(default_factory=list)


def _basic_auth_user(header: str | None) -> str | None:
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, _, _ = decoded.partition(":")
    return user or None


class Collector:
    """Segment HTTP tracking API for one workspace (see ``docs/collector.md``)."""

    def __init__(self, ws: Workspace, *, key_ttl: float = 5.0) -> None:
        settings = ws.settings
        self.ws = ws
        self.policy = PiiPolicy(
            settings.collector_pii_policy,
            settings.collector_pii_keys,
            blind_index_from(settings),
        )
        self.keys = KeyCache(ws, ttl=key_ttl)
        self.spool = ws.folder("spool")
        self.writer = SpoolWriter(self.spool, segment_seconds=settings.collector_segment_seconds)
        self.window_seconds = settings.collector_dedupe_hours * 3600.0
        self.max_keys = settings.collector_dedupe_max_keys
        # Door dedupe: key -> generation; generations expire as a whole.
        self._seen: dict[str, int] = {}
        self._generations: deque[tuple[int, float, list[str]]] = deque()
        self._new_generation()

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> Collector:
        self._seed()
        self.writer.start()
        return self

    def close(self) -> None:
        self.writer.close()
        self.keys.close()

    def _new_generation(self) -> None:
        number = self._generations[-1][0] + 1 if self._generations else 0
        self._generations.append((number, time.monotonic(), []))

    def _advance(self) -> None:
        """Start a new generation every 10 minutes (or every tenth of the key budget)
        and forget the oldest ones past the window or over the budget."""
        now = time.monotonic()
        current = self._generations[-1]
        if now - current[1] >= GENERATION_SECONDS or len(current[2]) >= self.max_keys // 10 + 1:
            self._new_generation()
        window = max(self.window_seconds, GENERATION_SECONDS)
        while len(self._generations) > 1 and (
            now - self._generations[0][1] > window or len(self._seen) > self.max_keys
        ):
            number, _, keys = self._generations.popleft()
            for key in keys:
                if self._seen.get(key) == number:
                    del self._seen[key]

    def _seed(self) -> None:
        """Remember the messageIds of the spool: pending segments, then the recently
        loaded ones, newest first, up to the key budget."""
        loaded = segments(self.spool, loaded=True)
        for path in [*reversed(segments(self.spool)), *reversed(loaded)]:
            if len(self._seen) >= self.max_keys:
                break
            try:
                table = read_records(path)
            except FileNotFoundError:  # a loader retired it meanwhile
                try:
                    table = read_records(path.parent / LOADED / path.name)
                except FileNotFoundError:
                    continue
            if table.num_rows == 0:
                continue
            lists = table.column("e").combine_chunks()
            sources = pc.take(table.column("s"), pc.list_parent_indices(lists))
            ids = pc.struct_field(pc.list_flatten(lists), "m")
            keys = [
                f"{source}\x1f{message_id}"
                for source, message_id in zip(sources.to_pylist(), ids.to_pylist(), strict=True)
            ]
            keys = keys[len(keys) - (self.max_keys - len(self._seen)) :]  # the newest fit
            # Older segments go into older generations, so they are forgotten first.
            self._generations.appendleft((self._generations[0][0] - 1, time.monotonic(), keys))
            for key in keys:
                self._seen.setdefault(key, self._generations[0][0])

    # -- requests ---------------------------------------------------------------------
    async def ingest(self, endpoint: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        """Validate, spool (durably) and answer one request."""
        pending = self.prepare(endpoint, body, headers)
        if pending.line is None:
            return pending.answer
        try:
            await self.writer.submit_async(pending.line)
        except SpoolError as exc:
            self.release(pending)
            return Answer(503, {"success": False, "code": "spool_unavailable", "message": str(exc)})
        return pending.answer

    def ingest_sync(self, endpoint: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        """:meth:`ingest` for callers without an event loop (tests, tools)."""
        pending = self.prepare(endpoint, body, headers)
        if pending.line is not None:
            future: Future[None] = self.writer.submit(pending.line)
            try:
                future.result()
            except SpoolError as exc:
                self.release(pending)
                return Answer(
                    503, {"success": False, "code": "spool_unavailable", "message": str(exc)}
                )
        return pending.answer

    def release(self, pending: _Pending) -> None:
        """Forget the messageIds of a request whose write failed (the client retries)."""
        for key in pending.claimed:
            self._seen.pop(key, None)

    def prepare(self, endpoint: str, body: bytes, headers: Mapping[str, str]) -> _Pending:
        """Everything but the write: the answer, the spool line, the claimed ids."""
        received = datetime.now(UTC)
        received_us = (received - _EPOCH_US) // _MICRO
        batch_id = uuid.uuid4().hex
        call_type = None if endpoint == "batch" else endpoint
        limit = MAX_BATCH_BYTES if call_type is None else MAX_EVENT_BYTES

        source = None
        write_key = _basic_auth_user(headers.get("authorization"))
        if write_key is not None:
            source = self.keys.source_for(write_key)

        def refuse(status: int, code: str, message: str, raw: str = "") -> _Pending:
            failure = {"i": -1, "m": None, "y": call_type, "k": code, "w": message, "raw": raw}
            record = {
                "b": batch_id, "s": source, "r": received_us, "ep": endpoint, "st": status,
                "n": 1, "ac": 0, "d": 0, "f": 1, "e": [], "x": [failure],
            }  # fmt: skip
            answer = Answer(status, {"success": False, "code": code, "message": message})
            return _Pending(answer, (dumps_compact(record) + "\n").encode(errors="replace"))

        gzipped = headers.get("content-encoding", "").lower() == "gzip"
        if len(body) > MAX_BATCH_BYTES or (len(body) > limit and not gzipped):
            return refuse(413, "too_large", _too_large(endpoint, limit))
        if gzipped:
            try:
                body = _gunzip(body, limit)
            except _TooLargeError:
                return refuse(413, "too_large", _too_large(endpoint, limit))
            except (OSError, EOFError, zlib.error):
                return refuse(400, "bad_gzip", "Content-Encoding is gzip but the body is not")
        try:
            doc = json.loads(body, parse_constant=_not_json)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            if source is None:
                return refuse(401, "unauthorized", UNAUTHORIZED_REASON)
            return refuse(
                400,
                "malformed_json",
                f"the body is not valid JSON ({exc}); send UTF-8 JSON",
                mask_text(body[:65536].decode("utf-8", "replace")),
            )
        if source is None and isinstance(doc, dict) and isinstance(doc.get("writeKey"), str):
            source = self.keys.source_for(doc["writeKey"])
        if source is None:
            return refuse(401, "unauthorized", UNAUTHORIZED_REASON)

        if call_type is None:
            events = doc.get("batch") if isinstance(doc, dict) else None
            if not isinstance(events, list):
                return refuse(
                    400,
                    "bad_batch",
                    'a batch body is a JSON object with a "batch" list of events',
                    raw_text(doc, self.policy),
                )
        else:
            events = [doc]

        self._advance()
        generation, _, generation_keys = self._generations[-1]
        seen = self._seen
        accepted: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        claimed: list[str] = []
        duplicates = 0
        for position, raw in enumerate(events):
            try:
                event, failure = shape_event(
                    raw,
                    call_type=call_type,
                    received_us=received_us,
                    policy=self.policy,
                )
            except RecursionError:
                event, failure = None, TOO_DEEP
            except ValueError:  # 1e400 parses as inf, which JSON cannot write back
                event, failure = None, NOT_FINITE
            if failure is not None:
                failures.append(
                    {
                        "i": position,
                        "m": _message_id(raw),
                        "y": call_type or _type(raw),
                        "k": failure.code,
                        "w": failure.reason,
                        "raw": raw_text(raw, self.policy),
                    }
                )
                continue
            assert event is not None
            key = f"{source}\x1f{event['m']}"
            if key in seen:
                duplicates += 1
                continue
            seen[key] = generation
            claimed.append(key)
            accepted.append(event)
        generation_keys.extend(claimed)

        received_n = len(events)
        status = 400 if failures and len(failures) == received_n else 200
        answer_body: dict[str, Any] = {
            "success": status == 200,
            "received": received_n,
            "accepted": len(accepted),
            "duplicates": duplicates,
            "failed": [
                {"index": f["i"], "messageId": f["m"], "code": f["k"], "reason": f["w"]}
                for f in failures
            ],
        }
        if status != 200:
            answer_body["code"] = failures[0]["k"]
            answer_body["message"] = (
                f"no event was accepted: {failures[0]['w']}"
                if received_n == 1
                else f"none of the {received_n} events was accepted; see 'failed'"
            )
        if received_n == 0:
            return _Pending(Answer(status, answer_body))
        record = {
            "b": batch_id, "s": source, "r": received_us, "ep": endpoint, "st": status,
            "n": received_n, "ac": len(accepted), "d": duplicates, "f": len(failures),
            "e": accepted, "x": failures,
        }  # fmt: skip
        line = (dumps_compact(record) + "\n").encode(errors="replace")
        return _Pending(Answer(status, answer_body), line, claimed)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


#: Objects nested deeper than Python's recursion limit cannot be scrubbed or stored.
TOO_DEEP = Failure("bad_field", "the event is nested too deeply (over ~900 levels)")
NOT_FINITE = Failure("bad_field", "a number is out of range (e.g. 1e400): send it as a string")


class _TooLargeError(Exception):
    pass


def _gunzip(body: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = inflater.decompress(body, limit + 1)
    if len(out) > limit or inflater.unconsumed_tail:
        raise _TooLargeError
    if not inflater.eof:
        raise gzip.BadGzipFile("truncated gzip stream")
    return out


def _too_large(endpoint: str, limit: int) -> str:
    what = "a batch" if endpoint == "batch" else "one event"
    return (
        f"the request body is over {limit // 1024} KB (Segment's limit for {what}); "
        "send smaller batches"
    )


def _message_id(raw: Any) -> str | None:
    value = raw.get("messageId") if isinstance(raw, dict) else None
    return value[:256] if isinstance(value, str) else None


def _type(raw: Any) -> str | None:
    value = raw.get("type") if isinstance(raw, dict) else None
    return value[:32] if isinstance(value, str) else None
