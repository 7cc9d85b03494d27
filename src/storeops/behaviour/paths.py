"""Paths: what people do right after (or right before) a chosen event.

For every occurrence of the anchor event, the path is the person's next ``steps``
events after it (``direction="after"``) or the ``steps`` events before it
(``"before"``), in the event order of :mod:`storeops.behaviour.events`. A path ends
early at the person's last (first) event or where two consecutive events are more
than ``max_gap_seconds`` apart (a new visit); the hop after the end is shown as
``(end)``. With ``collapse_repeats`` consecutive identical events of a person count
as one (ten product views in a row are one ``Product Viewed`` hop).

Counts are occurrences of the anchor (paths); ``people`` in the top list counts each
person once per next event. Sankey data are links ``(source, target, value)``
between nodes named ``"<level>. <event>"`` (level 0 is the anchor, positive after,
negative before); per level only the ``top`` events keep their name, the rest are
``(other)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, Literal

import ibis
import ibis.expr.types as ir
import pandas as pd
from pydantic import BaseModel, Field

from storeops.behaviour.events import CountBy, day_bounds_utc, person_events
from storeops.behaviour.validation import Rule, validate
from storeops.warehouse import Warehouse

END = "(end)"
OTHER = "(other)"


class PathsQuery(BaseModel):
    event: str = Field(min_length=1, description="The anchor event.")
    direction: Literal["after", "before"] = "after"
    steps: int = Field(default=3, ge=1, le=10)
    top: int = Field(default=8, ge=1, le=100, description="Named events per level.")
    max_gap_seconds: int | None = Field(default=1_800, ge=1)
    collapse_repeats: bool = False
    count_by: CountBy = "customer"
    include_anonymous: bool = True
    since: date | None = None
    until: date | None = None


class OrderedRange(Rule[PathsQuery]):
    code: ClassVar[str] = "paths.bad_range"

    def check(self, query: PathsQuery) -> str | None:
        if query.since and query.until and query.until <= query.since:
            return f"the range is empty: {query.since} is not before {query.until}"
        return None


RULES: tuple[Rule[PathsQuery], ...] = (OrderedRange(),)


@dataclass
class PathsResult:
    query: PathsQuery
    occurrences: int
    top: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)

    @property
    def nodes(self) -> list[str]:
        names = {link["source"] for link in self.links} | {link["target"] for link in self.links}
        return sorted(names, key=lambda n: (int(n.split(".", 1)[0]), n))

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": self.query.event,
            "direction": self.query.direction,
            "steps": self.query.steps,
            "occurrences": self.occurrences,
            "top": self.top,
            "nodes": self.nodes,
            "links": self.links,
        }


class PathsInsight:
    def __init__(self, wh: Warehouse, query: PathsQuery, *, events: ir.Table | None = None) -> None:
        validate(query, RULES)
        self.wh = wh
        self.query = query
        self.events = events

    def to_expr(self) -> ir.Table:
        """One row per anchor occurrence: ``person_id`` and ``hop_1..hop_<steps>``
        (event names, ``(end)`` after the path ends, NULL after that)."""
        q = self.query
        tz = self.wh.settings.default_timezone
        e = person_events(
            self.wh,
            count_by=q.count_by,
            include_anonymous=q.include_anonymous,
            since=day_bounds_utc(q.since, tz) if q.since else None,
            until=day_bounds_utc(q.until, tz) if q.until else None,
            events=self.events,
        )
        e = e.select("person_id", "event", "ts", "seq", "source_id", "message_id")
        order = [e.ts, e.seq, e.source_id, e.message_id]
        w = ibis.window(group_by=e.person_id, order_by=order)
        if q.collapse_repeats:
            e = e.mutate(_prev=e.event.lag().over(w))
            e = e.filter(e._prev.isnull() | (e._prev != e.event)).drop("_prev")
            w = ibis.window(group_by=e.person_id, order_by=[e.ts, e.seq, e.source_id, e.message_id])
        shift = (lambda c, i: c.lead(i)) if q.direction == "after" else (lambda c, i: c.lag(i))
        e = e.mutate(
            **{f"_e{i}": shift(e.event, i).over(w) for i in range(1, q.steps + 1)},
            **{f"_t{i}": shift(e.ts, i).over(w) for i in range(1, q.steps + 1)},
        )
        a = e.filter(e.event == q.event)
        hops: dict[str, ir.Value] = {}
        alive: ir.BooleanValue = ibis.literal(True)
        prev_t = a.ts
        for i in range(1, q.steps + 1):
            t = a[f"_t{i}"]
            ok = a[f"_e{i}"].notnull()
            if q.max_gap_seconds is not None:
                gap = ibis.interval(seconds=q.max_gap_seconds)
                ok = ok & ((t <= prev_t + gap) if q.direction == "after" else (t >= prev_t - gap))
            hops[f"hop_{i}"] = ibis.cases(
                (alive & ok, a[f"_e{i}"]), (alive, ibis.literal(END)), else_=ibis.null("string")
            )
            alive = alive & ok
            prev_t = t
        return a.select("person_id", **hops)

    def calculate(self) -> PathsResult:
        q = self.query
        p = self.to_expr()
        top_expr = p.group_by(event=p.hop_1).aggregate(
            occurrences=p.count(), people=p.person_id.nunique()
        )
        levels = []
        for i in range(1, q.steps + 1):
            src = ibis.literal(q.event) if i == 1 else p[f"hop_{i - 1}"]
            f = p.filter(p[f"hop_{i}"].notnull() & (src != END))
            src = ibis.literal(q.event) if i == 1 else f[f"hop_{i - 1}"]
            levels.append(
                f.group_by(level=ibis.literal(i), source=src, target=f[f"hop_{i}"]).aggregate(
                    value=f.count()
                )
            )
        links = self.wh.to_pandas(ibis.union(*levels))
        top = self.wh.to_pandas(top_expr)
        occurrences = int(top["occurrences"].sum()) if not top.empty else 0
        top = top.sort_values(["occurrences", "event"], ascending=[False, True])
        top_list = [
            {
                "event": str(r["event"]),
                "occurrences": int(r["occurrences"]),
                "people": int(r["people"]),
                "share": round(int(r["occurrences"]) / occurrences, 6),
            }
            for r in top.head(q.top).to_dict(orient="records")
        ]
        return PathsResult(q, occurrences, top_list, self._sankey(links))

    def _sankey(self, links: pd.DataFrame) -> list[dict[str, Any]]:
        """Name nodes by level, keep the top events per level, fold the rest."""
        q = self.query
        if links.empty:
            return []
        links = links.astype({"level": int, "value": int})
        # The events to name at each level: the most frequent targets.
        keep: dict[int, set[str]] = {0: {q.event}}
        for level, rows in links.groupby("level"):
            totals = rows.groupby("target")["value"].sum().sort_values(ascending=False)
            named = [t for t in totals.index if t != END][: q.top]
            keep[int(str(level))] = {*named, END}
        sign = 1 if q.direction == "after" else -1

        def node(level: int, event: str) -> str:
            name = event if event in keep.get(level, set()) else OTHER
            return f"{sign * level}. {name}"

        out = links.assign(
            source=[node(lv - 1, s) for lv, s in zip(links["level"], links["source"], strict=True)],
            target=[node(lv, t) for lv, t in zip(links["level"], links["target"], strict=True)],
        )
        if q.direction == "before":
            out = out.rename(columns={"source": "target", "target": "source"})
        grouped = (
            out.groupby(["level", "source", "target"])["value"]
            .sum()
            .reset_index()
            .sort_values(
                ["level", "value", "source", "target"], ascending=[True, False, True, True]
            )
        )
        return [
            {"source": r["source"], "target": r["target"], "value": int(r["value"])}
            for r in grouped.to_dict(orient="records")
        ]
