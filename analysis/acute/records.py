"""Read and validate ACUTE judgement records (docs/formats.md, section 'Exports') into compact columns.

Studies reach a million judgements, so records are validated one line at a time and stored as
integer-coded numpy columns (models, workers, pairs, units) instead of a million dicts: that keeps
memory far below the 2 GB budget and lets every statistic downstream be a vectorised count.
Every problem is an `InputError` naming file, line and field, raised before anything is written;
a judgement given twice (same unit, worker and pair) is one, naming both lines.
"""

from __future__ import annotations

import logging
import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from humaneval.jsonl import cycle_collection_paused, iter_jsonl_objects

from analysis.stats.record_checks import (
    DenseCodes,
    RecordFields,
    RecordSources,
    check_record,
    reason_text,
    record_error,
    refuse_repeated_records,
)

log = logging.getLogger(__name__)

FIELDS = RecordFields(
    "acute",
    strings=("run_id", "worker_id", "model_a", "model_b", "winner", "question"),
    ids=("unit_id", "pair_id"),  # strings in docs/formats.md; integers from other tools (and "") are accepted
    others=("left", "reason", "is_onboarding", "onboarding_passed", "dialogue_ids"),
    nullable_times=True,  # null = unknown (tools that do not record times); a present time is checked
    empty_ids=True,
)
#: `winner` values that are not a model: a tie, and a tie where the worker found both conversations bad
#: (docs/formats.md, section 'ACUTE judgements'); a model of either name is refused, the value would be ambiguous
TIE, BOTH_BAD = "tie", "both_bad"
#: their codes in `AcuteJudgements.winner` (model codes are ≥ 0), so every count stays one vectorised bincount
TIE_CODE, BOTH_BAD_CODE = -1, -2
#: winner value -> code, for the two non-model outcomes
OUTCOME_CODES = {TIE: TIE_CODE, BOTH_BAD: BOTH_BAD_CODE}
#: `left` code of a judgement whose side was not recorded (`left: null`, e.g. ParlAI's results CSV); apart from
#: the tie codes, so `winner == left` is never true for it
UNKNOWN_LEFT_CODE = -3
#: the reader's columns and their `array` type codes: codes (tie codes are negative), flags, Unix seconds
COLUMN_TYPES = {
    "model_a": "i", "model_b": "i", "left": "i", "winner": "i", "worker": "i", "pair": "i", "unit": "i",
    "is_onboarding": "b", "onboarding_passed": "b", "started_at": "d", "submitted_at": "d", "question": "i",
}
#: optional key under which a record may carry its pair's two dialogues (docs/formats.md, section 'ACUTE pairings' `dialogue_dicts`)
DIALOGUES_FIELD = "dialogue_dicts"


@dataclass
class AcuteJudgements:
    """All judgements of one or more runs, integer-coded.

    `model_a`, `model_b`, `left`, `winner` index `models` (the compared models, sorted
    alphabetically) followed by `onboarding_models` (seen only in onboarding pairs), except that `winner`
    is `TIE_CODE` (-1) for a tie and `BOTH_BAD_CODE` (-2) for "both bad"; `worker` indexes
    `workers`; `pair` indexes `pair_keys` ((run_id, pair_id): pair ids are only unique within a run);
    `unit` indexes units ((run_id, unit_id)), used to split a unit's time over its comparisons.
    """

    models: list[str]
    onboarding_models: list[str]
    workers: list[str]
    pair_keys: list[tuple[str, str]]
    questions: list[str]
    runs: list[str]
    model_a: np.ndarray
    model_b: np.ndarray
    left: np.ndarray
    winner: np.ndarray
    worker: np.ndarray
    pair: np.ndarray
    unit: np.ndarray
    is_onboarding: np.ndarray
    onboarding_passed: np.ndarray  # 1 passed, 0 failed, -1 not reported (null)
    started_at: np.ndarray
    submitted_at: np.ndarray
    reasons: list[str]
    #: pair index -> the two dialogue dicts (docs/formats.md, section 'ACUTE pairings'), when records or a pairings file carry them
    dialogues: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    #: unit index -> (run_id, unit_id as read, as a string); for judgements.csv
    unit_keys: list[tuple[str, str]] = field(default_factory=list)
    #: per record: index into `questions`
    question: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))

    def __len__(self) -> int:
        return int(self.worker.shape[0])

    def subset(self, mask: np.ndarray) -> "AcuteJudgements":
        """The judgements where `mask` is true, sharing the code tables (models stay present)."""
        idx = np.flatnonzero(mask)
        return AcuteJudgements(
            models=self.models,
            onboarding_models=self.onboarding_models,
            workers=self.workers,
            pair_keys=self.pair_keys,
            questions=self.questions,
            runs=self.runs,
            model_a=self.model_a[idx],
            model_b=self.model_b[idx],
            left=self.left[idx],
            winner=self.winner[idx],
            worker=self.worker[idx],
            pair=self.pair[idx],
            unit=self.unit[idx],
            is_onboarding=self.is_onboarding[idx],
            onboarding_passed=self.onboarding_passed[idx],
            started_at=self.started_at[idx],
            submitted_at=self.submitted_at[idx],
            reasons=[self.reasons[i] for i in idx.tolist()],
            dialogues=self.dialogues,
            unit_keys=self.unit_keys,
            question=self.question[idx] if self.question.size else self.question,
        )

    @property
    def decisive(self) -> np.ndarray:
        """Mask: a model was chosen (not a tie, not "both bad")."""
        return self.winner >= 0

    @property
    def left_known(self) -> np.ndarray:
        """Mask: the record says which model was shown on the left (`left` not null)."""
        return self.left >= 0

    @property
    def tie(self) -> np.ndarray:
        """Mask: a tie of either kind ("tie" or "both_bad"); both count as a tie for win rates and rankings."""
        return self.winner < 0

    @property
    def loser(self) -> np.ndarray:
        """The model not chosen; -1 where nothing was chosen (a tie), so index it with `decisive` only."""
        return np.where(self.winner == self.model_a, self.model_b, np.where(self.winner == self.model_b, self.model_a, -1))

    def winner_name(self, i: int) -> str:
        """Judgement i's `winner` as written in the record: a model name, "tie" or "both_bad"."""
        code = int(self.winner[i])
        if code < 0:
            return TIE if code == TIE_CODE else BOTH_BAD
        return [*self.models, *self.onboarding_models][code]


