"""The funnel's native kernel (numba): the per-person table of
:meth:`storeops.behaviour.funnel.FunnelInsight.to_expr` without SQL window passes.

DuckDB still does what it is good at — reading the events, resolving persons,
matching the step filters. It hands over, batch by batch as Arrow, narrow columns
per matching event: the person's key (two 63-bit hashes, :func:`person_keys`), the
timestamp (``int64`` microseconds) and a bit mask of the steps the event matches.
In compiled code:

1. each batch is placed, as it comes, in its partition of the key space (the top
   bits of the first hash); per partition, in parallel, the persons are numbered
   with a small hash table and a counting sort puts each person's events together;
2. each person's events are sorted by time. Same-instant events of one person
   whose order could change the answer (see :func:`_order_matters`) are put in the
   exact query order ``(ts, seq, source_id, message_id)`` by a second, small DuckDB
   query over just those (person, instant) pairs, so the order is DuckDB's own
   string order;
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

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit, prange

from storeops.behaviour.events import BehaviourError
from storeops.warehouse import Warehouse

#: "No chain yet" in the ``latest`` state (below every real timestamp).
_NONE = np.iinfo(np.int64).min
#: Rows per Arrow batch fetched from DuckDB (memory is bounded by what is kept).
BATCH_ROWS = 1 << 20
#: Same-instant groups are read back with a list of their instants up to this many.
MAX_LISTED_INSTANTS = 5_000
#: Events per partition of the person hash space (see :func:`partition_bits`).
PARTITION_ROWS = 1 << 19
#: The most memory the kernel keeps between runs (:class:`Arena`): about 25 bytes
#: per event of the largest funnel so far, so a 100M-event funnel keeps 2.7 GB.
KEEP_BYTES = 4 << 30


@ibis.udf.scalar.builtin(name="hash")
def _hash(value: str) -> dt.uint64:
    """DuckDB's 64-bit hash of a value."""


def person_keys(person: ir.StringValue) -> tuple[ir.IntegerValue, ir.IntegerValue]:
    """The 94-bit key the kernel tells persons apart by: DuckDB's hash of the
    person id and of the id with a character appended (an independent hash), 63
    bits of the first (a non-negative ``int64``: unsigned values above 2^63 break
    the filters DuckDB pushes into scans of Arrow tables) and 31 of the second.
    Two persons are taken for one only if both collide: about 2^-94 per pair,
    10^-16 for a million persons."""
    return (_hash(person) >> 1).cast("int64"), (_hash(person + "#") >> 33).cast("int32")


@ibis.udf.scalar.builtin(name="make_timestamp")
def _timestamp_us(us: int) -> dt.timestamp:
    """DuckDB: the timestamp ``us`` microseconds after 1970-01-01 (exact, unlike a
    literal with fractional seconds)."""


I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.unsignedinteger]


# -- compiled parts -------------------------------------------------------------------
#: The two halves of a person table's second word.
_HIGH = np.int64(-1) << 32
_LOW = (np.int64(1) << 32) - 1
#: Multiplier of the person hash tables' slot hash (Fibonacci hashing).
_MIX = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, nogil=True)
def _partition_histogram(h: I64, shift: int, n_parts: int) -> I64:  # pragma: no cover - compiled
    """Events per partition; the partition is the top bits of the person key (63
    bits), so all of a person's events fall into one partition."""
    counts = np.zeros(n_parts, np.int64)
    for i in range(h.shape[0]):
        counts[h[i] >> shift] += 1
    return counts


@njit(cache=True, nogil=True)
def _scatter(  # pragma: no cover - compiled
    h: I64,
    h2: I32,
    ts: I64,
    mask: Mask,
    bd: I32,
    shift: int,
    room: int,
    fill: I64,
    out_h: I64,
    out_h2: I32,
    out_ts: I64,
    out_mask: Mask,
    out_bd: I32,
    with_bd: bool,
) -> None:
    """Append one batch to its partitions: partition p holds ``room`` rows from
    ``p * room`` on, ``fill[p]`` of them used (the caller made room)."""
    for i in range(h.shape[0]):
        p = h[i] >> shift
        j = p * room + fill[p]
        fill[p] += 1
        out_h[j] = h[i]
        out_h2[j] = h2[i]
        out_ts[j] = ts[i]
        out_mask[j] = mask[i]
        if with_bd:
            out_bd[j] = bd[i]


