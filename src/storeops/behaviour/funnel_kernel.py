"""The funnel's native kernel (numba): the per-person table of
:meth:`storeops.behaviour.funnel.FunnelInsight.to_expr` without SQL window passes.

DuckDB still does what it is good at — reading the events, resolving persons,
matching the step filters — and counts each person's matching events. Then it hands
over, batch by batch as Arrow, three narrow columns per matching event: a dense
person number (``int32``), the timestamp (``int64`` microseconds) and a bit mask of
the steps the event matches. In compiled code:

1. each batch is placed straight into its persons' slices of two arrays (a counting
   sort whose counts DuckDB gave), so every person's events lie together;
2. each person's events are sorted by time (in parallel over blocks of persons).
   Same-instant events of one person whose order could change the answer (see
   :func:`_order_matters`) are put in the exact query order ``(ts, seq, source_id,
   message_id)`` by a second, small DuckDB query over just those (person, instant)
   pairs, so the order is DuckDB's own string order;
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
after an install pays the compilation (seconds; ``bench/bench_funnel.py`` measures
it); later processes load the cache.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from numba import get_num_threads, njit, prange

from storeops.behaviour.events import BehaviourError
from storeops.warehouse import Warehouse

#: "No chain yet" in the ``latest`` state (below every real timestamp).
_NONE = np.iinfo(np.int64).min
#: Rows per Arrow batch fetched from DuckDB (memory is bounded by what is kept).
BATCH_ROWS = 1 << 20
#: Same-instant groups are read back with a list of their instants up to this many.
MAX_LISTED_INSTANTS = 5_000


@ibis.udf.scalar.builtin(name="make_timestamp")
def _timestamp_us(us: int) -> dt.timestamp:
    """DuckDB: the timestamp ``us`` microseconds after 1970-01-01 (exact, unlike a
    literal with fractional seconds)."""


# The OpenMP threading layer is thread-safe, but parallel kernels from several
# request threads would only compete for the same cores: run one at a time.
_LOCK = threading.Lock()

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.unsignedinteger]


# -- compiled parts -------------------------------------------------------------------
@njit(cache=True, parallel=True)
def _scatter(  # pragma: no cover - compiled
    person: I32,
    ts: I64,
    mask: Mask,
    bd: I32,
    cursor: I64,
    block_starts: I64,
    out_person: I32,
    out_ts: I64,
    out_mask: Mask,
    out_bd: I32,
    with_bd: bool,
    parts: int,
) -> bool:
    """Counting sort, first level: put each event at the next free slot of its block
    of :data:`_BLOCK` persons (few streams of writes, unlike one per person).
    ``parts`` threads split the blocks (each reads the whole batch, writes its own
    blocks). False if a block has more events than counted."""
    n_blocks = cursor.shape[0]
    overflow = np.zeros(parts, np.bool_)
    for part in prange(parts):
        lo = part * n_blocks // parts
        hi = (part + 1) * n_blocks // parts
        for i in range(person.shape[0]):
            blk = person[i] // _BLOCK
            if blk < lo or blk >= hi:
                continue
            j = cursor[blk]
            if j >= block_starts[blk + 1]:
                overflow[part] = True
                continue
            cursor[blk] = j + 1
            out_person[j] = person[i]
            out_ts[j] = ts[i]
            out_mask[j] = mask[i]
            if with_bd:
                out_bd[j] = bd[i]
    return not overflow.any()


@njit(cache=True, nogil=True)
def _sort_person(  # pragma: no cover - compiled
    a: int,
    b: int,
    ts: I64,
    mask: Mask,
    bd: I32,
    with_bd: bool,
    narrow: bool,
    keys: I64,
    scratch: I64,
) -> None:
    """Sort events a..b-1 by timestamp (same-time events in no particular order).
    ``narrow``: masks are one byte. ``keys``, ``scratch``: work space (b - a or more)."""
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
    span = hi - lo
    if not with_bd and narrow and 0 <= span < (np.int64(1) << 54):
        # Time since the person's first event and the step mask in one int64:
        # a plain value sort, nothing to permute afterwards.
        k = keys[:n]
        for i in range(n):
            k[i] = ((ts[a + i] - lo) << 8) | np.int64(mask[a + i])
        k.sort()
        for i in range(n):
            ts[a + i] = lo + (k[i] >> 8)
            mask[a + i] = k[i] & 255
        return
    bits = 1
    while (np.int64(1) << bits) < n:
        bits += 1
    if 0 <= span < (np.int64(1) << (62 - bits)):
        k = keys[:n]
        for i in range(n):
            k[i] = ((ts[a + i] - lo) << bits) | i
        k.sort()
        order = k & ((np.int64(1) << bits) - 1)
    else:
        order = np.argsort(ts[a:b], kind="mergesort")
    tmp = scratch[:n]
    for i in range(n):
        tmp[i] = ts[a + order[i]]
    ts[a:b] = tmp
    for i in range(n):
        tmp[i] = mask[a + order[i]]
    for i in range(n):
        mask[a + i] = tmp[i]
    if with_bd:
        for i in range(n):
            tmp[i] = bd[a + order[i]]
        for i in range(n):
            bd[a + i] = tmp[i]


#: Persons per unit of parallel work in the sort and the evaluation.
_BLOCK = 2048


@njit(cache=True, nogil=True)
def _reads(m: int, parents: I64) -> int:  # pragma: no cover - compiled
    """The ``latest`` slots that an event with step mask ``m`` reads."""
    out = 0
    for k in range(1, parents.shape[0]):
        if (m >> k) & 1:
            out |= 1 << parents[k]
    return out


@njit(cache=True, nogil=True)
def _order_matters(  # pragma: no cover - compiled
    i: int, j: int, mask: Mask, bd: I32, with_bd: bool, parents: I64
) -> bool:
    """Whether events i..j-1 (one instant) can give another answer in another order:
    one of them writes a slot that another reads, or two first-step events carry
    different breakdown values. Otherwise reads see the same state in any order and
    writes (maxima, minima) commute."""
    for x in range(i, j):
        for y in range(i, j):
            if x == y or (mask[x] == mask[y] and (not with_bd or bd[x] == bd[y])):
                continue  # identical events may swap places
            if np.int64(mask[x]) & _reads(mask[y], parents):
                return True
            if with_bd and mask[x] & 1 and mask[y] & 1 and bd[x] != bd[y]:
                return True
    return False


@njit(cache=True, nogil=True)
def _same_time_groups(  # pragma: no cover - compiled
    a: int,
    b: int,
    ts: I64,
    mask: Mask,
    bd: I32,
    with_bd: bool,
    parents: I64,
    out: I64,
    k: int,
) -> int:
    """Same-time groups of events a..b-1 whose order matters (see
    :func:`_order_matters`). Writes (first row, length) pairs from out[k] when
    ``out`` is not empty; returns how many groups there are."""
    found = 0
    i = a
    while i < b:
        j = i + 1
        while j < b and ts[j] == ts[i]:
            j += 1
        if j - i > 1 and _order_matters(i, j, mask, bd, with_bd, parents):
            if out.shape[0] > 0:
                out[2 * (k + found)] = i
                out[2 * (k + found) + 1] = j - i
            found += 1
        i = j
    return found


@njit(cache=True, parallel=True)
def _sort_all(  # pragma: no cover - compiled
    starts: I64,
    person: I32,
    ts: I64,
    mask: Mask,
    bd: I32,
    with_bd: bool,
    narrow: bool,
    parents: I64,
) -> tuple[I64, bool]:
    """Per block of persons (in parallel): the counting sort's second level (each
    person's events together, in cache), then each person's events by time.
    Returns, per person, the number of same-time groups whose order matters, and
    False if a person has more events than counted."""
    n_persons = starts.shape[0] - 1
    n_blocks = (n_persons + _BLOCK - 1) // _BLOCK
    ties = np.zeros(n_persons, np.int64)
    broken = np.zeros(n_blocks, np.bool_)
    none = np.empty(0, np.int64)
    for block in prange(n_blocks):
        first = block * _BLOCK
        last = min(n_persons, first + _BLOCK)
        a0 = starts[first]
        a1 = starts[last]
        local_ts = ts[a0:a1].copy()
        local_mask = mask[a0:a1].copy()
        local_bd = bd[a0:a1].copy() if with_bd else bd[:0]
        cursor = starts[first:last] - a0
        for i in range(a0, a1):
            q = person[i] - first
            if q < 0 or q >= last - first or cursor[q] >= starts[first + q + 1] - a0:
                broken[block] = True
                continue
            j = a0 + cursor[q]
            cursor[q] += 1
            ts[j] = local_ts[i - a0]
            mask[j] = local_mask[i - a0]
            if with_bd:
                bd[j] = local_bd[i - a0]
        longest = 0
        for p in range(first, last):
            longest = max(longest, starts[p + 1] - starts[p])
        keys = np.empty(longest, np.int64)
        scratch = np.empty(longest, np.int64)
        for p in range(first, last):
            a = starts[p]
            b = starts[p + 1]
            if b - a > 1:
                _sort_person(a, b, ts, mask, bd, with_bd, narrow, keys, scratch)
                ties[p] = _same_time_groups(a, b, ts, mask, bd, with_bd, parents, none, 0)
    return ties, not broken.any()


@njit(cache=True, nogil=True)
def _tie_groups(  # pragma: no cover - compiled
    starts: I64, ts: I64, mask: Mask, bd: I32, ties: I64, with_bd: bool, parents: I64
) -> tuple[I64, I64, I64, I64]:
    """The same-time groups that matter: person, timestamp, first row, length."""
    total = 0
    for p in range(ties.shape[0]):
        total += ties[p]
    rows = np.empty(2 * total, np.int64)
    g_person = np.empty(total, np.int64)
    k = 0
    for p in range(ties.shape[0]):
        if ties[p] > 0:
            a = starts[p]
            b = starts[p + 1]
            _same_time_groups(a, b, ts, mask, bd, with_bd, parents, rows, k)
            g_person[k : k + ties[p]] = p
            k += ties[p]
    g_start = rows[0::2].copy()
    g_len = rows[1::2].copy()
    g_ts = np.empty(total, np.int64)
    for g in range(total):
        g_ts[g] = ts[g_start[g]]
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
    never = np.iinfo(np.int64).max
    for block in prange((n_persons + _BLOCK - 1) // _BLOCK):
        latest = np.empty(n_steps, np.int64)
        best = np.empty(n_steps, np.int64)
        for p in range(block * _BLOCK, min(n_persons, (block + 1) * _BLOCK)):
            latest[:] = _NONE
            best[:] = never
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
                if best[k] != never:
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

    @property
    def kernel_s(self) -> float:
        """The compiled part: scatter, per-person sort and the evaluation pass."""
        return self.sort_s + self.evaluate_s


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


def mask_type(n_steps: int) -> str:
    """The SQL (Ibis) type of a step mask: as narrow as :func:`mask_dtype`."""
    return "uint8" if n_steps <= 8 else "uint16" if n_steps <= 16 else "uint32"


def mask_dtype(n_steps: int) -> type[np.unsignedinteger]:
    """The narrowest unsigned type with a bit per step."""
    return np.uint8 if n_steps <= 8 else np.uint16 if n_steps <= 16 else np.uint32


@dataclass
class PersonReach:
    """The kernel's answer: for each person with a step-1 event, reached and millis."""

    person: I64  # dense person numbers (index into the person dictionary)
    reached: npt.NDArray[np.int8]  # persons × steps
    millis: I64  # persons × steps, valid where reached
    breakdown: I32  # code into BreakdownCodes.values, -1 = no value


