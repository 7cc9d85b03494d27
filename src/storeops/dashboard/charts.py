"""Plotly figures as plain dicts (``{"data": [...], "layout": {...}}``).

Building dicts is ~100× cheaper than ``plotly.graph_objects`` (which validates every
property) and the browser's plotly.js does the drawing anyway; :func:`to_json` turns
dates and NumPy numbers into JSON. Colours come from one palette so that the same
series looks the same on every page.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import numpy as np

PALETTE = ("#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea", "#0891b2", "#ca8a04", "#db2777")
HEAT = "YlOrRd"
FONT = "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, system-ui, sans-serif"

Figure = dict[str, Any]


def _clean(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        value = float(value)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, np.ndarray):
        return [_clean(v) for v in value.tolist()]
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return value.isoformat()
    return value


def to_json(figure: Figure) -> str:
    return json.dumps(figure, default=_clean, ensure_ascii=False, separators=(",", ":"))


def _list(values: Sequence[Any]) -> list[Any]:
    return [_clean(v) for v in values]


def layout(title: str = "", *, height: int = 320, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "height": height,
        "margin": {"l": 56, "r": 16, "t": 36 if title else 12, "b": 44},
        "font": {"family": FONT, "size": 12},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "legend": {"orientation": "h", "y": -0.2},
        "hovermode": "closest",
    }
    if title:
        base["title"] = {"text": title, "font": {"size": 14}, "x": 0}
    base.update(extra)
    return base


def lines(
    x: Sequence[Any],
    series: dict[str, Sequence[Any]],
    *,
    title: str = "",
    dashed: Sequence[str] = (),
    y_format: str = "",
) -> Figure:
    data = []
    for i, (name, ys) in enumerate(series.items()):
        line: dict[str, Any] = {"color": PALETTE[i % len(PALETTE)], "width": 2}
        if name in dashed:
            line["dash"] = "dash"
        data.append(
            {"type": "scatter", "mode": "lines", "name": name, "x": _list(x), "y": _list(ys),
             "line": line}
        )  # fmt: skip
    return {"data": data, "layout": layout(title, yaxis={"tickformat": y_format})}


def bars(
    x: Sequence[Any],
    series: dict[str, Sequence[Any]],
    *,
    title: str = "",
    stacked: bool = False,
    horizontal: bool = False,
    y_format: str = "",
    colors: Sequence[str] | None = None,
) -> Figure:
    data = []
    for i, (name, ys) in enumerate(series.items()):
        color = (colors or PALETTE)[i % len(colors or PALETTE)]
        trace: dict[str, Any] = {"type": "bar", "name": name, "marker": {"color": color}}
        if horizontal:
            trace.update(x=_list(ys), y=_list(x), orientation="h")
        else:
            trace.update(x=_list(x), y=_list(ys))
        data.append(trace)
    axis = {"tickformat": y_format}
    lay = layout(title, barmode="relative" if stacked else "group")
    lay["xaxis" if horizontal else "yaxis"] = axis
    if horizontal:
        lay["yaxis"] = {"automargin": True}
    return {"data": data, "layout": lay}


def heatmap(
    x: Sequence[Any],
    y: Sequence[Any],
    z: Sequence[Sequence[Any]],
    *,
    title: str = "",
    z_format: str = "",
    colorscale: str = HEAT,
    height: int = 360,
    x_category: bool = False,
) -> Figure:
    trace: dict[str, Any] = {
        "type": "heatmap",
        "x": _list(x),
        "y": _list(y),
        "z": [_list(row) for row in z],
        "colorscale": colorscale,
        # Plotly's sequential scales run dark to light; reversed, high is dark.
        "reversescale": True,
        "hoverongaps": False,
    }
    if z_format:
        trace["colorbar"] = {"tickformat": z_format}
    lay = layout(title, height=height, yaxis={"automargin": True, "type": "category"})
    if x_category:
        lay["xaxis"] = {"type": "category"}
    return {"data": [trace], "layout": lay}


def funnel(labels: Sequence[str], values: Sequence[Any], *, title: str = "") -> Figure:
    trace = {
        "type": "funnel",
        "y": list(labels),
        "x": _list(values),
        "textinfo": "value+percent initial",
        "marker": {"color": PALETTE[0]},
    }
    return {"data": [trace], "layout": layout(title, yaxis={"automargin": True})}
