"""What an ACUTE unit holds that a bonus rule can pay for (`humaneval.bonus` in task_configs/acute.yaml).

`unit`: 1 per submitted unit; `judgement`: the comparisons judged in it, counted by the function the export
and the work queue count with (`task_data.judgements_from_submission`), so a rule pays for exactly the
judgements that were collected."""

from __future__ import annotations

from humaneval.acute.task_data import judgements_from_submission
from humaneval.crowd.export import FinishedUnit


def count_events(unit: FinishedUnit) -> dict[str, int]:
    return {"unit": 1, "judgement": len(judgements_from_submission(unit.inputs, unit.outputs))}
