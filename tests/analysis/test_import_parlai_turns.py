"""`analysis import parlai-model-chat` and `parlai-turn-annotations` on ParlAI's own test fixtures.

The numbers ParlAI's analysis printed for these fixtures (tests/fixtures/parlai/*/README.md, copied from
ParlAI's expected outputs) are recomputed here directly from the imported records, without the importers'
code, and compared as ParlAI formats them. Every bad input exits 2 with a located message and writes nothing.
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa

from analysis.__main__ import main
from analysis.bad.records import load_bad_labels
from analysis.safety.records import load_safety_labels

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "parlai"
MODEL_CHAT = FIXTURES / "model_chat"
STATIC = FIXTURES / "turn_annotations_static" / "analysis_samples"
IN_FLIGHT = STATIC / "onboarding_in_flight.jsonl"
BUCKETS = ["bucket_0", "bucket_1", "bucket_2", "bucket_3", "bucket_4", "none_all_good"]

#: ParlAI's printed model_chat statistics for the three *_live.json (with_personas_and_buckets__test_stdout.txt)
PARLAI_MODEL_CHAT = """\
bucket_0: 1 (4.76%)
bucket_1: 1 (4.76%)
bucket_2: 0 (0.00%)
bucket_3: 0 (0.00%)
bucket_4: 1 (4.76%)
none_all_good: 18 (85.71%)
total: 21 (100.00%)
Average Engaging-ness Rating: 2.3333333333333335 (3 ratings)
count_convos: 3
convo_clean: 1 (33.33%)"""

#: ParlAI's printed turn_annotations_static bucket statistics (test_turn_annotations_static_analysis/test_stdout.txt)
PARLAI_STATIC = """\
Bucket: bucket_0, total unique problem utterances: 1 (50.0% of all), one annotator: 1 (100.0%), two_annotators: 0 (0.0%), three+ annotators: 0 (0.0%)
Bucket: bucket_4, total unique problem utterances: 1 (50.0% of all), one annotator: 0 (0.0%), two_annotators: 1 (100.0%), three+ annotators: 0 (0.0%)
Bucket: none_all_good, total unique problem utterances: 1 (50.0% of all), one annotator: 1 (100.0%), two_annotators: 0 (0.0%), three+ annotators: 0 (0.0%)
Bucket: any_problem, total unique problem utterances: 2 (100.0% of all), one annotator: 1 (50.0%), two_annotators: 1 (50.0%), three+ annotators: 0 (0.0%)"""
PARLAI_FILTERS = ["--drop-none-with-problem", "--annotations-per-item", "3", "--in-flight-qa", str(IN_FLIGHT)]


def run_import(source: str, inputs: list[Path], out: Path, *options: str) -> list[dict[str, Any]]:
    assert main(["import", source, *map(str, inputs), "--out", str(out), *options]) == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def static_import(tmp_path: Path, *options: str) -> list[dict[str, Any]]:
    return run_import("parlai-turn-annotations", [STATIC], tmp_path / "labels.jsonl", "--model", "self_chat", *options)


# ---- model_chat ----------------------------------------------------------------------------------------------

def parlai_model_chat_lines(records: list[dict[str, Any]]) -> str:
    """ParlAI's per-model printout, recomputed from our records (every record here is one annotated bot turn)."""
    total = len(records)
    lines = [f"{b}: {n} ({n / total:.2%})" for b in BUCKETS for n in [sum(r["buckets"][b] for r in records)]]
    lines.append(f"total: {total} ({1:.2%})")
    ratings = {r["conversation_id"]: r["rating"] for r in records}
    mean = sum(ratings.values()) / len(ratings)
    lines.append(f"Average Engaging-ness Rating: {mean} ({len(ratings)} ratings)")
    lines.append(f"count_convos: {len(ratings)}")
    clean = len(ratings) - len({r["conversation_id"] for r in records if r["label"] == "__notok__"})
    lines.append(f"convo_clean: {clean} ({clean / len(ratings):.2%})")
    return "\n".join(lines)


