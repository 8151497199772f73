"""Ties in the ACUTE task (`allow_tie`, `allow_both_bad`): the settings are checked at launch, the
server accepts "tie" / "both_bad" only from a unit that offered them, the export writes them as the
winner, a tie on an onboarding pair counts as wrong, and a resumed task keeps the ties it collected."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from humaneval.acute.blueprint import AcuteBlueprint
from humaneval.acute.export import unit_records
from humaneval.acute.pairings_validation import validate_pair
from humaneval.acute.bundled_data import EXAMPLE_PAIRINGS_PATH
from humaneval.acute.task import build_task
from humaneval.crowd.export import FinishedUnit
from humaneval.crowd.work_queue import WorkQueue
from humaneval.input_errors import InputError
from humaneval.jsonl import iter_jsonl_objects
from humaneval.launch import main as launch_main

TIE_ON = "mephisto.blueprint.allow_tie=true"
BOTH_BAD_ON = "mephisto.blueprint.allow_both_bad=true"


def study(*overrides: str) -> AcuteBlueprint:
    """The blueprint as a launch configures it, with a fresh queue instead of Mephisto's database."""
    cfg, _ = build_task(["mephisto.blueprint.subtasks_per_unit=1", *overrides])
    blueprint = AcuteBlueprint.__new__(AcuteBlueprint)  # what work_done_in does before any launch
    blueprint.configure(cfg.mephisto.blueprint)
    blueprint.use_onboarding = cfg.mephisto.blueprint.onboarding_qualification is not None  # Mephisto's init sets it
    blueprint._queue = WorkQueue(blueprint.queue_items(), blueprint.answers_per_item, blueprint.seed)
    return blueprint


def submitted(blueprint: AcuteBlueprint, choice: Any, worker: str = "w1") -> FinishedUnit:
    """A unit the blueprint served to `worker`, submitted with its one comparison answered `choice`."""
    inputs = blueprint.reserve_unit_inputs(holder=f"agent-{worker}", worker=worker)
    pair_id = inputs["comparisons"][0]["pair_id"]
    outputs = {"judgements": [{"pair_id": pair_id, "choice": choice, "reason": "much the same small talk"}]}
    return FinishedUnit("t", "1", "u1", "a1", f"{worker}_sandbox", worker, "completed", inputs, outputs, 1.0, 2.0)


@pytest.mark.parametrize("override", ["mephisto.blueprint.allow_tie=maybe", "mephisto.blueprint.allow_both_bad=sometimes"])
def test_settings_must_be_true_or_false(tmp_path: Path, capsys: pytest.CaptureFixture[str], override: str) -> None:
    assert launch_main(["acute", f"humaneval.data_dir={tmp_path / 'mephisto'}", override]) == 2
    err = capsys.readouterr().err
    assert override.split("=")[0] in err and "not a valid bool" in err and "Traceback" not in err
    assert not (tmp_path / "mephisto").exists()  # nothing written


def test_settings_are_off_by_default_as_in_parlai(capsys: pytest.CaptureFixture[str]) -> None:
    assert launch_main(["acute", "--cfg"]) == 0
    out = capsys.readouterr().out
    assert "allow_tie: false" in out and "allow_both_bad: false" in out
    assert study().page_view(study().reserve_unit_inputs("a", "w"))["question"]["extra_choices"] == []


