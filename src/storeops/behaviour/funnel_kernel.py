"""The funnel's native kernel (numba): the per-person table of
:meth:`storeops.behaviour.funnel.FunnelInsight.to_expr` without SQL window passes.

DuckDB still does what it is good at — reading the events, resolving persons,
matching the step filters — and hands over, batch by batch as Arrow, three narrow
columns per matching event: a dense person number (``int32``), the timestamp
(``int64`` microseconds) and a bit mask of the steps the event matches. Then, in
compiled code:

1. a counting sort by person (one pass to count, one to scatter) puts every
   person's events next to each other;
2. each person's events are sorted by time (in parallel over persons). Events of
   one person with the same timestamp that could change the answer (different step
   masks or breakdown values) are put in the exact query order
   ``(ts, seq, source_id, message_id)`` by a second, small DuckDB query over just
   those (person, timestamp) pairs, so the order is DuckDB's own string order;
3. one pass over each person's events, in order, keeps for every step k the latest
   start of a chain that has reached step k so far (``latest[k]``). An event that
   matches step k extends the best chain ending at an earlier event:
   ``start = latest[parent(k)]`` (its own timestamp for step 1), and reaches step k
   when ``ts - start <= window``. The steps an event matches are visited from the
   last to the first, so an event never reads a ``latest`` that it has just
   written: one event never fills two steps. This is the recurrence of the SQL
   path (a running maximum over strictly earlier events), without pruning.

Times to convert are whole milliseconds, ``floor(ts / 1 ms) - floor(start / 1 ms)``
divided by 1000, as DuckDB's ``date_diff('millisecond', …)`` counts them.

Compiled functions are cached on disk (``cache=True``: next to this module, or in
numba's per-user cache directory when that is not writable), so only the first run
after an install pays the compilation (a few seconds); loading the cache costs a
fraction of a second per process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit, prange

from storeops.warehouse import Warehouse

#: "No chain yet" in the ``latest`` state (below every real timestamp).
_NONE = np.iinfo(np.int64).min
#: Rows per Arrow batch fetched from DuckDB (memory is bounded by what is kept).
BATCH_ROWS = 1 << 20

# The OpenMP threading layer is thread-safe, but parallel kernels from several
# request threads would only compete for the same cores: run one at a time.
_LOCK = threading.Lock()

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.unsignedinteger]


# -- compiled parts -------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _count(person: I32, counts: I64) -> None:  # pragma: no cover - compiled
    for i in range(person.shape[0]):
        counts[person[i]] += 1


@njit(cache=True, nogil=True)
def _scatter(  # pragma: no cover - compiled
    person: I32,
    ts: I64,
    mask: Mask,
    bd: I32,
    cursor: I64,
    out_ts: I64,
    out_mask: Mask,
    out_bd: I32,
    with_bd: bool,
) -> None:
    for i in range(person.shape[0]):
        p = person[i]
        j = cursor[p]
        cursor[p] = j + 1
        out_ts[j] = ts[i]
        out_mask[j] = mask[i]
        if with_bd:
            out_bd[j] = bd[i]


@njit(cache=True, nogil=True)
def _sort_person(  # pragma: no cover - compiled
    a: int, b: int, ts: I64, mask: Mask, bd: I32, with_bd: bool
) -> None:
    """Sort events a..b-1 by timestamp (ties keep no particular order)."""
    n = b - a
    ordered = True
    for i in range(a + 1, b):
        if ts[i] < ts[i - 1]:
            ordered = False
            break
    if ordered:
        return
    lo = ts[a]
    hi = ts[a]
    for i in range(a + 1, b):
        lo = min(lo, ts[i])
        hi = max(hi, ts[i])
    bits = 1
    while (1 << bits) < n:
        bits += 1
    span = hi - lo  # may overflow only for absurd ranges; checked below
    if span >= 0 and span < (np.int64(1) << (62 - bits)):
        # One int64 key per event: time since the person's first event, then the
        # position — a plain value sort, faster than an argsort.
        keys = np.empty(n, np.int64)
        for i in range(n):
            keys[i] = ((ts[a + i] - lo) << bits) | i
        keys.sort()
        order = keys & ((np.int64(1) << bits) - 1)
    else:
        order = np.argsort(ts[a:b], kind="mergesort")
    t2 = ts[a:b].copy()
    m2 = mask[a:b].copy()
    for i in range(n):
        ts[a + i] = t2[order[i]]
        mask[a + i] = m2[order[i]]
    if with_bd:
        b2 = bd[a:b].copy()
        for i in range(n):
            bd[a + i] = b2[order[i]]


@njit(cache=True, parallel=True)
def _sort_all(  # pragma: no cover - compiled
    starts: I64, ts: I64, mask: Mask, bd: I32, with_bd: bool
) -> I64:
    """Sort every person's events by time; per person, the number of same-time
    groups whose order matters (two different (mask, breakdown) pairs in one group)."""
    n_persons = starts.shape[0] - 1
    ties = np.zeros(n_persons, np.int64)
    for p in prange(n_persons):
        a = starts[p]
        b = starts[p + 1]
        if b - a > 1:
            _sort_person(a, b, ts, mask, bd, with_bd)
            found = 0
            i = a
            while i < b:
                j = i + 1
                differ = False
                while j < b and ts[j] == ts[i]:
                    if mask[j] != mask[i] or (with_bd and bd[j] != bd[i]):
                        differ = True
                    j += 1
                if differ:
                    found += 1
                i = j
            ties[p] = found
    return ties


@njit(cache=True, nogil=True)
def _tie_groups(  # pragma: no cover - compiled
    starts: I64, ts: I64, mask: Mask, bd: I32, ties: I64, with_bd: bool
) -> tuple[I64, I64, I64, I64]:
    """The same-time groups that matter: person, timestamp, first row, length."""
    total = 0
    for p in range(ties.shape[0]):
        total += ties[p]
    g_person = np.empty(total, np.int64)
    g_ts = np.empty(total, np.int64)
    g_start = np.empty(total, np.int64)
    g_len = np.empty(total, np.int64)
    k = 0
    for p in range(ties.shape[0]):
        if ties[p] == 0:
            continue
        a = starts[p]
        b = starts[p + 1]
        i = a
        while i < b:
            j = i + 1
            differ = False
            while j < b and ts[j] == ts[i]:
                if mask[j] != mask[i] or (with_bd and bd[j] != bd[i]):
                    differ = True
                j += 1
            if differ:
                g_person[k] = p
                g_ts[k] = ts[i]
                g_start[k] = i
                g_len[k] = j - i
                k += 1
            i = j
    return g_person, g_ts, g_start, g_len


@njit(cache=True, nogil=True)
def _place_ties(  # pragma: no cover - compiled
    g_start: I64,
    g_len: I64,
    mask: Mask,
    bd: I32,
    new_mask: Mask,
    new_bd: I32,
    with_bd: bool,
) -> None:
    k = 0
    for g in range(g_start.shape[0]):
        for i in range(g_start[g], g_start[g] + g_len[g]):
            mask[i] = new_mask[k]
            if with_bd:
                bd[i] = new_bd[k]
            k += 1


@njit(cache=True, parallel=True)
def _evaluate(  # pragma: no cover - compiled
    starts: I64,
    ts: I64,
    mask: Mask,
    bd: I32,
    parents: I64,
    window_us: int,
    with_bd: bool,
) -> tuple[npt.NDArray[np.int8], I64, I32]:
    """Per person and step: reached (0/1) and the shortest time in milliseconds;
    the breakdown code of the first step-1 event (-2: no step-1 event)."""
    n_persons = starts.shape[0] - 1
    n_steps = parents.shape[0]
    reached = np.zeros((n_persons, n_steps), np.int8)
    millis = np.zeros((n_persons, n_steps), np.int64)
    first_bd = np.full(n_persons, -2, np.int32)
    for p in prange(n_persons):
        latest = np.full(n_steps, _NONE, np.int64)
        best = np.full(n_steps, np.iinfo(np.int64).max, np.int64)
        for i in range(starts[p], starts[p + 1]):
            m = mask[i]
            t = ts[i]
            for k in range(n_steps - 1, -1, -1):
                if (m >> k) & 1 == 0:
                    continue
                if k == 0:
                    start = t
                    if first_bd[p] == -2:
                        first_bd[p] = bd[i] if with_bd else -1
                else:
                    start = latest[parents[k]]
                    if start == _NONE:
                        continue
                if start > latest[k]:
                    latest[k] = start
                if t - start <= window_us:
                    d = t // 1000 - start // 1000
                    if d < best[k]:
                        best[k] = d
        for k in range(n_steps):
            if best[k] != np.iinfo(np.int64).max:
                reached[p, k] = 1
                millis[p, k] = best[k]
    return reached, millis, first_bd


# -- driver ---------------------------------------------------------------------------
@dataclass
class KernelStats:
    """Where the time went (seconds), for benchmarks and logs."""

    events: int = 0
    persons: int = 0
    tie_groups: int = 0
    fetch_s: float = 0.0
    sort_s: float = 0.0
    ties_s: float = 0.0
    evaluate_s: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def kernel_s(self) -> float:
        """The compiled part: scatter, per-person sort and the evaluation pass."""
        return self.sort_s + self.evaluate_s


@dataclass
class Chunk:
    person: I32
    ts: I64
    mask: Mask
    bd: I32


class BreakdownCodes:
    """Breakdown values to dense codes, across batches (null → -1)."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._codes: dict[str, int] = {}

    def encode(self, column: pa.Array | pa.ChunkedArray) -> I32:
        encoded = pc.dictionary_encode(column)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        dictionary = encoded.dictionary.to_pylist()
        lookup = np.empty(len(dictionary) + 1, np.int32)
        for i, value in enumerate(dictionary):
            code = self._codes.get(value)
            if code is None:
                code = self._codes[value] = len(self.values)
                self.values.append(value)
            lookup[i] = code
        lookup[len(dictionary)] = -1
        indices = encoded.indices.fill_null(len(dictionary))
        return lookup[indices.to_numpy(zero_copy_only=False)]

    def known(self, column: pa.Array | pa.ChunkedArray) -> I32:
        values = column.to_pylist()
        return np.array([-1 if v is None else self._codes[v] for v in values], np.int32)


