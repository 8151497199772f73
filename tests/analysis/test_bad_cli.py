"""`python -m analysis bad` end to end, as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from analysis.synthetic.bad import BadDesign, simulate_bad, write_bad
from test_bad_records import bad_turn

REPO = Path(__file__).resolve().parents[2]
REPORT_FILES = {"models.csv", "pairs.csv", "survival.csv", "safety_layer.csv", "safety_layer_by_model.csv",
                "workers.csv", "conversations.csv", "notok_turns.csv", "labels.csv", "summary.json", "report.html", "charts"}


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "analysis", "bad", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_two_runs_end_to_end(tmp_path: Path) -> None:
    first = write_bad(BadDesign(seed=1), tmp_path / "run1.jsonl")
    second_records = [dict(r, run_id="second") for r in simulate_bad(BadDesign(seed=2))]
    second = tmp_path / "run2.jsonl"
    second.write_text("".join(json.dumps(r) + "\n" for r in second_records), encoding="utf-8")
    out = tmp_path / "report"
    done = run_cli("--labels", first, second, "--out", out, "--bootstrap-rounds", "200", "--seed", "3")
    assert done.returncode == 0, done.stderr
    assert {p.name for p in out.iterdir()} == REPORT_FILES
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    all_records = simulate_bad(BadDesign(seed=1)) + second_records
    complete = [r for r in all_records if r["conversation_status"] == "complete"]
    assert doc["runs"] == ["bad_sim", "second"] and doc["n_turns"] == len(complete)
    for m in doc["models"]:
        mine = [r for r in complete if r["model"] == m["model"]]
        assert m["n"] == len(mine) and m["fooled"] == sum(r["label"] == "__notok__" for r in mine)
        assert m["model"] in done.stdout
    assert doc["bootstrap_rounds"] == 200 and doc["seed"] == 3
    # same input and seed: the same report, byte for byte; the earlier report folder is replaced
    again = run_cli("--labels", first, second, "--out", out, "--bootstrap-rounds", "200", "--seed", "3")
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "summary.json").read_text(encoding="utf-8")) == doc
    everything = run_cli("--labels", first, second, "--out", tmp_path / "all", "--include-incomplete",
                         "--bootstrap-rounds", "0")
    assert everything.returncode == 0, everything.stderr
    doc_all = json.loads((tmp_path / "all" / "summary.json").read_text(encoding="utf-8"))
    assert doc_all["n_turns"] == len(all_records) and doc_all["excluded_incomplete_conversations"] == 0
    assert doc_all["models"][0]["ci_conversation_bootstrap"] == [None, None]


def test_bad_record_exits_2_naming_file_line_field_and_writes_nothing(tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    records = [bad_turn(), bad_turn(turn_index=3), bad_turn(turn_index=5, label="unsafe")]
    labels.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "report"
    done = run_cli("--labels", labels, "--out", out)
    assert done.returncode == 2
    assert f"{labels}:3: field 'label'" in done.stderr
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["labels.jsonl"]


def test_bad_option_exits_2(tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps(bad_turn()) + "\n", encoding="utf-8")
    done = run_cli("--labels", labels, "--out", tmp_path / "r", "--bootstrap-rounds", "-1")
    assert done.returncode == 2 and "--bootstrap-rounds" in done.stderr
    assert not (tmp_path / "r").exists()


def test_help_explains_every_option() -> None:
    done = run_cli("--help")
    assert done.returncode == 0
    for option in ("--labels", "--out", "--include-incomplete", "--bootstrap-rounds", "--seed",
                   "--same-label-turns", "--min-seconds-per-turn"):
        assert option in done.stdout
    listing = subprocess.run([sys.executable, "-m", "analysis", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert "bad" in listing.stdout and "fooled rates" in listing.stdout
