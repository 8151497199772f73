"""The three reports (acute, safety, bad) laid out in headless Chromium at a desktop (1280 px) and a phone
(420 px) width: nothing is wider than the window except inside a box that scrolls sideways (a table's
`.wide` or `.scroll` box, or a chart's), every chart is also a standalone SVG file, and the CLI says where
the report is. Full-page screenshots go to /work/screens/<report>-<width>.png (or $REPORT_SCREENS) for a
person to look at."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from analysis.synthetic.acute import StudyDesign, simulate
from analysis.synthetic.bad import BadDesign, simulate_bad
from analysis.synthetic.safety import SafetyStudy, careful_confusion, spammer_confusion
from analysis.synthetic.safety import simulate as simulate_safety

SCREENS = Path(os.environ.get("REPORT_SCREENS", "/work/screens"))
WIDTHS = (1280, 420)
#: realistic model names: long enough to make the model and worker tables wider than a phone
MODELS = ("blender_90M_persona_chat", "blender_400M_distilled_v2", "seq2seq_baseline_reddit", "human_reference")


def _records(report: str) -> list[dict]:
    if report == "acute":
        study = simulate(StudyDesign(strengths=dict(zip(MODELS, (0.0, 0.4, -0.6, 0.9))), n_judgements=900,
                                     n_workers=24, n_pairs=60, spammer_share=0.1, left_clicker_share=0.05,
                                     with_dialogues=True, seed=4))
        return list(study.records())
    if report == "safety":
        study = SafetyStudy(bucket_shares={m: [0.7, 0.1, 0.1, 0.1] for m in MODELS[:3]},
                            confusions=[careful_confusion(a) for a in (0.95, 0.9, 0.85, 0.8)] + [spammer_confusion()],
                            items_per_model=40, gold_items=10, seed=4)
        return simulate_safety(study).records
    return simulate_bad(BadDesign(models=dict(zip(MODELS[:3], (0.08, 0.15, 0.3))), seed=4))


ARGS = {"acute": ("--judgements", "--bootstrap-rounds", "100"), "safety": ("--labels",),
        "bad": ("--labels", "--bootstrap-rounds", "100")}


@pytest.fixture(scope="module", params=["acute", "safety", "bad"])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, str]:
    """(report name, report folder, what the CLI printed)."""
    name = request.param
    folder = tmp_path_factory.mktemp(name)
    data = folder / "records.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in _records(name)), encoding="utf-8")
    out = folder / "out"
    option, *rest = ARGS[name]
    done = subprocess.run([sys.executable, "-m", "analysis", name, option, str(data), "--out", str(out), *rest],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return name, out, done.stdout


def test_cli_ends_with_where_the_report_is(built: tuple[str, Path, str]) -> None:
    _name, out, stdout = built
    lines = stdout.splitlines()
    assert lines[-1] == f"report: {out / 'report.html'}"
    assert any(line.startswith("wrote ") for line in lines)  # the earlier lines are kept


def test_every_chart_is_a_standalone_svg_file(built: tuple[str, Path, str]) -> None:
    _name, out, _stdout = built
    html = (out / "report.html").read_text(encoding="utf-8")
    files = sorted((out / "charts").glob("*.svg"))
    assert len(files) == html.count("<svg") >= 1
    for path in files:
        root = ET.parse(path).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert {"width", "height", "viewBox"} <= set(root.attrib)
        assert path.read_text(encoding="utf-8").startswith("<?xml")


# Every element whose right edge is past the window, except those inside a box that scrolls sideways (and
# that box's own content can't widen the page: the box is checked itself like any other element).
OVERFLOW = """() => {
  const limit = document.documentElement.clientWidth + 0.5;
  const scrolls = el => { const s = getComputedStyle(el); return ['auto', 'scroll'].includes(s.overflowX); };
  const inScroller = el => { for (let p = el.parentElement; p; p = p.parentElement) if (scrolls(p)) return true; return false; };
  const bad = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if ((r.right > limit || r.left < -0.5) && r.width > 0 && !inScroller(el))
      bad.push(`${el.tagName.toLowerCase()}.${el.className.baseVal ?? el.className} right=${Math.round(r.right)}: ${(el.textContent || '').slice(0, 60)}`);
  }
  return {bad, scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth};
}"""


# Text of a chart drawn outside the chart: SVG clips it, so a reader sees a cut-off name.
CUT_TEXT = """() => {
  const cut = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const box = svg.getBoundingClientRect();
    for (const t of svg.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      if (r.width && (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1))
        cut.push(`${svg.getAttribute('aria-label')}: ${t.textContent.slice(0, 60)}`);
    }
  }
  return cut;
}"""


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_is_wider_than_the_window(chromium, built: tuple[str, Path, str], width: int) -> None:
    name, out, _stdout = built
    context = chromium.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto((out / "report.html").as_uri())
        page.wait_for_load_state("load")
        for summary in page.locator("details summary").all()[:3]:  # an opened dialogue pair must fit too
            summary.click()
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / f"{name}-{width}.png"), full_page=True)
        found = page.evaluate(OVERFLOW)
        assert found["bad"] == [], f"{name} at {width} px: wider than the window"
        assert page.evaluate(CUT_TEXT) == [], f"{name} at {width} px: chart text cut off at the chart's edge"
        assert found["scrollWidth"] <= found["clientWidth"], f"{name} at {width} px: the page scrolls sideways"
        assert errors == []
    finally:
        context.close()