def mask_dtype(n_steps: int) -> type[np.unsignedinteger]:
    """The narrowest unsigned type with a bit per step."""
    return np.uint8 if n_steps <= 8 else np.uint16 if n_steps <= 16 else np.uint32


def to_chunk(batch: pa.RecordBatch, codes: BreakdownCodes | None, n_steps: int) -> Chunk:
    """Columns ``pidx``, ``ts``, ``mask`` (and ``bd``) as compact numpy arrays."""
    person = batch.column("pidx").to_numpy().astype(np.int32, copy=False)
    ts = batch.column("ts").cast(pa.int64()).to_numpy()
    mask = batch.column("mask").to_numpy().astype(mask_dtype(n_steps), copy=False)
    bd = codes.encode(batch.column("bd")) if codes is not None else np.empty(0, np.int32)
    return Chunk(person, ts, mask, bd)


@dataclass
class PersonReach:
    """The kernel's answer: for each person with a step-1 event, reached and millis."""

    person: I64  # dense person numbers (index into the person dictionary)
    reached: npt.NDArray[np.int8]  # persons × steps
    millis: I64  # persons × steps, valid where reached
    breakdown: I32  # code into BreakdownCodes.values, -1 = no value


class Kernel:
    """Collect batches, sort, resolve ties (through ``resolve``), evaluate."""

    def __init__(self, n_persons: int, parents: list[int | None], window_seconds: int) -> None:
        self.n_persons = n_persons
        self.parents = np.array([-1 if p is None else p for p in parents], np.int64)
        self.window_us = int(window_seconds) * 1_000_000
        self.chunks: list[Chunk] = []
        self.counts = np.zeros(n_persons, np.int64)
        self.stats = KernelStats(persons=n_persons)

    def add(self, chunk: Chunk) -> None:
        _count(chunk.person, self.counts)
        self.chunks.append(chunk)
        self.stats.events += len(chunk.person)

    def run(
        self,
        with_bd: bool,
        resolve: Callable[[I64, I64], Iterable[tuple[Mask, I32]]],
    ) -> PersonReach:
        """``resolve(persons, timestamps)`` returns the (mask, breakdown code) rows of
        those same-time groups in the exact query order, group after group."""
        with _LOCK:
            t0 = time.perf_counter()
            n = self.stats.events
            starts = np.zeros(self.n_persons + 1, np.int64)
            np.cumsum(self.counts, out=starts[1:])
            cursor = starts[:-1].copy()
            ts = np.empty(n, np.int64)
            mask = np.empty(n, mask_dtype(len(self.parents)))
            bd = np.empty(n if with_bd else 0, np.int32)
            while self.chunks:
                c = self.chunks.pop(0)  # free each chunk once placed
                _scatter(c.person, c.ts, c.mask, c.bd, cursor, ts, mask, bd, with_bd)
            del cursor
            ties = _sort_all(starts, ts, mask, bd, with_bd)
            t1 = time.perf_counter()
            self.stats.sort_s = t1 - t0
        g_person, g_ts, g_start, g_len = _tie_groups(starts, ts, mask, bd, ties, with_bd)
        self.stats.tie_groups = len(g_person)
        if len(g_person):
            parts = list(resolve(g_person, g_ts))
            new_mask = np.concatenate([p[0] for p in parts]).astype(mask.dtype)
            new_bd = (
                np.concatenate([p[1] for p in parts]).astype(np.int32)
                if with_bd
                else np.empty(0, np.int32)
            )
            if len(new_mask) != int(g_len.sum()):
                raise RuntimeError(
                    "the same-time events read back differ from the first read "
                    f"({len(new_mask)} rows, expected {int(g_len.sum())}): were the "
                    "events changed while the funnel ran? Run it again."
                )
            _place_ties(g_start, g_len, mask, bd, new_mask, new_bd, with_bd)
        t2 = time.perf_counter()
        self.stats.ties_s = t2 - t1
        with _LOCK:
            reached, millis, first_bd = _evaluate(
                starts, ts, mask, bd, self.parents, self.window_us, with_bd
            )
        self.stats.evaluate_s = time.perf_counter() - t2
        keep = np.flatnonzero(first_bd != -2)
        return PersonReach(keep, reached[keep], millis[keep], first_bd[keep])


