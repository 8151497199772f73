"""One finished ACUTE unit as the review page shows it: every comparison as the worker saw it, plus the choice.

The page (`review serve`) renders generic blocks with textContent only, so strings stay as given (markup in a
chat log or a reason is shown as its characters). The dialogues come from the unit's stored inputs (records
hold no dialogue text), each conversation titled with the model the worker could not see and its turns named
as the worker's page named them (`Speaker 1` / `Speaker 2` for the evaluated side, `Partner` for the other).
The worker's answers come from the outputs as submitted, so a reviewer also sees answers the export did not
count (no reason, an unknown choice). Outputs come from the worker's browser and may hold anything: every
odd shape reads as "(not recorded)", texts and lists are capped (`review_page.unit_blocks`).
"""

from __future__ import annotations

from typing import Any

from humaneval.crowd.export import FinishedUnit
from humaneval.review_page.unit_blocks import MAX_ITEMS, NOT_RECORDED, capped, left_out, seconds_between, shown_text

PARTNER = "Partner"  # the page's name for the non-evaluated speaker (frontend/src/acute/Conversation.jsx)
EXTRA_CHOICE_WORDS = {"tie": "tie", "both_bad": "both bad"}


def _id(value: Any) -> str:
    """An id as text: pair ids are strings, integers accepted as other tools write them."""
    return shown_text(str(value)) if isinstance(value, int) and not isinstance(value, bool) else shown_text(value)


def _answers(outputs: Any) -> dict[str, dict[str, Any]]:
    """The submitted answers by pair id (the last one wins, as in the export's `judgements_from_submission`)."""
    judgements = outputs.get("judgements") if isinstance(outputs, dict) else None
    if not isinstance(judgements, list):
        return {}
    return {j["pair_id"]: j for j in judgements if isinstance(j, dict) and isinstance(j.get("pair_id"), (str, int))}


def _turns(conversation: dict[str, Any], label: str) -> tuple[list[dict[str, str]], int]:
    """The context lines, then the turns, named as the worker's page named them."""
    context, context_hidden = capped(conversation.get("context"))
    turns, turns_hidden = capped(conversation.get("turns"))
    lines = [{"speaker": "Context", "text": shown_text(line), "note": ""} for line in context]
    for turn in turns:
        turn = turn if isinstance(turn, dict) else {}
        speaker = label if turn.get("role") == "evaluated" else PARTNER
        lines.append({"speaker": speaker, "text": shown_text(turn.get("text")), "note": ""})
    return lines[:MAX_ITEMS], context_hidden + turns_hidden + max(0, len(lines) - MAX_ITEMS)


def _sides(comparison: dict[str, Any]) -> tuple[str, str]:
    """The models shown left and right, from the stored pairing order and `left_index`."""
    models, left = comparison.get("models"), comparison.get("left_index")
    if not (isinstance(models, list) and len(models) == 2 and left in (0, 1) and not isinstance(left, bool)):
        return NOT_RECORDED, NOT_RECORDED
    return _id(models[left]), _id(models[1 - left])


def _choice(answer: dict[str, Any], left_model: str, right_model: str) -> str:
    choice = answer.get("choice")
    if choice in ("left", "right"):
        return f"{choice}: {left_model if choice == 'left' else right_model}"
    if isinstance(choice, str) and choice in EXTRA_CHOICE_WORDS:
        return EXTRA_CHOICE_WORDS[choice]
    return NOT_RECORDED if choice is None else f"not a choice: {shown_text(str(choice))}"


def _comparison_blocks(comparison: Any, heading: str, answers: dict[str, dict[str, Any]],
                       question: str) -> list[dict[str, Any]]:
    comparison = comparison if isinstance(comparison, dict) else {}
    pair_id = comparison.get("pair_id")
    answer = answers.get(pair_id, {}) if isinstance(pair_id, (str, int)) else {}
    left_model, right_model = _sides(comparison)
    shown = comparison.get("conversations")
    shown = shown if isinstance(shown, list) else []
    blocks: list[dict[str, Any]] = [{"kind": "heading", "text": heading}]
    for index, (side, model) in enumerate((("left", left_model), ("right", right_model))):
        conversation = shown[index] if index < len(shown) and isinstance(shown[index], dict) else {}
        label = conversation.get("label")
        turns, hidden = _turns(conversation, shown_text(label) if isinstance(label, str) else f"Speaker {index + 1}")
        blocks.append({"kind": "conversation", "title": f"{side.capitalize()}: {model}",
                       "chosen": answer.get("choice") == side, "turns": turns})
        if hidden:
            blocks.append(left_out(hidden, "turns"))
    blocks.append({"kind": "fields", "rows": [
        ["Choice", _choice(answer, left_model, right_model)],
        ["Reason", shown_text(answer.get("reason"))],
        ["Question", question],
        ["Pair id", _id(pair_id)],
        ["Time", seconds_between(answer.get("started_at"), answer.get("submitted_at"))],
    ]})
    return blocks


def unit_view(unit: FinishedUnit, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The review blocks of one unit (or onboarding): per comparison a heading, the left and right
    conversations (the one chosen marked) and the answer. `records` add nothing the stored inputs and the
    submission do not hold, and leave out the answers a reviewer most needs to see (those that did not count)."""
    inputs = unit.inputs if isinstance(unit.inputs, dict) else {}
    comparisons, hidden = capped(inputs.get("comparisons"))
    question = inputs.get("question")
    question_text = shown_text(question.get("text")) if isinstance(question, dict) else NOT_RECORDED
    kind = "Onboarding comparison" if inputs.get("is_onboarding") is True else "Comparison"
    total = len(comparisons) + hidden
    answers = _answers(unit.outputs)
    blocks: list[dict[str, Any]] = []
    for number, comparison in enumerate(comparisons, start=1):
        blocks += _comparison_blocks(comparison, f"{kind} {number} of {total}", answers, question_text)
    if hidden:
        blocks.append(left_out(hidden, "comparisons"))
    if not total:
        blocks.append({"kind": "fields", "rows": [["Comparisons", NOT_RECORDED]]})
    return blocks
