"""The review page's view of an ACUTE unit: each comparison as the worker saw it (left then right, speakers
named as on their page, the chosen one marked) and their answer, from stored inputs built by the task's own
`task_data` and a submission as the page sends it; garbage from a browser never raises, and texts and lists
are capped."""

from __future__ import annotations

import json
from typing import Any

import pytest

from humaneval.acute.export import EXPORT
from humaneval.acute.questions import PRESETS
from humaneval.acute.review_view import unit_view
from humaneval.review_page.unit_blocks import MAX_ITEMS, MAX_TEXT
from humaneval.acute.task_data import comparison_inputs, unit_inputs
from humaneval.crowd.export import FinishedUnit

QUESTION = PRESETS["engaging"]


def pair(pair_id: str, a: str, b: str, a_turns: list[str], b_turns: list[str]) -> dict[str, Any]:
    """A pairing (docs/formats.md, "ACUTE pairings"): human–bot chats, the bot evaluated."""
    def dialogue(model: str, texts: list[str], persona: str) -> dict[str, Any]:
        return {"speakers": [model, "human"], "id": f"{model}:1",
                "dialogue": [{"id": "human" if n % 2 == 0 else model, "text": t} for n, t in enumerate(texts)],
                "context": [{"id": "context", "text": persona}]}
    return {"pair_id": pair_id, "is_onboarding": False, "speakers_to_eval": [a, b], "dialogue_ids": [7, 19],
            "dialogue_dicts": [dialogue(a, a_turns, "your persona: i cook every day."),
                               dialogue(b, b_turns, "your persona: i like blue.\nyour persona: i have a sister.")]}


def finished(inputs: Any, outputs: Any) -> FinishedUnit:
    return FinishedUnit("humaneval-acute", "1", "17", "1", "worker_1", "3", "completed", inputs, outputs,
                        1795260040.0, 1795260081.5)


def test_a_unit_shows_both_conversations_as_the_worker_saw_them_and_the_answers() -> None:
    first = pair("p1", "dull_bot", "repetitive_bot", ["hi, dinner?", "food."],
                 ["good morning!", "My favorite color is blue. <script>alert(1)</script>"])
    second = pair("p2", "dull_bot", "persona_bot", ["hello", "hi."], ["hey", "Hey! I love fishing."])
    inputs = unit_inputs([comparison_inputs(first, 1), comparison_inputs(second, 0)], QUESTION,
                         is_onboarding=False, onboarding_required=True, extra=("tie",))
    outputs = {"judgements": [
        {"pair_id": "p1", "choice": "right", "reason": "the <b>other</b> one repeats", "started_at": 1795260040.0,
         "submitted_at": 1795260081.5},
        {"pair_id": "p2", "choice": "tie", "reason": "both short"},
    ]}
    unit = finished(json.loads(json.dumps(inputs)), outputs)  # as Mephisto stores and returns it
    records = list(EXPORT.unit_records(unit))
    assert [(r["left"], r["winner"]) for r in records] == [("repetitive_bot", "dull_bot"), ("dull_bot", "tie")]

    blocks = unit_view(unit, records)

    assert blocks == [
        {"kind": "heading", "text": "Comparison 1 of 2"},
        {"kind": "conversation", "title": "Left: repetitive_bot", "chosen": False, "turns": [
            {"speaker": "Context", "text": "your persona: i like blue.", "note": ""},
            {"speaker": "Context", "text": "your persona: i have a sister.", "note": ""},
            {"speaker": "Partner", "text": "good morning!", "note": ""},
            {"speaker": "Speaker 1", "text": "My favorite color is blue. <script>alert(1)</script>", "note": ""}]},
        {"kind": "conversation", "title": "Right: dull_bot", "chosen": True, "turns": [
            {"speaker": "Context", "text": "your persona: i cook every day.", "note": ""},
            {"speaker": "Partner", "text": "hi, dinner?", "note": ""},
            {"speaker": "Speaker 2", "text": "food.", "note": ""}]},
        {"kind": "fields", "rows": [["Choice", "right: dull_bot"], ["Reason", "the <b>other</b> one repeats"],
                                    ["Question", QUESTION.text], ["Pair id", "p1"], ["Time", "41.5 s"]]},
        {"kind": "heading", "text": "Comparison 2 of 2"},
        {"kind": "conversation", "title": "Left: dull_bot", "chosen": False, "turns": [
            {"speaker": "Context", "text": "your persona: i cook every day.", "note": ""},
            {"speaker": "Partner", "text": "hello", "note": ""},
            {"speaker": "Speaker 1", "text": "hi.", "note": ""}]},
        {"kind": "conversation", "title": "Right: persona_bot", "chosen": False, "turns": [
            {"speaker": "Context", "text": "your persona: i like blue.", "note": ""},
            {"speaker": "Context", "text": "your persona: i have a sister.", "note": ""},
            {"speaker": "Partner", "text": "hey", "note": ""},
            {"speaker": "Speaker 2", "text": "Hey! I love fishing.", "note": ""}]},
        {"kind": "fields", "rows": [["Choice", "tie"], ["Reason", "both short"], ["Question", QUESTION.text],
                                    ["Pair id", "p2"], ["Time", "(not recorded)"]]},
    ]
    json.dumps(blocks)  # the server sends them as they are


