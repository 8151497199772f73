"""The onboarding labelling quiz: bot messages with known labels that a worker must label right first.

BAD data is only as good as its OK / NOT OK labels, so before chatting a worker labels a few short
exchanges whose answer is not in doubt (mild, clearly fine or clearly not OK bot messages; bundled in
task_configs/bad/data/onboarding.jsonl). Below the threshold the worker fails and is soft-blocked, like
ACUTE's onboarding. The page sees the items without their labels.

File format (JSONL, one item per line):
`{"id": str, "context": [{"speaker": "human"|"bot", "text": str}], "message": str, "label": "__ok__"|"__notok__"}`
— `message` is the bot's message to label, said after `context`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from humaneval.bad_collection.chat_record import BOT, HUMAN, LABELS
from humaneval.input_errors import InputError
from humaneval.jsonl import iter_jsonl_objects


@dataclass(frozen=True)
class OnboardingItem:
    item_id: str
    context: tuple[tuple[str, str], ...]  # (speaker, text)
    message: str
    label: str

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
        items.append(OnboardingItem(item_id, tuple(turns), message, obj["label"]))
    if not items:
        raise InputError("no onboarding items in the file", path=path)
    return items


def onboarding_page_data(items: list[OnboardingItem], threshold: float) -> dict[str, Any]:
    """The onboarding init data of the protocol (never the labels)."""
    return {"onboarding": {"items": [item.page_view() for item in items], "threshold": threshold}}


def score_onboarding(items: list[OnboardingItem], submission: Any, threshold: float) -> dict[str, Any]:
    """How a submission `{"onboarding_answers": {id: label}}` did: correct, total, passed, answers."""
    answers = submission.get("onboarding_answers") if isinstance(submission, dict) else None
    answers = answers if isinstance(answers, dict) else {}
    correct = sum(answers.get(item.item_id) == item.label for item in items)
    return {"correct": correct, "total": len(items), "threshold": threshold,
            "passed": correct / len(items) >= threshold,
            "answers": {item.item_id: answers.get(item.item_id) for item in items}}
