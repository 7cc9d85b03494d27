"""The native funnel kernel gives exactly the rows of the SQL path (and of the
brute-force reference) on random event sets: same-time events, chains past the
window, repeated steps, filters, optional steps, ranges, breakdowns, customers."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from tests.behaviour.builders import T0, add_events, ev, events_table
from tests.behaviour.test_funnel import SUPPRESS, check_against_reference, funnel_cases

from storeops.analytics.purchases import CUSTOMER_MAP_MART
from storeops.behaviour import funnel as funnel_module
from storeops.behaviour import funnel_kernel
from storeops.behaviour.events import BehaviourError
from storeops.behaviour.funnel import FunnelInsight, FunnelQuery, FunnelStep, parse_steps
from storeops.warehouse import Warehouse

NAMES = ("A", "B", "C", "D")


def random_events(rng: random.Random, people: int, per_person: int) -> list[dict[str, Any]]:
    """Events over ~3 local days around T0 on a coarse clock (many same-instant
    events), some with sub-millisecond times, some not ``track``, some identified."""
    rows = []
    for p in range(people):
        user = f"u{rng.randrange(people // 3 + 1)}" if rng.random() < 0.3 else None
        for _ in range(rng.randrange(per_person + 1)):
            at = rng.randrange(-3 * 24, 3 * 24) * 1800 + rng.choice([0, 0, 0, 0.0004, 0.0019])
            props: dict[str, Any] = {}
            if k := rng.choice([None, "x", "y"]):
                props["k"] = k
            if store := rng.choice([None, "S1", "S2", "S3"]):
                props["store_id"] = store
            # Message ids of different lengths and alphabets: the order is DuckDB's.
            msg = rng.choice(["", "m", "M", "0", "z"]) + str(rng.randrange(10**6))
            rows.append(
                ev(
                    rng.choice((*NAMES, "Z")),
                    anon=f"p{p}" if rng.random() < 0.95 else None,
                    user=user if rng.random() < 0.5 else None,
                    at=at,
                    props=props,
                    msg=msg,
                    type="track" if rng.random() < 0.95 else "page",
                    source=rng.choice(["app", "web"]),
                )
            )
    return rows


def random_query(rng: random.Random) -> FunnelQuery:
    steps = []
    for i in range(rng.randint(2, 6)):
        steps.append(
            FunnelStep(
                event=rng.choice(NAMES),
                where=rng.choice([{}, {}, {}, {"properties.k": "x"}]),
                optional=i > 0 and rng.random() < 0.2,
            )
        )
    if all(s.optional for s in steps[1:]):
        steps[-1] = steps[-1].model_copy(update={"optional": False})
    day = (T0 + timedelta(hours=8)).date()
    since = rng.choice([None, day - timedelta(days=1), day])
    until = rng.choice([None, day + timedelta(days=2)])
    return FunnelQuery(
        steps=steps,
        window_seconds=rng.choice([1, 1800, 3 * 3600, 86_400, 7 * 86_400]),
        count_by=rng.choice(["anonymous_id", "customer"]),
        include_anonymous=rng.random() < 0.8,
        breakdown=rng.choice([None, None, "store", "source"]),
        since=since,
        until=until,
        sequence_column=rng.choice(["message_id", "message_id", "source_id"]),
    )


def persons(wh: Warehouse, insight: FunnelInsight, engine: str) -> pd.DataFrame:
    insight.engine = engine  # type: ignore[assignment]
    frame = wh.to_pandas(insight.to_expr())
    return frame.sort_values("person_id").reset_index(drop=True)


@pytest.mark.parametrize("seed", range(12))
def test_kernel_equals_sql_on_random_event_sets(
    duck: Warehouse, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    if seed % 2:
        # Many small batches and many partitions of the person hash space (a large
        # funnel's layout, where each batch is spread over every partition).
        monkeypatch.setattr(funnel_kernel, "BATCH_ROWS", rng.choice([1, 7, 100]))
        monkeypatch.setattr(funnel_kernel, "PARTITION_ROWS", rng.choice([1, 5, 50]))
    staged = duck.stage(events_table(random_events(rng, people=60, per_person=40)))
    duck.write_mart(
        CUSTOMER_MAP_MART,
        pa.table(
            {
                "source": ["app"] * 4,
                "record_id": ["u0", "u1", "u2", "u3"],
                "customer_id": ["C1", "C1", "C2", "C2"],  # merged records count once
            }
        ),
    )
    for _ in range(6):
        query = random_query(rng)
        insight = FunnelInsight(duck, query, events=staged)
        sql = persons(duck, insight, "sql")
        kernel = persons(duck, insight, "kernel")
        assert insight.kernel_stats is not None and insight.kernel_stats.events > 0
        context = json.dumps(query.model_dump(mode="json"))
        pd.testing.assert_frame_equal(kernel, sql, check_dtype=False, obj=context)
        # The whole result (counts, medians, time-to-convert buckets) too.
        insight.engine = "sql"
        want = insight.calculate().to_dict()
        insight.engine = "kernel"
        assert insight.calculate().to_dict() == want, context


def test_same_instant_ties_follow_the_event_order(duck: Warehouse) -> None:
    """Hundreds of same-instant steps per person: only the message-id order decides."""
    rng = random.Random(7)
    rows = []
    for p in range(40):
        for j in range(30):
            rows.append(
                ev(
                    rng.choice(["A", "B", "C"]),
                    anon=f"p{p}",
                    at=rng.choice([0, 0, 0, 60]),
                    msg=f"{rng.randrange(10**9):09d}{j}",
                    props={"store_id": rng.choice(["S1", "S2"])},
                )
            )
    staged = duck.stage(events_table(rows))
    query = FunnelQuery(
        steps=parse_steps("A,B,C,A"), window_seconds=30, count_by="anonymous_id", breakdown="store"
    )
    insight = FunnelInsight(duck, query, events=staged)
    kernel = persons(duck, insight, "kernel")
    assert insight.kernel_stats is not None and insight.kernel_stats.tie_groups > 0
    pd.testing.assert_frame_equal(kernel, persons(duck, insight, "sql"), check_dtype=False)


def test_times_are_whole_milliseconds_as_in_duckdb(duck: Warehouse) -> None:
    add_events(
        duck,
        [
            ev("A", anon="a", at=0.0009),
            ev("B", anon="a", at=0.0011),  # 0.2 ms later, across a millisecond: 1 ms
            ev("A", anon="b", at=0.0001),
            ev("B", anon="b", at=2.0009),  # 2000.8 ms later, within one: 2000 ms
        ],
    )
    query = FunnelQuery(steps=parse_steps("A,B"), count_by="anonymous_id")
    insight = FunnelInsight(duck, query)
    kernel = persons(duck, insight, "kernel").set_index("person_id")
    assert kernel["seconds_1"].to_dict() == {"a": 0.001, "b": 2.0}
    sql = persons(duck, insight, "sql").set_index("person_id")
    assert sql["seconds_1"].to_dict() == kernel["seconds_1"].to_dict()


@pytest.mark.parametrize("breakdown", [None, "store"])
def test_many_steps_and_centuries_apart(duck: Warehouse, breakdown: str | None) -> None:
    """Ten steps (a 16-bit step mask), events before 1970 (times round down to the
    millisecond), and one person's events 1,200 years apart (too far for the packed
    sort keys, so the general sort runs)."""
    rng = random.Random(3)
    names = [chr(ord("A") + i) for i in range(10)]
    rows = []
    for p in range(30):
        for _ in range(60):
            at = rng.randrange(0, 40) * 0.0007 - 60 * 365 * 86_400  # ~1966
            rows.append(ev(rng.choice(names), anon=f"p{p}", at=at, props={"store_id": "S1"}))
    for year_seconds in (-1_000 * 365 * 86_400, 200 * 365 * 86_400):
        rows.append(ev("A", anon="p0", at=year_seconds, props={"store_id": "S2"}))
    staged = duck.stage(events_table(rows))
    steps = [FunnelStep(event=n, optional=(i == 4)) for i, n in enumerate(names)]
    query = FunnelQuery(steps=steps, window_seconds=1, count_by="anonymous_id", breakdown=breakdown)
    insight = FunnelInsight(duck, query, events=staged)
    kernel = persons(duck, insight, "kernel")
    pd.testing.assert_frame_equal(kernel, persons(duck, insight, "sql"), check_dtype=False)
    assert kernel["reached_3"].sum() > 0  # the chains do get somewhere


def test_range_leaves_earlier_events_out(duck: Warehouse) -> None:
    day = (T0 + timedelta(hours=8)).date()  # T0's local day
    add_events(
        duck,
        [
            ev("A", anon="a", at=-86_400),  # the day before: outside the range
            ev("B", anon="a", at=10),
            ev("A", anon="b", at=0),
            ev("B", anon="b", at=10),
        ],
    )
    for engine in ("sql", "kernel"):
        query = FunnelQuery(steps=parse_steps("A,B"), count_by="anonymous_id", since=day)
        insight = FunnelInsight(duck, query, engine=engine)  # type: ignore[arg-type]
        assert [s.count for s in insight.calculate().steps] == [1, 1]
        assert duck.to_pandas(insight.to_expr())["person_id"].tolist() == ["b"]


def test_no_matching_events(duck: Warehouse) -> None:
    add_events(duck, [ev("Z", anon="a", at=0)])
    insight = FunnelInsight(duck, FunnelQuery(steps=parse_steps("A,B")), engine="kernel")
    result = insight.calculate()
    assert [s.count for s in result.steps] == [0, 0]
    assert duck.to_pandas(insight.to_expr()).empty


@settings(max_examples=150, deadline=None, suppress_health_check=SUPPRESS)
@given(case=funnel_cases(max_people=12))
def test_kernel_equals_reference(duck: Warehouse, case: Any) -> None:
    rows, query = case
    check_against_reference(duck, rows, query, engine="kernel")


def test_auto_uses_the_kernel_from_the_threshold(
    duck: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_events(duck, [ev("A", anon="a", at=0), ev("B", anon="a", at=1)])
    query = FunnelQuery(steps=parse_steps("A,B"), count_by="anonymous_id")
    small = FunnelInsight(duck, query)
    assert [s.count for s in small.calculate().steps] == [1, 1]
    assert small.kernel_stats is None  # 2 events: the SQL path
    monkeypatch.setattr(funnel_module, "KERNEL_MIN_EVENTS", 2)
    large = FunnelInsight(duck, query)
    assert [s.count for s in large.calculate().steps] == [1, 1]
    assert large.kernel_stats is not None and large.kernel_stats.events == 2


def test_kernel_refuses_other_backends(duck: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(duck, "name", "spark")
    insight = FunnelInsight(duck, FunnelQuery(steps=parse_steps("A,B")), engine="kernel")
    with pytest.raises(BehaviourError) as err:
        insight.calculate()
    assert err.value.code == "funnel.kernel_backend"
    assert FunnelInsight(duck, FunnelQuery(steps=parse_steps("A,B")))._use_kernel() is False


def test_partitions_follow_the_upper_bound() -> None:
    rows = funnel_kernel.PARTITION_ROWS
    assert funnel_kernel.partition_bits(0) == 2  # 4 partitions at least
    assert funnel_kernel.partition_bits(64 * rows) == 6
    assert funnel_kernel.partition_bits(64 * rows + 1) == 7
    assert funnel_kernel.partition_bits(10**12) == 10  # 1024 at most


def test_a_person_with_very_many_events_overflows_a_partition(
    duck: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One person with most of the events: the partition holding them outgrows
    its room, the rows move to a larger layout — also when the arena still holds
    a previous, larger run's arrays — and the answer stays the SQL path's."""
    rng = random.Random(3)
    monkeypatch.setattr(funnel_kernel, "PARTITION_ROWS", 1)  # 1024 partitions
    query = FunnelQuery(steps=parse_steps("A,B,C"), count_by="anonymous_id", window_seconds=600)
    big = duck.stage(events_table(random_events(rng, people=200, per_person=60)))
    FunnelInsight(duck, query, events=big, engine="kernel").calculate()  # a large run first
    rows = [ev(rng.choice(NAMES), anon="bot", at=i * 7, msg=f"b{i:05d}") for i in range(3000)]
    rows += [ev(rng.choice(NAMES), anon=f"p{i % 40}", at=i * 60, msg=f"p{i}") for i in range(200)]
    staged = duck.stage(events_table(rows))
    grown: list[int] = []
    real_grow = funnel_kernel.Kernel._grow

    def grow(self: funnel_kernel.Kernel, need: int) -> None:
        grown.append(need)
        real_grow(self, need)

    monkeypatch.setattr(funnel_kernel.Kernel, "_grow", grow)
    insight = FunnelInsight(duck, query, events=staged)
    sql = persons(duck, insight, "sql")
    kernel = persons(duck, insight, "kernel")
    assert grown  # the layout did grow
    assert insight.kernel_stats is not None and insight.kernel_stats.persons == 41
    pd.testing.assert_frame_equal(kernel, sql, check_dtype=False)


