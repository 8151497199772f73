"""ACUTE launch inputs and unit data without a router: bad inputs stop the launch with exit code 2,
the page view never names a model, and a submission maps back to models as the export needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from humaneval.acute.bundled_data import EXAMPLE_PAIRINGS_PATH
from humaneval.acute.pairings_validation import load_pairings
from humaneval.acute.questions import PRESETS
from humaneval.acute.task_data import comparison_inputs, judgements_from_submission, page_view, unit_inputs
from humaneval.launch import main as launch_main


def test_default_config_uses_the_bundled_example_and_the_acute_page(capsys: pytest.CaptureFixture[str]) -> None:
    assert launch_main(["acute", "--cfg"]) == 0
    out = capsys.readouterr().out
    assert "_blueprint_type: acute_eval" in out and str(EXAMPLE_PAIRINGS_PATH) in out
    assert "frontend/dist/acute/bundle.js" in out


def test_onboarding_can_be_switched_off_as_the_yaml_documents(capsys: pytest.CaptureFixture[str]) -> None:
    assert launch_main(["acute", "mephisto.blueprint.onboarding_qualification=null", "--cfg"]) == 0
    assert "onboarding_qualification: null" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "override", "expected"),
    [
        ('{"is_onboarding": false}\n', None, "bad_pairings.jsonl:1: field 'speakers_to_eval': missing key"),
        ("not json\n", None, "bad_pairings.jsonl:1: invalid JSON"),
        (None, "mephisto.blueprint.question=funny", "unknown question preset"),
        (None, "mephisto.blueprint.subtasks_per_unit=0", "subtasks_per_unit"),
        (None, "mephisto.blueprint.block_list_files=[/nonexistent/blocked.txt]", "blocked.txt"),
    ],
)
def test_bad_inputs_exit_2_before_anything_starts(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None,
                                                  override: str | None, expected: str) -> None:
    args = ["acute", f"humaneval.data_dir={tmp_path / 'mephisto'}"]
    if content is not None:
        bad = tmp_path / "bad_pairings.jsonl"
        bad.write_text(content)
        args.append(f"mephisto.blueprint.pairings_file={bad}")
    if override:
        args.append(override)
    assert launch_main(args) == 2
    err = capsys.readouterr().err
    assert expected in err
    if content is not None:
        assert "bad_pairings.jsonl" in err
    assert not (tmp_path / "mephisto").exists()  # nothing written


def test_page_view_hides_models_and_submission_maps_back() -> None:
    pair = load_pairings(EXAMPLE_PAIRINGS_PATH)[0]
    a, b = pair["speakers_to_eval"]
    inputs = unit_inputs([comparison_inputs(pair, 1)], PRESETS["human"], is_onboarding=False, onboarding_required=True)
    view = page_view(inputs)
    text = repr(view)
    assert a not in text and b not in text  # neither model name nor speaker id reaches the browser
    shown = view["comparisons"][0]["conversations"]
    assert [c["label"] for c in shown] == ["Speaker 1", "Speaker 2"]
    assert view["question"]["choices"] == ["Speaker 1 sounds more human", "Speaker 2 sounds more human"]
    # left_index 1: the second evaluated speaker's conversation is on the left.
    assert [t["text"] for t in shown[0]["turns"]] == [t["text"] for t in pair["dialogue_dicts"][1]["dialogue"]]
    assert shown[0]["context"] == [line for act in pair["dialogue_dicts"][1].get("context", [])
                                   for line in act["text"].split("\n") if line.strip()]
    pid = pair["pair_id"]
    judged = judgements_from_submission(inputs, {"judgements": [{"pair_id": pid, "choice": "right", "reason": " ok "}]})
    assert [(j.model_a, j.model_b, j.left, j.winner, j.reason) for j in judged] == [(a, b, b, a, "ok")]
    for bad in ({"pair_id": pid, "choice": "right", "reason": "  "}, {"pair_id": pid, "choice": "up", "reason": "x"},
                {"pair_id": "other", "choice": "left", "reason": "x"}, {"pair_id": [pid], "choice": "left", "reason": "x"},
                {"pair_id": {"id": pid}, "choice": "left", "reason": "x"}, {"pair_id": True, "choice": "left", "reason": "x"}):
        assert judgements_from_submission(inputs, {"judgements": [bad]}) == []  # left out, never a crash
    strict = {**inputs, "min_reason_words": 5}  # a forged page that skips the word count: its reasons are not counted
    assert judgements_from_submission(strict, {"judgements": [{"pair_id": pid, "choice": "left", "reason": "fine"}]}) == []
    assert len(judgements_from_submission(strict, {"judgements": [
        {"pair_id": pid, "choice": "left", "reason": "  the other   one repeats itself "}]})) == 1
    forged = {"pair_id": pid, "choice": "left", "reason": "x", "started_at": float("inf"), "submitted_at": 1.7e308}
    assert [(j.started_at, j.submitted_at) for j in judgements_from_submission(inputs, {"judgements": [forged]})] == [
        (None, None)]  # a time no clock gives is an unknown time
    assert judgements_from_submission(inputs, None) == []


@pytest.mark.parametrize(("asked", "counted"), [("engaging", 1), ("human", 0)])
def test_judgements_of_another_question_do_not_count_when_a_task_is_resumed(asked: str, counted: int) -> None:
    """Relaunching a task name with a new `question` must not count the old question's judgements toward it
    (nor call the study complete): they judge something else."""
    from humaneval.acute.blueprint import AcuteBlueprint
    from humaneval.acute.task import build_task
    from humaneval.crowd.export import FinishedUnit
    from humaneval.crowd.work_queue import WorkQueue

    cfg, _ = build_task(["mephisto.blueprint.question=engaging"])
    study = AcuteBlueprint.__new__(AcuteBlueprint)  # what work_done_in does before any launch
    study.configure(cfg.mephisto.blueprint)
    pair = next(iter(study.pairs.values()))
    inputs = unit_inputs([comparison_inputs(pair, 0)], PRESETS[asked], is_onboarding=False, onboarding_required=True)
    unit = FinishedUnit("t", "1", "u1", "a1", "w_sandbox", "7", "completed", inputs,
                        {"judgements": [{"pair_id": pair["pair_id"], "choice": "left", "reason": "livelier"}]}, 1.0, 2.0)
    queue = WorkQueue(study.queue_items(), study.answers_per_item, study.seed)
    assert study.restore_finished(queue, [unit]) == counted
