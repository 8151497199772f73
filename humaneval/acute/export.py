"""ACUTE units and onboardings → judgement records (docs/formats.md, "ACUTE judgements"): `EXPORT`.

One record per comparison a worker judged, with the models resolved from the stored inputs (the page
never saw them). Onboarding answers are exported too (`is_onboarding: true`), each carrying its
worker's outcome, because the analysis drops every judgement of a worker whose onboarding failed.
Which judgements exist is decided by `task_data.judgements_from_submission`, the same function the
work queue counts with, so the export and the queue always agree.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from humaneval.acute.blueprint import BLUEPRINT_TYPE_ACUTE
from humaneval.acute.task_data import Judgement, judgements_from_submission
from humaneval.crowd.export import FinishedUnit, StudyExport, checked_onboardings
from humaneval.crowd.mephisto_api import MephistoDB
from humaneval.input_errors import InputError

logger = logging.getLogger(__name__)


def _record(common: dict[str, Any], judgement: Judgement, inputs: dict[str, Any], passed: bool | None,
            started: float | None, submitted: float | None) -> dict[str, Any]:
    started_at = judgement.started_at if judgement.started_at is not None else started
    submitted_at = judgement.submitted_at if judgement.submitted_at is not None else submitted
    if started_at is not None and submitted_at is not None and submitted_at < started_at:
        started_at, submitted_at = started, submitted  # a skewed browser clock: use the server's times
    return {
        **common,
        "pair_id": judgement.pair_id,
        "model_a": judgement.model_a,
        "model_b": judgement.model_b,
        "left": judgement.left,
        "winner": judgement.winner,
        "reason": judgement.reason,
        "question": inputs["question"]["text"],
        "is_onboarding": bool(inputs.get("is_onboarding", False)),
        "onboarding_passed": passed,
        "dialogue_ids": judgement.dialogue_ids,
        "started_at": started_at,
        "submitted_at": submitted_at,
    }


def unit_records(unit: FinishedUnit) -> Iterator[dict[str, Any]]:
    """The judgements of one submitted unit. Its worker got the unit, so passed onboarding if any.

    ParlAI's own ACUTE blueprint registers the same type name, `acute_eval`; its units store a list of
    task specs instead of our inputs, and would silently read as no judgements at all, so they are
    refused by name."""
    inputs = unit.inputs
    if not (isinstance(inputs, dict) and isinstance(inputs.get("comparisons"), list)):
        raise InputError(f"unit {unit.unit_id} of task '{unit.task_name}' was not made by humaneval's ACUTE task "
                         f"(ParlAI's ACUTE blueprint uses the same type name, '{BLUEPRINT_TYPE_ACUTE}'); humaneval "
                         "cannot export it", field="task_name")
    passed = True if inputs.get("onboarding_required") else None
    common = unit.common_fields("acute")
    for judgement in judgements_from_submission(inputs, unit.outputs):
        yield _record(common, judgement, inputs, passed, unit.started_at, unit.submitted_at)


def onboarding_records(db: MephistoDB, task_name: str) -> Iterator[dict[str, Any]]:
    """The answers of every checked onboarding of the task (all runs)."""
    for onboarding in checked_onboardings(db, task_name):
        common = onboarding.common_fields("acute", task_name)
        for judgement in judgements_from_submission(onboarding.inputs, onboarding.outputs):
            yield _record(common, judgement, onboarding.inputs, common["onboarding_passed"], onboarding.started_at,
                          onboarding.submitted_at)


EXPORT = StudyExport(BLUEPRINT_TYPE_ACUTE, unit_records=unit_records, task_records=onboarding_records)
