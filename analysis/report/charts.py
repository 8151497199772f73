"""Hand-built inline SVG charts for the HTML report (no scripts, no external files).

Hand-built rather than matplotlib so the page stays small, crisp at any zoom, and every label is
real text (searchable, copyable). All text from the input is escaped here. SVG text never wraps, and
each chart leaves `LABEL_WIDTH` pixels for a name, so longer names are cut with "…" and keep their
full text in a tooltip (`_label`) rather than run off the chart or over the next label.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from analysis.report.escaping import escape

import numpy as np

FONT = "font-family='system-ui, sans-serif'"
#: one chart made here, as it stands in a page: every chart is an <svg> of class 'chart' with no <svg> inside
#: it, and all its text is escaped, so the first "</svg>" after the start is its end
CHART_SVG = re.compile(r"<svg\b[^>]*\bclass='chart'[^>]*>.*?</svg>", re.S)
#: pixels a model or row name may take (about 28 characters at font size 12)
LABEL_WIDTH = 196


def _char_width(c: str) -> float:
    """A rough advance of one character at font size 12: capitals, m and w and the maths signs are the wide ones
    (a name such as "<b>m1</b>" is wider than its letter count suggests)."""
    return 10.5 if c.isupper() or c in "mw" else 10.0 if c in "<>=+~^%#@&" else 7.0


#: pixels between one legend entry's text and the next entry's mark
_LEGEND_GAP = 16
#: height of one legend line
_LEGEND_LINE = 18


def _legend(entries: Sequence[tuple[str, str]], left: float, right: float, mark: str = "dot") -> tuple[str, int]:
    """Legend entries (name, colour) left to right from `left`, a new line before an entry would pass `right`, so
    many models or long names never run over each other; `mark` "dot", "square" or "line". The SVG and the number
    of lines."""
    out, x, line = [], float(left), 0
    for name, color in entries:
        step = 20 + round(_label_width(name)) + _LEGEND_GAP
        if x > left and x + step - _LEGEND_GAP > right:
            line, x = line + 1, float(left)
        y = 18 + line * _LEGEND_LINE
        shape = {"dot": f"<circle cx='{x + 5:g}' cy='{y - 4}' r='5' fill='{color}'/>",
                 "square": f"<rect x='{x:g}' y='{y - 10}' width='12' height='12' fill='{color}'/>",
                 "line": f"<line x1='{x:g}' y1='{y - 4}' x2='{x + 14:g}' y2='{y - 4}' stroke='{color}' stroke-width='2.5'/>"}
        out.append(f"<g class='legend'>{shape[mark]}<text x='{x + 20:g}' y='{y}' font-size='12'>{_label(name)}</text></g>")
        x += step
    return "".join(out), line + 1


def _label_width(text: str) -> float:
    """Roughly how many pixels `_label(text)` takes at font size 12."""
    return min(sum(map(_char_width, text)), LABEL_WIDTH)


def _label(text: str) -> str:
    """Escaped SVG text content: `text`, or as much of it as fits `LABEL_WIDTH` and "…", with the whole
    in a <title> (a tooltip), because SVG text never wraps and would run over its neighbours."""
    if sum(map(_char_width, text)) <= LABEL_WIDTH:
        return escape(text)
    cut, width = 0, 12.0  # room for the "…"
    while width + _char_width(text[cut]) <= LABEL_WIDTH:
        width += _char_width(text[cut])
        cut += 1
    return f"<title>{escape(text)}</title>{escape(text[:cut])}…"


def _color(rate: float) -> str:
    """Diverging colour: blue (row loses) — white (0.5) — orange (row wins)."""
    if not math.isfinite(rate):
        return "#eeeeee"
    t = max(-1.0, min(1.0, (rate - 0.5) * 2))
    lo, hi, mid = (49, 104, 176), (214, 96, 40), (250, 250, 250)
    end = hi if t > 0 else lo
    a = abs(t) ** 0.8
    r, g, b = (round(m + (e - m) * a) for m, e in zip(mid, end))
    return f"#{r:02x}{g:02x}{b:02x}"


def _text_color(rate: float) -> str:
    return "#ffffff" if math.isfinite(rate) and abs(rate - 0.5) > 0.3 else "#222222"


def heatmap(models: Sequence[str], rate: np.ndarray, counts: np.ndarray, ci: np.ndarray, stars: dict) -> str:
    """Win-rate grid, row beats column: rate, 95% Wilson interval ("—" when it does not exist) and judgement count
    per cell."""
    k = len(models)
    longest = max((_label_width(m) for m in models), default=7.0)
    cw, ch = 118, 70
    left = 20 + round(longest)
    top = 44 + round(0.52 * longest)  # column names are turned 30°: they rise by half their length
    # the last column's name, turned 30°, runs right past its column by cos 30° of its length
    last = _label_width(models[-1]) if k else 0.0
    width, height = max(left + k * cw + 10, left + (k - 0.5) * cw + math.ceil(0.87 * last) + 8), top + k * ch + 10
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' viewBox='0 0 {width:g} {height}' width='{width:g}' height='{height}' {FONT} role='img' aria-label='win-rate heatmap'>"]
    out.append("<text x='8' y='16' font-size='12' fill='#555'>row beats column</text>")
    for j, m in enumerate(models):
        x = left + j * cw + cw / 2
        out.append(f"<text x='{x}' y='{top - 10}' font-size='12' text-anchor='start' transform='rotate(-30 {x} {top - 10})'>{_label(m)}</text>")
    for i, m in enumerate(models):
        y = top + i * ch
        out.append(f"<text x='{left - 8}' y='{y + ch / 2 + 4}' font-size='12' text-anchor='end'>{_label(m)}</text>")
        for j in range(k):
            x = left + j * cw
            r = float(rate[i, j])
            if i == j:
                out.append(f"<rect x='{x}' y='{y}' width='{cw - 2}' height='{ch - 2}' fill='#ffffff' stroke='#ddd'/>")
                continue
            fill = _color(r)
            fg = _text_color(r)
            n = int(counts[i, j])
            tip = f"{models[i]} beat {models[j]}: " + (f"{r:.1%} of {n}" if n else "never compared")
            out.append(f"<g><title>{escape(tip)}</title><rect x='{x}' y='{y}' width='{cw - 2}' height='{ch - 2}' fill='{fill}' rx='3'/>")
            if n:
                lo, hi = ci[i, j]
                # a pair judged only as ties has no decisive interval: "—", never "[nan%, nan%]"
                interval = f"[{lo:.0%}, {hi:.0%}]" if math.isfinite(lo) and math.isfinite(hi) else "—"
                mark = escape(stars.get((i, j), ""))
                out.append(f"<text x='{x + cw / 2 - 1}' y='{y + 26}' font-size='17' font-weight='600' text-anchor='middle' fill='{fg}'>{r:.0%}{mark}</text>")
                out.append(f"<text x='{x + cw / 2 - 1}' y='{y + 44}' font-size='11' text-anchor='middle' fill='{fg}'>{interval}</text>")
                out.append(f"<text x='{x + cw / 2 - 1}' y='{y + 59}' font-size='11' text-anchor='middle' fill='{fg}'>n = {n:,}</text>")
            else:
                out.append(f"<text x='{x + cw / 2}' y='{y + ch / 2 + 4}' font-size='12' text-anchor='middle' fill='#888'>not compared</text>")
            out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def strength_bars(
    models: Sequence[str], strength: Sequence[float], ci_workers: Sequence[tuple[float, float]],
    ci_plain: Sequence[tuple[float, float]], rank_sets: Sequence[tuple[int, int]],
) -> str:
    """Bradley–Terry strengths, best on top: dot, thick bar = worker bootstrap CI, thin = plain CI."""
    k = len(models)
    row, left, right, top = 34, max(170, 20 + round(max((_label_width(m) for m in models), default=0))), 150, 34
    plot = 520
    width, height = left + plot + right, top + k * row + 40
    values = [v for pair in list(ci_workers) + list(ci_plain) for v in pair] + list(strength) + [0.0]
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.08 or 0.5
    lo, hi = lo - pad, hi + pad

    def sx(v: float) -> float:
        return left + (v - lo) / (hi - lo) * plot

    out = [f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' viewBox='0 0 {width} {height}' width='{width}' height='{height}' {FONT} role='img' aria-label='strengths'>"]
    step = _nice_step((hi - lo) / 6)
    # ticks as whole multiples of the step: adding the step up from a negative start gave 0 as -5.6e-17
    for index in range(math.ceil(lo / step), math.floor(hi / step) + 1):
        tick = index * step
        x = sx(tick)
        out.append(f"<line x1='{x}' y1='{top - 8}' x2='{x}' y2='{top + k * row}' stroke='{'#999' if index == 0 else '#e5e5e5'}'/>")
        out.append(f"<text x='{x}' y='{top + k * row + 16}' font-size='11' text-anchor='middle' fill='#555'>{'0' if index == 0 else format(tick, '+.2g')}</text>")
    out.append(f"<text x='{left + plot / 2}' y='{top + k * row + 34}' font-size='12' text-anchor='middle' fill='#333'>strength (log-odds; a difference of 1 = wins 73% of comparisons)</text>")
    out.append(f"<text x='{left + plot + 10}' y='{top - 14}' font-size='11' fill='#555'>possible ranks</text>")
    for i, m in enumerate(models):
        y = top + i * row + row / 2
        (wl, wh), (pl, ph) = ci_workers[i], ci_plain[i]
        out.append(f"<g><title>{escape(m)}: {strength[i]:+.3f}, 95% CI workers [{wl:+.3f}, {wh:+.3f}], plain [{pl:+.3f}, {ph:+.3f}]</title>")
        out.append(f"<text x='{left - 8}' y='{y + 4}' font-size='12' text-anchor='end'>{_label(m)}</text>")
        out.append(f"<rect x='{sx(wl)}' y='{y - 7}' width='{max(sx(wh) - sx(wl), 1)}' height='14' fill='#9ecae1' rx='3'/>")
        out.append(f"<rect x='{sx(pl)}' y='{y - 2}' width='{max(sx(ph) - sx(pl), 1)}' height='4' fill='#08519c'/>")
        out.append(f"<circle cx='{sx(strength[i])}' cy='{y}' r='5' fill='#d94801' stroke='white'/>")
        r0, r1 = rank_sets[i]
        out.append(f"<text x='{left + plot + 10}' y='{y + 4}' font-size='12' fill='#333'>{r0 if r0 == r1 else f'{r0}–{r1}'}</text></g>")
    out.append("</svg>")
    return "".join(out)


def _nice_step(raw: float) -> float:
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def histogram(values: np.ndarray, threshold: float | None, label: str, *, y_label: str = "comparisons",
              threshold_label: str | None = None, rows: np.ndarray | None = None) -> str:
    """Distribution of seconds per comparison on a log x axis (labelled `label`) against a counted y axis
    (`y_label`), with the threshold drawn as a dashed red line and labelled `threshold_label` (default
    "too fast < N s") when `threshold` is above 0; bars below it are orange. `rows`: a mask of the values to
    count (all when None), so a caller need not copy them first."""
    shown = np.isfinite(values) & (values > 0)
    if rows is not None:
        shown &= rows
    logs = values[shown]  # a copy, whose log is taken in place (a million values: 8 MB an array)
    width, height, left, bottom, top, right = 720, 250, 64, 42, 22, 20
    plot_w, plot_h = width - left - right, height - bottom - top
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' viewBox='0 0 {width} {height}' width='{width}' height='{height}' {FONT} role='img' aria-label='{escape(label)}'>"]
    if logs.size == 0:
        out.append(f"<text x='{left}' y='{height / 2}' font-size='13'>no timing data</text></svg>")
        return "".join(out)
    limit = threshold if threshold is not None and math.isfinite(threshold) and threshold > 0 else None
    np.log10(np.maximum(logs, 0.1, out=logs), out=logs)
    lo, hi = float(logs.min()), float(logs.max())
    if limit is not None:
        lo, hi = min(lo, math.log10(limit)), max(hi, math.log10(limit))
    span = max(hi - lo, 0.5)
    lo, hi = lo - span * 0.05, hi + span * 0.05
    edges = np.linspace(lo, hi, 41)
    counts, _ = np.histogram(logs, bins=edges)
    step = max(_nice_step(int(counts.max()) / 4), 1.0)
    y_max = max(math.ceil(int(counts.max()) / step) * step, step)

    def sx(logv: float) -> float:
        return left + (logv - lo) / (hi - lo) * plot_w

    def sy(count: float) -> float:
        return top + plot_h - count / y_max * plot_h

    tick = 0.0
    while tick <= y_max + 1e-9:
        out.append(f"<line x1='{left}' y1='{sy(tick):.1f}' x2='{left + plot_w}' y2='{sy(tick):.1f}' stroke='#eee'/>")
        out.append(f"<text x='{left - 6}' y='{sy(tick) + 4:.1f}' font-size='11' text-anchor='end' fill='#555'>{tick:,.0f}</text>")
        tick += step
    for c, e0, e1 in zip(counts, edges[:-1], edges[1:]):
        fast = limit is not None and 10**e1 <= limit
        y = sy(float(c))
        out.append(f"<rect x='{sx(e0):.1f}' y='{y:.1f}' width='{max(sx(e1) - sx(e0) - 1, 1):.1f}' height='{top + plot_h - y:.1f}' fill='{'#e6550d' if fast else '#6baed6'}'><title>{10**e0:.3g}–{10**e1:.3g} s: {int(c):,}</title></rect>")
    for dec in range(math.floor(lo) - 1, math.ceil(hi) + 1):
        for m in (1, 2, 5):
            lv = dec + math.log10(m)
            if lo <= lv <= hi:
                out.append(f"<line x1='{sx(lv):.1f}' y1='{top + plot_h}' x2='{sx(lv):.1f}' y2='{top + plot_h + 4}' stroke='#999'/>")
                out.append(f"<text x='{sx(lv):.1f}' y='{top + plot_h + 17}' font-size='11' text-anchor='middle' fill='#555'>{10**lv:g}</text>")
    out.append(f"<line x1='{left}' y1='{top}' x2='{left}' y2='{top + plot_h}' stroke='#999'/>")
    out.append(f"<line x1='{left}' y1='{top + plot_h}' x2='{left + plot_w}' y2='{top + plot_h}' stroke='#999'/>")
    if limit is not None:
        x = sx(math.log10(limit))
        text = threshold_label if threshold_label is not None else f"too fast < {limit:g} s"
        anchor, tx = ("end", x - 4) if x > left + plot_w * 0.7 else ("start", x + 4)
        out.append(f"<line x1='{x:.1f}' y1='{top - 8}' x2='{x:.1f}' y2='{top + plot_h}' stroke='#a50f15' stroke-width='1.5' stroke-dasharray='4 3'/>")
        out.append(f"<text x='{tx:.1f}' y='{top - 8}' font-size='11' text-anchor='{anchor}' fill='#a50f15'>{escape(text)}</text>")
    out.append(f"<text x='{left + plot_w / 2}' y='{height - 6}' font-size='12' text-anchor='middle'>{escape(label)}</text>")
    out.append(f"<text x='16' y='{top + plot_h / 2}' font-size='12' text-anchor='middle' transform='rotate(-90 16 {top + plot_h / 2})'>{escape(y_label)}</text>")
    out.append("</svg>")
    return "".join(out)


def scatter(
    x: Sequence[float], y: Sequence[float], colors: Sequence[str], tips: Sequence[str], x_label: str, y_label: str, *,
    radius: float, opacity: float, mid_lines: bool = False, y_threshold: tuple[float, str] | None = None,
    empty_note: str | None = None,
) -> str:
    """Points in the unit square (x to the right, y up), drawn in the order given so later ones lie on top, each
    with its colour and a tooltip. `mid_lines` darkens the grid lines at 0.5; `y_threshold` (value, label)
    draws a dashed red line; `empty_note` is shown when there is no point."""
    width, height, left, bottom, top = 520, 360, 50, 44, 14
    pw, ph = width - left - 20, height - bottom - top
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' viewBox='0 0 {width} {height}' width='{width}' height='{height}' {FONT} role='img' aria-label='workers'>"]
    for t in (0, 0.25, 0.5, 0.75, 1):
        gx, gy = left + t * pw, top + (1 - t) * ph
        stroke = "#bbb" if mid_lines and t == 0.5 else "#eee"
        out.append(f"<line x1='{gx}' y1='{top}' x2='{gx}' y2='{top + ph}' stroke='{stroke}'/><line x1='{left}' y1='{gy}' x2='{left + pw}' y2='{gy}' stroke='{stroke}'/>")
        out.append(f"<text x='{gx}' y='{top + ph + 15}' font-size='11' text-anchor='middle' fill='#555'>{t:g}</text>")
        out.append(f"<text x='{left - 6}' y='{gy + 4}' font-size='11' text-anchor='end' fill='#555'>{t:g}</text>")
    if y_threshold is not None:
        value, label = y_threshold
        ty = top + (1 - value) * ph
        out.append(f"<line x1='{left}' y1='{ty}' x2='{left + pw}' y2='{ty}' stroke='#a50f15' stroke-dasharray='4 3'/>")
        out.append(f"<text x='{left + pw - 4}' y='{ty - 4}' font-size='11' text-anchor='end' fill='#a50f15'>{escape(label)}</text>")
    for xi, yi, color, tip in zip(x, y, colors, tips):
        out.append(f"<circle cx='{left + xi * pw:.1f}' cy='{top + (1 - yi) * ph:.1f}' r='{radius:g}' fill='{color}' fill-opacity='{opacity:g}'>"
                   f"<title>{escape(tip)}</title></circle>")
    if empty_note is not None and not len(x):
        out.append(f"<text x='{left + 10}' y='{top + 20}' font-size='12' fill='#888'>{escape(empty_note)}</text>")
    out.append(f"<text x='{left + pw / 2}' y='{height - 8}' font-size='12' text-anchor='middle'>{escape(x_label)}</text>")
    out.append(f"<text x='14' y='{top + ph / 2}' font-size='12' text-anchor='middle' transform='rotate(-90 14 {top + ph / 2})'>{escape(y_label)}</text>")
    out.append("</svg>")
    return "".join(out)


def rate_intervals(
    rows: Sequence[str], series: Sequence[tuple[str, Sequence[float], Sequence[tuple[float, float]], str]],
    axis_label: str,
) -> str:
    """Proportions on a 0–100% axis, one group per row: per series (name, values, 95% intervals, colour)
    a dot and its interval line, so rates measured over different units sit side by side."""
    s = len(series)
    sub, gap, left, plot = 16, 12, 20 + round(max((_label_width(r) for r in rows), default=7)), 520
    group = s * sub + gap
    width = left + plot + 30
    legend, lines = _legend([(name, color) for name, _v, _ci, color in series], left, width - 8)
    top = 40 + (lines - 1) * _LEGEND_LINE
    height = top + len(rows) * group + 40

    def sx(v: float) -> float:
        return left + min(max(v, 0.0), 1.0) * plot

    out = [f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' viewBox='0 0 {width} {height}' width='{width}' height='{height}' {FONT} role='img' aria-label='{escape(axis_label)}'>",
           legend]
    for t in (0, 0.2, 0.4, 0.6, 0.8, 1.0):
        out.append(f"<line x1='{sx(t)}' y1='{top - 6}' x2='{sx(t)}' y2='{top + len(rows) * group}' stroke='#e5e5e5'/>")
        out.append(f"<text x='{sx(t)}' y='{top + len(rows) * group + 15}' font-size='11' text-anchor='middle' fill='#555'>{t:.0%}</text>")
    out.append(f"<text x='{left + plot / 2}' y='{height - 6}' font-size='12' text-anchor='middle'>{escape(axis_label)}</text>")
    for r, row in enumerate(rows):
        y0 = top + r * group
        out.append(f"<text x='{left - 8}' y='{y0 + s * sub / 2 + 4}' font-size='12' text-anchor='end'>{_label(row)}</text>")
        for k, (name, values, ci, color) in enumerate(series):
            v, (lo, hi) = float(values[r]), ci[r]
            if not math.isfinite(v):
                continue
            y = y0 + k * sub + sub / 2
            tip = f"{row} — {name}: {v:.1%}" + (f" [{lo:.1%}, {hi:.1%}]" if math.isfinite(lo) and math.isfinite(hi) else "")
            out.append(f"<g><title>{escape(tip)}</title>")
            if math.isfinite(lo) and math.isfinite(hi):
                out.append(f"<line x1='{sx(lo):.1f}' y1='{y}' x2='{sx(hi):.1f}' y2='{y}' stroke='{color}' stroke-width='2'/>")
            out.append(f"<circle cx='{sx(v):.1f}' cy='{y}' r='4.5' fill='{color}' stroke='white'/></g>")
    out.append("</svg>")
    return "".join(out)


def stacked_shares(
    rows: Sequence[str], categories: Sequence[str], counts: np.ndarray, colors: Sequence[str], axis_label: str,
) -> str:
    """One 100% bar per row split into `categories` (counts: rows × categories), share printed when wide enough."""
    row_h, left, plot = 28, 20 + round(max((_label_width(r) for r in rows), default=7)), 560
    width = left + plot + 20
    legend, lines = _legend(list(zip(categories, colors)), left, width - 8, "square")
    top = 44 + (lines - 1) * _LEGEND_LINE
    height = top + len(rows) * row_h + 36
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' viewBox='0 0 {width} {height}' width='{width}' height='{height}' {FONT} role='img' aria-label='{escape(axis_label)}'>",
           legend]
    for r, row in enumerate(rows):
        y = top + r * row_h
        total = float(counts[r].sum())
        out.append(f"<text x='{left - 8}' y='{y + row_h / 2 + 2}' font-size='12' text-anchor='end'>{_label(row)}</text>")
        if total <= 0:
            out.append(f"<text x='{left + 4}' y='{y + row_h / 2 + 2}' font-size='12' fill='#888'>no data</text>")
            continue
        x = float(left)
        for name, color, c in zip(categories, colors, counts[r]):
            w = float(c) / total * plot
            if w <= 0:
                continue
            share = float(c) / total
            out.append(f"<g><title>{escape(f'{row} — {name}: {share:.1%} ({int(c):,} of {int(total):,})')}</title>"
                       f"<rect x='{x:.1f}' y='{y + 3}' width='{w:.1f}' height='{row_h - 6}' fill='{color}'/>")
            if w > 34:
                out.append(f"<text x='{x + w / 2:.1f}' y='{y + row_h / 2 + 4}' font-size='11' text-anchor='middle' fill='#111'>{share:.0%}</text>")
            out.append("</g>")
            x += w
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        xt = left + t * plot
        out.append(f"<text x='{xt}' y='{top + len(rows) * row_h + 14}' font-size='11' text-anchor='middle' fill='#555'>{t:.0%}</text>")
    out.append(f"<text x='{left + plot / 2}' y='{height - 4}' font-size='12' text-anchor='middle'>{escape(axis_label)}</text>")
    out.append("</svg>")
    return "".join(out)


#: at most about this many x tick labels of `step_curves`; the step between them is a whole number
MAX_TICKS = 12


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


def step_curves(series: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]],
                   x_label: str, y_label: str) -> str:
    """Survival-style step curves on a 0–100% y axis over whole-number steps (e.g. bot turns): per series
    (name, steps k = 1..K, value at k, band low, band high, colour) a right-continuous step line from (0, 1)
    and a shaded band over each interval [k, k+1) where the band is defined (NaN: none drawn, e.g. a
    Kaplan–Meier band before the first event). x ticks are whole numbers only. All text is escaped."""
    width, left, bottom, right = 640, 56, 44, 20
    legend, lines = _legend([(name, color) for name, _xs, _ys, _lo, _hi, color in series], left, width - 8, "line")
    top = 34 + (lines - 1) * _LEGEND_LINE
    height = top + 222 + bottom
    pw, ph = width - left - right, height - top - bottom
    x_max = max((int(np.max(xs)) for _n, xs, *_rest in series if len(xs)), default=1)
    x_max = max(x_max, 1)

    def sx(v: float) -> float:
        return left + v / x_max * pw

    def sy(v: float) -> float:
        return top + (1 - min(max(v, 0.0), 1.0)) * ph

    out = [f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' viewBox='0 0 {width} {height}' width='{width}' "
           f"height='{height}' {FONT} role='img' aria-label='{escape(y_label)}'>", legend]
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
