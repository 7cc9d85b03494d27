"""Deterministic identity resolution by connected components (union-find).

Source records (a CRM member, a POS card holder, a mini-program account) are
linked when they share a normalized identifier (compared by blind index). The
rules, in order:

1. blocked and invalid values never link (see ``identifiers.BLOCKED_VALUES``);
2. a value shared by more records than its type's ``max_records`` is suspect
   (a shop's own phone typed in for walk-in customers) and does not link;
3. manual overrides replayed in time order: ``merge A B`` links two records;
   ``unmerge A`` undoes the manual merges that involve A if there are any (so
   merge-then-unmerge restores the previous result exactly), and otherwise
   detaches A — it keeps only its own identity until a later ``merge`` names it.

Each resulting customer is named by the smallest record key in it, so the result
does not depend on input order, and a customer made of one record keeps that
record's id (orders recorded under it need no rewrite).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from storeops.identity.identifiers import IDENTIFIER_TYPES


@dataclass(frozen=True)
class Override:
    action: str  # "merge" | "unmerge"
    record: str
    other: str | None = None


@dataclass
class Resolution:
    """Record → customer, plus what was left out and why."""

    mapping: pd.DataFrame  # source, record_id, customer_id
    suspect: pd.DataFrame  # id_type, blind_index, records
    detached: set[str] = field(default_factory=set)

    @property
    def customers(self) -> int:
        return int(self.mapping["customer_id"].nunique())

    def match_rates(self) -> dict[str, dict[str, float]]:
        """For sources A and B: share of A's customers who also appear in B."""
        per = self.mapping.groupby("customer_id")["source"].agg(set)
        sources = sorted(self.mapping["source"].unique())
        rates: dict[str, dict[str, float]] = {}
        for a in sources:
            with_a = per[per.map(lambda s, a=a: a in s)]
            rates[a] = {
                b: round(float(with_a.map(lambda s, b=b: b in s).mean()), 4)
                for b in sources
                if b != a
            }
        return rates


def _replay(overrides: Iterable[Override]) -> tuple[set[tuple[str, str]], set[str]]:
    merges: set[tuple[str, str]] = set()
    detached: set[str] = set()
    for o in overrides:
        if o.action == "merge" and o.other is not None:
            merges.add(tuple(sorted((o.record, o.other))))  # type: ignore[arg-type]
            detached.discard(o.record)
            detached.discard(o.other)
        elif o.action == "unmerge":
            involved = {m for m in merges if o.record in m}
            if involved:
                merges -= involved
            else:
                detached.add(o.record)
    return merges, detached


def resolve(links: pd.DataFrame, overrides: Iterable[Override] = ()) -> Resolution:
    """Resolve ``links`` (columns source, record_id, id_type, blind_index)."""
    links = links.dropna(subset=["record_id"])
    records = links[["record_id", "source"]].drop_duplicates("record_id")
    merges, detached = _replay(overrides)

    ids = links.dropna(subset=["blind_index"]).drop_duplicates(
        ["record_id", "id_type", "blind_index"]
    )
    ids = ids[~ids["record_id"].isin(detached)]
    counts = ids.groupby(["id_type", "blind_index"])["record_id"].transform("size")
    limits = ids["id_type"].map({k: t.max_records for k, t in IDENTIFIER_TYPES.items()})
    over = counts > limits.fillna(1)
    suspect = ids[over].groupby(["id_type", "blind_index"]).size().rename("records").reset_index()
    ids = ids[~over]

    record_keys = np.sort(records["record_id"].astype(str).unique())
    r_index = pd.Index(record_keys)
    id_codes, _ = pd.factorize(ids["id_type"] + "\x1f" + ids["blind_index"])
    n_r = len(record_keys)
    rows = np.concatenate(
        [r_index.get_indexer(ids["record_id"]), [r_index.get_indexer([a])[0] for a, _ in merges]]
    )
    cols = np.concatenate([n_r + id_codes, [r_index.get_indexer([b])[0] for _, b in merges]])
    size = n_r + (int(id_codes.max()) + 1 if len(id_codes) else 0)
    graph = coo_matrix(
        (np.ones(len(rows)), (rows.astype(int), cols.astype(int))), shape=(size, size)
    )
    _, labels = connected_components(graph, directed=False)
    record_labels = labels[:n_r]
    # Name each component after its smallest record key (record_keys is sorted).
    first = pd.Series(record_keys).groupby(record_labels).transform("first").to_numpy()
    mapping = pd.DataFrame({"record_id": record_keys, "customer_id": first}).merge(
        records.astype({"record_id": str}), on="record_id"
    )[["source", "record_id", "customer_id"]]
    return Resolution(mapping, suspect, detached)
