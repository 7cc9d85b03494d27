"""Identity resolution rules, checked against a brute-force reference and by properties."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from storeops.identity.identifiers import IDENTIFIER_TYPES
from storeops.identity.resolve import Override, resolve

KINDS = ("phone", "member_card", "email")


def frame(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["source", "record_id", "id_type", "blind_index"])


def reference(rows: list[tuple[str, str, str, str]]) -> dict[str, str]:
    """Naive union-find: link records sharing a (type, value) used by <= max_records records."""
    parent = {r: r for _, r, _, _ in rows}

    def find(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    by_value: dict[tuple[str, str], set[str]] = {}
    for _, rec, kind, value in rows:
        by_value.setdefault((kind, value), set()).add(rec)
    for (kind, _), recs in by_value.items():
        if len(recs) > IDENTIFIER_TYPES[kind].max_records:
            continue
        first, *rest = sorted(recs)
        for other in rest:
            a, b = find(first), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[str, list[str]] = {}
    for r in parent:
        groups.setdefault(find(r), []).append(r)
    return {r: min(members) for members in groups.values() for r in members}


link_rows = st.lists(
    st.tuples(
        st.sampled_from(["crm", "pos", "app"]),
        st.integers(0, 30).map(lambda i: f"R{i:02d}"),
        st.sampled_from(KINDS),
        st.integers(0, 12).map(lambda i: f"v{i}"),
    ),
    min_size=1,
    max_size=80,
)


def as_dict(result_mapping: pd.DataFrame) -> dict[str, str]:
    return dict(zip(result_mapping["record_id"], result_mapping["customer_id"], strict=True))


@settings(max_examples=300, deadline=None)
@given(link_rows)
def test_matches_reference_union_find(rows: list[tuple[str, str, str, str]]) -> None:
    # One source per record, as the service stores them.
    source_of = {}
    rows = [(source_of.setdefault(r, s), r, k, v) for s, r, k, v in rows]
    assert as_dict(resolve(frame(rows)).mapping) == reference(rows)


@settings(max_examples=200, deadline=None)
@given(link_rows, st.randoms(use_true_random=False))
def test_input_order_does_not_matter(rows: list[tuple[str, str, str, str]], rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    assert as_dict(resolve(frame(rows)).mapping) == as_dict(resolve(frame(shuffled)).mapping)


@settings(max_examples=200, deadline=None)
@given(link_rows, st.data())
def test_merge_then_unmerge_round_trips(rows: list[tuple[str, str, str, str]], data) -> None:  # type: ignore[no-untyped-def]
    records = sorted({r for _, r, _, _ in rows})
    a = data.draw(st.sampled_from(records))
    b = data.draw(st.sampled_from(records))
    before = as_dict(resolve(frame(rows)).mapping)
    merged = as_dict(resolve(frame(rows), [Override("merge", a, b)]).mapping)
    assert merged[a] == merged[b]
    # Merging only ever joins customers: whoever was together stays together.
    assert all(merged[x] == merged[y] for x in before for y in before if before[x] == before[y])
    undone = resolve(frame(rows), [Override("merge", a, b), Override("unmerge", a)])
    assert as_dict(undone.mapping) == before


def test_one_value_cannot_swallow_many_customers() -> None:
    limit = IDENTIFIER_TYPES["phone"].max_records
    rows = [("pos", f"R{i}", "phone", "shop-phone") for i in range(limit + 1)]
    rows += [("crm", "R0", "email", "e1"), ("app", "R1", "email", "e1")]
    result = resolve(frame(rows))
    mapping = as_dict(result.mapping)
    assert mapping["R0"] == mapping["R1"] == "R0"  # linked by their e-mail
    assert len(set(mapping.values())) == limit  # R0+R1 together, the rest alone
    assert result.suspect.to_dict("records") == [
        {"id_type": "phone", "blind_index": "shop-phone", "records": limit + 1}
    ]


def test_unmerge_without_a_manual_merge_splits_the_record_out() -> None:
    rows = [
        ("crm", "A", "phone", "p"),
        ("pos", "B", "phone", "p"),
        ("pos", "B", "email", "e"),
        ("app", "C", "email", "e"),
    ]
    assert set(as_dict(resolve(frame(rows)).mapping).values()) == {"A"}
    split = as_dict(resolve(frame(rows), [Override("unmerge", "B")]).mapping)
    assert split == {"A": "A", "B": "B", "C": "C"}
    back = as_dict(
        resolve(frame(rows), [Override("unmerge", "B"), Override("merge", "B", "C")]).mapping
    )
    assert back == {"A": "A", "B": "A", "C": "A"}


def test_match_rates_between_sources() -> None:
    rows = [
        ("crm", "A", "phone", "p1"),
        ("pos", "B", "phone", "p1"),
        ("crm", "C", "phone", "p2"),
        ("pos", "D", "phone", "p3"),
        ("pos", "E", "phone", "p4"),
    ]
    rates = resolve(frame(rows)).match_rates()
    assert rates == {"crm": {"pos": 0.5}, "pos": {"crm": round(1 / 3, 4)}}