def test_model_chat_reproduces_parlai_bucket_rates_and_mean_rating(tmp_path: Path) -> None:
    records = run_import("parlai-model-chat", [MODEL_CHAT], tmp_path / "turns.jsonl")
    assert parlai_model_chat_lines(records) == PARLAI_MODEL_CHAT


def test_model_chat_records_carry_both_file_shapes(tmp_path: Path) -> None:
    records = run_import("parlai-model-chat", [MODEL_CHAT], tmp_path / "turns.jsonl")
    by_conv = defaultdict(list)
    for r in records:
        by_conv[r["conversation_id"]].append(r)
    old, new = by_conv["ASSIGNMENT_ID_1"], by_conv["ASSIGNMENT_ID_2"]
    assert {r["model"] for r in old} == {"model_name"} and {r["model"] for r in new} == {"blender_90M"}
    assert [r["turn_index"] for r in old] == [1, 3, 5, 7, 9, 11, 13]
    assert [r["bot_turn_number"] for r in old] == [1, 2, 3, 4, 5, 6, 7]
    assert [r["label"] for r in old] == ["__notok__", "__ok__", "__ok__", "__ok__", "__notok__", "__ok__", "__ok__"]
    assert {r["rating"] for r in old} == {1} and {r["rating"] for r in new} == {5}  # inside problem_data / beside it
    assert old[0]["text"] == "Utterance placeholder line 1 0" and old[0]["worker_id"] == "WORKER_1"
    assert "turn_idx" not in old[0]["buckets"] and old[0]["buckets"]["bucket_4"] is True
    assert {r["conversation_status"] for r in records} == {"complete"}
    assert all(r["safety"] == {} and r["started_at"] is None and r["submitted_at"] is None for r in records)


def test_model_chat_live_task_file_without_none_bucket_or_rating(tmp_path: Path) -> None:
    records = run_import("parlai-model-chat", [MODEL_CHAT / "final_chat_data.json"], tmp_path / "turns.jsonl")
    assert len(records) == 6
    assert {r["label"] for r in records} == {"__notok__"}  # bucket_2 and bucket_4 ticked on every turn
    assert {r["model"] for r in records} == {"blender/blender_90M"}
    assert {r["rating"] for r in records} == {None}
    assert set(records[0]["buckets"]) == {"bucket_0", "bucket_1", "bucket_2", "bucket_3", "bucket_4"}


def test_model_chat_reads_back_through_the_bad_reader(tmp_path: Path) -> None:
    out = tmp_path / "turns.jsonl"
    records = run_import("parlai-model-chat", [MODEL_CHAT], out)
    labels = load_bad_labels([out])
    assert labels.n_conversations == 3 and len(labels.turns) == 21
    assert labels.buckets.as_dicts() == [r["buckets"] for r in records]
    assert int(labels.turns["notok"].sum()) == 3
    assert labels.turns.groupby("conv")["rating"].first().mean() == pytest.approx(7 / 3)


def test_model_chat_nothing_ticked_is_ok_and_none_with_problem_is_an_option(tmp_path: Path, capsys) -> None:
    data = json.loads((MODEL_CHAT / "2020_12_29" / "20201229_173200_2_live.json").read_text())
    data["dialog"][3]["problem_data"] = {b: False for b in BUCKETS}
    data["dialog"][5]["problem_data"] = {**{b: False for b in BUCKETS}, "bucket_3": True, "none_all_good": True}
    path = tmp_path / "x_live.json"
    path.write_text(json.dumps(data))
    records = run_import("parlai-model-chat", [path], tmp_path / "a.jsonl")
    labels = {r["turn_index"]: r["label"] for r in records}
    assert labels[3] == "__ok__" and labels[5] == "__notok__"
    printed = capsys.readouterr().out
    assert "1 bot turns had no bucket ticked: imported as OK" in printed
    dropped = run_import("parlai-model-chat", [path], tmp_path / "b.jsonl", "--drop-none-with-problem")
    assert 5 not in {r["turn_index"] for r in dropped} and len(dropped) == len(records) - 1
    renamed = run_import("parlai-model-chat", [path], tmp_path / "c.jsonl", "--ok-bucket", "bucket_3")
    assert {r["turn_index"]: r["label"] for r in renamed}[5] == "__notok__"  # none_all_good now counts as a problem
    assert {r["turn_index"]: r["label"] for r in renamed}[1] == "__notok__"  # bucket_1 ticked
    assert {r["turn_index"]: r["label"] for r in renamed}[7] == "__notok__"  # none_all_good ticked


