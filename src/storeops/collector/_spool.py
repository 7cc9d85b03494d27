"""The spool: append-only segment files of JSON lines, one line per request.

Durability: :class:`SpoolWriter` runs one thread that takes every line submitted
since its last flush, writes them with one ``write`` and one ``fsync`` (group
commit), and only then resolves the callers' futures; the API answers 200 after
that. A line is complete or absent for the loader: readers stop at the last newline,
so a torn tail left by a crash is ignored (it was never acknowledged).

Segments are named ``seg-<ns since epoch>-<pid>.jsonl``. The writer holds an
exclusive ``flock`` on its active segment; a segment nobody holds is sealed and
may be loaded and retired. Loaded segments move to ``spool/loaded/`` and are
deleted after the door's dedupe window, so a restarted collector can still
recognise repeated messageIds it acknowledged recently.
"""

from __future__ import annotations

import asyncio
import fcntl
import io
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from pathlib import Path

import pyarrow as pa
import pyarrow.json as pj

from storeops.errors import StoreOpsError

SEGMENT_GLOB = "seg-*.jsonl"
LOADED = "loaded"
#: Damaged lines the loader skipped, kept for a person to look at.
CORRUPT = "corrupt"
#: A segment is sealed after this many bytes even when its time is not up.
MAX_SEGMENT_BYTES = 64 * 1024 * 1024

EVENT_TYPE = pa.struct(
    [
        ("m", pa.string()),
        ("y", pa.string()),
        ("e", pa.string()),
        ("u", pa.string()),
        ("a", pa.string()),
        ("t", pa.int64()),
        ("p", pa.string()),
        ("c", pa.string()),
    ]
)
FAILURE_TYPE = pa.struct(
    [
        ("i", pa.int64()),
        ("m", pa.string()),
        ("y", pa.string()),
        ("k", pa.string()),
        ("w", pa.string()),
        ("raw", pa.string()),
    ]
)
#: One spool line (one request). Short keys keep lines small on the hot path.
RECORD_SCHEMA = pa.schema(
    [
        ("b", pa.string()),  # batch id
        ("s", pa.string()),  # source id (null: unauthorized)
        ("r", pa.int64()),  # received, µs since the epoch (UTC)
        ("ep", pa.string()),  # endpoint
        ("st", pa.int64()),  # HTTP status answered
        ("n", pa.int64()),  # received events
        ("ac", pa.int64()),  # accepted
        ("d", pa.int64()),  # duplicates at the door
        ("f", pa.int64()),  # failed
        ("e", pa.list_(EVENT_TYPE)),
        ("x", pa.list_(FAILURE_TYPE)),
    ]
)
HEADER_SCHEMA = pa.schema([f for f in RECORD_SCHEMA if f.name not in ("e", "x")])


#: What a submitter waits on: a thread future, or an asyncio future of the caller's loop.
Waiter = Future[None] | asyncio.Future[None]


class SpoolError(StoreOpsError, OSError):
    """The spool cannot be written (disk full, permissions, folder removed)."""


def segments(spool: Path, *, loaded: bool = False) -> list[Path]:
    """Segment files in write order (pending ones, or the retained loaded ones)."""
    folder = spool / LOADED if loaded else spool
    return sorted(folder.glob(SEGMENT_GLOB))


@contextmanager
def sealed(path: Path) -> Iterator[bool]:
    """Whether no writer holds ``path`` (held shut for the duration of the block)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # also releases the lock


def complete_lines(path: Path) -> bytes:
    """The segment's bytes up to its last newline (a torn tail is not a record)."""
    data = path.read_bytes()
    end = data.rfind(b"\n")
    return data[: end + 1] if end >= 0 else b""


def read_records(
    path: Path, *, header_only: bool = False, bad_lines: list[bytes] | None = None
) -> pa.Table:
    """The segment's complete records as an Arrow table (parsed in C++, no GIL).

    A line that cannot be parsed (the disk corrupted it; the writer never writes one)
    is skipped and, when ``bad_lines`` is given, added to it, so one damaged record
    cannot block the spool.
    """
    data = complete_lines(path)
    schema = HEADER_SCHEMA if header_only else RECORD_SCHEMA
    if not data:
        return schema.empty_table()
    try:
        return _parse(data, schema)
    except pa.ArrowInvalid:
        good: list[pa.Table] = []
        for line in data.splitlines(keepends=True):
            try:
                good.append(_parse(line, schema))
            except pa.ArrowInvalid:
                if bad_lines is not None:
                    bad_lines.append(line)
        return pa.concat_tables(good) if good else schema.empty_table()


