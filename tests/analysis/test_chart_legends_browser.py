"""Chart legends with many models and long or symbol-heavy names (issue 15, hostile trial: the safety bucket chart's
"<b>m1</b>" ran into the next entry). Laid out by headless Chromium: no two legend entries overlap, every entry
stays inside its chart, and the plot starts below the last legend line. Screenshots go to /tmp/shots/fix_*.png."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from analysis.report.charts import rate_intervals, stacked_shares, step_curves
from analysis.report.html_parts import page as html_page

SHOTS = Path(os.environ.get("CHART_SHOTS", "/tmp/shots"))
NAMES = ["<b>m1</b>", "=m2", "blender_90M_persona_chat", "WWWWWWWWWW", "<<<===>>>", "seq2seq_baseline_reddit",
         "human_reference", "m8", "a very long model name that will be cut with an ellipsis somewhere"]

BOXES = """() => [...document.querySelectorAll('svg.chart')].map(svg => {
  const s = svg.getBoundingClientRect();
  const legend = [...svg.querySelectorAll('g.legend')].map(g => {
    const b = g.getBoundingClientRect();
    return {left: b.left - s.left, right: b.right - s.left, top: b.top - s.top, bottom: b.bottom - s.top};
  });
  const plot = [...svg.children].filter(e => e.tagName !== 'g' || !e.classList.contains('legend'))
    .map(e => e.getBoundingClientRect().top - s.top).filter(t => t > 0);
  return {width: s.width, legend, plotTop: Math.min(...plot)};
})"""


def _charts() -> str:
    rng = np.random.default_rng(0)
    rows = ["contradiction", "repetitive", "off topic"]
    series = [(n, rng.random(3).tolist(), [(0.1, 0.9)] * 3, "#08519c") for n in NAMES]
    counts = rng.integers(1, 10, size=(3, len(NAMES)))
    curves = [(n, np.arange(1, 6), np.linspace(1, 0.5, 5), np.full(5, np.nan), np.full(5, np.nan), "#d94801")
              for n in NAMES]
    return (rate_intervals(rows, series, "share") + stacked_shares(rows, NAMES, counts, ["#31a354"] * len(NAMES), "share")
            + step_curves(curves, "bot turn", "unfooled"))


@pytest.mark.parametrize("width", [1280, 420])
def test_legend_entries_never_overlap(page, tmp_path: Path, width: int) -> None:
    path = tmp_path / "charts.html"
    path.write_text(html_page("legends", _charts()), encoding="utf-8")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(path.as_uri())
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"fix_legends_{width}.png"), full_page=True)
    charts = page.evaluate(BOXES)
    assert len(charts) == 3
    for chart in charts:
        entries = chart["legend"]
        assert len(entries) == len(NAMES)
        for e in entries:
            assert e["left"] >= 0 and e["right"] <= chart["width"] + 0.5, e
        for i, a in enumerate(entries):
            for b in entries[i + 1:]:
                apart = a["right"] <= b["left"] or b["right"] <= a["left"] or a["bottom"] <= b["top"] or b["bottom"] <= a["top"]
                assert apart, (a, b)
        assert max(e["bottom"] for e in entries) > entries[0]["bottom"] + 10  # wrapped onto more than one line
        assert chart["plotTop"] >= max(e["bottom"] for e in entries) - 0.5  # the plot starts below the legend
