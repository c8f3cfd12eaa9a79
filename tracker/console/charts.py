"""Line charts drawn as SVG on the server: no script, no styles of their own (presentation
attributes only, so the console's CSP holds), readable in print and without colour.

Series take the Okabe–Ito palette (told apart by people with any common colour-vision
deficiency) and differ in dash pattern and marker too, so a grey-scale print keeps them
apart. The page shows the same numbers in a table beside the chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

#: Okabe–Ito blue and vermillion, with a dash pattern and a marker each.
STYLES = (("#0072B2", "", "circle"), ("#D55E00", "6 4", "square"))
WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 48


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[int, float]]  # (day since publication, share 0..1)


def _x(day: int, last: int) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * (day / last if last else 0)


def _y(share: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - max(0.0, min(1.0, share)))


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>'
    return f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" fill="{colour}"/>'


def adoption_chart(title: str, series: Sequence[Series]) -> Markup:
    """Share of users (0–100 %) by day since publication, one line per series."""
    last = max((d for s in series for d, _ in s.points), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="chart" role="img" aria-labelledby="chart-title">',
        f'<title id="chart-title">{escape(title)}</title>',
    ]
    for pct in (0, 25, 50, 75, 100):
        y = _y(pct / 100)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#767676" stroke-width="{1 if pct in (0, 100) else 0.5}"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" '
            f'fill="#1a1a1a">{pct} %</text>'
        )
    for day in _ticks(last):
        x = _x(day, last)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{HEIGHT - BOTTOM}" '
            f'y2="{HEIGHT - BOTTOM + 4}" stroke="#1a1a1a"/>'
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" '
            f'font-size="12" fill="#1a1a1a">{day}</text>'
        )
    parts.append(
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 8}" text-anchor="middle" '
        'font-size="12" fill="#1a1a1a">days since publication</text>'
    )
    for (colour, dash, marker), s in zip(STYLES, series, strict=False):
        if not s.points:
            continue
        coords = " ".join(f"{_x(d, last):.1f},{_y(v):.1f}" for d, v in s.points)
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{colour}" '
            f'stroke-width="2.5"{dashed}/>'
        )
        step = max(1, len(s.points) // 12)
        for d, v in list(s.points)[::step]:
            parts.append(_marker(marker, _x(d, last), _y(v), colour))
    parts.append("</svg>")
    return Markup("".join(parts))


def legend(series: Sequence[Series]) -> list[tuple[str, str, str, str]]:
    """(label, colour, dash, marker) of each series, for the page's legend."""
    return [
        (s.label, colour, dash, marker)
        for (colour, dash, marker), s in zip(STYLES, series, strict=False)
    ]


def legend_swatch(colour: str, dash: str, marker: str) -> Markup:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" width="36" height="12" aria-hidden="true">'
        f'<line x1="0" x2="36" y1="6" y2="6" stroke="{colour}" stroke-width="2.5"{dashed}/>'
        f"{_marker(marker, 18, 6, colour)}</svg>"
    )


def _ticks(last: int) -> list[int]:
    for step in (1, 2, 5, 7, 14, 30, 60, 90, 180, 365):
        if last / step <= 8:
            return list(range(0, last + 1, step))
    return [0, last]
