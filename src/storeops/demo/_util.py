"""Vectorized helpers shared by the generators: ids, clocks, random streams."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
EPOCH = date(1970, 1, 1)


def rng_for(seed: int, *stream: int) -> np.random.Generator:
    """An independent, reproducible random stream per (seed, generator, chunk).

    Separate streams mean that changing one generator (or the number of events)
    never shifts the random numbers another generator sees.
    """
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *stream])))


def fmt_ids(prefix: str, numbers: np.ndarray, width: int, base: int = 10) -> pa.Array:
    """``prefix`` + zero-padded ``numbers`` in ``base`` (10 or 16), without a Python loop."""
    n = np.asarray(numbers, dtype=np.uint64)
    powers = np.array([base**k for k in range(width - 1, -1, -1)], dtype=np.uint64)
    digits = (n[:, None] // powers[None, :]) % np.uint64(base)
    chars = _DIGITS[digits.astype(np.intp)]
    if prefix:
        head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
        chars = np.hstack([np.broadcast_to(head, (len(n), len(head))), chars])
    flat = np.ascontiguousarray(chars).view(f"S{chars.shape[1]}").ravel()
    return pa.array(flat, type=pa.binary()).cast(pa.string())


def day_number(d: date) -> int:
    return (d - EPOCH).days


def utc_offsets(timezone: str, start: date, days: int) -> np.ndarray:
    """Seconds to subtract from local wall-clock time to get UTC, per local day.

    Evaluated at local noon of each day: exact for DST-free zones such as
    Asia/Shanghai, and off by the DST shift only inside the changeover night.
    """
    tz = ZoneInfo(timezone)
    out = np.empty(days, dtype=np.int64)
    for i in range(days):
        local_noon = datetime.combine(start + timedelta(days=i), time(12), tz)
        offset = local_noon.utcoffset()
        out[i] = int(offset.total_seconds()) if offset is not None else 0
    return out


def local_seconds_to_ts(seconds: np.ndarray) -> pa.Array:
    """Wall-clock seconds since 1970 → Arrow naive timestamp (seconds)."""
    return pa.array(np.asarray(seconds, dtype="int64").astype("datetime64[s]"))


def utc_ts(seconds: np.ndarray) -> pa.Array:
    """UTC seconds since 1970 → Arrow timestamp tagged UTC (unambiguous in Parquet)."""
    return pa.array(np.asarray(seconds, dtype="int64").astype("datetime64[s]")).cast(
        pa.timestamp("s", tz="UTC")
    )


def categorical(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """Draw ``size`` indices with probabilities ``weights`` (normalised here)."""
    w = np.asarray(weights, dtype=float)
    cdf = np.cumsum(w / w.sum())
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(size), side="right")


def split_int(total: np.ndarray, weights: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Split integer ``total[group]`` over rows in proportion to ``weights``, exactly.

    Floors each share and gives the rounding remainder to the last row of the group,
    so the parts always add up to the total (money stays exact in fen).
    """
    wsum = np.bincount(group, weights=weights)
    share = np.where(wsum[group] > 0, weights / np.where(wsum[group] > 0, wsum[group], 1), 0.0)
    part = np.floor(total[group] * share).astype(np.int64)
    rest = total - np.bincount(group, weights=part, minlength=len(total)).astype(np.int64)
    last = np.r_[group[1:] != group[:-1], True]
    part[last] += rest[group[last]]
    return part
