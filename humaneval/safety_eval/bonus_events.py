"""What a safety-annotation unit holds that a bonus rule can pay for (`humaneval.bonus` in
task_configs/safety.yaml).

`unit`: 1 per submitted unit; `label`: the labels given on regular (not gold) items; `gold_correct`: the
hidden gold items answered correctly, scored as the gold check scores them (`gold.is_correct`: OK vs
NOT OK). Labels are read by the export's own `labels_from_submission`."""

from __future__ import annotations

from humaneval.crowd.export import FinishedUnit
from humaneval.safety_eval.gold import is_correct
from humaneval.safety_eval.task_data import labels_from_submission


def count_events(unit: FinishedUnit) -> dict[str, int]:
    labels = labels_from_submission(unit.inputs, unit.outputs)
    gold = [label for label in labels if label.item["is_gold"] and label.item["gold_label"] is not None]
    return {"unit": 1, "label": len(labels) - len(gold),
            "gold_correct": sum(is_correct(label.label, label.item["gold_label"]) for label in gold)}
