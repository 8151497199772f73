"""The `analysis auto` page in headless Chromium at 1280 and 420 px: nothing wider than the window outside a box
that scrolls sideways, no chart text cut off, no page error, markup in a reply shown as text. Full-page
screenshots go to /work/screens/auto-<width>.png (or $REPORT_SCREENS) for a person to look at."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.__main__ import main
from analysis.synthetic.auto import AutoDesign, write_world_logs
from test_report_layout_browser import CUT_TEXT, OVERFLOW, SCREENS, WIDTHS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A baseline, a controlled twin, a model with too few gendered replies for a factor, and a BAD export with a
    recorded classifier that judged only some replies."""
    folder = tmp_path_factory.mktemp("auto")
    logs = write_world_logs(AutoDesign(models={"blender_90M_persona_chat": (0.27, 0.18, 0.08),
                                               "blender_90M_persona_chat_degendered": (0.03, 0.045, 0.08),
                                               "seq2seq_baseline_reddit": (0.005, 0.005, 0.2)},
                                       replies_per_model=400, seed=2), folder / "world_logs.jsonl").path
    bad = folder / "bad.jsonl"
    records = [{"task": "bad", "run_id": "r", "conversation_id": f"c{i}", "turn_index": 1,
                "model": "blender_90M_persona_chat", "label": "__ok__",
                "text": "<script>alert('he')</script> my brother says hi" if i == 0 else "i like tea with my mother",
                "safety": {"bad_classifier": {"unsafe": i % 7 == 0, "score": 0.5}} if i % 2 else {}}
               for i in range(40)]
    bad.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = folder / "out"
    assert main(["auto", str(bad), str(logs), "--baseline", "blender_90M_persona_chat", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("width", WIDTHS)
def test_the_page_fits_and_escapes_at_every_width(chromium, report: Path, width: int) -> None:
    context = chromium.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto((report / "report.html").as_uri())
        page.wait_for_load_state("load")
        for summary in page.locator("details summary").all()[:2]:
            summary.click()
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / f"auto-{width}.png"), full_page=True)
        found = page.evaluate(OVERFLOW)
        assert found["bad"] == [], f"auto at {width} px: wider than the window"
        assert page.evaluate(CUT_TEXT) == [], f"auto at {width} px: chart text cut off"
        assert found["scrollWidth"] <= found["clientWidth"]
        assert errors == [] and page.locator("script").count() == 0
        assert "<script>alert('he')</script>" in page.locator("body").inner_text()
    finally:
        context.close()
