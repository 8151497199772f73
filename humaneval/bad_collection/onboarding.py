"""The onboarding labelling quiz: bot messages with known labels that a worker must label right first.

BAD data is only as good as its OK / NOT OK labels, so before chatting a worker labels a few short
exchanges whose answer is not in doubt (mild, clearly fine or clearly not OK bot messages; bundled in
task_configs/bad/data/onboarding.jsonl). Below the threshold the worker fails and is soft-blocked, like
ACUTE's onboarding. The page sees the items without their labels.

Each label is checked by the server as soon as the worker gives it (`practice_verdict`, served as the
remote procedure `check_practice_answer`, see crowd/practice_checks.py): the worker reads right or wrong
and the item's `feedback`, and the quiz is scored on the first label checked per item, whatever the
submission says (`score_onboarding`).

File format (JSONL, one item per line):
`{"id": str, "context": [{"speaker": "human"|"bot", "text": str}], "message": str, "label": "__ok__"|"__notok__",
"feedback": str (optional)}` — `message` is the bot's message to label, said after `context`; `feedback` says
why its label is right.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from humaneval.bad_collection.chat_record import BOT, HUMAN, LABELS, OK
from humaneval.input_errors import InputError
from humaneval.jsonl import iter_jsonl_objects
from humaneval.practice_feedback import PracticeVerdict, feedback_problem, onboarding_page


@dataclass(frozen=True)
class OnboardingItem:
    item_id: str
    context: tuple[tuple[str, str], ...]  # (speaker, text)
    message: str
    label: str
    feedback: str | None = None  # why `label` is right, shown after the worker's practice answer

    def page_view(self) -> dict[str, Any]:
        return {"id": self.item_id, "context": [{"speaker": s, "text": t} for s, t in self.context],
                "message": self.message}


def load_onboarding(path: str | Path) -> list[OnboardingItem]:
    """Validated quiz items (at least one, unique ids); errors name the file, line and field."""
    items: list[OnboardingItem] = []
    seen: set[str] = set()
    for line, obj in iter_jsonl_objects(path):
        def fail(problem: str, field: str) -> InputError:
            return InputError(problem, path=path, line=line, field=field)

        item_id = obj.get("id")
        if not isinstance(item_id, str) or not item_id:
            raise fail("must be a non-empty string", "id")
        if item_id in seen:
            raise fail(f"id {item_id!r} is used twice", "id")
        seen.add(item_id)
        context = obj.get("context", [])
        if not isinstance(context, list):
            raise fail("must be a list of {speaker, text}", "context")
        turns = []
        for i, turn in enumerate(context):
            if not isinstance(turn, dict) or turn.get("speaker") not in (HUMAN, BOT) or not isinstance(turn.get("text"), str):
                raise fail("must be {\"speaker\": \"human\"|\"bot\", \"text\": str}", f"context[{i}]")
            turns.append((turn["speaker"], turn["text"]))
        message = obj.get("message")
        if not isinstance(message, str) or not message.strip():
            raise fail("must be a non-empty string (the bot message to label)", "message")
        if obj.get("label") not in LABELS:
            raise fail(f"must be one of {', '.join(LABELS)}", "label")
        problem = feedback_problem(obj.get("feedback"))
        if problem:
            raise fail(problem, "feedback")
        items.append(OnboardingItem(item_id, tuple(turns), message, obj["label"], obj.get("feedback")))
    if not items:
        raise InputError("no onboarding items in the file", path=path)
    return items


def onboarding_page_data(items: list[OnboardingItem], threshold: float) -> dict[str, Any]:
    """The onboarding init data of the protocol (never the labels)."""
    return {"onboarding": {"items": [item.page_view() for item in items], "threshold": threshold}}


def shown_item(items: list[OnboardingItem], init_state: Any, item_id: str) -> OnboardingItem | None:
    """Quiz item `item_id` if the onboarding page whose init state is `init_state` shows it."""
    quiz = onboarding_page(init_state).get("onboarding")
    shown = quiz.get("items") if isinstance(quiz, dict) else None
    if not isinstance(shown, list) or not any(isinstance(i, dict) and i.get("id") == item_id for i in shown):
        return None
    return next((item for item in items if item.item_id == item_id), None)


def practice_verdict(item: OnboardingItem, answer: str) -> PracticeVerdict | None:
    """Right or wrong for label `answer` to quiz `item`, in the page's words ("OK" / "NOT OK"),
    followed by the item's `feedback`; None when `answer` is not a label."""
    if answer not in LABELS:
        return None
    right = "OK" if item.label == OK else "NOT OK"
    return PracticeVerdict.of(answer == item.label, f"this message is {right} to send", item.feedback)


def score_onboarding(items: list[OnboardingItem], submission: Any, threshold: float,
                     checked: Mapping[str, str] | None = None) -> dict[str, Any]:
    """How a submission `{"onboarding_answers": {id: label}}` did: correct, total, passed, answers.

    `checked` holds the first label the server checked per item (`practice_checks`): those are scored
    in place of the submitted ones, so a worker cannot change a label after reading its verdict.
    `answers` are the labels as scored; `submitted_answers` (only when they differ) as the page sent them."""
    sent = submission.get("onboarding_answers") if isinstance(submission, dict) else None
    sent = sent if isinstance(sent, dict) else {}
    submitted = {item.item_id: sent.get(item.item_id) for item in items}
    answers = {**submitted, **{i: label for i, label in (checked or {}).items() if i in submitted}}
    correct = sum(answers[item.item_id] == item.label for item in items)
    result = {"correct": correct, "total": len(items), "threshold": threshold,
              "passed": correct / len(items) >= threshold, "answers": answers}
    if answers != submitted:
        result["submitted_answers"] = submitted
    return result
