"""Chart geometry for server-rendered SVG: the templates draw, this module does the arithmetic.

No chart library and no script: the CSP forbids inline scripts and the portal never loads
anything from a CDN."""
from __future__ import annotations

from dataclasses import dataclass, field

PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 12, 12, 28


@dataclass
class Series:
    """One line or bar layer: its name, CSS class and drawn shapes."""

    name: str
    css: str
    segments: list[str] = field(default_factory=list)  # polyline "x,y x,y" runs (None splits a run)
    points: list[tuple[float, float, str]] = field(default_factory=list)  # x, y, tooltip
    bars: list[tuple[float, float, float, float, str]] = field(default_factory=list)  # x, y, w, h, tooltip


@dataclass
class Chart:
    """Everything a template needs to draw one chart."""

    title: str
    width: int
    height: int
    series: list[Series]
    x_labels: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    empty: bool = False


def _nice_max(value: float) -> float:
    """Round a maximum up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(value))) / 10 if value >= 1 else 0.1
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def _frame(labels, width, height, y_max, fmt):
    inner_w = width - PAD_LEFT - PAD_RIGHT
    inner_h = height - PAD_TOP - PAD_BOTTOM
    n = max(len(labels), 1)
    slot = inner_w / n
    xs = [PAD_LEFT + slot * (i + 0.5) for i in range(n)]
    y = lambda v: PAD_TOP + inner_h * (1 - v / y_max)  # noqa: E731
    every = max(1, -(-n // 10))  # at most about ten x labels
    x_labels = [(xs[i], labels[i]) for i in range(0, len(labels), every)]
    y_ticks = [(y(y_max * k / 4), fmt(y_max * k / 4)) for k in range(5)]
    return xs, y, slot, x_labels, y_ticks


def line_chart(title, labels, lines, width=720, height=220, percent=False, fmt=None):
    """Return a line Chart; lines is [(name, css, values)] with None for undefined points."""
    values = [v for _, _, vals in lines for v in vals if v is not None]
    if percent:
        y_max, fmt = 1.0, fmt or (lambda v: f"{v * 100:.0f}%")
    else:
        y_max, fmt = _nice_max(max(values, default=0)), fmt or (lambda v: f"{v:.3g}")
    xs, y, _slot, x_labels, y_ticks = _frame(labels, width, height, y_max, fmt)
    out = []
    for name, css, vals in lines:
        series, run = Series(name, css), []
        for x, label, v in zip(xs, labels, vals):
            if v is None:
                if run:
                    series.segments.append(" ".join(run))
                run = []
                continue
            run.append(f"{x:.1f},{y(v):.1f}")
            series.points.append((round(x, 1), round(y(v), 1), f"{label}: {fmt(v)}"))
        if run:
            series.segments.append(" ".join(run))
        out.append(series)
    return Chart(title, width, height, out, x_labels, y_ticks, empty=not values)


def stacked_bars(title, labels, layers, width=720, height=220):
    """Return a stacked bar Chart; layers is [(name, css, counts)], bottom layer first."""
    totals = [sum(vals[i] for _, _, vals in layers) for i in range(len(labels))]
    y_max = _nice_max(max(totals, default=0))
    xs, y, slot, x_labels, y_ticks = _frame(labels, width, height, y_max, lambda v: f"{v:g}")
    bar_w = max(slot * 0.7, 1)
    base = [0] * len(labels)
    out = []
    for name, css, vals in layers:
        series = Series(name, css)
        for i, (x, label, v) in enumerate(zip(xs, labels, vals)):
            if v:
                top, bottom = y(base[i] + v), y(base[i])
                series.bars.append((round(x - bar_w / 2, 1), round(top, 1), round(bar_w, 1),
                                    round(bottom - top, 1), f"{label} · {name}: {v}"))
            base[i] += v
        out.append(series)
    return Chart(title, width, height, out, x_labels, y_ticks, empty=not any(totals))