def test_model_chat_incomplete_file_name_marks_the_conversation(tmp_path: Path) -> None:
    path = tmp_path / "20201229_173200_2_incomplete_live.json"
    shutil.copy(MODEL_CHAT / "2020_12_29" / "20201229_173200_2_live.json", path)
    records = run_import("parlai-model-chat", [tmp_path], tmp_path / "out.jsonl")
    assert {r["conversation_status"] for r in records} == {"incomplete"}


# ---- turn_annotations_static ---------------------------------------------------------------------------------

def parlai_static_lines(records: list[dict[str, Any]]) -> str:
    """ParlAI's per-bucket printout, recomputed from the records that count (not excluded)."""
    counted = [r for r in records if not r["excluded"]]
    ticks: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in counted:
        for b in BUCKETS:
            ticks[b][r["item_id"]] += r["buckets"][b]
        ticks["any_problem"][r["item_id"]] += r["label"] == "not_ok"
    lines = []
    for bucket in BUCKETS + ["any_problem"]:
        per_item = list(ticks[bucket].values())
        one, two, three = (sum(n == 1 for n in per_item), sum(n == 2 for n in per_item), sum(n >= 3 for n in per_item))
        problems = one + two + three
        if problems:
            lines.append(f"Bucket: {bucket}, total unique problem utterances: {problems} ({problems / len(per_item):.1%} "
                         f"of all), one annotator: {one} ({one / problems:.1%}), two_annotators: {two} "
                         f"({two / problems:.1%}), three+ annotators: {three} ({three / problems:.1%})")
    return "\n".join(lines)


def test_static_reproduces_parlai_bucket_rates(tmp_path: Path) -> None:
    records = static_import(tmp_path, *PARLAI_FILTERS)
    assert parlai_static_lines(records) == PARLAI_STATIC


def test_static_filters_count_as_parlai_printed(tmp_path: Path) -> None:
    """8 annotations; 'Now have 7'; '6 annotations remaining'; 'bot_only_df: 4'; 'summed_df has length 2'."""
    check = ["--in-flight-qa", str(IN_FLIGHT)]
    assert len(static_import(tmp_path)) == 12  # the in-flight check subtask too, when its file is not given
    assert len(static_import(tmp_path, *check)) == 8
    assert len(static_import(tmp_path, *check, "--drop-none-with-problem")) == 7
    assert len(static_import(tmp_path, *check, "--drop-none-with-problem", "--annotations-per-item", "3")) == 6
    records = static_import(tmp_path, *PARLAI_FILTERS)
    counted = [r for r in records if not r["excluded"]]
    assert len(counted) == 4 and len({r["item_id"] for r in counted}) == 2
    excluded = [r for r in records if r["excluded"]]
    assert {r["worker_id"] for r in excluded} == {"3"}  # ticked none_all_good on the check: 0 of 2 expected buckets
    assert excluded[0]["excluded_reason"] == "in-flight check score 0.00 below the threshold 0.5"


def test_static_times_reproduce_parlai_mean_completion_time(tmp_path: Path) -> None:
    records = static_import(tmp_path)
    seconds = {r["unit_id"]: r["submitted_at"] - r["started_at"] for r in records}
    assert len(seconds) == 4 and sum(seconds.values()) / len(seconds) == 187.5  # ParlAI: 187.5


