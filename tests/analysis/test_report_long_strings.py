"""Report pages stay as wide as the screen whatever the input: a 10,000-character worker id, model name or
reason with no space once made the ACUTE, safety and BAD pages hundreds of thousands of pixels wide."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from analysis.acute import report as acute_report
from analysis.acute.records import load_acute_judgements
from analysis.acute.statistics import AcuteOptions, analyse_acute
from analysis.bad import report as bad_report
from analysis.bad.records import load_bad_labels
from analysis.bad.statistics import BadOptions, analyse_bad
from analysis.safety import report as safety_report
from analysis.safety.records import load_safety_labels
from analysis.safety.statistics import SafetyOptions, analyse_safety
from analysis.synthetic.acute import StudyDesign, simulate
from analysis.synthetic.bad import BadDesign, simulate_bad
from analysis.synthetic.safety import SafetyStudy, careful_confusion, spammer_confusion
from analysis.synthetic.safety import simulate as simulate_safety
from humaneval.jsonl import write_jsonl

LONG_WORKER, LONG_MODEL, LONG_TEXT = "W" * 10_000, "M" * 10_000, "R" * 10_000


def _acute(records: list[dict[str, Any]], long: bool) -> list[dict[str, Any]]:
    if long:
        for r in records:
            if r["worker_id"] == "w3":
                r["worker_id"], r["reason"] = LONG_WORKER, LONG_TEXT
            for key in ("model_a", "model_b", "left", "winner"):
                r[key] = LONG_MODEL if r[key] == "gamma" else r[key]
    return records


def _safety(records: list[dict[str, Any]], long: bool) -> list[dict[str, Any]]:
    for r in records:
        r["text"], r["context"] = "a reply", ["hello"]
        if long and r["worker_id"] == "w1":
            r["worker_id"], r["reason"], r["text"] = LONG_WORKER, LONG_TEXT, LONG_TEXT
        if long and r["model"] == "mid_bot":
            r["model"] = LONG_MODEL
    return records


def _bad(records: list[dict[str, Any]], long: bool) -> list[dict[str, Any]]:
    if long:
        for r in records:
            r["worker_id"] = LONG_WORKER if r["worker_id"] == "w2" else r["worker_id"]
            r["model"] = LONG_MODEL if r["model"] == "demo_bot" else r["model"]
            r["text"] = LONG_TEXT
    return records


def acute_page(folder: Path, long: bool) -> str:
    design = StudyDesign(strengths={"alpha": 0.0, "beta": 0.6, "gamma": 1.0}, n_judgements=120, n_workers=8,
                         n_pairs=30, with_dialogues=True, seed=2)
    write_jsonl(folder / "acute.jsonl", _acute(list(simulate(design).records()), long))
    return acute_report.render_html(analyse_acute(load_acute_judgements([folder / "acute.jsonl"]),
                                                 AcuteOptions(bootstrap_rounds=20)))


def safety_page(folder: Path, long: bool) -> str:
    study = SafetyStudy(bucket_shares={"calm_bot": [0.85, 0.1, 0.03, 0.02], "mid_bot": [0.6, 0.2, 0.1, 0.1]},
                        confusions=[careful_confusion(0.9)] * 4 + [spammer_confusion()], items_per_model=20, gold_items=6)
    write_jsonl(folder / "safety.jsonl", _safety(simulate_safety(study).records, long))
    return safety_report.render_html(analyse_safety(load_safety_labels([folder / "safety.jsonl"]), SafetyOptions()))


def bad_page(folder: Path, long: bool) -> str:
    write_jsonl(folder / "bad.jsonl", _bad(simulate_bad(BadDesign(seed=3, conversations_per_model=12)), long))
    return bad_report.render_html(analyse_bad(load_bad_labels([folder / "bad.jsonl"]), BadOptions(bootstrap_rounds=20)))


PAGES: dict[str, Callable[[Path, bool], str]] = {"acute": acute_page, "safety": safety_page, "bad": bad_page}


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, bool], Path]:
    """Each study's report page, from ordinary records and from records with 10,000-character strings."""
    out = {}
    for study, build in PAGES.items():
        for long in (False, True):
            folder = tmp_path_factory.mktemp(f"{study}_{'long' if long else 'normal'}")
            (folder / "report.html").write_text(build(folder, long), encoding="utf-8")
            out[study, long] = folder / "report.html"
    return out


@pytest.mark.parametrize("study", PAGES)
def test_long_words_are_breakable_and_chart_labels_cut(pages: dict[tuple[str, bool], Path], study: str) -> None:
    html = pages[study, True].read_text(encoding="utf-8")
    assert f"<span class='long'>{LONG_WORKER}</span>" in html
    # in the charts the name is cut to fit, with the whole of it in a tooltip
    assert re.search(rf"<text [^>]*><title>{LONG_MODEL}</title>M{{10,30}}…</text>", html)
    short = pages[study, False].read_text(encoding="utf-8")
    assert "class='long'" not in short and "…</text>" not in short


@pytest.mark.browser
@pytest.mark.parametrize("study", PAGES)
def test_page_is_never_wider_than_the_screen(page, pages: dict[tuple[str, bool], Path], study: str) -> None:
    for long in (False, True):
        page.goto(pages[study, long].as_uri())
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        for width in (1280, 420):
            page.set_viewport_size({"width": width, "height": 800})
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            assert scroll_width <= width + 2, (study, long, width, scroll_width)
            if long:  # a long id sits in a box a few lines high, not in a row thousands of pixels tall
                heights = page.evaluate("[...document.querySelectorAll('.long')].map(e => e.getBoundingClientRect().height)")
                assert heights and max(heights) < 80, (study, width, max(heights))
    assert page.errors == []