@njit(cache=True, nogil=True)
def _relayout(  # pragma: no cover - compiled
    a: npt.NDArray[Any], room: int, fill: I64, new_a: npt.NDArray[Any], new_room: int
) -> None:
    """Copy each partition's rows to a layout with ``new_room`` rows per partition."""
    for p in range(fill.shape[0]):
        for i in range(fill[p]):
            new_a[p * new_room + i] = a[p * room + i]


@njit(cache=True, nogil=True)
def _slot(x: int | np.int64, y: int | np.int64, bits: int) -> np.int64:  # pragma: no cover
    """A person key's home slot in a table of 2^bits slots (Fibonacci hashing)."""
    return np.int64((np.uint64(x ^ y) * _MIX) >> np.uint64(64 - bits))


@njit(cache=True, parallel=True)
def _number_persons(  # pragma: no cover - compiled
    lo: I64, hi: I64, h: I64, h2: I32, local: I32
) -> I64:
    """Per partition (in parallel): number its distinct persons — distinct keys
    ``(h, h2)`` — 0, 1, … in order of first appearance (``local``, per row) with an
    open-addressing table that stays small (it grows with the persons, not the
    events). Then the partition's rows of ``h``, ``h2`` are read no more, and
    person k's key is written to ``h[lo[p] + k]``, ``h2[lo[p] + k]``. Returns the
    number of persons of each partition."""
    n_parts = lo.shape[0]
    found = np.zeros(n_parts, np.int64)
    for p in prange(n_parts):
        # One slot is 16 bytes, one cache line read per probe: the first hash, and
        # the second hash with the person's number + 1 (0: an empty slot).
        bits = 6
        table = np.zeros((1 << bits, 2), np.int64)
        k = 0
        base = lo[p]
        for i in range(lo[p], hi[p]):
            x = h[i]
            y = np.int64(h2[i]) << 32
            cap = 1 << bits
            slot = _slot(x, y, bits)
            while table[slot, 1] != 0 and (table[slot, 0] != x or (table[slot, 1] & _HIGH) != y):
                slot = (slot + 1) & (cap - 1)
            if table[slot, 1] != 0:
                local[i] = (table[slot, 1] & _LOW) - 1
                continue
            table[slot, 0] = x
            table[slot, 1] = y | (k + 1)
            local[i] = k
            k += 1
            if 2 * k > cap:  # half full: double and re-insert
                bits += 1
                old = table
                table = np.zeros((1 << bits, 2), np.int64)
                for q in range(cap):
                    if old[q, 1] != 0:
                        s = _slot(old[q, 0], old[q, 1] & _HIGH, bits)
                        while table[s, 1] != 0:
                            s = (s + 1) & ((1 << bits) - 1)
                        table[s, 0] = old[q, 0]
                        table[s, 1] = old[q, 1]
        for q in range(1 << bits):
            if table[q, 1] != 0:
                person = (table[q, 1] & _LOW) - 1
                h[base + person] = table[q, 0]
                h2[base + person] = table[q, 1] >> 32
        found[p] = k
    return found