def test_static_records_fields(tmp_path: Path) -> None:
    records = static_import(tmp_path)
    first = next(r for r in records if r["item_id"] == "1_0_5" and r["worker_id"] == "2")
    assert first["label"] == "not_ok" and first["buckets"]["bucket_0"] is True
    assert first["model"] == "self_chat" and first["is_gold"] is False and first["gold_label"] is None
    assert first["text"] == "Line 1/0/5" and first["reason"] == ""
    assert first["context"] == ["YOU: Line 1/0/0", "THEM: Line 1/0/1", "YOU: Line 1/0/2", "THEM: Line 1/0/3",
                                "YOU: Line 1/0/4"]
    # without --in-flight-qa the check subtask is imported too (as ParlAI's file does not mark it)
    assert {r["reason"] for r in records if r["position"] == 2} == {"Reason 1"}


def test_static_parlai_fleiss_kappa_is_wrong_as_documented(tmp_path: Path) -> None:
    """docs/migrating_from_parlai.md: ParlAI's κ for bucket_0 (-0.410) counts every utterance as an item; over the
    annotated utterances with 3 labels (statsmodels' Fleiss κ) it is -0.20."""
    records = static_import(tmp_path, "--in-flight-qa", str(IN_FLIGHT))  # ParlAI's κ applies none of its filters
    ticks: dict[str, list[bool]] = defaultdict(list)
    for r in records:
        ticks[r["item_id"]].append(r["buckets"]["bucket_0"])
    table = np.array([[sum(v), len(v) - sum(v)] for v in ticks.values() if len(v) == 3])
    assert round(float(statsmodels_fleiss_kappa(table, method="fleiss")), 3) == -0.2
    # ParlAI's formula: N is every utterance of the annotated conversations, human ones included
    n_items = sum(len(r["context"]) + 1 for r in {r["conversation_id"]: r for r in records}.values())
    raters, cells = 3, table.sum()
    p_e = sum((table[:, j].sum() / (n_items * raters)) ** 2 for j in range(2))
    p_bar = ((table ** 2).sum() - n_items * raters) / (n_items * raters * (raters - 1))
    assert cells == 6 and n_items == 24
    assert f"{(p_bar - p_e) / (1 - p_e):0.3f}" == "-0.410"  # "Fleiss' kappa for bucket_0 is: -0.410."


def test_static_reads_back_through_the_safety_reader(tmp_path: Path) -> None:
    out = tmp_path / "labels.jsonl"
    records = run_import("parlai-turn-annotations", [STATIC], out, "--model", "self_chat", *PARLAI_FILTERS)
    labels = load_safety_labels([out])
    assert len(labels) == len(records) == 6
    assert labels.buckets.as_dicts() == [r["buckets"] for r in records]
    assert int(labels.excluded.sum()) == 2


# ---- bad input ------------------------------------------------------------------------------------------------

def _live(tmp_path: Path, change) -> Path:
    data = json.loads((MODEL_CHAT / "2020_12_29" / "20201229_173200_2_live.json").read_text())
    change(data)
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / "bad_live.json"
    path.write_text(json.dumps(data, indent=4))
    return path


def _unit(tmp_path: Path, change) -> Path:
    data = json.loads((STATIC / "1" / "1" / "agent_data.json").read_text())
    change(data)
    path = tmp_path / "9" / "8" / "agent_data.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data))
    return path


def _set(path: list[Any], value: Any):
    def change(data: Any) -> None:
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value
    return change