class Kernel:
    """Place batches (counting sort), sort, resolve same-time groups, evaluate."""

    def __init__(
        self, counts: I64, parents: list[int | None], window_seconds: int, with_bd: bool
    ) -> None:
        """``counts``: the number of matching events of each person (dense numbers)."""
        self.n_persons = len(counts)
        self.parents = np.array([-1 if p is None else p for p in parents], np.int64)
        self.window_us = int(window_seconds) * 1_000_000
        self.with_bd = with_bd
        self.starts = np.zeros(self.n_persons + 1, np.int64)
        np.cumsum(counts, out=self.starts[1:])
        # The first level places events by block of persons (see _scatter).
        self.block_starts = np.ascontiguousarray(self.starts[::_BLOCK])
        if (self.n_persons % _BLOCK) or self.n_persons == 0:
            self.block_starts = np.append(self.block_starts, self.starts[-1])
        self.cursor = self.block_starts[:-1].copy()
        n = int(self.starts[-1])
        self.person = np.empty(n, np.int32)
        self.ts = np.empty(n, np.int64)
        self.mask = np.empty(n, mask_dtype(len(parents)))
        self.bd = np.empty(n if with_bd else 0, np.int32)
        self.stats = KernelStats(persons=self.n_persons)
        self.placing_s = 0.0

    def add(self, person: I32, ts: I64, mask: Mask, bd: I32) -> None:
        """Place one batch of events (dense person numbers, µs, step masks, codes)."""
        t0 = time.perf_counter()
        with _LOCK:
            ok = _scatter(
                person, ts, mask.astype(self.mask.dtype, copy=False), bd, self.cursor,
                self.block_starts, self.person, self.ts, self.mask, self.bd, self.with_bd,
                get_num_threads(),
            )  # fmt: skip
        if not ok:
            raise_changed()
        self.stats.events += len(person)
        self.placing_s += time.perf_counter() - t0

    def add_batch(self, batch: pa.RecordBatch, codes: BreakdownCodes | None) -> None:
        """Columns ``pidx``, ``ts``, ``mask`` (and ``bd``) of a fetched batch."""
        person = batch.column("pidx").to_numpy().astype(np.int32, copy=False)
        ts = batch.column("ts").cast(pa.int64()).to_numpy()
        mask = batch.column("mask").to_numpy()
        bd = codes.encode(batch.column("bd")) if codes is not None else np.empty(0, np.int32)
        self.add(person, ts, mask, bd)

    def run(self, resolve: Callable[[I64, I64], Iterable[tuple[Mask, I32]]]) -> PersonReach:
        """``resolve(persons, timestamps)`` returns the (mask, breakdown code) rows of
        those same-time groups in the exact query order, group after group."""
        if self.stats.events != len(self.ts):
            raise_changed()
        ts, mask, bd, starts, with_bd = self.ts, self.mask, self.bd, self.starts, self.with_bd
        t0 = time.perf_counter()
        with _LOCK:
            narrow = mask.dtype.itemsize == 1
            ties, ok = _sort_all(starts, self.person, ts, mask, bd, with_bd, narrow, self.parents)
        self.person = np.empty(0, np.int32)  # not needed any more
        if not ok:
            raise_changed()
        t1 = time.perf_counter()
        self.stats.sort_s = self.placing_s + (t1 - t0)
        g_person, g_ts, g_start, g_len = _tie_groups(
            starts, ts, mask, bd, ties, with_bd, self.parents
        )
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
                raise_changed()
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


