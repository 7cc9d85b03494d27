"""The SVG charts: valid SVG, bar heights in proportion, round axes, escaped text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from storeops.reports.charts import Series, bar_chart, compact, line_chart, nice_step

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    ("top", "step"), [(250, 50), (9_800, 2_000), (1, 0.2), (0, 1), (37, 10), (1_000_000, 200_000)]
)
def test_nice_step(top: float, step: float) -> None:
    assert nice_step(top) == pytest.approx(step)


def test_bars_are_in_proportion_and_text_is_escaped() -> None:
    svg = bar_chart("销售 <b>&", ["a", "b", "c", "d"], [Series("s", [100, 0, 50, 25])],
                    fonts='"Noto Sans CJK SC", sans-serif')  # fmt: skip
    root = ET.fromstring(svg)  # well-formed XML
    assert root.get("font-family") == '"Noto Sans CJK SC", sans-serif'
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    heights = [float(r.get("height", 0)) for r in bars]
    assert len(bars) == 3  # no bar for 0
    assert heights[0] == pytest.approx(2 * heights[1], rel=0.01)
    assert heights[1] == pytest.approx(2 * heights[2], rel=0.01)
    title = next(t for t in root.iter(f"{SVG}text") if t.get("class") == "chart-title")
    assert title.text == "销售 <b>&"
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert ticks == ["0", "20", "40", "60", "80", "100"]


def test_line_breaks_at_missing_values() -> None:
    root = ET.fromstring(line_chart("x", list("abcde"), [Series("s", [1, 2, None, 4, 5])]))
    lines = list(root.iter(f"{SVG}polyline"))
    assert [len(str(p.get("points")).split()) for p in lines] == [2, 2]


def test_compact_labels() -> None:
    assert [compact(v) for v in (0, 950, 1_200, 3_500_000)] == ["0", "950", "1.2k", "3.5M"]
