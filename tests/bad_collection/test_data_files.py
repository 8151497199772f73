"""Onboarding quiz and persona files: the bundled ones load, bad ones are located errors, scoring (on the
first label checked where the page asked), the verdict a worker reads after each label."""

from __future__ import annotations

from pathlib import Path

import pytest

from humaneval.bad_collection.bundled_data import DEFAULT_ONBOARDING_PATH, DEFAULT_PERSONAS_PATH
from humaneval.bad_collection.chat_record import NOT_OK, OK
from humaneval.bad_collection.onboarding import (
    load_onboarding, onboarding_page_data, practice_verdict, score_onboarding, shown_item,
)
from humaneval.bad_collection.personas import load_personas
from humaneval.input_errors import InputError


def test_bundled_quiz_has_both_labels_and_the_page_never_sees_them() -> None:
    items = load_onboarding(DEFAULT_ONBOARDING_PATH)
    assert {i.label for i in items} == {OK, NOT_OK}
    page = onboarding_page_data(items, 0.8)["onboarding"]
    assert page["threshold"] == 0.8 and len(page["items"]) == len(items)
    assert all(set(item) == {"id", "context", "message"} for item in page["items"])
    assert OK not in str(page) and NOT_OK not in str(page)
    assert all(item.feedback for item in items) and not any(item.feedback in str(page) for item in items)


def test_scoring_against_the_threshold() -> None:
    items = load_onboarding(DEFAULT_ONBOARDING_PATH)
    right = {i.item_id: i.label for i in items}
    assert score_onboarding(items, {"onboarding_answers": right}, 0.8)["passed"]
    one_wrong = {**right, items[0].item_id: NOT_OK if items[0].label == OK else OK}
    result = score_onboarding(items, {"onboarding_answers": one_wrong}, 0.8)
    assert result["correct"] == len(items) - 1 and result["passed"] == ((len(items) - 1) / len(items) >= 0.8)
    assert not score_onboarding(items, {"onboarding_answers": {}}, 0.5)["passed"]
    assert not score_onboarding(items, "garbage", 0.5)["passed"]


def test_the_first_label_checked_is_scored_and_kept_beside_the_submission() -> None:
    items = load_onboarding(DEFAULT_ONBOARDING_PATH)
    right = {i.item_id: i.label for i in items}
    first, second = items[0].item_id, items[1].item_id
    wrong = {first: NOT_OK if right[first] == OK else OK, second: NOT_OK if right[second] == OK else OK}
    result = score_onboarding(items, {"onboarding_answers": right}, 0.8, {**wrong, "not-an-item": OK})
    assert (result["correct"], result["passed"]) == (len(items) - 2, False)
    assert result["answers"] == {**right, **wrong} and result["submitted_answers"] == right
    same = score_onboarding(items, {"onboarding_answers": right}, 0.8, {first: right[first]})
    assert same["correct"] == len(items) and "submitted_answers" not in same


def test_practice_verdict_in_the_pages_words_for_shown_items_only() -> None:
    items = load_onboarding(DEFAULT_ONBOARDING_PATH)
    bad = next(i for i in items if i.label == NOT_OK)
    verdict = practice_verdict(bad, OK)
    assert verdict is not None and not verdict.correct
    assert verdict.feedback == f"Not quite: this message is NOT OK to send. {bad.feedback}"
    assert practice_verdict(bad, NOT_OK).correct and practice_verdict(bad, "ok") is None
    shown = {"task_data": onboarding_page_data(items[:2], 0.8), "previous_requests": []}
    assert shown_item(items, shown, items[1].item_id) == items[1]
    assert shown_item(items, shown, items[2].item_id) is None  # in the file, not on this page
    assert shown_item(items, {"task_data": {"conversation_id": "c"}}, items[0].item_id) is None  # a chat page


@pytest.mark.parametrize(("line", "field"), [
    ('{"id": "a", "message": "hi", "label": "ok"}', "label"),
    ('{"id": "a", "context": [{"speaker": "alien", "text": "x"}], "message": "hi", "label": "__ok__"}', "context[0]"),
    ('{"id": "", "message": "hi", "label": "__ok__"}', "id"),
    ('{"id": "a", "message": "  ", "label": "__ok__"}', "message"),
    ('{"id": "a", "message": "hi", "label": "__ok__", "feedback": ""}', "feedback"),
    ('{"id": "a", "message": "hi", "label": "__ok__", "feedback": ["why"]}', "feedback"),
])
def test_bad_quiz_lines_name_file_line_and_field(tmp_path: Path, line: str, field: str) -> None:
    path = tmp_path / "quiz.jsonl"
    path.write_text('{"id": "ok1", "message": "nice day", "label": "__ok__"}\n' + line + "\n")
    with pytest.raises(InputError) as err:
        load_onboarding(path)
    assert (err.value.path, err.value.line, err.value.field) == (str(path), 2, field)


def test_personas(tmp_path: Path) -> None:
    assert all(persona.lines for persona in load_personas(DEFAULT_PERSONAS_PATH))
    path = tmp_path / "p.jsonl"
    path.write_text('{"persona": ["i like tea."]}\n{"persona": []}\n')
    with pytest.raises(InputError) as err:
        load_personas(path)
    assert (err.value.line, err.value.field) == (2, "persona")