def test_an_onboarding_and_an_answer_the_export_did_not_count_are_shown() -> None:
    inputs = unit_inputs([comparison_inputs(pair("o1", "good_speaker", "idk_bot", ["hi", "hello!"], ["hi", "idk"]), 0)],
                         QUESTION, is_onboarding=True, onboarding_required=True)
    unit = finished(inputs, {"judgements": [{"pair_id": "o1", "choice": "left", "reason": "   "}]})
    assert list(EXPORT.unit_records(unit)) == []  # no reason: not counted, and so not in the records
    blocks = unit_view(unit, [])
    assert blocks[0] == {"kind": "heading", "text": "Onboarding comparison 1 of 1"}
    assert [b["chosen"] for b in blocks if b["kind"] == "conversation"] == [True, False]
    assert blocks[-1]["rows"][:2] == [["Choice", "left: good_speaker"], ["Reason", "   "]]


@pytest.mark.parametrize("outputs", [None, "x", [], {"judgements": "all"}, {"judgements": [None, 3, {"pair_id": ["p1"]}]},
                                     {"judgements": [{"pair_id": "p1", "choice": {"a": 1}, "reason": 5,
                                                      "started_at": "soon", "submitted_at": float("inf")}]}])
def test_garbage_outputs_never_raise_and_read_as_not_recorded(outputs: Any) -> None:
    inputs = unit_inputs([comparison_inputs(pair("p1", "a", "b", ["hi", "x"], ["hi", "y"]), 0)], QUESTION,
                         is_onboarding=False, onboarding_required=False)
    blocks = unit_view(finished(inputs, outputs), [])
    assert [b["chosen"] for b in blocks if b["kind"] == "conversation"] == [False, False]
    rows = dict(blocks[-1]["rows"])
    assert rows["Choice"] in ("(not recorded)", "not a choice: {'a': 1}")
    assert rows["Reason"] == rows["Time"] == "(not recorded)" and rows["Pair id"] == "p1"


@pytest.mark.parametrize("inputs", [None, "garbage", {"comparisons": None},
                                    {"comparisons": [None, {"models": "ab", "left_index": True, "conversations": [5, {}]}],
                                     "question": "which?"}])
def test_garbage_inputs_never_raise(inputs: Any) -> None:
    blocks = unit_view(finished(inputs, {"judgements": [{"pair_id": None}]}), [])
    json.dumps(blocks)
    text = json.dumps(blocks)
    assert "(not recorded)" in text
    assert all(b["kind"] in ("heading", "conversation", "fields") for b in blocks)


def test_texts_and_lists_are_capped() -> None:
    long = "x" * (MAX_TEXT + 50)
    many = ["hi", "ok"] * MAX_ITEMS  # 400 turns (+ 1 context line)
    comparisons = [comparison_inputs(pair(f"p{n}", "a", "b", many, ["hi", long]), 0) for n in range(MAX_ITEMS + 3)]
    inputs = unit_inputs(comparisons, QUESTION, is_onboarding=False, onboarding_required=False)
    blocks = unit_view(finished(inputs, {"judgements": [{"pair_id": "p0", "choice": "left", "reason": long}]}), [])
    assert [b["text"] for b in blocks if b["kind"] == "heading"][-1] == f"Comparison {MAX_ITEMS} of {MAX_ITEMS + 3}"
    assert blocks[-1] == {"kind": "fields", "rows": [["Left out", "3 more comparisons not shown"]]}
    left, left_out, right, fields = blocks[1:5]
    assert len(left["turns"]) == MAX_ITEMS and left_out == {"kind": "fields", "rows": [["Left out", "201 more turns not shown"]]}
    assert right["turns"][-1]["text"] == "x" * MAX_TEXT + "…"
    assert dict(fields["rows"])["Reason"] == "x" * MAX_TEXT + "…"