def _check_dialogues(value: Any, path: Path, line: int) -> list[dict[str, Any]]:
    """Two dialogues of `{speakers, dialogue: [{id, text}]}`, as in a pairing (docs/formats.md, section 'ACUTE pairings')."""
    if not isinstance(value, list) or len(value) != 2:
        raise record_error("must be a list of two dialogues", path, line, DIALOGUES_FIELD)
    for d in value:
        if not isinstance(d, dict) or not isinstance(d.get("dialogue"), list):
            raise record_error("each dialogue must be an object with a 'dialogue' list", path, line, DIALOGUES_FIELD)
        for turn in d["dialogue"]:
            if not isinstance(turn, dict) or not isinstance(turn.get("text", ""), str):
                raise record_error("each turn must be an object with a string 'text'", path, line, DIALOGUES_FIELD)
    return value


def load_acute_judgements(
    paths: Sequence[str | Path], *, allow_mixed_questions: bool = False
) -> AcuteJudgements:
    """Read, validate and combine ACUTE judgement JSONL files (one or several runs).

    Runs asked different questions measure different things, so combining them is refused with an
    `InputError` unless `allow_mixed_questions` is set. Records of other tasks are an error, not
    silently skipped: a safety export passed by mistake would otherwise give an empty report.
    """
    with cycle_collection_paused():
        return _load_acute_judgements(paths, allow_mixed_questions)


