"""One finished safety-annotation unit as the review page shows it: every item as the worker saw it, plus the label.

The page (`review serve`) renders generic blocks with textContent only, so strings stay as given. Items and
their turns (`YOU` / `THEM`, as the worker's page named them) come from the unit's stored inputs, the labels
from the outputs as submitted, so a reviewer also sees answers the export left out. Only the reviewer is told
which items were hidden gold items and what their answer was. Whether the worker's labels were excluded
(failed gold) is decided over all their units, so it is read from the unit's exported records
(`EXPORT.task_records`; `EXPORT.unit_records` yields none) when the caller passes them. Outputs come from the
worker's browser and may hold anything: every odd shape reads as "(not recorded)", texts and lists
are capped (`review_page.unit_blocks`).
"""

from __future__ import annotations

from typing import Any

from humaneval.crowd.export import FinishedUnit
from humaneval.review_page.unit_blocks import NOT_RECORDED, capped, left_out, seconds_between, shown_text
from humaneval.safety_eval.gold import is_correct

# The labels in a reviewer's words (task_data.BUCKETS has the page's long ones); `not_ok` is an imported binary label.
LABEL_WORDS = {"ok": "OK", "not_ok_minority": "NOT OK (minority)", "not_ok_some": "NOT OK (some)",
               "not_ok_most": "NOT OK (most)", "not_ok": "NOT OK"}


def _label_words(label: Any) -> str:
    if isinstance(label, str) and label in LABEL_WORDS:
        return LABEL_WORDS[label]
    return NOT_RECORDED if label is None else f"not a label: {shown_text(str(label))}"


def _answers(outputs: Any) -> dict[int, dict[str, Any]]:
    """The submitted answers by slot (the last one wins, as in the export's `labels_from_submission`)."""
    labels = outputs.get("labels") if isinstance(outputs, dict) else None
    if not isinstance(labels, list):
        return {}
    return {a["slot"]: a for a in labels
            if isinstance(a, dict) and isinstance(a.get("slot"), int) and not isinstance(a.get("slot"), bool)}


def _gold(item: dict[str, Any], label: Any) -> str:
    """Whether the label is on the gold label's side of OK / NOT OK; unanswered counts as wrong (`gold`)."""
    gold_label = item.get("gold_label")
    words = f"gold label {_label_words(gold_label)}"
    if not (isinstance(label, str) and label in LABEL_WORDS and isinstance(gold_label, str) and gold_label in LABEL_WORDS):
        return f"wrong ({words}, no valid label)"
    return f"{'correct' if is_correct(label, gold_label) else 'wrong'} ({words})"


def _conversation(item: dict[str, Any], label: Any) -> list[dict[str, Any]]:
    """The turns shown, the labelled reply (the last one) tagged with the worker's label."""
    turns, hidden = capped(item.get("turns"))
    shown = []
    for turn in turns:
        turn = turn if isinstance(turn, dict) else {}
        shown.append({"speaker": shown_text(turn.get("speaker")), "text": shown_text(turn.get("text")), "note": ""})
    if shown and not hidden:
        shown[-1]["note"] = f"labelled: {_label_words(label)}"
    blocks: list[dict[str, Any]] = [{"kind": "conversation", "title": f"Model: {shown_text(item.get('model'))}",
                                     "chosen": False, "turns": shown}]
    if hidden:
        blocks.append(left_out(hidden, "turns (the labelled reply among them)"))
    return blocks


def _exclusion(records: list[dict[str, Any]]) -> list[list[str]]:
    """The rows saying the worker's labels do not count (the verdict is the worker's, the same on every record)."""
    for record in records:
        if isinstance(record, dict) and record.get("excluded") is True:
            return [["Excluded", "yes"], ["Excluded reason", shown_text(record.get("excluded_reason"))]]
    return []


def _item_blocks(item: Any, heading: str, answer: dict[str, Any]) -> list[dict[str, Any]]:
    item = item if isinstance(item, dict) else {}
    is_gold = item.get("is_gold") is True
    label = answer.get("label")
    rows = [["Label", _label_words(label)], ["Reason", shown_text(answer.get("reason"))]]
    gold = _gold(item, label) if item.get("gold_label") is not None else ""  # gold items, and onboarding items
    if gold:
        rows.append(["Gold", gold])
    rows.append(["Time", seconds_between(answer.get("started_at"), answer.get("submitted_at"))])
    marker = (" (gold, answered wrong)" if gold.startswith("wrong") else " (gold)") if is_gold else ""
    title: dict[str, Any] = {"kind": "heading", "text": heading + marker}
    if gold.startswith("wrong"):
        title["alert"] = True  # the page marks it: the reviewer looks for the wrong gold answers first
    return [title, *_conversation(item, label), {"kind": "fields", "rows": rows}]


def _summary(items: list[Any], answers: dict[int, dict[str, Any]], exclusion: list[list[str]]) -> list[dict[str, Any]]:
    """Once per unit, before the items: how the hidden gold items went, and the exclusion verdict (the worker's)."""
    gold = [_gold(item, answers.get(slot, {}).get("label")) for slot, item in enumerate(items)
            if isinstance(item, dict) and item.get("gold_label") is not None]
    rows = [["Gold items", f"{sum(g.startswith('wrong') for g in gold)} wrong of {len(gold)}"]] if gold else []
    rows += exclusion
    return [{"kind": "fields", "rows": rows}] if rows else []


def unit_view(unit: FinishedUnit, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The review blocks of one unit (or onboarding): per item a heading, the conversation and the answer.
    `records` (the unit's label records) are read only for the exclusion verdict, which no unit holds itself."""
    inputs = unit.inputs if isinstance(unit.inputs, dict) else {}
    items, hidden = capped(inputs.get("items"))
    total = len(items) + hidden
    answers = _answers(unit.outputs)
    blocks = _summary(items, answers, _exclusion(records))
    for slot, item in enumerate(items):
        blocks += _item_blocks(item, f"Item {slot + 1} of {total}", answers.get(slot, {}))
    if hidden:
        blocks.append(left_out(hidden, "items"))
    if not total:
        blocks.append({"kind": "fields", "rows": [["Items", NOT_RECORDED]]})
    return blocks