def test_the_kernel_sizes_its_memory_by_the_range_and_the_step_names(duck: Warehouse) -> None:
    """The kernel's room is the range's events named as a step: an upper bound of
    what it reads, far below the table for a short range or rare steps."""
    day = (T0 + timedelta(hours=8)).date()  # T0's local day
    rows = [ev("A", anon=f"p{i}", at=i * 60) for i in range(30)]  # that day
    rows += [ev("B", anon=f"p{i}", at=i * 60 + 5) for i in range(10)]
    rows += [ev("Z", anon=f"p{i}", at=i * 60 + 9) for i in range(50)]  # no step
    rows += [ev("A", anon=f"p{i}", at=-86_400 * 3) for i in range(40)]  # days before
    add_events(duck, rows)
    query = FunnelQuery(steps=parse_steps("A,B"), count_by="anonymous_id", since=day)
    insight = FunnelInsight(duck, query, engine="kernel")
    assert insight._kernel_capacity() == 40  # of 130 events in the table
    assert [s.count for s in insight.calculate().steps] == [30, 10]
    assert insight.kernel_stats is not None and insight.kernel_stats.events == 40
    everything = FunnelInsight(duck, FunnelQuery(steps=parse_steps("A,B")), engine="kernel")
    assert everything._kernel_capacity() == 80


