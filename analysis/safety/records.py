"""Read and validate human safety labels (docs/formats.md, section 'Safety labels') into compact columns.

One record is one worker's bucket for one model reply. As in `analysis.acute.records`, records are
validated one line at a time and stored as integer-coded numpy columns, so every statistic
downstream is a vectorised count. Every problem is an `InputError` naming file, line and field,
raised before anything is written.

Identity: an item is `(run_id, item_id)` (item ids are only promised unique inside one run, as pair
ids in ACUTE). Every label of an item must agree on its `model`, `is_gold` and `gold_label`. A worker
labels an item once per unit, so two labels with the same unit, worker and item are one record given
twice and are refused. (The same worker may meet a gold item again in a later unit: that is a new label.)
Optional extra keys the reader uses: `excluded` / `excluded_reason` (the exporter's mark for workers
who failed gold during the run), `is_onboarding` (such records are counted and skipped unread), and
`text` (the rated reply) / `context` (the conversation before it: a string or a list of strings) for
the report's viewer of disputed items.

Buckets: the optional `buckets` (`{bucket name: true|false}`, the checkboxes of per-turn annotation tasks) is
validated and kept as `analysis.stats.multilabel.BucketMatrix`, one row per record. A `label` of `not_ok` is NOT OK
with no severity asked (binary tasks): it is unsafe wherever OK / NOT OK counts, and its own answer (code
`NOT_OK_CODE`) wherever the four severities count (see analysis/safety/statistics.py).

Times: `started_at` and `submitted_at` must be present; either may be `null` (unknown, e.g. converted from a
tool that does not record them), which is stored as NaN. Known times must be finite numbers, and when both
are known `submitted_at ≥ started_at`. Time-based figures skip unknown times and say how many.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from humaneval.input_errors import InputError
from humaneval.jsonl import iter_jsonl_objects

from analysis.stats.multilabel import BucketColumns, BucketMatrix
from analysis.stats.record_checks import (
    DenseCodes,
    RecordFields,
    RecordSources,
    check_record,
    check_task,
    is_finite_number,
    reason_text,
    refuse_repeated_records,
)

log = logging.getLogger(__name__)

#: the four buckets of docs/formats.md, section 'Safety annotation task data', in order of severity; code 0 is the only safe one
LABELS = ("ok", "not_ok_minority", "not_ok_some", "not_ok_most")
#: NOT OK with no severity asked (binary tasks); unsafe like the three not_ok_* buckets, but none of them
NOT_OK = "not_ok"
#: every answer a label may hold: the four severities, then `NOT_OK` (code `NOT_OK_CODE`)
ANSWERS = LABELS + (NOT_OK,)
NOT_OK_CODE = len(LABELS)
LABEL_CODES = {name: code for code, name in enumerate(ANSWERS)}
FIELDS = RecordFields(
    "safety",
    strings=("run_id", "worker_id", "model"),
    ids=("unit_id", "item_id"),  # strings in docs/formats.md; integers from other tools are accepted
    others=("label", "is_gold", "gold_label", "reason"),
)


@dataclass
class ItemText:
    """What the worker saw, when the records carry it: the conversation so far and the rated reply."""

    context: list[str]
    reply: str


@dataclass
class SafetyLabels:
    """All non-onboarding labels of one or more runs, integer-coded.

    Per record: `item` indexes `item_keys`, `worker` indexes `workers`, `label` is an `ANSWERS` code (> 0: NOT OK),
    `excluded` marks records the exporter flagged, `buckets` holds the checkboxes (no columns when none was asked).
    Per item: `item_model` indexes `models` (the models of non-gold items, sorted) followed by `gold_models` (seen
    only on gold items), `item_is_gold`, and `item_gold` (an `ANSWERS` code, -1 for non-gold items).
    """

    models: list[str]
    gold_models: list[str]
    workers: list[str]
    item_keys: list[tuple[str, str]]
    runs: list[str]
    item: np.ndarray
    worker: np.ndarray
    label: np.ndarray
    excluded: np.ndarray
    started_at: np.ndarray
    submitted_at: np.ndarray
    reasons: list[str]
    item_model: np.ndarray
    item_is_gold: np.ndarray
    item_gold: np.ndarray
    #: per record, the checkbox buckets (no columns when no record had any)
    buckets: BucketMatrix
    #: worker index -> the exporter's `excluded_reason` (first non-empty one seen)
    excluded_reasons: dict[int, str] = field(default_factory=dict)
    #: item index -> its text, when the records carry it
    texts: dict[int, ItemText] = field(default_factory=dict)
    n_onboarding: int = 0
    #: per record: index into `unit_keys` ((run_id, unit_id)), for the tidy labels.csv
    unit: np.ndarray | None = None
    unit_keys: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.item.shape[0])

    def subset(self, mask: np.ndarray) -> "SafetyLabels":
        """The records where `mask` is true; items, workers and models keep their codes."""
        idx = np.flatnonzero(mask)
        return SafetyLabels(
            models=self.models, gold_models=self.gold_models, workers=self.workers, item_keys=self.item_keys,
            runs=self.runs, item=self.item[idx], worker=self.worker[idx], label=self.label[idx],
            excluded=self.excluded[idx], started_at=self.started_at[idx], submitted_at=self.submitted_at[idx],
            reasons=[self.reasons[i] for i in idx.tolist()], item_model=self.item_model,
            item_is_gold=self.item_is_gold, item_gold=self.item_gold, excluded_reasons=self.excluded_reasons,
            texts=self.texts, n_onboarding=self.n_onboarding,
            unit=None if self.unit is None else self.unit[idx], unit_keys=self.unit_keys,
            buckets=self.buckets.take(idx),
        )


def _label_code(value: Any, path: Path, line: int, name: str) -> int:
    if not isinstance(value, str) or value not in LABEL_CODES:
        raise InputError(f"must be one of {', '.join(ANSWERS)}, got {value!r}", path=path, line=line, field=name)
    return LABEL_CODES[value]


def _item_text(rec: dict[str, Any], path: Path, line: int) -> ItemText | None:
    reply = rec.get("text")
    if reply is None:
        return None
    if not isinstance(reply, str):
        raise InputError("must be a string", path=path, line=line, field="text")
    context = rec.get("context")
    if context is None:
        lines: list[str] = []
    elif isinstance(context, str):
        lines = context.split("\n")
    elif isinstance(context, list) and all(isinstance(c, str) for c in context):
        lines = list(context)
    else:
        raise InputError("must be a string or a list of strings", path=path, line=line, field="context")
    return ItemText(context=lines, reply=reply)


def _checked_times(rec: dict[str, Any], path: Path, line: int) -> tuple[float, float]:
    """`check_record` with unknown (`null`) times allowed: the record is checked with each null time standing in
    for the other known one (so neither the number check nor the order check fires on it); NaN is returned for it."""
    started, submitted = rec.get("started_at"), rec.get("submitted_at")
    if started is None or submitted is None:
        stand_in = next((v for v in (started, submitted) if is_finite_number(v)), 0.0)
        probe = dict(rec)
        for name in ("started_at", "submitted_at"):
            if name in rec and rec[name] is None:
                probe[name] = stand_in
        check_record(probe, FIELDS, path, line)
    else:
        check_record(rec, FIELDS, path, line)
    return (float("nan") if started is None else float(started), float("nan") if submitted is None else float(submitted))


def load_safety_labels(paths: Sequence[str | Path]) -> SafetyLabels:
    """Read, validate and combine safety label JSONL files (one or several runs).

    Records of another task are an error, not skipped: an ACUTE export passed by mistake would
    otherwise give an empty report.
    """
    workers, items, units, runs, models = (DenseCodes() for _ in range(5))
    cols: dict[str, list[Any]] = {
        k: [] for k in ("item", "worker", "unit", "label", "excluded", "started_at", "submitted_at")
    }
    reasons: list[str] = []
    buckets = BucketColumns()
    item_facts: list[tuple[int, bool, int]] = []  # per item: model code, is_gold, gold code
    item_first: list[tuple[Path, int]] = []
    excluded_reasons: dict[int, str] = {}
    texts: dict[int, ItemText] = {}
    n_onboarding = 0
    sources = RecordSources()
    for raw_path in paths:
        path = Path(raw_path)
        for line, rec in iter_jsonl_objects(path):
            check_task(rec, FIELDS.task, path, line)
            onboarding = rec.get("is_onboarding", False)
            if not isinstance(onboarding, bool):
                raise InputError("must be true or false", path=path, line=line, field="is_onboarding")
            if onboarding:  # practice answers: their shape is the exporter's business, never a statistic
                n_onboarding += 1
                continue
            started, submitted = _checked_times(rec, path, line)
            label = _label_code(rec["label"], path, line, "label")
            is_gold = rec["is_gold"]
            if not isinstance(is_gold, bool):
                raise InputError("must be true or false", path=path, line=line, field="is_gold")
            if is_gold:
                gold = _label_code(rec["gold_label"], path, line, "gold_label")
            elif rec["gold_label"] is not None:
                raise InputError("must be null when is_gold is false", path=path, line=line, field="gold_label")
            else:
                gold = -1
            excluded = rec.get("excluded", False)
            if not isinstance(excluded, bool):
                raise InputError("must be true or false", path=path, line=line, field="excluded")
            excluded_reason = rec.get("excluded_reason")
            if excluded_reason is not None and not isinstance(excluded_reason, str):
                raise InputError("must be a string or null", path=path, line=line, field="excluded_reason")
            reason = reason_text(rec, path, line)
            run = rec["run_id"]
            runs.code(run)
            item = items.code((run, str(rec["item_id"])))
            model = models.code(rec["model"])
            if item == len(item_facts):
                item_facts.append((model, is_gold, gold))
                item_first.append((path, line))
            else:
                known_model, known_gold, known_label = item_facts[item]
                where = f"{item_first[item][0]}:{item_first[item][1]}"
                if known_model != model:
                    raise InputError(f"differs from the same item's model at {where}", path=path, line=line, field="model")
                if known_gold != is_gold:
                    raise InputError(f"differs from the same item at {where}", path=path, line=line, field="is_gold")
                if known_label != gold:
                    raise InputError(f"differs from the same item at {where}", path=path, line=line, field="gold_label")
            text = _item_text(rec, path, line)
            if text is not None and item not in texts:
                texts[item] = text
            w = workers.code(rec["worker_id"])
            if excluded and excluded_reason and w not in excluded_reasons:
                excluded_reasons[w] = excluded_reason
            cols["item"].append(item)
            cols["worker"].append(w)
            cols["unit"].append(units.code((run, str(rec["unit_id"]))))
            cols["label"].append(label)
            cols["excluded"].append(excluded)
            cols["started_at"].append(started)
            cols["submitted_at"].append(submitted)
            reasons.append(reason)
            buckets.add(rec.get("buckets"), path, line)
            sources.add(path, line)
    refuse_repeated_records([cols["unit"], cols["worker"], cols["item"]], sources, "unit, worker and item", "item_id")
    # models of real items come first (alphabetical); models seen only on gold items follow and
    # never enter a model statistic
    rated = {m for m, g, _ in item_facts if not g}
    rated_models, gold_models, remap = models.split_sorted(rated, np.int32)
    facts = np.asarray(item_facts, dtype=np.int64).reshape(-1, 3)
    result = SafetyLabels(
        models=rated_models,
        gold_models=gold_models,
        workers=workers.values(),
        item_keys=items.values(),
        runs=runs.values(),
        item=np.asarray(cols["item"], dtype=np.int64),
        worker=np.asarray(cols["worker"], dtype=np.int64),
        label=np.asarray(cols["label"], dtype=np.int64),
        excluded=np.asarray(cols["excluded"], dtype=bool),
        started_at=np.asarray(cols["started_at"], dtype=np.float64),
        submitted_at=np.asarray(cols["submitted_at"], dtype=np.float64),
        reasons=reasons,
        item_model=remap[facts[:, 0]] if len(facts) else np.zeros(0, np.int32),
        item_is_gold=facts[:, 1].astype(bool),
        item_gold=facts[:, 2].copy(),
        excluded_reasons=excluded_reasons,
        texts=texts,
        n_onboarding=n_onboarding,
        unit=np.asarray(cols["unit"], dtype=np.int64),
        unit_keys=units.values(),
        buckets=buckets.build(),
    )
    if not len(result):
        raise InputError(f"holds no safety labels to analyse ({n_onboarding} onboarding records)",
                         path=", ".join(str(p) for p in paths))
    log.info("read %d safety labels of %d items (%d models) by %d workers",
             len(result), len(result.item_keys), len(result.models), len(result.workers))
    return result
