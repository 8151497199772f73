"""The Kaplan–Meier chart of a BAD report: per model, the share of conversations still unfooled after k bot
turns as a step line, with its pointwise 95% Greenwood band as a shaded step-shaped area.

Built here rather than with `analysis.report.charts.step_curves`, which draws no bands. Same look (font,
frame, legend, grid) so the page stays one piece. Bot turns are whole numbers: the x ticks are integers
only (a tick at 1.5 turns would mean nothing). Where the band is undefined (before the first NOT OK, and
once nobody is left unfooled) no band is drawn. All text from the input is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import numpy as np

from analysis.report.charts import FONT

#: at most about this many x tick labels; the step between them is a whole number of turns
MAX_TICKS = 12
#: characters of a model name shown in the legend (the full name is in a tooltip)
LEGEND_CHARS = 28


def integer_ticks(x_max: int) -> list[int]:
    """Whole-number ticks from 0 to `x_max` (at least 1), at most about `MAX_TICKS` of them, step 1, 2, 5, 10, ..."""
    x_max = max(int(x_max), 1)
    step = 1
    for base in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        step = base
        if x_max / base <= MAX_TICKS:
            break
    else:
        step = int(10 ** math.ceil(math.log10(x_max / MAX_TICKS)))
    return list(range(0, x_max + 1, step))


def _short(name: str) -> str:
    if len(name) <= LEGEND_CHARS:
        return escape(name)
    return f"<title>{escape(name)}</title>{escape(name[:LEGEND_CHARS - 1])}…"


def survival_chart(series: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]],
                   x_label: str, y_label: str) -> str:
    """Per series (name, bot turns k = 1..K, Ŝ(k), band low, band high, colour): a step line from (0, 1) and
    a shaded band over each turn interval [k, k+1) where it is defined."""
    width, height, left, bottom, top, right = 640, 300, 56, 44, 34, 20
    pw, ph = width - left - right, height - top - bottom
    x_max = max((int(np.max(xs)) for _n, xs, *_rest in series if len(xs)), default=1)
    x_max = max(x_max, 1)

    def sx(v: float) -> float:
        return left + v / x_max * pw

    def sy(v: float) -> float:
        return top + (1 - min(max(v, 0.0), 1.0)) * ph

    out = [f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' viewBox='0 0 {width} {height}' width='{width}' "
           f"height='{height}' {FONT} role='img' aria-label='{escape(y_label)}'>"]
    x = left
    for name, _xs, _ys, _lo, _hi, color in series:  # legend
        out.append(f"<line x1='{x}' y1='14' x2='{x + 14}' y2='14' stroke='{color}' stroke-width='2.5'/>"
                   f"<text x='{x + 18}' y='18' font-size='12'>{_short(name)}</text>")
        x += 30 + 7 * min(len(name), LEGEND_CHARS)
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        out.append(f"<line x1='{left}' y1='{sy(t)}' x2='{left + pw}' y2='{sy(t)}' stroke='{'#bbb' if t == 0.5 else '#eee'}'/>")
        out.append(f"<text x='{left - 6}' y='{sy(t) + 4}' font-size='11' text-anchor='end' fill='#555'>{t:.0%}</text>")
    for tick in integer_ticks(x_max):
        out.append(f"<line x1='{sx(tick):.1f}' y1='{top + ph}' x2='{sx(tick):.1f}' y2='{top + ph + 4}' stroke='#999'/>")
        out.append(f"<text x='{sx(tick):.1f}' y='{top + ph + 15}' font-size='11' text-anchor='middle' fill='#555'>{tick}</text>")
    for name, xs, _ys, lo, hi, color in series:  # bands first, under every line
        for k, a, b in zip(xs, lo, hi):
            if not (math.isfinite(a) and math.isfinite(b)):
                continue
            x0, x1 = sx(float(k)), sx(min(float(k) + 1, x_max))
            if x1 <= x0:  # the last turn: show the band as a thin sliver at the end
                x0 = x1 - 3
            out.append(f"<rect x='{x0:.1f}' y='{sy(b):.1f}' width='{x1 - x0:.1f}' height='{max(sy(a) - sy(b), 0.5):.1f}' "
                       f"fill='{color}' fill-opacity='0.15'><title>{escape(f'{name}, bot turn {int(k)}: 95% band [{a:.1%}, {b:.1%}]')}</title></rect>")
    for name, xs, ys, _lo, _hi, color in series:
        px, py = 0.0, 1.0
        d = [f"M{sx(px):.1f},{sy(py):.1f}"]
        for xv, yv in zip(xs, ys):
            d.append(f"H{sx(float(xv)):.1f}V{sy(float(yv)):.1f}")
            px, py = float(xv), float(yv)
        tip = f"{name}: {py:.1%} still unfooled after {int(px)} bot turns"
        out.append(f"<path d='{''.join(d)}' fill='none' stroke='{color}' stroke-width='2.5'><title>{escape(tip)}</title></path>")
    out.append(f"<line x1='{left}' y1='{top + ph}' x2='{left + pw}' y2='{top + ph}' stroke='#999'/>")
    out.append(f"<text x='{left + pw / 2}' y='{height - 8}' font-size='12' text-anchor='middle'>{escape(x_label)}</text>")
    out.append(f"<text x='14' y='{top + ph / 2}' font-size='12' text-anchor='middle' "
               f"transform='rotate(-90 14 {top + ph / 2})'>{escape(y_label)}</text>")
    out.append("</svg>")
    return "".join(out)
