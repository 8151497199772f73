"""`python -m analysis import parlai-acute|pairwise-csv`: ParlAI's ACUTE unit data and results CSV, and any
pairwise CSV/JSONL with ties, become ACUTE judgements the analysis reads; every bad input exits 2 with a
located message and writes nothing.

The acceptance check runs ParlAI's own fixtures (tests/fixtures/parlai/acute, the "fast ACUTE on a dataset"
test run) through the importer and `python -m analysis acute`, and compares the significance table with
ParlAI's golden one (2–2, p = 1), and p with scipy's exact binomial test computed here. The results CSV has
no left side, so its records carry `left: null` (unknown), which the analysis keeps unknown.
"""

from __future__ import annotations

import contextlib
import csv
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from scipy.stats import binomtest

from analysis.__main__ import main
from tests.crowd.test_export_parlai_tasks import parlai_unit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "parlai" / "acute"
QUESTION = "Who would you prefer to talk to for a long conversation?"


def _state() -> dict[str, Any]:
    return json.loads((FIXTURES / "fast_acute_dataset_agent_data.json").read_text(encoding="utf-8"))


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _import(*argv: str) -> int:
    return main(["import", *argv])


def _refused(capsys: pytest.CaptureFixture[str], out: Path, *argv: str) -> str:
    """Run the import, which must exit 2 and write nothing; the error line."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        _import(*argv, "--out", str(out))
    assert exit_info.value.code == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def _significance_matches_parlai(records: Path, report: Path) -> None:
    """Our significance table for the imported run against ParlAI's golden one and scipy's exact test."""
    assert main(["acute", "--judgements", str(records), "--out", str(report)]) == 0
    [ours] = _csv(report / "significance.csv")
    [parlai] = _csv(FIXTURES / "test_significance_csv.csv")
    assert (ours["model_a"], ours["model_b"]) == (parlai["model1"], parlai["model2"])
    assert (int(ours["wins_a"]), int(ours["wins_b"])) == (int(parlai["numwins1"]), int(parlai["numwins2"])) == (2, 2)
    assert int(ours["n"]) == int(parlai["numratings"])
    assert float(ours["p_value"]) == pytest.approx(float(parlai["p"])) == binomtest(2, 4).pvalue


# ---------------------------------------------------------------- ParlAI unit data


def test_parlai_unit_data_reproduces_parlais_numbers_with_left_side_onboarding_and_times(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unit = parlai_unit(tmp_path / "mephisto", "fast_acute", _state(), task_name="acute_eval_test",
                       meta={"task_start": 1700000000.0, "task_end": 1700000100.0})
    out = tmp_path / "judgements.jsonl"
    assert _import("parlai-acute", str(tmp_path / "mephisto" / "data" / "runs"), "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert "wrote 5 acute records" in printed and "not carried over" not in printed
    records = _records(out)
    onboarding, *judged = records
    assert onboarding["is_onboarding"] is True and onboarding["onboarding_passed"] is True
    assert (onboarding["model_a"], onboarding["model_b"], onboarding["winner"]) == ("bad_model", "human_as_model",
                                                                                     "human_as_model")
    assert [r["pair_id"] for r in judged] == [45, 62, 21, 81]
    assert [r["winner"] for r in judged] == ["convai2_logs", "ed_logs", "convai2_logs", "ed_logs"]
    assert {r["left"] for r in judged} == {"convai2_logs"}  # ParlAI's task_specs.model_left
    assert {(r["worker_id"], r["unit_id"], r["task_run_id"], r["run_id"]) for r in records} == {
        ("MOCK_WORKER_0", unit.unit_id, unit.task_run_id, "acute_eval_test")}
    assert {(r["started_at"], r["submitted_at"]) for r in records} == {(1700000000.0, 1700000100.0)}
    assert judged[0]["dialogue_ids"] == [466, 566] and judged[0]["reason"] == "Makes more sense"
    assert [d["speakers"] for d in judged[0]["dialogue_dicts"]] == [["convai2_logs_as_human", "convai2_logs"],
                                                                    ["ed_logs_as_human", "ed_logs"]]
    _significance_matches_parlai(out, tmp_path / "report")


def test_a_failed_onboarding_old_times_and_unsubmitted_units(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """ParlAI scores the onboarding comparison against `correct_answer`; old Mephisto kept the times inside
    agent_data.json; a unit never submitted gives no judgements and is counted; --run-id overrides."""
    state = _state()
    state["outputs"]["final_data"][0]["speakerChoice"] = "bad_model"
    state["outputs"]["final_data"][2]["speakerChoice"] = ""  # no choice: skipped, as ParlAI does
    state["outputs"]["final_data"].append({"speakerChoice": "ed_logs", "textReason": "beyond the comparisons"})
    state["times"] = {"task_start": 10.0, "task_end": 70.5}
    data = tmp_path / "mephisto"
    parlai_unit(data, "acute_eval", state)
    parlai_unit(data, "acute_eval", {"inputs": state["inputs"], "outputs": None}, worker="w2", status="returned")
    out = tmp_path / "out.jsonl"
    assert _import("parlai-acute", str(data / "data" / "runs"), "--out", str(out), "--run-id", "pilot") == 0
    printed = capsys.readouterr().out
    assert "1 unit(s) were never submitted" in printed
    assert "1 comparison(s) have no speakerChoice" in printed and "1 answer(s) beyond" in printed
    records = _records(out)
    assert len(records) == 4 and records[0]["onboarding_passed"] is False
    assert {(r["run_id"], r["started_at"], r["submitted_at"]) for r in records} == {("pilot", 10.0, 70.5)}


def test_unit_data_outside_mephistos_tree_needs_the_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unit = parlai_unit(tmp_path / "mephisto", "fast_acute", _state())
    copied = tmp_path / "copy" / unit.unit_file.parent.name
    copied.mkdir(parents=True)
    shutil.copy(unit.unit_file, copied / "agent_data.json")
    out = tmp_path / "out.jsonl"
    err = _refused(capsys, out, "parlai-acute", str(copied))
    assert f"{copied / 'agent_data.json'}: field '--mephisto-db'" in err
    assert _import("parlai-acute", str(copied), "--mephisto-db", str(tmp_path / "mephisto" / "database.db"),
                   "--out", str(out)) == 0
    assert len(_records(out)) == 5
    out.unlink()
    renamed = tmp_path / "copy" / "999"
    copied.rename(renamed)
    err = _refused(capsys, out, "parlai-acute", str(renamed), "--mephisto-db", str(tmp_path / "mephisto" / "database.db"))
    assert "'999' is not an agent" in err


def _broken(state: dict[str, Any], change: str) -> dict[str, Any]:
    """The fixture's state with one thing wrong."""
    first = state["inputs"][1]
    if change == "choice":
        state["outputs"]["final_data"][1]["speakerChoice"] = "someone_else"
    elif change == "speakers":
        first["pairing_dict"]["speakers_to_eval"] = ["convai2_logs", "convai2_logs"]
    elif change == "task_specs":
        del first["task_specs"]
    elif change == "answers":
        state["outputs"]["final_data"] = state["outputs"]["final_data"][:2]
    elif change == "times":
        state["times"] = {"task_start": "yesterday", "task_end": 5}
    elif change == "left":
        first["task_specs"]["model_left"]["name"] = "human"
    elif change == "ours":
        state["inputs"] = {"comparisons": []}
    elif change == "pair_id":
        first["pair_id"] = [1]
    elif change == "tie_speaker":  # "tie" is our winner for a tie: its wins would read as ties
        first["pairing_dict"]["speakers_to_eval"] = ["tie", "ed_logs"]
        first["task_specs"]["model_left"]["name"] = "tie"
        state["outputs"]["final_data"][1]["speakerChoice"] = "tie"
    return state