MODEL_CHAT_BAD = {
    "bucket not a checkbox": (_set(["dialog", 1, "problem_data", "bucket_0"], "yes"), "dialog[1].problem_data.bucket_0"),
    "agent_idx a string": (_set(["dialog", 1, "agent_idx"], "1"), "dialog[1].agent_idx"),
    "rating out of range": (_set(["dialog", 13, "final_rating"], "7"), "dialog[13].final_rating"),
    "problem_data a list": (_set(["dialog", 1, "problem_data"], [True]), "dialog[1].problem_data"),
    "no worker": (_set(["workers"], []), "workers"),
    "dialog missing": (_set(["dialog"], None), "dialog"),
    "model nickname empty": (_set(["task_description", "model_nickname"], ""), "task_description.model_nickname"),
    "blank bucket name": (_set(["dialog", 1, "problem_data", " "], False), "dialog[1].problem_data. "),
}
STATIC_BAD = {
    "bucket not a checkbox": (_set(["outputs", "final_data", 0, "data", 5, "bucket_0"], "yes"),
                              "outputs.final_data[0].data[5].bucket_0"),
    "half-answered buckets": (_set(["outputs", "final_data", 0, "data", 5, "bucket_3"], None), "outputs.final_data[0].data[5]"),
    "utterance without text": (_set(["outputs", "final_data", 1, "data", 2, "text"], 3), "outputs.final_data[1].data[2]"),
    "final_data not a list": (_set(["outputs", "final_data"], {}), "outputs"),
    "reason a number": (_set(["outputs", "final_data", 0, "data", 5, "input_reason"], 4), "outputs.final_data[0].data[5].input_reason"),
    "time a string": (_set(["times", "task_end"], "late"), "task_end"),
    "end before start": (_set(["times"], {"task_start": 1700000100, "task_end": 1700000000}), "task_end"),
    "agent_idx true": (_set(["outputs", "final_data", 0, "data", 0, "agent_idx"], True), "outputs.final_data[0].data[0]"),
    "blank bucket name": (_set(["outputs", "final_data", 0, "data", 5, " "], False), "outputs.final_data[0].data[5]. "),
}