def raise_changed() -> None:
    raise BehaviourError(
        "funnel.events_changed",
        "the events changed while the funnel read them (a load was running?): run the funnel again",
    )


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
    # Who, and how many events each: the counting sort's first pass, in DuckDB.
    per = wh.to_pyarrow(matched.group_by("person_id").aggregate(_n=matched.count()))
    persons = per.column("person_id").combine_chunks()
    dense = wh.stage(
        pa.table({"person_id": persons, "pidx": np.arange(len(persons), dtype=np.int32)})
    )
    numbered = matched.inner_join(dense, "person_id")
    columns = ["pidx", "ts", "mask", *(["bd"] if with_breakdown else [])]
    counts = per.column("_n").to_numpy().astype(np.int64)
    kernel = Kernel(counts, parents, window_seconds, with_breakdown)
    codes = BreakdownCodes() if with_breakdown else None
    for batch in wh.con.to_pyarrow_batches(numbered.select(*columns), chunk_size=BATCH_ROWS):
        kernel.add_batch(batch, codes)
    # Placing the batches (the counting sort's first level) counts as kernel time.
    kernel.stats.fetch_s = time.perf_counter() - t0 - kernel.placing_s

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
        # Only the rows at those instants: as a list of constants the filter goes
        # into DuckDB's scan, which then skips the other columns of every block
        # without such an instant (a join would read them all).
        instants = np.unique(group_ts)
        if len(instants) <= MAX_LISTED_INSTANTS:
            near = matched.filter(matched.ts.isin([_timestamp_us(int(t)) for t in instants]))
        else:
            at = wh.stage(pa.table({"ts": pa.array(instants, pa.timestamp("us"))}))
            near = matched.semi_join(at, "ts")
        rows = near.inner_join(groups, ["person_id", "ts"])
        rows = rows.order_by(["_group", *order_keys]).select(*columns[2:])
        got = wh.to_pyarrow(rows)
        mask = got.column("mask").to_numpy().astype(mask_dtype(n_steps))
        bd = codes.known(got.column("bd")) if codes is not None else np.empty(0, np.int32)
        return [(mask, bd)]

    reach = kernel.run(resolve)
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