@pytest.mark.parametrize(("change", "field"), [
    ("choice", "outputs.final_data[1].speakerChoice"), ("speakers", "inputs[1].pairing_dict.speakers_to_eval"),
    ("task_specs", "inputs[1].task_specs"), ("answers", "outputs.final_data"), ("times", "times.task_start"),
    ("left", "inputs[1].task_specs.model_left.name"), ("ours", "inputs"), ("pair_id", "inputs[1].pair_id"),
    ("tie_speaker", "inputs[1].pairing_dict.speakers_to_eval"),
])
def test_bad_unit_data_is_refused_naming_file_and_field(change: str, field: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    unit = parlai_unit(tmp_path / "mephisto", "fast_acute", _broken(_state(), change))
    err = _refused(capsys, tmp_path / "out.jsonl", "parlai-acute", str(unit.unit_file))
    assert f"{unit.unit_file}: field '{field}'" in err


def test_unit_data_of_another_blueprint_and_a_broken_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unit = parlai_unit(tmp_path / "mephisto", "model_chat_blueprint", _state())
    assert "blueprint type 'model_chat_blueprint', not ParlAI's ACUTE" in _refused(
        capsys, tmp_path / "out.jsonl", "parlai-acute", str(unit.unit_file))
    other = parlai_unit(tmp_path / "m2", "fast_acute", None)
    other.unit_file.write_text('{"inputs": [', encoding="utf-8")
    assert f"{other.unit_file}:1: invalid JSON" in _refused(capsys, tmp_path / "out.jsonl", "parlai-acute",
                                                             str(other.unit_file))


# ---------------------------------------------------------------- ParlAI's results CSV


def test_parlai_full_csv_reproduces_parlais_numbers_with_left_unknown(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "judgements.jsonl"
    assert _import("parlai-acute", str(FIXTURES / "test_full_csv.csv"), "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert "4 judgement(s) do not say which model was shown on the left" in printed
    assert "holds no onboarding answers" in printed
    records = _records(out)
    assert [(r["pair_id"], r["winner"], r["left"]) for r in records] == [
        ("45", "convai2_logs", None), ("62", "ed_logs", None), ("21", "convai2_logs", None), ("81", "ed_logs", None)]
    assert {(r["run_id"], r["worker_id"], r["unit_id"], r["question"]) for r in records} == {
        ("acute_eval_test", "MOCK_WORKER_0", "1", QUESTION)}
    assert {(r["started_at"], r["submitted_at"]) for r in records} == {(0.0, 0.0)}  # ParlAI's mock times: 0 s
    _significance_matches_parlai(out, tmp_path / "report")
    judged = _csv(tmp_path / "report" / "judgements.csv")
    assert [row["left"] for row in judged] == [""] * 4  # unknown stays unknown
    assert json.loads((tmp_path / "report" / "summary.json").read_text())["position_bias"]["n"] == 0


def test_a_csv_that_is_not_parlais_is_refused_with_the_pairwise_hint(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "run.full.csv"
    results.write_text("model_a,model_b,winner\nx,y,x\n", encoding="utf-8")
    err = _refused(capsys, tmp_path / "out.jsonl", "parlai-acute", str(results))
    assert f"{results}:1: field 'eval_choice_0'" in err and "pairwise-csv" in err
    rows = (FIXTURES / "test_full_csv.csv").read_text(encoding="utf-8").splitlines()
    results.write_text("\n".join([rows[0], rows[1].replace(",False,convai2", ",maybe,convai2")]) + "\n",
                       encoding="utf-8")
    assert f"{results}:2: field 'is_onboarding'" in _refused(capsys, tmp_path / "out.jsonl", "parlai-acute", str(results))


@pytest.mark.parametrize(("winner", "loser", "field"), [
    ("tie", "ed_logs", "winner"), ("model_a", "ed_logs", "winner"), ("convai2_logs", "convai2_logs", "loser"),
])
def test_parlai_csv_winner_and_loser_must_be_the_two_models(winner: str, loser: str, field: str, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """ParlAI writes model names in `winner` and `loser`; a side or tie spelling there is no ParlAI file."""
    header, first, *_ = (FIXTURES / "test_full_csv.csv").read_text(encoding="utf-8").splitlines()
    assert ",convai2_logs,ed_logs,convai2_logs,ed_logs," in first  # winner, loser, eval_choice_0, eval_choice_1
    results = tmp_path / "run.full.csv"
    results.write_text(header + "\n" + first.replace(",convai2_logs,ed_logs,convai2_logs,ed_logs,",
                                                     f",{winner},{loser},convai2_logs,ed_logs,") + "\n", encoding="utf-8")
    assert f"{results}:2: field '{field}'" in _refused(capsys, tmp_path / "out.jsonl", "parlai-acute", str(results))


def test_unit_data_and_the_runs_results_csv_in_one_import_are_refused(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """ParlAI's results CSV is made from the unit data: both in one import would count every judgement twice."""
    unit = parlai_unit(tmp_path / "mephisto", "fast_acute", _state())
    shutil.copy(FIXTURES / "test_full_csv.csv", unit.unit_file.parents[2] / "run.full.csv")
    err = _refused(capsys, tmp_path / "out.jsonl", "parlai-acute", str(tmp_path / "mephisto"))
    assert "holds both unit data" in err and "import one of them" in err


def test_a_wal_mode_database_is_read_with_its_log_and_its_folder_left_alone(tmp_path: Path) -> None:
    """SQLite opens a WAL database by creating -shm/-wal beside it; the import reads a copy, log included
    (a committed change still in the log is seen, which `immutable=1` would miss)."""
    unit = parlai_unit(tmp_path / "mephisto", "fast_acute", _state())
    db = tmp_path / "mephisto" / "database.db"
    with contextlib.closing(sqlite3.connect(db)) as writer:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("UPDATE workers SET worker_name = 'W_IN_THE_LOG'")
        writer.commit()
        before = sorted(p.name for p in db.parent.iterdir())
        assert "database.db-wal" in before
        out = tmp_path / "out.jsonl"
        assert _import("parlai-acute", str(unit.unit_file), "--out", str(out)) == 0
        assert sorted(p.name for p in db.parent.iterdir()) == before
    assert {r["worker_id"] for r in _records(out)} == {"W_IN_THE_LOG"}
    for name in ("database.db-wal", "database.db-shm"):  # a WAL database without its log and index
        (db.parent / name).unlink(missing_ok=True)
    before = sorted(p.name for p in db.parent.iterdir())
    assert _import("parlai-acute", str(unit.unit_file), "--out", str(out)) == 0
    assert sorted(p.name for p in db.parent.iterdir()) == before


# ---------------------------------------------------------------- any pairwise CSV / JSONL

ARENA = """model_a,model_b,winner,judge,tstamp,shown_left,question_id
gpt,llama,model_a,u1,1700000000,gpt,q1
gpt,llama,tie,u2,1700000010,llama,q1
llama,gpt,tie (bothbad),u1,1700000020,gpt,q2
llama,gpt,model_b,u3,2023-11-14T22:13:40+00:00,llama,q2
gpt,llama,llama,u3,1700000040,gpt,q3
"""
ARENA_OPTIONS = ("--column", "worker_id=judge", "--column", "submitted_at=tstamp", "--column", "left=shown_left",
                 "--column", "pair_id=question_id", "--question", "Which answer is better?")


def test_arena_style_csv_with_ties_and_both_bad(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    battles = tmp_path / "battles.csv"
    battles.write_text(ARENA, encoding="utf-8")
    out = tmp_path / "judgements.jsonl"
    assert _import("pairwise-csv", str(battles), *ARENA_OPTIONS, "--out", str(out)) == 0
    assert "5 judgement(s) have no start and end time" in capsys.readouterr().out  # one time only: unknown
    records = _records(out)
    assert [r["winner"] for r in records] == ["gpt", "tie", "both_bad", "gpt", "llama"]
    assert [r["left"] for r in records] == ["gpt", "llama", "gpt", "llama", "gpt"]
    assert [r["worker_id"] for r in records] == ["u1", "u2", "u1", "u3", "u3"]
    assert {r["run_id"] for r in records} == {"battles"} and records[0]["question"] == "Which answer is better?"
    assert main(["acute", "--judgements", str(out), "--out", str(tmp_path / "report")]) == 0
    [row] = _csv(tmp_path / "report" / "significance.csv")
    gpt_first = row["model_a"] == "gpt"
    assert (int(row["wins_a"]), int(row["wins_b"])) == ((2, 1) if gpt_first else (1, 2))
    assert (int(row["ties"]), int(row["both_bad"])) == (2, 1)  # `ties` counts both kinds
    assert float(row["win_rate_a"]) == pytest.approx((3 if gpt_first else 2) / 5)  # a tie is half a win


def test_jsonl_with_seconds_ids_and_its_own_spellings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [
        {"a": "m1", "b": "m2", "outcome": "A", "worker_id": 7, "started_at": 100, "seconds": 30, "pair_id": 3,
         "reason": "clearer", "question": "Which is more engaging?"},
        {"a": "m1", "b": "m2", "outcome": "Draw", "worker_id": "w8", "submitted_at": 200.5, "seconds": 0.5,
         "pair_id": 3, "question": "Which is more engaging?"},
        {"a": "m2", "b": "m1", "outcome": "BOTH BAD", "question": "Which is more engaging?"},
    ]
    path = tmp_path / "study.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert _import("pairwise-csv", str(tmp_path), "--column", "model_a=a", "--column", "model_b=b",
                   "--column", "winner=outcome", "--out", str(out), "--run-id", "r1") == 0
    printed = capsys.readouterr().out
    assert "1 judgement(s) name no worker" in printed and "1 judgement(s) name no pair" in printed
    records = _records(out)
    assert [(r["winner"], r["worker_id"], r["pair_id"], r["started_at"], r["submitted_at"]) for r in records] == [
        ("m1", "7", "3", 100.0, 130.0), ("tie", "w8", "3", 200.0, 200.5),
        ("both_bad", "study.jsonl:3", "study.jsonl:3", None, None)]
    assert records[0]["reason"] == "clearer" and records[1]["reason"] is None
    assert {r["run_id"] for r in records} == {"r1"}
    # the output, written into the input folder, is not read back as an input
    again = _import("pairwise-csv", str(tmp_path), "--column", "model_a=a", "--column", "model_b=b",
                    "--column", "winner=outcome", "--out", str(out), "--run-id", "r1")
    assert again == 0 and len(_records(out)) == 3


BAD_PAIRWISE = [
    # (file text, extra options, expected location, expected words)
    ("model_b,winner\nx,x\n", (), "t.csv:2: field 'model_a'", "missing"),
    ("model_a,model_b,winner\nx,y,z\n", (), "t.csv:2: field 'winner'", "must be 'x', 'y'"),
    ("model_a,model_b,winner\nx,x,x\n", (), "t.csv:2: field 'model_b'", "must differ"),
    ("model_a,model_b,winner\ntie,y,y\n", (), "t.csv:2: field 'model_a'", "may not be named 'tie'"),
    ("model_a,model_b,winner\nmodel_b,y,model_b\n", (), "t.csv:2: field 'winner'", "ambiguous"),
    ("model_a,model_b,winner,left\nx,y,x,z\n", (), "t.csv:2: field 'left'", "must be"),
    ("model_a,model_b,winner,started_at,submitted_at\nx,y,x,10,5\n", (), "t.csv:2: field 'submitted_at'", "earlier"),
    ("model_a,model_b,winner,started_at,seconds\nx,y,x,10,-1\n", (), "t.csv:2: field 'seconds'", "≥ 0"),
    ("model_a,model_b,winner,submitted_at\nx,y,x,2024-01-01T10:00\n", (), "t.csv:2: field 'submitted_at'", "UTC offset"),
    ("model_a,model_b,winner,started_at,submitted_at,seconds\nx,y,x,1,5,9\n", (), "t.csv:2: field 'seconds'", "says 9"),
    ("model_a,model_b,winner\nx,y,x\n", ("--question", ""), "t.csv:2: field 'question'", "no question"),
    ("model_a,model_b,winner\nx,y,x,extra\n", (), "t.csv:2", "4 cells"),
    ("model_a,model_a,winner\nx,y,x\n", (), "t.csv:1", "appears twice"),
    ("model_a,model_b,winner,question\nx,y,x,q\nx,y\n", (), "t.csv:3", "2 cells"),
    ("model_a,model_b,winner,question\nx,y,x,q\n", ("--column", "winner"), "field '--column'", "FIELD=NAME"),
    ("", (), "t.csv:1", "expected a header"),
    # a tie or both-bad spelling as a model name: "draw" winning would count as a win, "Both Bad" as a tie
    ("model_a,model_b,winner\ndraw,y,draw\n", (), "t.csv:2: field 'model_a'", "may not be named 'draw'"),
    ("model_a,model_b,winner\nx,Both  Bad,both bad\n", (), "t.csv:2: field 'model_b'", "may not be named 'Both  Bad'"),
    ("model_a,model_b,winner\nx,Tie,x\n", (), "t.csv:2: field 'model_b'", "may not be named 'Tie'"),
    # models b and a: winner "a" is model_b by name and model_a by side
    ("model_a,model_b,winner\nb,a,a\n", (), "t.csv:2: field 'winner'", "ambiguous"),
    ("model_a,model_b,winner\nx,A,a\n", (), "t.csv:2: field 'winner'", "ambiguous"),  # names A but for case
    ("model_a,model_b,winner,started_at,seconds\nx,y,x,1.7e308,1.7e308\n", (), "t.csv:2: field 'seconds'",
     "not a finite time"),
    ("model_a,model_b,winner,submitted_at,seconds\nx,y,x,-1.7e308,1.7e308\n", (), "t.csv:2: field 'seconds'",
     "not a finite time"),
    ("model_a,model_b,winner,question\nx,y,x,\n", ("--question", ""), "t.csv:2: field 'question'",
     "an empty 'question' cell"),
]


@pytest.mark.parametrize(("text", "options", "where", "words"), BAD_PAIRWISE)
def test_bad_pairwise_csv_is_refused_naming_file_line_and_column(
        text: str, options: tuple[str, ...], where: str, words: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    question = () if "--question" in options else ("--question", "Q?")
    err = _refused(capsys, tmp_path / "out.jsonl", "pairwise-csv", str(path), *question, *options)
    assert where in err and words in err


@pytest.mark.parametrize(("models", "winner", "expected"), [
    (("A", "B"), "A", "A"), (("A", "B"), "a", "A"), (("A", "B"), "model_b", "B"), (("a", "b"), "a", "a"),
    (("x", "b"), "b", "b"), (("B", "A"), "tie", "tie"), (("B", "A"), "model_a", "B"),
])
def test_side_spellings_are_ambiguous_only_when_they_disagree(models: tuple[str, str], winner: str, expected: str,
                                                              tmp_path: Path) -> None:
    """A side spelling naming a model is fine when both readings agree (model `A` first, winner `A`)."""
    path = tmp_path / "t.csv"
    path.write_text(f"model_a,model_b,winner\n{models[0]},{models[1]},{winner}\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert _import("pairwise-csv", str(path), "--question", "Q?", "--out", str(out)) == 0
    assert [r["winner"] for r in _records(out)] == [expected]


@pytest.mark.parametrize(("line", "field"), [
    ('{"model_a": ["x"], "model_b": "y", "winner": "y"}', "model_a"),
    ('{"model_a": "x", "model_b": "y", "winner": true}', "winner"),
    ('{"model_a": "x", "model_b": "y", "winner": "y", "reason": 5}', "reason"),
    ('{"model_a": "x", "model_b": "y", "winner": "y", "started_at": "soon", "submitted_at": 3}', "started_at"),
    ('{"model_a": "x", "model_b": "y", "winner": "y", "worker_id": {"id": 1}}', "worker_id"),
])
def test_wrong_types_in_jsonl_are_refused(line: str, field: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"model_a": "x", "model_b": "y", "winner": "x"}\n' + line + "\n", encoding="utf-8")
    err = _refused(capsys, tmp_path / "out.jsonl", "pairwise-csv", str(path), "--question", "Q?")
    assert f"t.jsonl:2: field '{field}'" in err


def test_unreadable_inputs_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"model_a,model_b,winner\nx,y,\xff\n")
    assert "t.csv:2: not UTF-8" in _refused(capsys, tmp_path / "out.jsonl", "pairwise-csv", str(path), "--question", "Q")
    path.write_bytes(b"model_a,model_b,winner\n" + b"x" * (4 * 1024 * 1024 + 10) + b"\n")
    assert "t.csv:2: line longer than 4 MiB" in _refused(capsys, tmp_path / "out.jsonl", "pairwise-csv", str(path))
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no *.csv or *.jsonl files" in _refused(capsys, tmp_path / "out.jsonl", "pairwise-csv", str(empty))
    path.write_text("model_a,model_b,winner\n", encoding="utf-8")
    assert "no pairwise-csv results found" in _refused(capsys, tmp_path / "out.jsonl", "pairwise-csv", str(path))