def _refused(argv: list[str], out: Path, capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    return err


@pytest.mark.parametrize("case", MODEL_CHAT_BAD)
def test_model_chat_bad_input_exits_2_located(case: str, tmp_path: Path, capsys) -> None:
    change, field = MODEL_CHAT_BAD[case]
    path, out = _live(tmp_path, change), tmp_path / "out.jsonl"
    err = _refused(["import", "parlai-model-chat", str(path), "--out", str(out)], out, capsys)
    assert str(path) in err and f"field '{field}'" in err


@pytest.mark.parametrize("case", STATIC_BAD)
def test_static_bad_input_exits_2_located(case: str, tmp_path: Path, capsys) -> None:
    change, field = STATIC_BAD[case]
    path, out = _unit(tmp_path, change), tmp_path / "out.jsonl"
    err = _refused(["import", "parlai-turn-annotations", str(path), "--model", "m", "--out", str(out)], out, capsys)
    assert str(path) in err and f"field '{field}'" in err


def test_bad_files_and_options_exit_2_located(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.jsonl"
    broken = tmp_path / "broken_live.json"
    broken.write_text('{\n  "dialog": [\n    {"agent_idx": 0,, "text": "hi"}\n  ]\n}\n')
    assert f"{broken}:3:" in _refused(["import", "parlai-model-chat", str(broken), "--out", str(out)], out, capsys)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no *_live.json files in this folder" in _refused(["import", "parlai-model-chat", str(empty), "--out", str(out)], out, capsys)
    no_model = _live(tmp_path, lambda d: d.pop("task_description"))
    assert "--model" in _refused(["import", "parlai-model-chat", str(no_model), "--out", str(out)], out, capsys)
    unannotated = _live(tmp_path / "u", lambda d: [u.pop("problem_data", None) for u in d["dialog"]])
    assert "no bot turn carries problem_data" in _refused(
        ["import", "parlai-model-chat", str(unannotated), "--out", str(out)], out, capsys)
    other_check = tmp_path / "check.jsonl"
    other_check.write_text(json.dumps({"dialog": [[{"text": "a"}, {"text": "another check"}]], "answers": ["bucket_0"]}))
    err = _refused(["import", "parlai-turn-annotations", str(STATIC), "--model", "m", "--in-flight-qa", str(other_check),
                    "--out", str(out)], out, capsys)
    assert "field 'outputs.final_data[2]'" in err and "none of the --in-flight-qa checks" in err
    bad_check = tmp_path / "bad_check.jsonl"
    bad_check.write_text(json.dumps({"dialog": [[{"text": "a"}]], "answers": []}) + "\n")
    assert f"{bad_check}:1: field 'answers'" in _refused(
        ["import", "parlai-turn-annotations", str(STATIC), "--model", "m", "--in-flight-qa", str(bad_check),
         "--out", str(out)], out, capsys)
    assert "field '--annotations-per-item'" in _refused(
        ["import", "parlai-turn-annotations", str(STATIC), "--model", "m", "--annotations-per-item", "0",
         "--out", str(out)], out, capsys)
    assert "field '--in-flight-threshold'" in _refused(
        ["import", "parlai-turn-annotations", str(STATIC), "--model", "m", "--in-flight-threshold", "1.5",
         "--out", str(out)], out, capsys)


@pytest.mark.parametrize("source", ["parlai-model-chat", "parlai-turn-annotations"])
def test_an_ok_bucket_that_is_no_bucket_of_the_input_is_refused(source: str, tmp_path: Path, capsys) -> None:
    """A typo in --ok-bucket made every ticked turn NOT OK (21/21 on ParlAI's fixture), exit 0."""
    out = tmp_path / "out.jsonl"
    inputs = [str(MODEL_CHAT)] if source == "parlai-model-chat" else [str(STATIC), "--model", "m"]
    err = _refused(["import", source, *inputs, "--ok-bucket", "none_all_god", "--out", str(out)], out, capsys)
    assert "field '--ok-bucket'" in err and "'none_all_god' is no bucket of the input" in err
    assert "bucket_0, bucket_1, bucket_2, bucket_3, bucket_4, none_all_good" in err
    records = run_import(source, [Path(i) for i in inputs[:1]], out, *inputs[1:], "--ok-bucket", "bucket_0")
    assert {r["buckets"]["bucket_0"] for r in records if r["label"] in ("ok", "__ok__")} <= {True}


def _image_chat(annotated: bool) -> dict[str, Any]:
    """A model_image_chat conversation in the shape of ParlAI's expected state (final_chat_data__image_chat.json):
    an opening SYSTEM act carrying the image and style (agent_idx null), then worker and bot turns."""
    dialog: list[dict[str, Any]] = [
        {"text": "Obsessive", "image_id": "2923e28b6f588aff2d469ab2cccfac57", "id": "SYSTEM", "agent_idx": None,
         "episode_done": False},
        {"agent_idx": 1, "id": "TransresnetAgent", "text": "I must learn that bird's name!"}]
    for i in range(1, 4):
        dialog.append({"agent_idx": 0, "id": "Worker", "text": f"Response {i}"})
        bot: dict[str, Any] = {"agent_idx": 1, "id": "TransresnetAgent", "text": "My, aren't you a pretty bird?"}
        if annotated:
            bot["problem_data"] = {"bucket_0": i == 2, "none_all_good": i != 2}
        dialog.append(bot)
    dialog[-1]["final_rating"] = 3
    return {"dialog": dialog, "workers": ["w1"], "assignment_ids": ["1"], "hit_ids": ["1"],
            "task_description": {"model_nickname": "transresnet_multimodal", "annotations_config": None}}


def test_model_image_chat_conversations_import_with_the_image_act_as_context(tmp_path: Path, capsys) -> None:
    """`crowd export` points model_image_chat tasks here: the image act is context, not a malformed turn; a run
    without annotation buckets has no turn labels to carry over, and says so."""
    folder = tmp_path / "chats"
    folder.mkdir()
    (folder / "a_live.json").write_text(json.dumps(_image_chat(annotated=True), indent=2), encoding="utf-8")
    records = run_import("parlai-model-chat", [folder], tmp_path / "labels.jsonl")
    assert sorted((r["turn_index"], r["label"]) for r in records) == [(3, "__ok__"), (5, "__notok__"), (7, "__ok__")]
    assert {r["model"] for r in records} == {"transresnet_multimodal"} and "image context" in capsys.readouterr().out
    (folder / "a_live.json").write_text(json.dumps(_image_chat(annotated=False), indent=2), encoding="utf-8")
    err = _refused(["import", "parlai-model-chat", str(folder), "--out", str(tmp_path / "none.jsonl")],
                   tmp_path / "none.jsonl", capsys)
    assert "no bot turn carries problem_data" in err
