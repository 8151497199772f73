"""The ACUTE reader's two paths agree: the block reader (a column checked at once) accepts only what the
record reader accepts, and reads it into the same judgements; everything else is read record by record,
whose errors name file, line and field (the block reader never reports an error of its own)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analysis.acute import records
from analysis.acute.records import AcuteJudgements, load_acute_judgements
from analysis.synthetic.acute import StudyDesign, simulate
from humaneval.input_errors import InputError
from humaneval.jsonl import NotPlainJSONL

pytest.importorskip("orjson")

ARRAYS = ("model_a", "model_b", "left", "winner", "worker", "pair", "unit", "is_onboarding", "onboarding_passed",
          "started_at", "submitted_at", "question")
TABLES = ("models", "onboarding_models", "workers", "pair_keys", "questions", "runs", "unit_keys")


def _summary(j: AcuteJudgements) -> str:
    """Everything the judgements hold, dtypes included, as text to compare."""
    arrays = [(k, str(getattr(j, k).dtype), getattr(j, k).tolist()) for k in ARRAYS]
    reasons = [j.reason_of(i) for i in range(len(j))]
    return repr((arrays, [getattr(j, k) for k in TABLES], reasons, sorted(j.dialogues.items())))


def _outcome(paths: list[Path], by_record: bool, allow_mixed: bool = False) -> str:
    """The judgements read, or the error with its file, line and field."""
    try:
        if by_record:
            return _summary(records._judgements(records._read_by_record(paths, allow_mixed)))
        return _summary(load_acute_judgements(paths, allow_mixed_questions=allow_mixed))
    except InputError as err:
        return f"error {err} ({err.path}, {err.line}, {err.field})"


def _study() -> list[dict[str, Any]]:
    design = StudyDesign(strengths={"alpha": 0.0, "=beta": 0.4, "gämma": -0.2}, n_judgements=300, n_workers=12,
                         n_pairs=40, tie_share=0.2, both_bad_share=0.3, failed_onboarding_share=0.1, with_dialogues=True, seed=2)
    return list(simulate(design).records())


#: one change to a record each: valid variants the block reader must read alike, and errors it must leave alone
CHANGES: dict[str, Any] = {
    "left unknown": {"left": None}, "times unknown": {"started_at": None, "submitted_at": None},
    "integer times": {"started_at": 1795260000, "submitted_at": 1795260040}, "reason null": {"reason": None},
    "integer ids": {"unit_id": 7, "pair_id": 3}, "empty ids": {"unit_id": "", "pair_id": ""},
    "dialogue_ids null": {"dialogue_ids": None}, "onboarding_passed null": {"onboarding_passed": None},
    "extra field": {"extra": {"deep": [[1]]}}, "new worker": {"worker_id": "@new"}, "tie": {"winner": "tie"},
    "worker empty": {"worker_id": ""}, "worker number": {"worker_id": 5}, "task": {"task": "safety"},
    "unit bool": {"unit_id": True}, "pair float": {"pair_id": 1.5}, "time text": {"started_at": "1"},
    "time bool": {"submitted_at": True}, "submitted first": {"submitted_at": 1.0}, "flag number": {"is_onboarding": 1},
    "passed number": {"onboarding_passed": 0}, "dialogue_ids text": {"dialogue_ids": "x"}, "reason number": {"reason": 2},
    "model named tie": {"model_a": "tie"}, "same models": {"model_b": "alpha", "model_a": "alpha"},
    "left other": {"left": "zzz"}, "winner other": {"winner": "zzz"}, "other question": {"question": "Which?"},
    "bad dialogues": {"dialogue_dicts": [1, 2]}, "unhashable worker": {"worker_id": ["w"]},
    "huge integer time": {"started_at": 2 ** 60, "submitted_at": 2 ** 60 + 1},
}


@pytest.mark.parametrize("change", [*CHANGES, "missing left", "record twice", "parse error after a field error"])
def test_both_readers_give_the_same_judgements_or_the_same_error(change: str, tmp_path: Path) -> None:
    recs = _study()
    rng = random.Random(change)
    at = rng.randrange(len(recs))
    if change == "missing left":
        del recs[at]["left"]
    elif change in CHANGES:
        recs[at].update(CHANGES[change])
    lines = [json.dumps(r, ensure_ascii=False) for r in recs]
    if change == "record twice":
        lines.append(lines[at])
    if change == "parse error after a field error":
        lines[at + 1 if at + 1 < len(lines) else 0] = "{broken"
        lines[min(at, len(lines) - 2)] = json.dumps({**recs[0], "worker_id": ""})
    path = tmp_path / "j.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _outcome([path], by_record=False) == _outcome([path], by_record=True)


def test_the_block_reader_reads_valid_studies_and_refuses_what_the_record_reader_refuses(tmp_path: Path) -> None:
    recs = _study()
    path = tmp_path / "j.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    read = records._read_by_blocks([path], False)  # taken for such a file (else the comparisons above prove nothing)
    assert len(read.cols["worker"]) == len(recs) and read.dialogues
    for change in ("worker empty", "left other", "submitted first", "other question"):
        bad = tmp_path / f"{change}.jsonl"
        bad.write_text("".join(json.dumps({**r, **CHANGES[change]} if i == 5 else r) + "\n" for i, r in enumerate(recs)))
        with pytest.raises(NotPlainJSONL):
            records._read_by_blocks([bad], False)


def test_several_runs_read_alike(tmp_path: Path) -> None:
    paths = []
    for run, question in (("r1", "Q?"), ("r2", "Other?")):
        design = StudyDesign(strengths={"a": 0.0, "b": 0.5}, n_judgements=60, n_workers=6, n_pairs=30, run_id=run,
                             question=question, seed=len(paths))
        paths.append(tmp_path / f"{run}.jsonl")
        paths[-1].write_text("".join(json.dumps(r) + "\n" for r in simulate(design).records()), encoding="utf-8")
    for allow in (False, True):
        assert _outcome(paths, False, allow) == _outcome(paths, True, allow)
    assert np.unique(load_acute_judgements(paths, allow_mixed_questions=True).question).size == 2
