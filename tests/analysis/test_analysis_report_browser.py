"""The HTML report in headless Chromium: no console errors, planted markup shown as text."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_analysis_report import XSS, report  # noqa: F401  (module fixture)


@pytest.mark.browser
def test_report_opens_without_errors(page, report: Path, tmp_path: Path) -> None:  # noqa: F811
    dialog_opened = []
    page.on("dialog", lambda d: (dialog_opened.append(d.message), d.dismiss()))
    page.goto((report / "report.html").as_uri())
    page.wait_for_load_state("load")
    assert page.title() == "ACUTE-Eval report"
    # loser_bot never wins: perfect separation, so no strength chart of ridge-made strengths (the other three stay)
    assert page.locator("svg.chart").count() >= 3
    assert page.get_by_text("Strength not estimable").count() >= 1
    page.locator("details.pair").first.click()
    page.locator("details.pair").nth(3).click()
    assert page.get_by_text(XSS).count() >= 1  # shown as text
    assert page.locator("img").count() == 0  # never parsed as markup
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert page.errors == []
    assert dialog_opened == []
