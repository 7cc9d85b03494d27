"""Brute-force pure-Python references for funnels and retention.

They follow the definitions in docs/behaviour.md literally (enumerate every chain,
scan every period) and are only fast enough for the tiny random sets of the
property-based tests.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from storeops.behaviour.funnel import NO_VALUE, FunnelStep


def _order(e: dict[str, Any]) -> tuple[Any, ...]:
    return (e["ts"], e["message_id"], e["source_id"], e["message_id"])


def _matches(e: dict[str, Any], step: FunnelStep) -> bool:
    if e["type"] != "track" or e["event"] != step.event:
        return False
    props = e.get("_props") or {}
    for path, value in step.where.items():
        key = path.split(".", 1)[1]
        got = props.get(key)
        if got is None:
            return False
        text = ("true" if got else "false") if isinstance(got, bool) else str(got)
        want = ("true" if value else "false") if isinstance(value, bool) else str(value)
        if text != want:
            return False
    return True


def _min_chain(evs: list[dict[str, Any]], steps: list[FunnelStep]) -> float | None:
    """Shortest ts(last) - ts(first) over all chains matching ``steps`` in order."""
    best: float | None = None

    def walk(pos: int, k: int, start: datetime | None) -> None:
        nonlocal best
        if k == len(steps):
            return
        for i in range(pos, len(evs)):
            if _matches(evs[i], steps[k]):
                s = start if start is not None else evs[i]["ts"]
                if k == len(steps) - 1:
                    d = (evs[i]["ts"] - s).total_seconds()
                    best = d if best is None else min(best, d)
                else:
                    walk(i + 1, k + 1, s)

    walk(0, 0, None)
    return best


def funnel_persons(
    events: Iterable[dict[str, Any]],
    steps: list[FunnelStep],
    window_seconds: int,
    breakdown_key: str | None = None,
) -> dict[str, dict[str, Any]]:
    """person (anonymous id) → breakdown, reached_i, seconds_i; persons with step 1 only."""
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        if e["type"] == "track" and e["event"] is not None and e["anonymous_id"] is not None:
            per[e["anonymous_id"]].append(e)
    out: dict[str, dict[str, Any]] = {}
    for person, evs in per.items():
        evs.sort(key=_order)
        row: dict[str, Any] = {}
        for i, step in enumerate(steps):
            chain = [s for s in steps[:i] if not s.optional] + [step]
            d = _min_chain(evs, chain)
            ok = d is not None and d <= window_seconds
            row[f"reached_{i}"] = int(ok)
            row[f"seconds_{i}"] = d if ok else None
        if not row["reached_0"]:
            continue
        first = next(e for e in evs if _matches(e, steps[0]))
        value = (first.get("_props") or {}).get(breakdown_key) if breakdown_key else NO_VALUE
        row["breakdown"] = NO_VALUE if value is None else str(value)
        out[person] = row
    return out


def _period_start(d: date, period: str) -> date:
    if period == "day":
        return d
    if period == "week":
        return d - timedelta(days=d.weekday())
    return d.replace(day=1)


def _index(start: date, d: date, period: str) -> int:
    if period == "day":
        return (d - start).days
    if period == "week":
        return (d - start).days // 7
    return (d.year - start.year) * 12 + d.month - start.month


def retention(
    activity: Iterable[tuple[str, date]],
    cohort_from: Iterable[tuple[str, date]],
    period: str,
    periods: int,
    bounded: bool,
) -> dict[tuple[date, int], int]:
    """(cohort start, period index) → retained people, by scanning every period.

    Periods are listed while they have started by the last activity's period.
    """
    acts: dict[str, set[date]] = defaultdict(set)
    for person, d in activity:
        acts[person].add(_period_start(d, period))
    if not acts:
        return {}
    last = max(d for ds in acts.values() for d in ds)
    firsts: dict[str, date] = {}
    for person, d in cohort_from:
        p = _period_start(d, period)
        firsts[person] = min(firsts.get(person, p), p)
    out: dict[tuple[date, int], int] = {}
    for person, cohort in firsts.items():
        idx = {_index(cohort, a, period) for a in acts.get(person, set())}
        for n in range(periods + 1):
            if _index(cohort, last, period) < n:
                break
            out.setdefault((cohort, n), 0)
            if (n in idx) if bounded else any(i >= n for i in idx):
                out[(cohort, n)] += 1
    return out