@pytest.mark.parametrize(
    ("overrides", "offered"),
    [((), []), ((TIE_ON,), ["tie"]), ((BOTH_BAD_ON,), ["both_bad"]), ((TIE_ON, BOTH_BAD_ON), ["tie", "both_bad"])],
)
def test_the_server_accepts_exactly_the_choices_the_unit_offered(overrides: tuple[str, ...], offered: list[str]) -> None:
    blueprint = study(*overrides)
    view = blueprint.page_view(blueprint.reserve_unit_inputs("a0", "w0"))
    assert [(c["value"], c["label"]) for c in view["question"]["extra_choices"]] == [
        {"tie": ("tie", "About the same"), "both_bad": ("both_bad", "Both are bad")}[v] for v in offered]
    for n, choice in enumerate(["tie", "both_bad", "left", "right", "Tie", "draw", ["tie"], None]):
        unit = submitted(blueprint, choice, worker=f"w{n + 1}")
        records = list(unit_records(unit))
        models = unit.inputs["comparisons"][0]["models"]
        left_model = models[unit.inputs["comparisons"][0]["left_index"]]
        if choice in ("left", "right"):
            expected = [left_model if choice == "left" else next(m for m in models if m != left_model)]
        else:
            expected = [choice] if choice in offered else []
        assert [r["winner"] for r in records] == expected, choice
        # the queue counts the same judgements (a refused one goes back for someone else)
        before = blueprint.queue.missing()
        blueprint.count_answers(f"agent-w{n + 1}", SimpleNamespace(worker_name=unit.worker_name), unit.inputs,
                                unit.outputs)
        assert before - blueprint.queue.missing() == len(expected)


def test_a_tie_on_an_onboarding_pair_counts_as_wrong_and_the_page_offers_it_there_too() -> None:
    blueprint = study(TIE_ON, BOTH_BAD_ON)
    page = blueprint.get_onboarding_data("w1")
    assert [c["value"] for c in page["question"]["extra_choices"]] == ["tie", "both_bad"]
    scored: list[tuple[int, int, list[str]]] = []
    blueprint.onboarding_outcome = lambda worker, agent, inputs, outputs, correct, total: scored.append(  # type: ignore[method-assign]
        (correct, total, [c["value"] for c in inputs["question"]["extra_choices"]])) or correct == total
    def good_side(comparison: dict[str, Any]) -> str:
        pair = blueprint.onboarding_pairs[comparison["pair_id"]]
        correct_index = pair["speakers_to_eval"].index(pair["correct_answer"])
        return "left" if comparison["left_index"] == correct_index else "right"

    for answer in (lambda c: "tie", lambda c: "both_bad", good_side):
        data = {"inputs": page, "outputs": {"judgements": [
            {"pair_id": c["pair_id"], "choice": answer(c), "reason": "r"} for c in page["comparisons"]]}}
        agent = SimpleNamespace(state=SimpleNamespace(get_data=lambda data=data: data))
        blueprint.validate_onboarding(SimpleNamespace(worker_name="w1"), agent)  # type: ignore[arg-type]
    total = len(blueprint.onboarding_pairs)
    assert scored == [(0, total, ["tie", "both_bad"]), (0, total, ["tie", "both_bad"]), (total, total, ["tie", "both_bad"])]


@pytest.mark.parametrize("relaunch", [(), (TIE_ON,)])
def test_ties_collected_stay_valid_when_the_task_is_resumed_with_another_setting(relaunch: tuple[str, ...]) -> None:
    """A tie answered a question the worker was offered; it stays a judgement of that pair whatever the
    relaunch allows (only a changed question voids earlier judgements)."""
    first = study(TIE_ON, "mephisto.blueprint.annotations_per_pair=1")
    units = [submitted(first, "tie", worker=f"w{n}") for n in range(3)]
    resumed = study(*relaunch)
    queue = WorkQueue(resumed.queue_items(), resumed.answers_per_item, resumed.seed)
    assert resumed.restore_finished(queue, units) == 3
    assert queue.missing() == len(resumed.pairs) - 3
    refused_now = study()  # ... but a unit of the relaunch without ties refuses one
    assert list(unit_records(submitted(refused_now, "tie"))) == []


@pytest.mark.parametrize("name", ["tie", "both_bad"])
def test_a_model_cannot_be_named_like_a_tie(name: str) -> None:
    pair = next(iter_jsonl_objects(EXAMPLE_PAIRINGS_PATH))[1]
    old = pair["speakers_to_eval"][1]
    pair["speakers_to_eval"][1] = name
    for dialogue in pair["dialogue_dicts"]:
        for turn in dialogue["dialogue"]:
            turn["id"] = name if turn["id"] == old else turn["id"]
    with pytest.raises(InputError) as err:
        validate_pair(pair, path="p.jsonl", line=3)
    assert str(err.value).startswith("p.jsonl:3: field 'speakers_to_eval[1]'") and "winner" in str(err.value)