def test_a_failed_read_is_raised_to_the_caller(
    duck: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The events are read in a thread of their own; an error there reaches the
    caller instead of leaving it waiting."""
    add_events(duck, [ev("A", anon="a", at=0), ev("B", anon="a", at=1)])
    real = duck.con.to_pyarrow_batches

    def failing(*args: Any, **kwargs: Any) -> Any:
        yield from real(*args, **kwargs)
        raise RuntimeError("disk went away")

    monkeypatch.setattr(duck.con, "to_pyarrow_batches", failing)
    insight = FunnelInsight(duck, FunnelQuery(steps=parse_steps("A,B")), engine="kernel")
    with pytest.raises(RuntimeError, match="disk went away"):
        insight.calculate()


def test_persons_whose_first_hash_collides_stay_apart(
    duck: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel tells persons apart by a 128-bit key (two 64-bit hashes): persons
    whose first hash collides are still two persons, in the counts and the ids."""
    rows = [ev("A", anon="aa", at=0), ev("B", anon="aa", at=5), ev("A", anon="bb", at=1)]
    rows += [ev("A", anon="ccc", at=2), ev("B", anon="ccc", at=3), ev("B", anon="dd", at=4)]
    staged = duck.stage(events_table(rows))
    query = FunnelQuery(steps=parse_steps("A,B"), count_by="anonymous_id")
    sql = persons(duck, FunnelInsight(duck, query, events=staged), "sql")
    real = funnel_kernel.person_keys

    def first_hash_is_the_length(person: Any) -> Any:
        return person.length().cast("uint64"), real(person)[1]

    monkeypatch.setattr(funnel_kernel, "person_keys", first_hash_is_the_length)
    insight = FunnelInsight(duck, query, events=staged, engine="kernel")
    kernel = persons(duck, insight, "kernel")
    assert insight.kernel_stats is not None and insight.kernel_stats.persons == 4
    pd.testing.assert_frame_equal(kernel, sql, check_dtype=False)
    assert kernel["person_id"].tolist() == ["aa", "bb", "ccc"]
    assert kernel["reached_1"].tolist() == [1, 0, 1]
    assert [s.count for s in insight.calculate().steps] == [3, 2]


def test_results_then_dropoff_run_the_kernel_once(
    duck: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storeops.behaviour import funnel_kernel

    add_events(duck, [ev("A", anon="a", at=0), ev("B", anon="a", at=1), ev("A", anon="b", at=2)])
    runs: list[int] = []
    real = funnel_kernel.kernel_persons

    def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(funnel_kernel, "kernel_persons", counted)
    query = FunnelQuery(steps=parse_steps("A,B"), count_by="anonymous_id")
    insight = FunnelInsight(duck, query, engine="kernel")
    assert [s.count for s in insight.calculate().steps] == [2, 1]
    assert duck.to_pandas(insight.dropoff_expr(0))["person_id"].tolist() == ["b"]
    assert len(runs) == 1