@njit(cache=True, parallel=True)
def _persons(  # pragma: no cover - compiled
    lo: I64, person_base: I64, h: I64, h2: I32
) -> tuple[I64, I32]:
    """Each person's key by global person number (after :func:`_number_persons`:
    the persons of partition p are ``person_base[p]`` on, in their local order)."""
    n = person_base[-1]
    person_h = np.empty(n, np.int64)
    person_h2 = np.empty(n, np.int32)
    for p in prange(lo.shape[0]):
        for k in range(person_base[p + 1] - person_base[p]):
            person_h[person_base[p] + k] = h[lo[p] + k]
            person_h2[person_base[p] + k] = h2[lo[p] + k]
    return person_h, person_h2


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
    lo: I64,
    hi: I64,
    bounds: I64,
    person: I32,
    ts: I64,
    mask: Mask,
    bd: I32,
    with_bd: bool,
    narrow: bool,
    parents: I64,
) -> tuple[I64, I64, I64, bool]:
    """Per partition b (in parallel): its persons ``bounds[b]..bounds[b+1]-1``
    (locally numbered 0, 1, … in ``person``) have their events in rows
    ``lo[b]..hi[b]-1``; a counting sort puts each person's events together (in
    cache), from ``starts[q]`` to ``ends[q]``, then sorts them by time. Returns
    ``starts``, ``ends``, per person the number of same-time groups whose order
    matters, and False if a row's person is out of range."""
    n_persons = bounds[-1]
    starts = np.empty(n_persons, np.int64)
    ends = np.empty(n_persons, np.int64)
    n_blocks = bounds.shape[0] - 1
    ties = np.zeros(n_persons, np.int64)
    broken = np.zeros(n_blocks, np.bool_)
    none = np.empty(0, np.int64)
    for block in prange(n_blocks):
        first = bounds[block]
        last = bounds[block + 1]
        a0 = lo[block]
        a1 = hi[block]
        local_ts = ts[a0:a1].copy()
        local_mask = mask[a0:a1].copy()
        local_bd = bd[a0:a1].copy() if with_bd else bd[:0]
        cursor = np.zeros(last - first, np.int64)
        for i in range(a0, a1):
            q = np.int64(person[i])
            if q < 0 or q >= last - first:
                broken[block] = True
                break
            cursor[q] += 1
        if broken[block]:
            continue
        at = a0
        for r in range(last - first):
            starts[first + r] = at
            at += cursor[r]
            ends[first + r] = at
            cursor[r] = starts[first + r] - a0
        for i in range(a0, a1):
            q = np.int64(person[i])
            j = a0 + cursor[q]
            cursor[q] += 1
            ts[j] = local_ts[i - a0]
            mask[j] = local_mask[i - a0]
            if with_bd:
                bd[j] = local_bd[i - a0]
        longest = 0
        for p in range(first, last):
            longest = max(longest, ends[p] - starts[p])
        keys = np.empty(longest, np.int64)
        scratch = np.empty(longest, np.int64)
        for p in range(first, last):
            a = starts[p]
            b = ends[p]
            if b - a > 1:
                _sort_person(a, b, ts, mask, bd, with_bd, narrow, keys, scratch)
                ties[p] = _same_time_groups(a, b, ts, mask, bd, with_bd, parents, none, 0)
    return starts, ends, ties, not broken.any()


@njit(cache=True, nogil=True)
def _tie_groups(  # pragma: no cover - compiled
    starts: I64, ends: I64, ts: I64, mask: Mask, bd: I32, ties: I64, with_bd: bool, parents: I64
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
            b = ends[p]
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
    ends: I64,
    ts: I64,
    mask: Mask,
    bd: I32,
    parents: I64,
    window_us: int,
    with_bd: bool,
) -> tuple[npt.NDArray[np.int8], I64, I32]:
    """Per person and step: reached (0/1) and the shortest time in milliseconds;
    the breakdown code of the first step-1 event (-2: no step-1 event)."""
    n_persons = starts.shape[0]
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
            for i in range(starts[p], ends[p]):
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
    #: Reading the events out of DuckDB, placing them as they come included.
    fetch_s: float = 0.0
    #: Placing each batch in its partitions (while the next ones are read).
    place_s: float = 0.0
    #: Numbering the persons.
    number_s: float = 0.0
    #: Sorting each person's events.
    sort_s: float = 0.0
    #: The same-instant query.
    ties_s: float = 0.0
    #: The evaluation pass.
    evaluate_s: float = 0.0

    @property
    def kernel_s(self) -> float:
        """The compiled part: placing, numbering, sorting and the evaluation pass."""
        return self.place_s + self.number_s + self.sort_s + self.evaluate_s


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