def kernel_persons(
    wh: Warehouse,
    matched: ir.Table,
    *,
    parents: list[int | None],
    window_seconds: int,
    order_keys: list[str],
    with_breakdown: bool,
    no_value: str,
) -> tuple[pa.Table, KernelStats]:
    """The per-person funnel table (the columns of ``FunnelInsight.to_expr``).

    ``matched`` has one row per event that matches some step: ``person_id``, the
    ``order_keys`` columns (``ts`` first), ``mask`` (bit i: matches step i) and, with
    a breakdown, ``bd`` (the breakdown value on step-1 events, else NULL).
    """
    n_steps = len(parents)
    t0 = time.perf_counter()
    persons = wh.to_pyarrow(matched.select("person_id").distinct()).column("person_id")
    persons = persons.combine_chunks()
    dense = wh.stage(
        pa.table({"person_id": persons, "pidx": np.arange(len(persons), dtype=np.int32)})
    )
    numbered = matched.inner_join(dense, "person_id")
    columns = ["pidx", "ts", "mask", *(["bd"] if with_breakdown else [])]
    kernel = Kernel(len(persons), parents, window_seconds)
    codes = BreakdownCodes() if with_breakdown else None
    for batch in wh.con.to_pyarrow_batches(numbered.select(*columns), chunk_size=BATCH_ROWS):
        kernel.add(to_chunk(batch, codes, n_steps))
    kernel.stats.fetch_s = time.perf_counter() - t0

    def resolve(group_person: I64, group_ts: I64) -> Iterable[tuple[Mask, I32]]:
        groups = wh.stage(
            pa.table(
                {
                    "person_id": persons.take(pa.array(group_person)),
                    "ts": pa.array(group_ts, type=pa.timestamp("us")),
                    "_group": np.arange(len(group_person), dtype=np.int64),
                }
            )
        )
        # First the instants alone (DuckDB pushes that join's filter into the scan,
        # so only the rows at those instants are read further), then the exact
        # (person, instant) pairs, in the query's event order.
        instants = wh.stage(pa.table({"ts": pa.array(np.unique(group_ts), pa.timestamp("us"))}))
        rows = matched.semi_join(instants, "ts").inner_join(groups, ["person_id", "ts"])
        rows = rows.order_by(["_group", *order_keys]).select(*columns[2:])
        got = wh.to_pyarrow(rows)
        mask = got.column("mask").to_numpy().astype(mask_dtype(n_steps))
        bd = codes.known(got.column("bd")) if codes is not None else np.empty(0, np.int32)
        return [(mask, bd)]

    reach = kernel.run(with_breakdown, resolve)
    values = np.array([*(codes.values if codes else []), no_value], dtype=object)
    data: dict[str, pa.Array] = {
        "person_id": persons.take(pa.array(reach.person)),
        "breakdown": pa.array(values[reach.breakdown], type=pa.string()),
    }
    for i in range(n_steps):
        data[f"reached_{i}"] = pa.array(reach.reached[:, i].astype(np.int64))
    for i in range(n_steps):
        hit = reach.reached[:, i] == 1
        data[f"seconds_{i}"] = pa.array(reach.millis[:, i] / 1000.0, mask=~hit)
    order = ["person_id", "breakdown", "reached_0", "seconds_0"]
    order += [f"reached_{i}" for i in range(1, n_steps)]
    order += [f"seconds_{i}" for i in range(1, n_steps)]
    return pa.table({k: data[k] for k in order}), kernel.stats