def _parse(data: bytes, schema: pa.Schema) -> pa.Table:
    return pj.read_json(
        io.BytesIO(data),
        read_options=pj.ReadOptions(block_size=max(1 << 20, min(len(data), 1 << 26))),
        parse_options=pj.ParseOptions(
            explicit_schema=schema,
            unexpected_field_behavior="ignore",
            newlines_in_values=False,
        ),
    )


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SpoolWriter:
    """Group-committing appender; :meth:`submit` returns a future resolved after fsync."""

    def __init__(
        self,
        spool: Path,
        *,
        segment_seconds: float = 10.0,
        max_segment_bytes: int = MAX_SEGMENT_BYTES,
    ) -> None:
        self.spool = spool
        self.segment_seconds = segment_seconds
        self.max_segment_bytes = max_segment_bytes
        self._cond = threading.Condition()
        self._pending: list[tuple[bytes, Waiter]] = []
        self._rotate = False
        # Seal requests asked for and carried out: rotate_and_wait waits for its own.
        self._rotations_asked = 0
        self._rotations_done = 0
        self._stopping = False
        self._fd: int | None = None
        self._path: Path | None = None
        self._opened = 0.0
        self._size = 0
        self._thread: threading.Thread | None = None
        self.flushes = 0

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> SpoolWriter:
        self.spool.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name="spool-writer", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Flush what was submitted, seal the active segment, stop the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    @property
    def active(self) -> Path | None:
        return self._path

    # -- API ------------------------------------------------------------------------
    def submit(self, line: bytes) -> Future[None]:
        """Queue one complete line (ending in a newline); resolved once it is on disk."""
        future: Future[None] = Future()
        with self._cond:
            if self._stopping:
                future.set_exception(SpoolError("the spool writer is shut down"))
                return future
            self._pending.append((line, future))
            if len(self._pending) == 1:
                self._cond.notify()
        return future

    def submit_async(self, line: bytes) -> asyncio.Future[None]:
        """:meth:`submit` for the event loop's thread: an asyncio future.

        The writer settles all asyncio futures of one flush with a single
        ``call_soon_threadsafe`` (one wake-up of the loop per group commit, not one
        per request).
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._cond:
            if self._stopping:
                future.set_exception(SpoolError("the spool writer is shut down"))
                return future
            self._pending.append((line, future))
            if len(self._pending) == 1:
                self._cond.notify()
        return future

    def rotate(self) -> int:
        """Seal the active segment at the next flush (the loader asks before loading);
        returns the request's number for :meth:`rotate_and_wait`."""
        with self._cond:
            self._rotate = True
            self._rotations_asked += 1
            self._cond.notify()
            return self._rotations_asked

    def rotate_and_wait(self, timeout: float = 10.0) -> None:
        """Seal the active segment now: everything acknowledged so far becomes loadable."""
        ticket = self.rotate()
        deadline = time.monotonic() + timeout
        with self._cond:
            while (
                self._rotations_done < ticket
                and time.monotonic() < deadline
                and self._thread is not None
            ):
                self._cond.wait(0.05)

    # -- the writer thread ----------------------------------------------------------
    def _open(self) -> None:
        # Created under a name the loader ignores and locked before it gets its real
        # name, so no loader can ever see an unlocked active segment.
        name = f"seg-{time.time_ns():020d}-{os.getpid()}.jsonl"
        draft = self.spool / f".{name}.new"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_EXCL, 0o640)
        fcntl.flock(fd, fcntl.LOCK_EX)
        path = self.spool / name
        draft.rename(path)
        _fsync_dir(self.spool)  # the new name survives a crash
        self._fd, self._path, self._opened, self._size = fd, path, time.monotonic(), 0

    def _seal(self) -> None:
        if self._fd is None:
            return
        fd, path, size = self._fd, self._path, self._size
        self._fd = self._path = None
        os.close(fd)  # releases the flock: the loader may take it now
        assert path is not None
        if size == 0:
            path.unlink(missing_ok=True)

    def _due(self) -> bool:
        return self._fd is not None and (
            self._size >= self.max_segment_bytes
            or time.monotonic() - self._opened >= self.segment_seconds
        )

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopping and not self._rotate:
                    self._cond.wait(timeout=1.0)
                    if self._due():
                        break
                batch, self._pending = self._pending, []
                rotate, self._rotate = self._rotate, False
                asked = self._rotations_asked
                stopping = self._stopping
            if batch:
                self._flush(batch)
            if rotate or stopping or self._due():
                # A failure here shows again in the next _open, reported to the callers.
                with suppress(OSError):
                    self._seal()
            if rotate:
                with self._cond:
                    self._rotations_done = asked  # sealed: the waiters may load now
                    self._cond.notify_all()
            if stopping:
                with self._cond:
                    leftover, self._pending = self._pending, []
                _settle(leftover, SpoolError("the spool writer is shut down"))
                return

    def _flush(self, batch: list[tuple[bytes, Waiter]]) -> None:
        data = b"".join(line for line, _ in batch)
        try:
            if self._fd is None:
                self._open()
            assert self._fd is not None
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            os.fsync(self._fd)
        except OSError as exc:
            # Nothing of this group is acknowledged; start a fresh segment next time
            # so a half-written line cannot sit in front of later records.
            self._abandon()
            _settle(batch, SpoolError(f"cannot write the spool in {self.spool}: {exc}"))
            return
        self._size += len(data)
        self.flushes += 1
        _settle(batch, None)

    def _abandon(self) -> None:
        if self._fd is not None:
            with suppress(OSError):
                os.close(self._fd)
            self._fd = None


def _settle(batch: list[tuple[bytes, Waiter]], error: BaseException | None) -> None:
    """Resolve the callers' futures: thread futures directly, asyncio futures through
    one callback per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for _, waiter in batch:
        if isinstance(waiter, asyncio.Future):
            by_loop.setdefault(waiter.get_loop(), []).append(waiter)
        elif error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(error)
    for loop, futures in by_loop.items():
        with suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
            loop.call_soon_threadsafe(_settle_in_loop, futures, error)


def _settle_in_loop(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        if future.done():  # cancelled (client went away)
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
