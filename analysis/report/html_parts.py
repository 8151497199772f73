"""Pieces every HTML report page is made of: the stylesheet, number formatting, tables, cards and the
page frame. The pages have no scripts and no external files (they must open offline, from an e-mail
attachment), and every string from the input passes through `html.escape`, because workers and bots
type whatever they like.

Whatever they type must not widen the page either: a 10,000-character worker id or model name with no
space would otherwise make a table, and so the page, that wide. Text wraps anywhere when a word does not
fit (`overflow-wrap: anywhere` on the page); identifiers and reasons shown in tables go through
`breakable`, which lets only their over-long words break and boxes them, so ordinary names keep their
width; and every table sits in a box that scrolls sideways (`wide`, or the `.scroll` box) instead of
pushing the page wider on a narrow screen, with a soft shadow at an edge that has more table behind it
(so a reader on a phone sees there is more), and every chart in one (`page`) that lets it shrink only
so far before it scrolls too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from analysis.report.escaping import escape
from typing import Any

import numpy as np
import pandas as pd

from analysis.report.charts import CHART_SVG

CSS = """
body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa;line-height:1.4;overflow-wrap:anywhere}
main{max-width:1180px;margin:0 auto;padding:20px 28px 60px}
h1{font-size:26px;margin:8px 0 4px} h2{font-size:20px;margin:34px 0 8px;border-bottom:2px solid #e3e3e3;padding-bottom:4px}
h3{font-size:16px;margin:18px 0 6px}
.lead{color:#555;margin:0 0 10px} .note{color:#666;font-size:13px;max-width:900px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.card{background:white;border:1px solid #e3e3e3;border-radius:8px;padding:10px 14px;min-width:120px}
.card b{display:block;font-size:22px} .card span{color:#666;font-size:12px}
table{border-collapse:collapse;background:white;font-size:13px;margin:6px 0}
th,td{border:1px solid #e3e3e3;padding:4px 8px;text-align:right;vertical-align:top;white-space:nowrap}
td.t.wrap{white-space:normal;min-width:min(240px,55vw)}
th{background:#f1f1f1} .scroll th{position:sticky;top:0} td.t,th.t{text-align:left}
tr.flag td{background:#fff1f0}
.scroll{max-height:520px;overflow:auto;border:1px solid #e3e3e3;display:block;width:fit-content;max-width:100%}
.wide{overflow-x:auto;width:fit-content;max-width:100%} .scroll .wide{overflow:visible;max-width:none}
.wide{background:linear-gradient(to right,white 30%,rgba(255,255,255,0)) left/36px 100% no-repeat local,linear-gradient(to left,white 30%,rgba(255,255,255,0)) right/36px 100% no-repeat local,radial-gradient(farthest-side at 0 50%,rgba(0,0,0,.22),rgba(0,0,0,0)) left/12px 100% no-repeat scroll,radial-gradient(farthest-side at 100% 50%,rgba(0,0,0,.22),rgba(0,0,0,0)) right/12px 100% no-repeat scroll white}
.wide>table{background:transparent;margin:0} .wide{margin:6px 0} .scroll table,.scroll .wide{margin:0}
.long{display:inline-block;max-width:100%;max-height:4.3em;overflow-y:auto;white-space:normal;word-break:break-all;vertical-align:top}
.side{display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start}
.two{display:flex;flex-wrap:wrap;gap:8px 24px;align-items:flex-start}
.chart{max-width:100%;height:auto;background:white;border:1px solid #e3e3e3;border-radius:8px}
.chartbox{overflow-x:auto;max-width:100%;margin:6px 0} .chartbox>.chart{display:block;min-width:var(--min,0)}
details.pair{background:white;border:1px solid #e3e3e3;border-radius:8px;margin:6px 0;padding:6px 10px}
details.pair summary{cursor:pointer;font-weight:600}
.dialogues{display:flex;gap:14px;margin:8px 0}
.dialogue{flex:1;border:1px solid #e3e3e3;border-radius:6px;padding:6px 10px;background:#fcfcfc;min-width:0}
.turn{margin:3px 0;white-space:pre-wrap} .turn b{color:#555}
.bot{color:#08519c} .win{color:#b34400;font-weight:600}
.stars{color:#b34400;font-weight:700}
.verdict{background:white;border:1px solid #c9d7e8;border-left:5px solid #3b6ea5;border-radius:8px;padding:8px 16px 10px;margin:14px 0 18px;max-width:900px}
.verdict h2{font-size:18px;margin:2px 0 6px;border:0;padding:0}
.verdict ul{margin:0;padding-left:20px} .verdict li{margin:4px 0}
.verdict a.rests{font-size:12px;color:#3b6ea5;white-space:nowrap;margin-left:6px}
.thin{color:#888;font-style:italic;font-size:12px}
@media (max-width:640px){main{padding:14px 12px 40px} .dialogues{flex-direction:column} .verdict{padding:6px 10px 8px} .verdict ul{padding-left:16px}}
"""

#: words at least this long (ids, names, URLs) may break anywhere when shown by `breakable`
LONG_WORD = 40
_LONG_WORDS = re.compile(rf"(\S{{{LONG_WORD},}})")


def breakable(value: object) -> str:
    """`value` as escaped HTML in which words of `LONG_WORD` characters or more may break anywhere, each in
    a box a few lines high that scrolls: in a table a 10,000-character id then neither widens its column
    past the page nor makes its row thousands of pixels tall. Shorter words are left alone, so ordinary
    names never break mid-word, as `overflow-wrap` on the whole cell would make them do on a narrow screen."""
    parts = _LONG_WORDS.split(str(value))
    return "".join(f"<span class='long'>{escape(p)}</span>" if i % 2 else escape(p) for i, p in enumerate(parts))


def wide(table_html: str) -> str:
    """A table in a box that scrolls sideways when the screen is narrower than the table."""
    return f"<div class='wide'>{table_html}</div>"


class Html(str):
    """A string that already is safe HTML made by this module (e.g. `not_enough_data`), which `fmt`, and so
    `table`, shows as it is instead of escaping; text from the data must never be wrapped in it."""


def fmt(value: Any, digits: int = 3) -> str:
    if isinstance(value, Html):
        return str(value)
    if value is None:
        return "—"
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return "—"
        return f"{value:.{digits}g}" if abs(value) < 1e-3 and value != 0 else f"{value:.{digits}f}"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    return breakable(value)


def percent(rate: float) -> str:
    """A rate as a percentage with one decimal; "—" when it is undefined (NaN)."""
    return f"{rate:.1%}" if math.isfinite(rate) else "—"


def interval(lo: float, hi: float, spec: str) -> str:
    """`[lo, hi]` with both ends in the format `spec` (".3f", ".1%"); "—" when an end is undefined."""
    return f"[{lo:{spec}}, {hi:{spec}}]" if math.isfinite(lo) and math.isfinite(hi) else "—"


def p_value(value: float) -> str:
    if not math.isfinite(value):
        return "—"
    if value == 0.0:
        return "&lt; 1e-300"  # below the smallest double: the test is beyond doubt, not exactly zero
    return f"{value:.2e}" if value < 1e-4 else f"{value:.4f}"


def table(frame: pd.DataFrame, text_columns: set[str], row_class: list[str] | None = None) -> str:
    head = "".join(f"<th class='{'t' if c in text_columns else ''}'>{escape(str(c))}</th>" for c in frame.columns)
    body = []
    for r, row in enumerate(frame.itertuples(index=False)):
        cls = f" class='{row_class[r]}'" if row_class and row_class[r] else ""
        cells = "".join(
            f"<td class='{'t' if c in text_columns else ''}'>{fmt(v)}</td>" for c, v in zip(frame.columns, row)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    return wide(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def capped_names(names: list[str], cap: int, where: str) -> str:
    """Escaped, comma-separated names, at most `cap` of them, saying where the full list is."""
    shown = ", ".join(breakable(n) for n in names[:cap]) or "none"
    return shown + (f" … ({len(names):,} in all, see {escape(where)})" if len(names) > cap else "")


def card(value: str, label: str) -> str:
    """A headline number; `value` is already HTML, `label` is escaped."""
    return f"<div class='card'><b>{value}</b><span>{escape(label)}</span></div>"


_ANCHOR = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class VerdictSentence:
    """One plain-language sentence of a report's verdict, and the id of the table (or section) it rests on,
    which the verdict links to; `anchor` is None when the sentence rests on no one table."""

    text: str
    anchor: str | None = None


def verdict_box(sentences: Iterable[VerdictSentence | str]) -> str:
    """The box at the top of a report titled "Verdict": one list item per sentence, each followed by a small
    "see table" link to `#anchor` when it has one. Sentences are plain text and escaped (nothing from the data
    is ever rendered as HTML); plain strings are sentences without a link. An anchor must be an HTML id made
    of letters, digits, `-` and `_` starting with a letter, so a link never leaves the page; others are
    refused with ValueError. With no sentence the box is left out (empty string)."""
    items = []
    for s in sentences:
        sentence = s if isinstance(s, VerdictSentence) else VerdictSentence(str(s))
        link = ""
        if sentence.anchor is not None:
            if not _ANCHOR.fullmatch(sentence.anchor):
                raise ValueError(f"verdict anchor {sentence.anchor!r} is not a plain HTML id")
            link = f" <a class='rests' href='#{sentence.anchor}'>see table</a>"
        items.append(f"<li>{escape(sentence.text)}{link}</li>")
    if not items:
        return ""
    return f"<section class='verdict' aria-labelledby='verdict'><h2 id='verdict'>Verdict</h2><ul>{''.join(items)}</ul></section>"


def not_enough_data(needs: str) -> Html:
    """What stands in for a statistic left out under the data-sufficiency rules: a muted "not enough data:
    needs …" (`needs` is escaped). It is `Html`, so it can be put in a DataFrame cell given to `table` (shown
    as is) as well as into a paragraph."""
    return Html(f"<span class='thin'>not enough data: needs {escape(needs)}</span>")


#: a chart shrinks with a narrow screen down to this share of its drawn size; below it, it scrolls sideways
CHART_MIN_SCALE = 0.75


def _chart_box(match: re.Match[str]) -> str:
    """The chart in `match` in a box that scrolls sideways, so on a phone it shrinks only until its text
    would be too small to read (`CHART_MIN_SCALE`) and the rest is scrolled to rather than squeezed."""
    svg = match.group(0)
    width = re.search(r"\swidth='([0-9.]+)'", svg[: svg.index(">")])
    least = f" style='--min:{float(width.group(1)) * CHART_MIN_SCALE:.0f}px'" if width else ""
    return f"<div class='chartbox'{least}>{svg}</div>"


def page(title: str, body: str) -> str:
    """A whole self-contained page around `body` (HTML); `title` is escaped. Every chart from `charts`
    in it is put in a box that scrolls sideways (`_chart_box`), as tables are by `wide`."""
    body = CHART_SVG.sub(_chart_box, body)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{escape(title)}</title><style>{CSS}</style></head>
<body><main>
{body}
</main></body></html>
"""
