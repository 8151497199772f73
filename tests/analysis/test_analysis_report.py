"""The report folder end to end: files, summary.json shape (docs/formats.md, section 'Analysis reports'), grids, escaping."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis_record_factory import judgement
from cli_in_process import run_analysis

XSS = "<img src=x onerror=alert(1)>"


def dialogues(a: str, b: str, text: str) -> list[dict]:
    return [{"speakers": [m, "human_evaluator"], "dialogue": [{"id": "human_evaluator", "text": "hi"}, {"id": m, "text": text}]}
            for m in (a, b)]


def study_records() -> list[dict]:
    """Three models; 'loser_bot' never wins; workers judge shared pairs; one fails onboarding."""
    recs = []
    for i in range(40):
        w = f"w{i % 12}"  # 12 workers: at least MIN_WORKERS_FOR_WORKER_BOOTSTRAP, so worker intervals exist
        pair = i % 10
        a, b = ("alpha", "beta") if pair < 5 else ("beta", "loser_bot") if pair < 8 else ("alpha", "loser_bot")
        winner = a if (a == "alpha" and i % 5) or b == "loser_bot" else b
        recs.append(judgement(worker_id=w, unit_id=f"u{i}", pair_id=str(pair), model_a=a, model_b=b,
                              left=a if i % 2 else b, winner=winner, reason=XSS if i == 3 else "engaging",
                              dialogue_dicts=dialogues(a, b, XSS if pair == 3 else "I like tea."),
                              started_at=1000.0 + 60 * i, submitted_at=1030.0 + 60 * i))
    recs.append(judgement(worker_id="bad", onboarding_passed=False, unit_id="x", winner="beta"))
    recs.append(judgement(worker_id="w0", is_onboarding=True, pair_id="onb", model_a="human", model_b="idk_bot",
                          left="human", winner="human", unit_id="onb0"))
    return recs


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    data = folder / "judgements.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in study_records()))
    out = folder / "out"
    subprocess.run([sys.executable, "-m", "analysis", "acute", "--judgements", str(data), "--out", str(out),
                    "--bootstrap-rounds", "100"], check=True, capture_output=True, text=True)
    return out


def test_all_files_written(report: Path) -> None:
    names = {p.name for p in report.iterdir()}
    assert {"significance.csv", "grid.csv", "ratings_per_worker.csv", "ranking.csv", "workers.csv",
            "summary.json", "report.html"} <= names


def test_summary_shape(report: Path) -> None:
    s = json.loads((report / "summary.json").read_text())
    assert s["task"] == "acute"
    assert s["n_judgements"] == 40 and s["n_workers"] == 12
    assert s["excluded_workers"] == ["bad"]
    assert s["stars"]["correction"] == "holm"
    pairs = [(p["model_a"], p["model_b"]) for p in s["pairs"]]
    assert pairs == sorted(pairs) and all(a < b for a, b in pairs) and len(set(pairs)) == len(pairs) == 3
    for p in s["pairs"]:
        assert set(p) >= {"model_a", "model_b", "wins_a", "wins_b", "n", "win_rate_a", "p_value", "p_holm", "p_bh", "ci_wilson", "ci_cp"}
        assert p["wins_a"] + p["wins_b"] == p["n"]
        assert p["ci_wilson"][0] <= p["win_rate_a"] <= p["ci_wilson"][1]
    assert [r["rank"] for r in s["ranking"]] == [1, 2, 3]
    assert [r["model"] for r in s["ranking"]] == ["alpha", "beta", "loser_bot"]
    # loser_bot never wins: perfect separation, so the strengths are the ridge's and no interval is shown (an
    # interval around them was a degenerate number before the separation check)
    against_loser = sum(p["n"] for p in s["pairs"] if "loser_bot" in (p["model_a"], p["model_b"]))
    assert s["separation"] == [f"{{alpha, beta}} won all {against_loser} comparisons with loser_bot"]
    for r in s["ranking"]:
        assert set(r) >= {"model", "strength", "ci", "rank"} and r["ci"] is None and r["ci_plain"] is None
    assert "human" not in s["models"]  # onboarding-only models stay out


def test_grid_keeps_model_that_never_wins(report: Path) -> None:
    grid = pd.read_csv(report / "grid.csv", index_col=0)
    counts = pd.read_csv(report / "grid_counts.csv", index_col=0)
    assert list(grid.index) == list(grid.columns) == ["alpha", "beta", "loser_bot"]
    assert grid.loc["loser_bot", "alpha"] == 0.0 and grid.loc["alpha", "loser_bot"] == 1.0
    assert counts.loc["alpha", "beta"] == counts.loc["beta", "alpha"] == 20
    sig = pd.read_csv(report / "significance.csv")
    assert {"p_holm", "p_bh", "ci_wilson_low", "ci_cp_high", "cohens_h", "n_for_80_power", "stars_holm"} <= set(sig.columns)


def test_html_is_self_contained_and_escaped(report: Path) -> None:
    html = (report / "report.html").read_text()
    assert XSS not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("&lt;img src=x onerror=alert(1)&gt;") >= 3  # one reason, two dialogue turns
    fetchable = html.replace("xmlns='http://www.w3.org/2000/svg'", "")  # a namespace name, never fetched
    for external in ("http://", "https://", "<script", "src=", "url("):
        assert external not in fetchable.replace("src=x", "")


def test_existing_foreign_folder_is_refused(tmp_path: Path, report: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    data = tmp_path / "j.jsonl"
    data.write_text(json.dumps(judgement()) + "\n")
    proc = run_analysis(capsys, "acute", "--judgements", data, "--out", out)
    assert proc.returncode == 2 and (out / "thesis.tex").read_text() == "precious"


def test_pairings_file_feeds_the_viewer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "j.jsonl"
    data.write_text("".join(json.dumps(judgement(pair_id=str(i % 2), worker_id=f"w{i}", unit_id=str(i))) + "\n" for i in range(4)))
    pairings = tmp_path / "pairings.jsonl"
    pairings.write_text("".join(
        json.dumps({"is_onboarding": False, "speakers_to_eval": ["alpha", "beta"], "dialogue_ids": [i, i + 1],
                    "dialogue_dicts": dialogues("alpha", "beta", f"conversation number {i} & more")}) + "\n"
        for i in range(2)))
    out = tmp_path / "out"
    done = run_analysis(capsys, "acute", "--judgements", data, "--pairings", pairings, "--out", out, "--bootstrap-rounds", "20")
    assert done.returncode == 0, done.stderr
    html = (out / "report.html").read_text()
    assert "conversation number 0 &amp; more" in html and "conversation number 1 &amp; more" in html