class Arena:
    """The kernel's big work arrays, kept between runs (up to :data:`KEEP_BYTES`):
    memory fresh from the operating system costs a page fault per page, which on
    virtual machines can take longer than the kernel's own work; kept memory does
    not (DuckDB keeps its buffer pool for the same reason). Runs take the arena
    one at a time (:data:`_ARENA_LOCK`); :func:`release_memory` gives it back."""

    def __init__(self) -> None:
        self._arrays: dict[str, npt.NDArray[Any]] = {}

    def take(
        self, name: str, n: int, dtype: npt.DTypeLike, *, fresh: bool = False
    ) -> npt.NDArray[Any]:
        """An array of ``n`` elements (its contents are whatever was left there);
        ``fresh``: not the kept one (which the caller may still be reading)."""
        kept = self._arrays.pop(name, None)
        if not fresh and kept is not None and kept.dtype == np.dtype(dtype) and len(kept) >= n:
            array = kept
        else:
            del kept
            array = np.empty(n, dtype)
        if sum(a.nbytes for a in self._arrays.values()) + array.nbytes <= KEEP_BYTES:
            self._arrays[name] = array
        return array[:n]

    def release(self) -> None:
        self._arrays.clear()


_ARENA = Arena()
#: One kernel run at a time per process: runs share the arena, and parallel kernels
#: from several request threads would only compete for the same cores.
_ARENA_LOCK = threading.Lock()


def release_memory() -> None:
    """Give the kernel's kept work arrays back (the next run allocates anew)."""
    with _ARENA_LOCK:
        _ARENA.release()


