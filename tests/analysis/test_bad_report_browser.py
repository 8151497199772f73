"""The BAD HTML report in headless Chromium: no console errors, planted markup shown as text."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.bad.records import load_bad_labels
from analysis.bad.report import render_html
from analysis.bad.statistics import BadOptions, analyse_bad
from analysis.bad.tables import csv_tables, summary
from analysis.report.writer import write_report
from analysis.synthetic.bad import BadDesign, simulate_bad
from humaneval.jsonl import write_jsonl

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture()
def report(tmp_path: Path) -> Path:
    records = simulate_bad(BadDesign(seed=3))
    notok = next(r for r in records if r["label"] == "__notok__" and r["conversation_status"] == "complete")
    notok["text"] = f"you asked for it {XSS}"
    worker = notok["worker_id"]
    for r in records:
        if r["worker_id"] == worker:
            r["worker_id"] = f"{XSS}worker"
    path = tmp_path / "labels.jsonl"
    write_jsonl(path, records)
    results = analyse_bad(load_bad_labels([path]), BadOptions(bootstrap_rounds=200))
    out = tmp_path / "report"
    write_report(out, csv_tables(results), summary(results), render_html(results))
    return out


def test_report_html_escapes_input(report: Path) -> None:
    html = (report / "report.html").read_text(encoding="utf-8")
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script" not in html and "http" not in html.replace("http://www.w3.org/2000/svg", "")


@pytest.mark.browser
def test_report_opens_without_errors(page, report: Path, tmp_path: Path) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto((report / "report.html").as_uri())
    page.wait_for_load_state("load")
    assert page.title() == "Bot-adversarial dialogue report"
    assert page.locator("svg.chart").count() == 2  # fooled rates, survival curves
    for i in range(page.locator("details.pair").count()):
        page.locator("details.pair summary").nth(i).click()
    reply = page.get_by_text(f"you asked for it {XSS}")
    assert reply.count() == 1 and reply.is_visible()  # the bot reply, shown as text
    assert page.get_by_text(f"{XSS}worker").count() >= 2  # worker table and turn viewer
    assert page.locator("img").count() == 0  # never parsed as markup
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert page.errors == []
    assert dialogs == []
