"""`python -m analysis safety` end to end (subprocess): files, summary.json (docs/formats.md, section 'Analysis reports'), escaping, browser."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.synthetic.safety import SafetyStudy, careful_confusion, simulate, spammer_confusion

XSS = "<img src=x onerror=alert(1)>"


def study_records() -> list[dict]:
    """Three models (one named with markup), gold items, an excluded worker, an onboarding record, reply text."""
    study = SafetyStudy(
        bucket_shares={"calm_bot": [0.85, 0.1, 0.03, 0.02], "edgy_bot": [0.3, 0.2, 0.25, 0.25], XSS: [0.6, 0.2, 0.1, 0.1]},
        confusions=[careful_confusion(a) for a in (0.95, 0.9, 0.9, 0.85, 0.8)] + [spammer_confusion()],
        items_per_model=40, labels_per_item=(3, 3), gold_items=12, excluded_workers=(5,),
    )
    recs = simulate(study).records
    # the reply text goes on the first item of the markup-named model whose counted labels disagree: only disputed
    # items are shown in the viewer
    by_item: dict[str, set[str]] = {}
    for r in recs:
        if r["model"] == XSS and not r["is_gold"] and not r.get("excluded"):
            by_item.setdefault(r["item_id"], set()).add(r["label"])
    shown = next(i for i, got in by_item.items() if len(got) > 1)
    for r in recs:
        if r["worker_id"] == "w1":
            r["worker_id"] = f"w1{XSS}"
        if r["item_id"] == shown:
            r["text"], r["context"], r["reason"] = f"reply {XSS}", ["hello", XSS], XSS
    recs.append({"task": "safety", "is_onboarding": True, "worker_id": "w0", "label": "ok"})
    return recs


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("safety_report")
    data = folder / "labels.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in study_records()), encoding="utf-8")
    out = folder / "out"
    done = subprocess.run([sys.executable, "-m", "analysis", "safety", "--labels", str(data), "--out", str(out)],
                          check=True, capture_output=True, text=True)
    assert "calm_bot" in done.stdout and done.stderr == ""
    return out


def test_help_lists_every_option() -> None:
    done = subprocess.run([sys.executable, "-m", "analysis", "safety", "--help"], check=True, capture_output=True, text=True)
    for option in ("--labels", "--out", "--include-excluded", "--gold-threshold", "--min-gold", "--ds-smoothing",
                   "--ds-tol", "--ds-max-iter"):
        assert option in done.stdout


def test_all_files_written(report: Path) -> None:
    assert {p.name for p in report.iterdir() if p.is_file()} == {  # the shared writer may add a charts/ folder
        "models.csv", "comparisons.csv", "items.csv", "gold_items.csv", "workers.csv", "worker_confusion.csv",
        "agreement.csv", "labels.csv", "summary.json", "report.html"}
    assert len(pd.read_csv(report / "items.csv")) == 120 and len(pd.read_csv(report / "gold_items.csv")) == 12


def test_summary_shape(report: Path) -> None:
    s = json.loads((report / "summary.json").read_text())
    assert s["task"] == "safety" and s["excluded_workers"] == ["w5"] and s["n_onboarding_records"] == 1
    assert [m["model"] for m in s["models"]] == sorted(["calm_bot", "edgy_bot", XSS])
    models = pd.read_csv(report / "models.csv").set_index("model")
    for m in s["models"]:
        assert {"model", "n", "unsafe_rate", "ci_wilson"} <= set(m)
        lo, hi = m["ci_wilson"]
        assert lo <= m["unsafe_rate"] <= hi
        assert m["n"] == models.loc[m["model"], "n"] and m["unsafe"] == models.loc[m["model"], "unsafe"]
    by_model = {m["model"]: m for m in s["models"]}
    assert by_model["edgy_bot"]["majority"]["unsafe_rate"] > by_model["calm_bot"]["majority"]["unsafe_rate"]
    assert all(p["model_a"] < p["model_b"] for p in s["pairs"]) and len(s["pairs"]) == 3
    calm_edgy = next(p for p in s["pairs"] if {p["model_a"], p["model_b"]} == {"calm_bot", "edgy_bot"})
    assert calm_edgy["p_holm"] < 0.05
    assert s["dawid_skene"]["converged"] and sum(s["dawid_skene"]["prior"].values()) == pytest.approx(1.0)


def test_html_is_self_contained_and_escaped(report: Path) -> None:
    html = (report / "report.html").read_text()
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")


def test_include_excluded_changes_the_counts(report: Path, tmp_path: Path) -> None:
    data = report.parent / "labels.jsonl"
    out = tmp_path / "kept"
    subprocess.run([sys.executable, "-m", "analysis", "safety", "--labels", str(data), "--out", str(out),
                    "--include-excluded"], check=True, capture_output=True, text=True)
    kept = json.loads((out / "summary.json").read_text())
    default = json.loads((report / "summary.json").read_text())
    assert kept["include_excluded"] and kept["n_labels"] > default["n_labels"]
    assert kept["n_labels"] == sum(m["n"] for m in kept["models"])


@pytest.mark.browser
def test_report_opens_without_errors_and_shows_markup_as_text(page, report: Path, tmp_path: Path) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto((report / "report.html").as_uri())
    page.wait_for_load_state("load")
    assert page.title() == "Human safety evaluation report"
    assert page.locator("svg.chart").count() >= 4
    page.locator("details.pair").first.click()
    assert page.get_by_text(f"reply {XSS}").count() == 1  # the reply text of the item, shown as text
    assert page.get_by_text(f"w1{XSS}").count() >= 1  # worker id in the worker table
    assert page.locator("img").count() == 0
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert page.errors == [] and dialogs == []
