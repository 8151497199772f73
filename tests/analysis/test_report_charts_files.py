"""The shared report frame: the time histogram's axes and threshold line, the standalone chart files the
writer adds (valid SVG, names that data cannot turn into a path), and the chart boxes of the page."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.report.charts import heatmap, histogram, strength_bars
from analysis.report.html_parts import page
from analysis.report.writer import CHARTS, standalone_charts, write_report
from humaneval.input_errors import InputError

SVG = "{http://www.w3.org/2000/svg}"
XSS = "<img src=x onerror=alert(1)>"


def _texts(svg: str) -> list[str]:
    return ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG}text")]


def test_histogram_has_both_axes_labelled_and_counts_on_y() -> None:
    seconds = np.array([3.0, 4.0, 30.0, 31.0, 32.0, 33.0, 60.0])
    texts = _texts(histogram(seconds, 10.0, "seconds per comparison (log scale)"))
    assert "seconds per comparison (log scale)" in texts and "comparisons" in texts
    assert "0" in texts  # the y axis starts at no comparisons
    assert "too fast < 10 s" in texts


def test_histogram_threshold_line_is_drawn_only_for_a_threshold() -> None:
    seconds = np.array([5.0, 20.0, 40.0])
    with_line = ET.fromstring(histogram(seconds, 10.0, "s"))
    dashed = [e for e in with_line.iter(f"{SVG}line") if e.get("stroke-dasharray")]
    assert len(dashed) == 1
    for threshold in (0.0, None):
        root = ET.fromstring(histogram(seconds, threshold, "s"))
        assert not [e for e in root.iter(f"{SVG}line") if e.get("stroke-dasharray")]
        assert not any(t.startswith("too fast") for t in _texts(histogram(seconds, threshold, "s")))


def test_histogram_labels_are_escaped_and_keywords_keep_old_calls_working() -> None:
    svg = histogram(np.array([1.0, 2.0]), 1.5, XSS, y_label=XSS, threshold_label=XSS)
    assert "<img" not in svg and _texts(svg).count(XSS) == 3
    assert histogram(np.array([]), 10.0, "s").count("no timing data") == 1


def test_heatmap_is_wide_enough_for_its_last_turned_column_name() -> None:
    models = ["a", "a_rather_long_model_name_v2"]
    svg = heatmap(models, np.full((2, 2), 0.5), np.ones((2, 2), int), np.zeros((2, 2, 2)), {})
    width = float(ET.fromstring(svg).get("width"))
    assert width >= 20 + 196 + 1.5 * 118 + 0.87 * 196  # last column's middle + the name turned 30°


def _page_with_charts(names: list[str]) -> str:
    charts = "".join(strength_bars([n], [0.1], [(0.0, 0.2)], [(0.05, 0.15)], [(1, 1)]).replace(
        "aria-label='strengths'", f"aria-label='{n}'") for n in names)
    return page("t", f"<p>x</p>{charts}")


def test_standalone_chart_names_are_safe_and_unique() -> None:
    from html import escape
    labels = ["../../etc/passwd", "Strengths", escape(XSS, quote=True), "", "é/ü\\x", "a" * 300]
    names = [name for name, _svg in standalone_charts(_page_with_charts(labels))]
    assert names[0] == "01-etc-passwd.svg" and names[1] == "02-strengths.svg"
    assert names[3] == "04-chart.svg" and names[4] == "05-x.svg"
    assert len(set(names)) == len(names)
    for name in names:
        assert "/" not in name and "\\" not in name and not name.startswith(".") and len(name) <= 70


def test_writer_writes_every_chart_as_a_standalone_svg(tmp_path: Path) -> None:
    html = page("t", "<p>x</p>" + histogram(np.array([5.0, 20.0]), 10.0, f"time {XSS}")
                + strength_bars(["m1", XSS], [0.2, -0.2], [(0, 0.4), (-0.4, 0)], [(0.1, 0.3), (-0.3, -0.1)], [(1, 1), (2, 2)]))
    paths = write_report(tmp_path / "r", {"t.csv": pd.DataFrame({"a": [1]})}, {}, html)
    files = sorted((tmp_path / "r" / CHARTS).iterdir())
    assert [p.name for p in files] == ["01-time-img-src-x-onerror-alert-1.svg", "02-strengths.svg"]
    assert set(files) <= set(paths)
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>') and "<img" not in text
        root = ET.parse(path).getroot()
        assert root.tag == f"{SVG}svg"
        assert float(root.get("width")) > 0 and float(root.get("height")) > 0
        assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    # a second report replaces the first, charts folder included; a page without charts leaves none
    write_report(tmp_path / "r", {"t.csv": pd.DataFrame({"a": [1]})}, {}, page("t", "<p>no charts</p>"))
    assert not (tmp_path / "r" / CHARTS).exists()


def test_a_charts_folder_holding_other_files_is_not_a_report(tmp_path: Path) -> None:
    out = tmp_path / "r"
    (out / CHARTS).mkdir(parents=True)
    (out / CHARTS / "thesis.tex").write_text("precious")
    with pytest.raises(InputError, match="not part of a report"):
        write_report(out, {}, {}, _page_with_charts(["x"]))
    assert (out / CHARTS / "thesis.tex").read_text() == "precious"


def test_page_puts_every_chart_in_a_scrolling_box_that_limits_shrinking() -> None:
    html = _page_with_charts(["a", "b"])
    assert html.count("<div class='chartbox' style='--min:") == 2
    assert html.count("<svg") == 2
    assert ".chartbox{overflow-x:auto" in html


def test_strength_axis_labels_zero_as_0_not_a_rounding_residue() -> None:
    """Ticks were summed up from a negative start, so the centre read "-5.6e-17"; every label is a clean number."""
    import re

    for strengths in ([0.3, -0.1, -0.2], [0.5, -0.5, 0.0], [2.0, -1.3, -0.7], [0.07, -0.03, -0.04]):
        svg = strength_bars(["a", "b", "c"], strengths, [(v - 0.2, v + 0.2) for v in strengths],
                            [(v - 0.1, v + 0.1) for v in strengths], [(1, 1)] * 3)
        labels = [t for t in re.findall(r"fill='#555'>([^<]+)</text>", svg) if t != "possible ranks"]
        assert "0" in labels and not any("e" in t for t in labels), labels
