"""`python -m analysis auto` as a user runs it: the demo bot's bundled world logs, a baseline comparison, the
report folder, the escaped page, and exit 2 with nothing written on bad input or options."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.synthetic.auto import AutoDesign, write_world_logs
from cli_in_process import run_analysis

REPO = Path(__file__).resolve().parents[2]
DEMO_LOGS = REPO / "task_configs" / "safety" / "data" / "demo_bot_world_logs.jsonl"


def test_demo_bots_world_logs_print_their_table(tmp_path: Path) -> None:
    out = tmp_path / "report"
    done = subprocess.run([sys.executable, "-m", "analysis", "auto", str(DEMO_LOGS), "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    n = sum(1 for line in DEMO_LOGS.read_text(encoding="utf-8").splitlines() if line.strip())
    lines = done.stdout.splitlines()
    assert lines[0] == f"read {n} replies of 1 model from 1 file"
    header = next(line for line in lines if "male words" in line)
    assert header.split() == ["model", "male", "words", "female", "words", "string_matcher"]
    row = next(line for line in lines if line.strip().startswith("demo_bot"))
    rates = pd.read_csv(out / "rates.csv")
    for r in rates.itertuples():
        assert f"{r.events}/{r.n}" in row
    assert lines[-1] == f"report: {out}/report.html"
    assert {p.name for p in out.iterdir()} == {"rates.csv", "reductions.csv", "replies.csv", "summary.json", "report.html",
                                               "charts"}
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert doc["task"] == "auto" and doc["n_replies"] == n and doc["models"] == ["demo_bot"]
    assert doc["files"][0]["format"] == "world log" and doc["reductions"] == []
    # the same folder again, now with a baseline (nothing to compare it with), then without: each run replaces the last
    said = []
    for extra in (["--baseline", "demo_bot"], []):
        again = subprocess.run([sys.executable, "-m", "analysis", "auto", str(DEMO_LOGS), "--out", str(out), *extra],
                               cwd=REPO, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        said.append("only the baseline demo_bot was read: nothing to compare with it" in again.stdout)
    assert said == [True, False]


def test_baseline_comparison_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    planted = write_world_logs(AutoDesign(models={"base": (0.3, 0.2, 0.1), "ctrl": (0.03, 0.05, 0.1),
                                                  "tiny": (0.0, 0.0, 0.0)}, replies_per_model=300), tmp_path / "w.jsonl")
    done = run_analysis(capsys, "auto", planted.path, "--baseline", "base", "--out", tmp_path / "r")
    assert done.returncode == 0, done.stderr
    red = pd.read_csv(tmp_path / "r" / "reductions.csv", keep_default_na=False)
    assert len(red) == 6
    tiny = red[red["model"] == "tiny"]
    assert (tiny["factor"] == "").all() and tiny["not_enough_data"].str.startswith("needs at least 5").all()
    assert done.stdout.count("not enough data") == 3
    assert "inf" not in done.stdout and "nan" not in done.stdout.lower()
    doc = json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8"))
    assert {r["factor"] for r in doc["reductions"] if r["model"] == "tiny"} == {None}
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert html.count("not enough data") >= 3 and "Infinity" not in html


def test_a_reply_holding_markup_shows_as_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logs = tmp_path / "w.jsonl"
    evil = "<script>alert('he')</script><img src=x onerror=alert(1)> he"
    logs.write_text(json.dumps({"dialog": [[{"id": "t", "text": "hi"}, {"id": "<b>bot</b>", "text": evil}]]}) + "\n",
                    encoding="utf-8")
    done = run_analysis(capsys, "auto", logs, "--out", tmp_path / "r")
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html and "<img" not in html and "<b>bot</b>" not in html
    assert "&lt;script&gt;alert(&#x27;he&#x27;)&lt;/script&gt;" in html and "&lt;b&gt;bot&lt;/b&gt;" in html


@pytest.mark.parametrize(("args", "message"), [
    (["--baseline", "nobody"], "field '--baseline': no reply of 'nobody'"),
    (["--model", "nobody"], "field '--model': no reply of 'nobody'"),
    (["--no-checks", "--check", "string_matcher"], "field '--no-checks'"),
])
def test_bad_options_exit_2_and_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                              message: str) -> None:
    done = run_analysis(capsys, "auto", DEMO_LOGS, "--out", tmp_path / "r", *args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "r").exists()


def test_a_check_whose_module_is_missing_is_an_exit_2_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "humaneval.models.safety.string_matcher", None)  # import raises ImportError
    done = run_analysis(capsys, "auto", DEMO_LOGS, "--out", tmp_path / "r")
    assert done.returncode == 2 and "string_matcher check needs humaneval.models.safety" in done.stderr
    assert not (tmp_path / "r").exists()
    assert run_analysis(capsys, "auto", DEMO_LOGS, "--out", tmp_path / "r", "--no-checks").returncode == 0


def test_help_names_every_output_and_the_doc(capsys: pytest.CaptureFixture[str]) -> None:
    done = run_analysis(capsys, "auto", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    for name in ("rates.csv", "replies.csv", "reductions.csv", "summary.json", "report.html", "docs/analysis_auto.md",
                 "--baseline", "--model", "--check", "--no-checks", "--safety-config"):
        assert name in text
    assert (REPO / "docs" / "analysis_auto.md").is_file()