def _load_acute_judgements(paths: Sequence[str | Path], allow_mixed_questions: bool) -> AcuteJudgements:
    models, workers, pairs, units, questions, runs = (DenseCodes() for _ in range(6))
    # packed arrays, not lists: a list keeps a Python object per field and record (a float is 24 bytes and its
    # pointer 8 more), which at a million judgements was ~200 MB of the reader's peak
    cols: dict[str, array] = {key: array(typecode) for key, typecode in COLUMN_TYPES.items()}
    reasons: list[str] = []
    dialogues: dict[int, list[dict[str, Any]]] = {}
    first_question_at: dict[int, tuple[Path, int]] = {}
    sources = RecordSources()
    for raw_path in paths:
        path = Path(raw_path)
        for line, rec in iter_jsonl_objects(path):
            check_record(rec, FIELDS, path, line)
            if not isinstance(rec["is_onboarding"], bool):
                raise record_error("must be true or false", path, line, "is_onboarding")
            passed = rec["onboarding_passed"]
            if passed is not None and not isinstance(passed, bool):
                raise record_error("must be true, false or null", path, line, "onboarding_passed")
            if rec["dialogue_ids"] is not None and not isinstance(rec["dialogue_ids"], list):
                raise record_error("must be a list", path, line, "dialogue_ids")
            reason = reason_text(rec, path, line)
            a, b, left, winner = rec["model_a"], rec["model_b"], rec["left"], rec["winner"]
            for key in ("model_a", "model_b"):
                if rec[key] in OUTCOME_CODES:
                    raise record_error(f"{rec[key]!r} is a winner value (a tie), not a model name", path, line, key)
            if a == b:
                raise record_error("model_a and model_b must differ", path, line, "model_b")
            if left is not None and left != a and left != b:
                raise record_error(f"must be model_a, model_b or null (unknown), got {left!r}", path, line, "left")
            if winner != a and winner != b and winner not in OUTCOME_CODES:
                raise record_error(f"must be model_a, model_b, \"tie\" or \"both_bad\", got {winner!r}", path, line, "winner")
            q = questions.code(rec["question"])
            first_question_at.setdefault(q, (path, line))
            if q and not allow_mixed_questions:
                raise record_error(
                    f"asks a different question than {first_question_at[0][0]}:{first_question_at[0][1]} "
                    f"({questions.values()[0]!r}); pass --allow-mixed-questions to combine them anyway",
                    path, line, "question",
                )
            run = rec["run_id"]
            runs.code(run)
            pair = pairs.code((run, str(rec["pair_id"])))
            if DIALOGUES_FIELD in rec and pair not in dialogues:
                dialogues[pair] = _check_dialogues(rec[DIALOGUES_FIELD], path, line)
            cols["model_a"].append(models.code(a))
            cols["model_b"].append(models.code(b))
            cols["left"].append(UNKNOWN_LEFT_CODE if left is None else models.code(left))
            cols["winner"].append(OUTCOME_CODES[winner] if winner in OUTCOME_CODES else models.code(winner))
            cols["worker"].append(workers.code(rec["worker_id"]))
            cols["pair"].append(pair)
            cols["unit"].append(units.code((run, str(rec["unit_id"]))))
            cols["question"].append(q)
            cols["is_onboarding"].append(rec["is_onboarding"])
            cols["onboarding_passed"].append(-1 if passed is None else int(passed))
            # null (unknown) becomes NaN; timing.py treats it, and a 0-second duration, as unknown
            cols["started_at"].append(math.nan if rec["started_at"] is None else float(rec["started_at"]))
            cols["submitted_at"].append(math.nan if rec["submitted_at"] is None else float(rec["submitted_at"]))
            reasons.append(reason)
            sources.add(path, line)
    # models of real comparisons come first (codes 0..K-1, alphabetical); models seen only in
    # onboarding pairs (the weak "I don't know" bot) follow them and never enter a statistic
    onboarding = np.asarray(cols["is_onboarding"], dtype=bool)
    compared: set[int] = set()
    for key in ("model_a", "model_b"):
        compared.update(np.unique(np.asarray(cols[key], dtype=np.int64)[~onboarding]).tolist())
    compared_models, onboarding_models, remap = models.split_sorted(compared, np.int16)

    def model_col(key: str) -> np.ndarray:
        codes = np.asarray(cols[key], dtype=np.int64)
        if not remap.size:
            return np.zeros(0, np.int16)
        return np.where(codes < 0, codes, remap[np.maximum(codes, 0)]).astype(np.int16)  # tie codes stay

    result = AcuteJudgements(
        models=compared_models,
        onboarding_models=onboarding_models,
        workers=workers.values(),
        pair_keys=pairs.values(),
        questions=questions.values(),
        runs=runs.values(),
        model_a=model_col("model_a"),
        model_b=model_col("model_b"),
        left=model_col("left"),
        winner=model_col("winner"),
        worker=np.asarray(cols["worker"], dtype=np.int32),
        pair=np.asarray(cols["pair"], dtype=np.int32),
        unit=np.asarray(cols["unit"], dtype=np.int32),
        is_onboarding=np.asarray(cols["is_onboarding"], dtype=bool),
        onboarding_passed=np.asarray(cols["onboarding_passed"], dtype=np.int8),
        started_at=np.asarray(cols["started_at"], dtype=np.float64),
        submitted_at=np.asarray(cols["submitted_at"], dtype=np.float64),
        reasons=reasons,
        dialogues=dialogues,
        unit_keys=units.values(),
        question=np.asarray(cols["question"], dtype=np.int32),
    )
    refuse_repeated_records([result.unit, result.worker, result.pair], sources, "unit, worker and pair", "pair_id")
    log.info("read %d judgements of %d models by %d workers", len(result), len(result.models), len(result.workers))
    return result


def attach_pairings(judgements: AcuteJudgements, pairings_path: str | Path) -> int:
    """Attach dialogues from an ACUTE pairings JSONL (docs/formats.md, section 'ACUTE pairings') to the judged pairs.

    A pairing's id is its own `pair_id` key when it has one, else its 0-based index among the
    file's non-blank lines (onboarding lines count). Pairings match judgements of every run by that
    id, so an id given twice is refused: the page would show whichever came last as the conversations
    every judgement of that id was about. Returns how many judged pairs received dialogues.
    """
    path = Path(pairings_path)
    by_id: dict[str, list[dict[str, Any]]] = {}
    first_line: dict[str, int] = {}
    for index, (line, rec) in enumerate(iter_jsonl_objects(path)):
        if "dialogue_dicts" not in rec:
            raise record_error("required field is missing", path, line, "dialogue_dicts")
        pid = str(rec.get("pair_id", index))
        if pid in first_line:
            raise record_error(f"pair {pid!r} is also given at {path}:{first_line[pid]}", path, line, "pair_id")
        first_line[pid] = line
        by_id[pid] = _check_dialogues(rec["dialogue_dicts"], path, line)
    attached = 0
    for pair, (_run, pid) in enumerate(judgements.pair_keys):
        if pid in by_id and pair not in judgements.dialogues:
            judgements.dialogues[pair] = by_id[pid]
            attached += 1
    log.info("attached dialogues of %d pairs from %s", attached, path)
    return attached


