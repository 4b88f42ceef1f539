"""Inline SVG charts of the HTML report: the trend across runs and the hotspots.

Every text from the codebase (paths, function names) is escaped; colours come from the page's
CSS classes, so the charts follow its light and dark themes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Final

from ai_conductor.analysis.models import Hotspot

MAX_RUNS: Final = 30
"""Runs the trend shows (the latest ones)."""
MAX_HOTSPOTS: Final = 10


@dataclass(frozen=True)
class TrendPoint:
    """One stored run of the codebase: its counts as the findings memory recorded them."""

    run_id: str
    finished_at: datetime | None
    total: int
    new: int
    fixed: int


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _when(point: TrendPoint, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return point.finished_at.strftime(fmt) if point.finished_at else "?"


def trend_svg(points: Sequence[TrendPoint]) -> str:
    """New and fixed findings as bars, the total as a line, one group per run (oldest left)."""
    points = list(points)[-MAX_RUNS:]
    width, height, left, bottom, top = 640, 220, 40, 28, 12
    plot_w, plot_h = width - left - 12, height - top - bottom
    peak = max([1, *(max(p.total, p.new, p.fixed) for p in points)])
    step = plot_w / max(len(points), 1)
    bar = max(min(step * 0.3, 18), 2)

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / peak

    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="Findings per run: total, new and fixed">']  # fmt: skip
    for i in range(5):
        value = round(peak * i / 4)
        out.append(f'<line class="grid" x1="{left}" x2="{width - 12}" y1="{y(value):.1f}" '
                   f'y2="{y(value):.1f}"/><text x="{left - 6}" y="{y(value) + 4:.1f}" '
                   f'text-anchor="end">{value}</text>')  # fmt: skip
    days = [_when(p, "%Y-%m-%d") for p in points]
    fmt = "%m-%d %H:%M" if len(set(days)) < len(days) else "%m-%d"
    label_every = max(1, len(points) // (5 if "%H" in fmt else 8))
    line = []
    for i, p in enumerate(points):
        mid = left + step * (i + 0.5)
        out.append(f"<g><title>run {_e(p.run_id[:8])} · {_e(_when(p))} UTC · total {p.total}, "
                   f"new {p.new}, fixed {p.fixed}</title>")  # fmt: skip
        for cls, value, x in (("bar-new", p.new, mid - bar), ("bar-fixed", p.fixed, mid)):
            out.append(f'<rect class="{cls}" x="{x:.1f}" y="{y(value):.1f}" width="{bar:.1f}" '
                       f'height="{top + plot_h - y(value):.1f}"/>')  # fmt: skip
        out.append("</g>")
        line.append(f"{mid:.1f},{y(p.total):.1f}")
        if i % label_every == 0 or i == len(points) - 1:
            out.append(f'<text x="{mid:.1f}" y="{height - 8}" text-anchor="middle">'
                       f"{_e(_when(p, fmt))}</text>")  # fmt: skip
    if line:
        out.append(f'<polyline class="line-total" points="{" ".join(line)}"/>')
        out += [f'<circle class="dot-total" cx="{xy.split(",")[0]}" cy="{xy.split(",")[1]}" '
                'r="3"/>' for xy in line]  # fmt: skip
    return "".join(out) + "</svg>"


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else "…" + text[len(text) - size + 1 :]


def hotspots_svg(hotspots: Sequence[Hotspot]) -> str:
    """The most complex, most changed functions as horizontal bars (score: complexity x
    (1 + churn)), each labelled with its name and place."""
    spots = sorted(hotspots, key=lambda h: (-h.score, -h.complexity, h.path))[:MAX_HOTSPOTS]
    width, row, label_w = 640, 26, 330
    height = row * len(spots) + 8
    peak = max([1.0, *(h.score or h.complexity for h in spots)])
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="Hotspots: complexity times churn">']  # fmt: skip
    for i, h in enumerate(spots):
        top = 4 + i * row
        where = f"{h.path}:{h.line}"
        label = f"{h.name or '(file)'}  {_clip(where, 42 - min(len(h.name), 24))}"
        length = (width - label_w - 130) * (h.score or h.complexity) / peak
        out.append(
            f"<g><title>{_e(h.name or '(file)')} at {_e(where)} · complexity {h.complexity} "
            f"(rank {_e(h.rank)}) · changed in {h.churn} commit(s)</title>"
            f'<text class="label-hot" x="{label_w - 8}" y="{top + 16}" text-anchor="end">'
            f"{_e(_clip(label, 44))}</text>"
            f'<rect class="bar-hot" x="{label_w}" y="{top + 4}" width="{max(length, 2):.1f}" '
            f'height="{row - 10}" rx="3"/>'
            f'<text x="{label_w + max(length, 2) + 6:.1f}" y="{top + 16}">cc {h.complexity} · '
            f"churn {h.churn}</text></g>"
        )  # fmt: skip
    return "".join(out) + "</svg>"
