"""Small SVG charts for reports: bars and lines, nothing else.

Reports are files that must open anywhere, offline, years later — so their charts
are plain inline SVG (no JavaScript, no fonts or images to fetch). WeasyPrint draws
the same SVG into the PDF. Text in the SVG inherits the page's font, which is how
Chinese labels get the CJK font in the PDF too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

#: Colours of the series, in order (readable on white and in greyscale print).
PALETTE = ("#2f6fb0", "#e07b39", "#3a9d5d", "#8e5ea2", "#c0392b")

Formatter = Callable[[float], str]


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def nice_step(top: float, ticks: int = 5) -> float:
    """A round grid step (1, 2 or 5 × 10ⁿ) giving at most ``ticks`` steps up to ``top``."""
    if top <= 0:
        return 1.0
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 5, 10):
        if raw <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def compact(value: float) -> str:
    """Axis labels: 1200 → 1.2k, 3500000 → 3.5M."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


class _Frame:
    """Plot area geometry and the shared axes."""

    def __init__(self, width: int, height: int, top: float, title: str, fonts: str) -> None:
        self.width, self.height = width, height
        self.left, self.right, self.top, self.bottom = 56, 12, 28, 36
        self.plot_w = width - self.left - self.right
        self.plot_h = height - self.top - self.bottom
        self.step = nice_step(top)
        self.max = max(self.step, math.ceil(top / self.step) * self.step)
        # The font is an attribute of the <svg>: PDF renderers do not pass the page's
        # CSS font into inline SVG, and the labels may be Chinese.
        self.parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'font-family="{escape(fonts)}" aria-label="{escape(title)}">',
            f'<text x="{self.left}" y="16" class="chart-title" font-size="13" '
            f'font-weight="bold">{escape(title)}</text>',
        ]

    def y(self, value: float) -> float:
        return self.top + self.plot_h * (1 - value / self.max)

    def axes(self, labels: Sequence[str], fmt: Formatter, every: int) -> None:
        for i in range(round(self.max / self.step) + 1):
            v = self.step * i
            y = self.y(v)
            self.parts.append(
                f'<line x1="{self.left}" x2="{self.width - self.right}" y1="{y:.1f}" '
                f'y2="{y:.1f}" stroke="#ddd" stroke-width="1"/>'
                f'<text x="{self.left - 6}" y="{y + 4:.1f}" font-size="10" '
                f'text-anchor="end" fill="#555">{escape(fmt(v))}</text>'
            )
        n = max(len(labels), 1)
        for i, label in enumerate(labels):
            if i % every:
                continue
            x = self.left + self.plot_w * (i + 0.5) / n
            self.parts.append(
                f'<text x="{x:.1f}" y="{self.height - self.bottom + 14}" font-size="10" '
                f'text-anchor="middle" fill="#555">{escape(label)}</text>'
            )

    def legend(self, names: Sequence[str]) -> None:
        x = self.width - self.right
        for i, name in reversed(list(enumerate(names))):
            x -= 12 + _text_width(name, 11) + 12
            self.parts.append(
                f'<rect x="{x}" y="7" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
                f'<text x="{x + 14}" y="16" font-size="11">{escape(name)}</text>'
            )

    def svg(self) -> str:
        return "".join([*self.parts, "</svg>"])


def _text_width(text: str, size: float) -> int:
    """Rough width of a label: CJK characters are square, Latin ones about half."""
    return round(sum(size if ord(c) > 0x2E80 else size * 0.6 for c in text))


def _every(count: int, room: int) -> int:
    """Label every n-th category so that at most ``room`` labels are drawn."""
    return max(1, math.ceil(count / max(room, 1)))


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    fmt: Formatter = compact,
    width: int = 640,
    height: int = 240,
    fonts: str = "sans-serif",
) -> str:
    """Grouped vertical bars, one group per label."""
    top = max((v or 0 for s in series for v in s.values), default=0)
    frame = _Frame(width, height, top, title, fonts)
    frame.axes(labels, fmt, _every(len(labels), frame.plot_w // 40))
    n = max(len(labels), 1)
    group = frame.plot_w / n
    bar = group * 0.8 / max(len(series), 1)
    for k, s in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        for i, v in enumerate(s.values):
            if not v:
                continue
            x = frame.left + group * i + group * 0.1 + bar * k
            y = frame.y(v)
            frame.parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                f'height="{frame.top + frame.plot_h - y:.1f}" fill="{colour}">'
                f"<title>{escape(labels[i])}: {escape(fmt(v))}</title></rect>"
            )
    if len(series) > 1:
        frame.legend([s.name for s in series])
    return frame.svg()


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    fmt: Formatter = compact,
    width: int = 640,
    height: int = 240,
    fonts: str = "sans-serif",
) -> str:
    """Lines over the labels (missing values break the line)."""
    top = max((v or 0 for s in series for v in s.values), default=0)
    frame = _Frame(width, height, top, title, fonts)
    frame.axes(labels, fmt, _every(len(labels), frame.plot_w // 48))
    n = max(len(labels), 1)
    for k, s in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        points: list[list[str]] = [[]]
        for i, v in enumerate(s.values):
            if v is None:
                points.append([])
                continue
            x = frame.left + frame.plot_w * (i + 0.5) / n
            points[-1].append(f"{x:.1f},{frame.y(v):.1f}")
        for run in points:
            if len(run) == 1:
                cx, cy = run[0].split(",")
                frame.parts.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{colour}"/>')
            elif run:
                frame.parts.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                    f'points="{" ".join(run)}"/>'
                )
    frame.legend([s.name for s in series])
    return frame.svg()