class Kernel:
    """Partition the batches by person as they come, number the persons, sort each
    person's events, resolve same-time groups, evaluate. Uses the arena: hold
    :data:`_ARENA_LOCK` from construction to the end of :meth:`run`."""

    def __init__(
        self, parents: list[int | None], window_seconds: int, with_bd: bool, capacity: int
    ) -> None:
        """``capacity``: about how many events will come (an upper bound is best):
        it sets the partitions and the room kept for each (more is made if needed)."""
        self.parents = np.array([-1 if p is None else p for p in parents], np.int64)
        self.window_us = int(window_seconds) * 1_000_000
        self.with_bd = with_bd
        self.mask_dtype = mask_dtype(len(parents))
        self.bits = partition_bits(capacity)
        self.n_parts = 1 << self.bits
        # Room per partition: its share of the capacity and some (the hash spreads
        # persons evenly; a person with very many events can still overflow one).
        share = -(-max(1, capacity) // self.n_parts)
        self.room = share + share // 16 + 64
        self.fill = np.zeros(self.n_parts, np.int64)
        self._take_layout(self.room)
        self.person = np.empty(0, np.int32)
        self.bounds = np.zeros(1, np.int64)
        self.stats = KernelStats()

    def _take_layout(self, room: int, fresh: bool = False) -> None:
        n = self.n_parts * room
        self.h = _ARENA.take("h", n, np.int64, fresh=fresh)
        self.h2 = _ARENA.take("h2", n, np.int32, fresh=fresh)
        self.ts = _ARENA.take("ts", n, np.int64, fresh=fresh)
        self.mask = _ARENA.take("mask", n, self.mask_dtype, fresh=fresh)
        self.bd = _ARENA.take("bd", n if self.with_bd else 0, np.int32, fresh=fresh)

    def add(self, h: I64, h2: I32, ts: I64, mask: Mask, bd: I32) -> None:
        """Place one batch of events (person keys, µs, step masks, breakdown codes)
        in its partitions."""
        t0 = time.perf_counter()
        shift = 63 - self.bits
        need = self.fill + _partition_histogram(h, shift, self.n_parts)
        if int(need.max(initial=0)) > self.room:
            self._grow(int(need.max()))
        _scatter(
            h, h2, ts, mask.astype(self.mask_dtype, copy=False), bd, shift, self.room,
            self.fill, self.h, self.h2, self.ts, self.mask, self.bd, self.with_bd,
        )  # fmt: skip
        self.stats.events += len(h)
        self.stats.place_s += time.perf_counter() - t0

    def _grow(self, need: int) -> None:
        """More room per partition: the rows so far move to a larger layout."""
        room = max(need, 2 * self.room)
        old = [self.h, self.h2, self.ts, self.mask, self.bd]
        self._take_layout(room, fresh=True)
        for a, b in zip(old, [self.h, self.h2, self.ts, self.mask, self.bd], strict=True):
            if len(b):
                _relayout(a, self.room, self.fill, b, room)
        self.room = room

    def add_batch(self, batch: pa.RecordBatch, codes: BreakdownCodes | None) -> None:
        """Columns ``h``, ``h2``, ``ts``, ``mask`` (and ``bd``) of a fetched batch."""
        # Views, not copies (a copy per batch is memory fresh from the system): the
        # keys are below 2^63 and 2^31 whatever their Arrow type, ts is µs.
        h = _as(batch.column("h").to_numpy(), np.int64)
        h2 = _as(batch.column("h2").to_numpy(), np.int32)
        ts = _as(batch.column("ts").to_numpy(), np.int64)
        mask = batch.column("mask").to_numpy()
        bd = codes.encode(batch.column("bd")) if codes is not None else np.empty(0, np.int32)
        self.add(h, h2, ts, mask, bd)

    def index(self) -> tuple[I64, I32]:
        """Number the persons densely (each partition's persons together) and count
        their events. Returns each person's key (two hashes), by person number."""
        t0 = time.perf_counter()
        lo = np.arange(self.n_parts, dtype=np.int64) * self.room
        hi = lo + self.fill
        person = _ARENA.take("person", len(self.h), np.int32)
        found = _number_persons(lo, hi, self.h, self.h2, person)
        bounds = np.zeros(self.n_parts + 1, np.int64)
        np.cumsum(found, out=bounds[1:])
        n_persons = int(bounds[-1])
        person_h, person_h2 = _persons(lo, bounds, self.h, self.h2)
        self.person, self.bounds, self.lo, self.hi = person, bounds, lo, hi
        self.stats.persons = n_persons
        self.stats.number_s = time.perf_counter() - t0
        return person_h, person_h2

    def run(self, resolve: Callable[[I64, I64], Iterable[tuple[Mask, I32]]]) -> PersonReach:
        """After :meth:`index`. ``resolve(persons, timestamps)`` returns the (mask,
        breakdown code) rows of those same-time groups in the exact query order,
        group after group."""
        ts, mask, bd, with_bd = self.ts, self.mask, self.bd, self.with_bd
        t0 = time.perf_counter()
        narrow = mask.dtype.itemsize == 1
        starts, ends, ties, ok = _sort_all(
            self.lo, self.hi, self.bounds, self.person, ts, mask, bd, with_bd, narrow,
            self.parents,
        )  # fmt: skip
        if not ok:
            raise_changed()
        t1 = time.perf_counter()
        self.stats.sort_s = t1 - t0
        g_person, g_ts, g_start, g_len = _tie_groups(
            starts, ends, ts, mask, bd, ties, with_bd, self.parents
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
        reached, millis, first_bd = _evaluate(
            starts, ends, ts, mask, bd, self.parents, self.window_us, with_bd
        )
        self.stats.evaluate_s = time.perf_counter() - t2
        keep = np.flatnonzero(first_bd != -2)
        return PersonReach(keep, reached[keep], millis[keep], first_bd[keep])


def _as(array: npt.NDArray[Any], dtype: type[np.generic]) -> npt.NDArray[Any]:
    """``array`` seen as ``dtype`` (same width: no copy) or converted to it."""
    if array.dtype.itemsize == np.dtype(dtype).itemsize and array.dtype.kind in "iumM":
        return array.view(dtype)
    return array.astype(dtype)


def partition_bits(events: int) -> int:
    """Partitions of about :data:`PARTITION_ROWS` events each: 4 to 1024."""
    wanted = max(1, -(-events // PARTITION_ROWS))
    return min(10, max(2, int(wanted - 1).bit_length()))


def raise_changed() -> None:
    raise BehaviourError(
        "funnel.events_changed",
        "the events changed while the funnel read them (a load was running?): run the funnel again",
    )


def kernel_persons(
    wh: Warehouse, matched: ir.Table, **options: Any
) -> tuple[pa.Table, KernelStats]:
    """:func:`compute_persons`, one run at a time (the runs share the arena)."""
    with _ARENA_LOCK:
        return compute_persons(wh, matched, **options)


def compute_persons(
    wh: Warehouse,
    matched: ir.Table,
    *,
    parents: list[int | None],
    window_seconds: int,
    order_keys: list[str],
    with_breakdown: bool,
    no_value: str,
    capacity: int,
) -> tuple[pa.Table, KernelStats]:
    """The per-person funnel table (the columns of ``FunnelInsight.to_expr``), with
    each person's key ``_h``, ``_h2`` (:func:`person_keys`) in place of ``person_id``;
    :func:`with_person_ids` puts the ids back when they are wanted.

    ``matched`` has one row per event that matches some step: ``person_id``, the
    ``order_keys`` columns (``ts`` first), ``mask`` (bit i: matches step i) and, with
    a breakdown, ``bd`` (the breakdown value on step-1 events, else NULL).
    ``capacity``: an upper bound of its rows if one is known cheaply (any guess
    gives the same answer).
    """
    n_steps = len(parents)
    t0 = time.perf_counter()
    # The events with person keys instead of person strings: no join, no strings.
    h, h2 = person_keys(matched.person_id)
    columns = ["h", "h2", "ts", "mask", *(["bd"] if with_breakdown else [])]
    keyed = matched.mutate(h=h, h2=h2).select(*columns)
    kernel = Kernel(parents, window_seconds, with_breakdown, capacity)
    codes = BreakdownCodes() if with_breakdown else None
    # DuckDB streams a result on about one core: a reader thread pulls the batches
    # while this one places them, so the placing costs no wall time of its own.
    batches: queue.Queue[pa.RecordBatch | BaseException | None] = queue.Queue(maxsize=4)

    def read() -> None:
        try:
            for batch in wh.con.to_pyarrow_batches(keyed, chunk_size=BATCH_ROWS):
                batches.put(batch)
            batches.put(None)
        except BaseException as exc:  # handed to the placing thread
            batches.put(exc)

    reader = threading.Thread(target=read, name="funnel-kernel-reader", daemon=True)
    reader.start()
    while (item := batches.get()) is not None:
        if isinstance(item, BaseException):
            raise item
        kernel.add_batch(item, codes)
    reader.join()
    # Reading, with the placing done alongside (place_s: the placing alone).
    kernel.stats.fetch_s = time.perf_counter() - t0
    person_h, person_h2 = kernel.index()

    def resolve(group_person: I64, group_ts: I64) -> Iterable[tuple[Mask, I32]]:
        groups = wh.stage(
            pa.table(
                {
                    "h": person_h[group_person],
                    "h2": person_h2[group_person],
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
        h, h2 = person_keys(near.person_id)
        rows = near.mutate(h=h, h2=h2).inner_join(groups, ["h", "h2", "ts"])
        rows = rows.order_by(["_group", *order_keys]).select(*columns[3:])
        got = wh.to_pyarrow(rows)
        mask = got.column("mask").to_numpy().astype(mask_dtype(n_steps))
        bd = codes.known(got.column("bd")) if codes is not None else np.empty(0, np.int32)
        return [(mask, bd)]

    reach = kernel.run(resolve)
    values = np.array([*(codes.values if codes else []), no_value], dtype=object)
    data: dict[str, pa.Array] = {
        "_h": pa.array(person_h[reach.person]),
        "_h2": pa.array(person_h2[reach.person]),
        "breakdown": pa.array(values[reach.breakdown], type=pa.string()),
    }
    for i in range(n_steps):
        data[f"reached_{i}"] = pa.array(reach.reached[:, i].astype(np.int64))
    for i in range(n_steps):
        hit = reach.reached[:, i] == 1
        data[f"seconds_{i}"] = pa.array(reach.millis[:, i] / 1000.0, mask=~hit)
    order = ["_h", "_h2", "breakdown", "reached_0", "seconds_0"]
    order += [f"reached_{i}" for i in range(1, n_steps)]
    order += [f"seconds_{i}" for i in range(1, n_steps)]
    return pa.table({k: data[k] for k in order}), kernel.stats


def with_person_ids(matched: ir.Table, keyed: ir.Table) -> ir.Table:
    """``keyed`` (rows with ``_h``, ``_h2``) with ``person_id`` in their place, read
    from ``matched``'s distinct persons (a query over the events, made only when
    the ids are wanted: the counts do not need them)."""
    persons = matched.select("person_id").distinct()
    h, h2 = person_keys(persons.person_id)
    persons = persons.mutate(_h=h, _h2=h2)
    joined = keyed.inner_join(persons, ["_h", "_h2"])
    return joined.select("person_id", *[c for c in keyed.columns if c not in ("_h", "_h2")])
