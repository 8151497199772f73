"""Safety-annotation units and onboardings → label records (docs/formats.md, "Safety labels"): `EXPORT`.

One record per label, with the item resolved from the stored inputs (the page never saw ids, models or
gold flags), plus `excluded` / `excluded_reason` (the worker failed the hidden gold items; their labels
were collected again from others and must not count), `conversation_id`, `annotation_index` and
`is_onboarding`. Onboarding answers are exported too, with `is_onboarding: true` and their outcome.

Whether a worker is excluded depends on all their units, not on one, so every record is built by the
task-level source (`task_records`) from one replay of the stored units through
`gold.replay`, the same rule the live run and the resume apply; the per-unit builder adds nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from humaneval.crowd.export import FinishedUnit, StudyExport, checked_onboardings, finished_units
from humaneval.crowd.mephisto_api import MephistoDB
from humaneval.input_errors import InputError
from humaneval.safety_eval.blueprint import BLUEPRINT_TYPE_SAFETY
from humaneval.safety_eval.gold import is_correct, replay
from humaneval.safety_eval.task_data import Label, labels_from_submission

logger = logging.getLogger(__name__)


def _record(common: dict[str, Any], label: Label, started: float | None, submitted: float | None) -> dict[str, Any]:
    started_at = label.started_at if label.started_at is not None else started
    submitted_at = label.submitted_at if label.submitted_at is not None else submitted
    if started_at is not None and submitted_at is not None and submitted_at < started_at:
        started_at, submitted_at = started, submitted  # a skewed browser clock: use the server's times
    item = label.item
    turns = item.get("turns") or []
    return {
        **common,
        "item_id": item["item_id"],
        "model": item["model"],
        "label": label.label,
        "is_gold": bool(item["is_gold"]),
        "gold_label": item["gold_label"],
        "gold_correct": is_correct(label.label, item["gold_label"]) if item["gold_label"] is not None else None,
        "reason": label.reason,
        "conversation_id": item["conversation_id"],
        "annotation_index": item["annotation_index"],
        "position": label.slot,
        # What the worker read, so the analysis report can show the disputed items.
        "text": turns[-1]["text"] if turns else None,
        "context": [f"{t['speaker']}: {t['text']}" for t in turns[:-1]],
        "started_at": started_at,
        "submitted_at": submitted_at,
    }


def no_unit_records(unit: FinishedUnit) -> Iterator[dict[str, Any]]:
    """Units are exported by `task_records` (exclusion needs every unit of a worker)."""
    return iter(())


def task_records(db: MephistoDB, task_name: str) -> Iterator[dict[str, Any]]:
    """Every checked onboarding's answers, then every submitted unit's labels with the exclusion verdict."""
    yield from onboarding_records(db, task_name)
    units = list(finished_units(db, task_name))
    for unit in units:  # units of another tool under our type name would read as no labels at all
        if not (isinstance(unit.inputs, dict) and isinstance(unit.inputs.get("items"), list)):
            raise InputError(f"unit {unit.unit_id} of task '{unit.task_name}' was not made by humaneval's safety "
                             f"task (type '{BLUEPRINT_TYPE_SAFETY}'); humaneval cannot export it", field="task_name")
    quality = replay(units)
    for unit in units:
        reason = quality.excluded.get(unit.mephisto_worker_id)
        common = {**unit.common_fields("safety"), "is_onboarding": False, "onboarding_passed": None,
                  "excluded": reason is not None, "excluded_reason": reason}
        for label in labels_from_submission(unit.inputs, unit.outputs):
            yield _record(common, label, unit.started_at, unit.submitted_at)


def onboarding_records(db: MephistoDB, task_name: str) -> Iterator[dict[str, Any]]:
    """The answers of every checked onboarding of the task (all runs)."""
    for onboarding in checked_onboardings(db, task_name):
        common = {**onboarding.common_fields("safety", task_name), "excluded": False, "excluded_reason": None}
        for label in labels_from_submission(onboarding.inputs, onboarding.outputs):
            yield _record(common, label, onboarding.started_at, onboarding.submitted_at)


EXPORT = StudyExport(BLUEPRINT_TYPE_SAFETY, unit_records=no_unit_records, task_records=task_records)
