"""Read and validate ACUTE judgement records (docs/formats.md, section 'Exports') into compact columns.

Studies reach a million judgements, so records are read a block of lines at a time, validated a column
at a time and stored as integer-coded numpy columns (models, workers, pairs, units, reasons) instead of a
million dicts: that keeps memory low and lets every statistic downstream be a vectorised count.
Every problem is an `InputError` naming file, line and field, raised before anything is written;
a judgement given twice (same unit, worker and pair) is one, naming both lines.
"""

from __future__ import annotations

import logging
import math
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from humaneval.forked_work import ForkedWork
from humaneval.freed_heap import release_freed_heap
from humaneval.jsonl import (NotPlainJSONL, cycle_collection_paused, iter_jsonl_object_blocks, iter_jsonl_objects,
                             line_start_after)

from analysis.stats.record_checks import (
    DenseCodes,
    RecordFields,
    RecordSources,
    RunKeyedCodes,
    RunKeys,
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
    "reason": "i",
}
#: optional key under which a record may carry its pair's two dialogues (docs/formats.md, section 'ACUTE pairings' `dialogue_dicts`)
DIALOGUES_FIELD = "dialogue_dicts"


def index_dtype(size: int) -> type[np.signedinteger]:
    """The integer type for codes below `size` (cells of a table): int32 when they fit, else int64. A million
    int64 codes are 8 MB; statistics build several such per-record cell columns at a time."""
    return np.int32 if size < 2**31 else np.int64


@dataclass
class AcuteJudgements:
    """All judgements of one or more runs, integer-coded.

    `model_a`, `model_b`, `left`, `winner` index `models` (the compared models, sorted
    alphabetically) followed by `onboarding_models` (seen only in onboarding pairs), except that `winner`
    is `TIE_CODE` (-1) for a tie and `BOTH_BAD_CODE` (-2) for "both bad"; `worker` indexes
    `workers`; `pair` indexes `pair_keys` ((run_id, pair_id): pair ids are only unique within a run);
    `unit` indexes `unit_keys` ((run_id, unit_id)), used to split a unit's time over its comparisons.
    """

    models: list[str]
    onboarding_models: list[str]
    workers: list[str]
    pair_keys: RunKeys
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
    #: per record: index into `reason_texts` (a reason given as null is "")
    reason: np.ndarray
    #: every distinct reason once: a million judgements repeat a few stock phrases, and a string each was ~100 MB
    reason_texts: list[str]
    #: pair index -> the two dialogue dicts (docs/formats.md, section 'ACUTE pairings'), when records or a pairings file carry them
    dialogues: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    #: unit index -> (run_id, unit_id as read, as a string); for judgements.csv
    unit_keys: RunKeys = field(default_factory=RunKeys.empty)
    #: per record: index into `questions`
    question: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))

    def __len__(self) -> int:
        return int(self.worker.shape[0])

    def choices(self, mask: np.ndarray) -> "AcuteJudgements":
        """The judgements where `mask` (a boolean mask) is true, with what was compared and chosen only: models,
        sides, winner, worker and pair (copied), and the code tables (shared); what every statistic of a part of
        the judgements reads. Units, onboarding flags, times, reasons and questions are left empty (no
        records) instead: they were 30 of the 46 bytes a judgement takes, ~28 MB a copy at a million."""
        return AcuteJudgements(
            models=self.models,
            onboarding_models=self.onboarding_models,
            workers=self.workers,
            pair_keys=self.pair_keys,
            questions=self.questions,
            runs=self.runs,
            model_a=self.model_a[mask],
            model_b=self.model_b[mask],
            left=self.left[mask],
            winner=self.winner[mask],
            worker=self.worker[mask],
            pair=self.pair[mask],
            unit=self.unit[:0],
            is_onboarding=self.is_onboarding[:0],
            onboarding_passed=self.onboarding_passed[:0],
            started_at=self.started_at[:0],
            submitted_at=self.submitted_at[:0],
            reason=self.reason[:0],
            reason_texts=self.reason_texts,
            dialogues=self.dialogues,
            unit_keys=self.unit_keys,
            question=self.question[:0],
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

    def reason_of(self, i: int) -> str:
        """Judgement i's `reason` ("" when none was given)."""
        return self.reason_texts[self.reason[i]]

    def winner_name(self, i: int) -> str:
        """Judgement i's `winner` as written in the record: a model name, "tie" or "both_bad"."""
        code = int(self.winner[i])
        if code < 0:
            return TIE if code == TIE_CODE else BOTH_BAD
        return [*self.models, *self.onboarding_models][code]


def _dialogues_problem(value: Any) -> str | None:
    """What is wrong with a record's `dialogue_dicts`, or None: it must hold two dialogues of
    `{speakers, dialogue: [{id, text}]}`, as in a pairing (docs/formats.md, section 'ACUTE pairings')."""
    if not isinstance(value, list) or len(value) != 2:
        return "must be a list of two dialogues"
    for d in value:
        if not isinstance(d, dict) or not isinstance(d.get("dialogue"), list):
            return "each dialogue must be an object with a 'dialogue' list"
        for turn in d["dialogue"]:
            if not isinstance(turn, dict) or not isinstance(turn.get("text", ""), str):
                return "each turn must be an object with a string 'text'"
    return None


def _check_dialogues(value: Any, path: Path, line: int) -> list[dict[str, Any]]:
    """`value` when it holds two dialogues (`_dialogues_problem`), else the located error."""
    problem = _dialogues_problem(value)
    if problem is not None:
        raise record_error(problem, path, line, DIALOGUES_FIELD)
    return value


def load_acute_judgements(
    paths: Sequence[str | Path], *, allow_mixed_questions: bool = False, processes: int = 1
) -> AcuteJudgements:
    """Read, validate and combine ACUTE judgement JSONL files (one or several runs).

    Runs asked different questions measure different things, so combining them is refused with an
    `InputError` unless `allow_mixed_questions` is set. Records of other tasks are an error, not
    silently skipped: a safety export passed by mistake would otherwise give an empty report.

    Files are first read a block of lines at a time and checked a whole column at once (`_read_by_blocks`):
    at a million judgements the checks of one record at a time took most of the reading time. That reader only says
    whether everything is valid; when it is not sure (an error, or a line only the strict JSON parser may
    read), the files are read again one record at a time (`_read_by_record`), which names the first
    problem's file, line and field, or, for a valid line the block reader left alone, gives the same columns.
    `processes` 2 lets the block reader read half of a large input in a second process (`_read_by_blocks`).
    """
    with cycle_collection_paused():
        try:
            read = _read_by_blocks(paths, allow_mixed_questions, processes)
        except NotPlainJSONL:
            read = _read_by_record(paths, allow_mixed_questions)
        judgements = _judgements(read)
    del read
    release_freed_heap()
    return judgements


class _Read:
    """What a reader collected: the code tables, one array per `COLUMN_TYPES` column (codes in the tables'
    first-seen order) and the dialogues of the pairs that carry them."""

    def __init__(self) -> None:
        self.models, self.workers, self.questions, self.runs, self.reasons = (DenseCodes() for _ in range(5))
        self.pairs, self.units = RunKeyedCodes(), RunKeyedCodes()
        self.dialogues: dict[int, list[dict[str, Any]]] = {}
        self.cols: dict[str, np.ndarray] = {}


#: inputs at least this large are read in two processes, a part each (`_read_by_blocks`); below it a second
#: process costs more than it saves (starting it, sending its columns back, merging its code tables)
TWO_PROCESSES_FROM_BYTES = 32 * 2**20
#: blocks read between two `release_freed_heap` calls: the parsed blocks' freed pages otherwise pile up in the C heap
#: (~40 MB by the end of a half of a million judgements, in each of the two processes); a call takes ~2 ms
TRIM_EVERY_BLOCKS = 64
#: a file's part: (path, first byte, byte after the last; None = to the end)
Part = tuple[Path, int, int | None]
#: the code table of each coded column (`_Read` attribute): a second process's codes are mapped onto ours
COLUMN_TABLES = {"model_a": "models", "model_b": "models", "left": "models", "winner": "models", "worker": "workers",
                 "pair": "pairs", "unit": "units", "question": "questions", "reason": "reasons"}


def _read_by_blocks(paths: Sequence[str | Path], allow_mixed_questions: bool, processes: int = 1) -> _Read:
    """The columns of valid files, checked a block of records and a column at a time; `NotPlainJSONL` for
    anything it is not sure of, errors included, without saying where (`_read_by_record` does).

    With `processes` 2 and inputs of `TWO_PROCESSES_FROM_BYTES` or more, a forked process reads the second half
    (`humaneval.forked_work`) while this one reads the first, and its columns and code tables are then appended
    to ours, its codes mapped onto ours: the result is the one reading alone gives, code for code. Reading is
    pure Python and was two thirds of a million-judgement report's time."""
    parts: list[Part] = [(Path(p), 0, None) for p in paths]
    second = None
    if processes > 1 and sum(map(_size, parts)) >= TWO_PROCESSES_FROM_BYTES:
        parts, theirs = _halves(parts)
        second = ForkedWork.start(lambda: _part_result(_read_parts(theirs)), expected=(NotPlainJSONL,))
        if second is None:  # forking is not safe here: all of it in this process
            parts = parts + theirs
    try:
        read, cols = _read_parts(parts)
        if second is not None:
            release_freed_heap()
            try:
                _append_part(read, cols, *second.result())
            except RuntimeError:
                log.info("the second reading process failed; reading its half here", exc_info=True)
                _read_parts(theirs, read, cols)
    except BaseException:  # an error, or an interrupt: the second process ends with us
        if second is not None:
            second.close()
        raise
    if not cols["worker"] or (len(read.questions.index) > 1 and not allow_mixed_questions):
        raise NotPlainJSONL  # no record at all, or the question error
    read.cols = _arrays(cols)
    if _repeats(read.cols["unit"], read.cols["worker"], read.cols["pair"]):
        raise NotPlainJSONL  # a record given twice: the error names both lines
    return read


def _read_parts(parts: Sequence[Part], read: _Read | None = None,
                cols: dict[str, array] | None = None) -> tuple[_Read, dict[str, array]]:
    """The code tables and packed columns of the records of `parts`, in order (see `_read_by_blocks`), added to
    `read` and `cols` when given (those of the parts before)."""
    read = read or _Read()
    # growing packed arrays, not a list of each block's arrays joined at the end: those thousands of small
    # arrays, allocated between orjson's large buffers and kept to the end, left the C heap too fragmented to
    # reuse (~100 MB more at a million judgements)
    if cols is None:
        cols = {key: array(typecode) for key, typecode in COLUMN_TYPES.items()}
    blocks = 0
    for path, start, end in parts:
        for block in iter_jsonl_object_blocks(path, start, end):
            for key, values in _block_columns(block, read).items():
                cols[key].frombytes(values.astype(cols[key].typecode, copy=False).view(np.uint8))
            blocks += 1
            if blocks % TRIM_EVERY_BLOCKS == 0:
                release_freed_heap()
    return read, cols


def _size(part: Part) -> int:
    """A file's size; 0 for one that cannot be read, whose error the reading then names."""
    try:
        return part[0].stat().st_size
    except OSError:
        return 0


def _halves(parts: list[Part]) -> tuple[list[Part], list[Part]]:
    """The files' bytes split in two at a line start about half way: the first half's parts, the second's."""
    sizes = list(map(_size, parts))
    left = sum(sizes) // 2
    for i, ((path, _, _), size) in enumerate(zip(parts, sizes)):
        if left < size:
            cut = line_start_after(path, left)
            return [*parts[:i], (path, 0, cut)], [(path, cut, None), *parts[i + 1:]]
        left -= size
    return parts, []


def _part_result(part: tuple[_Read, dict[str, array]]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """What a second reading process sends back (`ForkedWork`): its code tables and dialogues, and its columns."""
    read, cols = part
    release_freed_heap()  # the parsed blocks' pages, before the parent's merge makes the peak of the two processes
    tables = {name: getattr(read, name) for name in ("models", "workers", "questions", "runs", "reasons")}
    header = {
        "tables": {name: table.values() for name, table in tables.items()},
        "keys": {name: (keys.runs, keys.run, keys.ids) for name in ("pairs", "units") for keys in [getattr(read, name).keys()]},
        "dialogues": read.dialogues,
    }
    return header, _arrays(cols)


def _append_part(read: _Read, cols: dict[str, array], header: dict[str, Any],
                 arrays: list[tuple[str, np.ndarray]]) -> None:
    """Add a later part's records (`_part_result`) to ours: its values entered in our code tables in its order
    (after ours: first-seen order over the whole input), its codes mapped onto ours, its columns appended, the
    dialogues of pairs we have none for kept."""
    remap = {name: np.array([getattr(read, name).code(v) for v in values], dtype=np.int32)
             for name, values in header["tables"].items()}
    for name, (runs, run, ids) in header["keys"].items():
        codes = getattr(read, name)
        remap[name] = np.fromiter(map(codes.code, map(runs.__getitem__, run.tolist()), ids), dtype=np.int32, count=len(ids))
    for code, dialogues in header["dialogues"].items():
        read.dialogues.setdefault(int(remap["pairs"][code]), dialogues)
    while arrays:  # each received buffer freed once appended
        key, values = arrays.pop(0)
        table = COLUMN_TABLES.get(key)
        if table is not None and values.size:
            # the negative codes (a tie, an unknown side) are not table codes and stay as they are
            values = np.where(values >= 0, remap[table][np.maximum(values, 0)], values)
        cols[key].frombytes(values.astype(cols[key].typecode, copy=False).view(np.uint8))


def _repeats(*codes: np.ndarray) -> bool:
    """Whether some record has the same codes in every column as another: one sorted int64 key when the
    codes fit in one (a table of three columns took ~100 MB at a million records), else a table."""
    key = np.zeros(codes[0].size, dtype=np.int64)
    room = 1
    for column in codes:
        size = int(column.max()) + 1
        room *= size
        if room >= 2 ** 63:
            return bool(pd.DataFrame(dict(enumerate(codes))).duplicated().any())
        key *= size  # in place: a million int64 keys are 8 MB a copy
        key += column
    key.sort()
    return bool((key[1:] == key[:-1]).any())


#: the required fields in one order, and a getter of all of them from a record at once
_REQUIRED = sorted(FIELDS.required)
_GET_REQUIRED = itemgetter(*_REQUIRED)
_NULL = type(None)
#: `onboarding_passed` -> its column code
_PASSED_CODES = {True: 1, False: 0, None: -1}
#: integers past this lose digits as floats, so `submitted_at < started_at` could come out otherwise than
#: in the record; a column holding one is left to `_read_by_record`
_EXACT_FLOAT_INTEGERS = 2.0 ** 53


def _fields(block: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """Every required field of every record of the block, field by field (`NotPlainJSONL` if one is missing)."""
    try:
        return dict(zip(_REQUIRED, zip(*map(_GET_REQUIRED, block))))
    except KeyError:
        raise NotPlainJSONL from None


def _distinct(values: tuple[Any, ...], types: tuple[type, ...]) -> dict[Any, None]:
    """The distinct values, in first-seen order, each of exactly one of `types`.

    Only the distinct values' types are looked at: no value of another type hides behind an equal one
    (a key of the dict) for the types this is given, str and None, as no other value equals a string or None."""
    try:
        distinct = dict.fromkeys(values)
    except TypeError:  # a list or an object
        raise NotPlainJSONL from None
    if not all(type(v) in types for v in distinct):
        raise NotPlainJSONL
    return distinct


def _of_types(values: tuple[Any, ...], types: set[type]) -> tuple[Any, ...]:
    """`values` when each is of exactly one of `types` (a bool is no int here: JSON's true is not 1)."""
    if not set(map(type, values)) <= types:
        raise NotPlainJSONL
    return values


def _names(values: tuple[Any, ...]) -> dict[Any, None]:
    """The distinct values of a field that must hold non-empty strings."""
    distinct = _distinct(values, (str,))
    if "" in distinct:
        raise NotPlainJSONL
    return distinct


def _model_names(values: tuple[Any, ...]) -> dict[Any, None]:
    """The distinct values of `model_a` or `model_b`: names, and none of them a tie outcome."""
    distinct = _names(values)
    if any(outcome in distinct for outcome in OUTCOME_CODES):
        raise NotPlainJSONL
    return distinct


def _coded(codes: DenseCodes, values: Sequence[Any], check: Callable[[Sequence[Any]], dict[Any, None]],
           extra: dict[Any, int] | None = None) -> np.ndarray:
    """Each value's code; `extra` codes values that are not entered in the table (null, the tie outcomes).

    Most blocks hold no value new to the table, so the values are looked up first, unless the last one is
    new (units come in order: each block ends in new ones). Only a block with a new value has its distinct
    values checked (`check`: their types; a value equal to one already in the table was checked when that
    one came) and the new ones coded in first-seen order, as `DenseCodes.code` one at a time would."""
    if values and _known(codes, values[-1], extra):
        try:
            return _looked_up(codes, values, extra)
        except KeyError:
            pass
    for value in [v for v in check(values) if v not in codes.index and (extra is None or v not in extra)]:
        codes.code(value)
    return _looked_up(codes, values, extra)


def _known(codes: DenseCodes, value: Any, extra: dict[Any, int] | None = None) -> bool:
    """Whether `value` is in the table or `extra`."""
    try:
        return value in codes.index or (extra is not None and value in extra)
    except TypeError:  # a list or an object
        raise NotPlainJSONL from None


def _looked_up(codes: DenseCodes, values: Sequence[Any], extra: dict[Any, int] | None) -> np.ndarray:
    """Each value's code in the table or `extra`; KeyError for a value in neither."""
    lookup = codes.index if extra is None else {**codes.index, **extra}
    try:
        if values and values[-1] == values[0] and values.count(values[0]) == len(values):  # one value: no hashing
            return np.full(len(values), lookup[values[0]], dtype=np.int32)
        return np.fromiter(map(lookup.__getitem__, values), dtype=np.int32, count=len(values))
    except TypeError:  # a list or an object
        raise NotPlainJSONL from None


def _reason_codes(codes: DenseCodes, reasons: tuple[Any, ...]) -> np.ndarray:
    """The codes of the reasons, a null reason being "" (as `reason_text` reads it)."""
    if None in reasons:
        reasons = tuple("" if r is None else r for r in _of_types(reasons, {str, _NULL}))
    return _coded(codes, reasons, lambda values: _distinct(values, (str,)))


def _key_codes(codes: RunKeyedCodes, runs: tuple[str, ...], ids: tuple[Any, ...]) -> np.ndarray:
    """The code of each record's (run_id, id as a string), for an id field (strings, or integers from other
    tools). A block of one run (the usual case) is looked up in that run's table as read first: its keys are
    strings, which no integer or bool equals; ids new to it (units come in order: most blocks end in new
    ones) are entered in first-seen order, as `RunKeyedCodes.code` one at a time would."""
    one_run = runs.count(runs[0]) == len(runs) if runs else True
    if one_run and ids and _known_key(codes, runs[0], ids[-1]):
        try:
            return np.fromiter(map(codes.by_run[runs[0]].__getitem__, ids), dtype=np.int32, count=len(ids))
        except KeyError:
            pass
        except TypeError:  # a list or an object
            raise NotPlainJSONL from None
    if not set(map(type, ids)) <= {str}:
        ids = tuple(map(str, _of_types(ids, {str, int})))
    if not one_run:  # several runs in one block: a record at a time
        return np.fromiter(map(codes.code, runs, ids), dtype=np.int32, count=len(ids))
    if not ids:
        return np.zeros(0, np.int32)
    table = codes.table(runs[0])
    for key in [k for k in dict.fromkeys(ids) if k not in table]:
        codes.code(runs[0], key)
    return np.fromiter(map(table.__getitem__, ids), dtype=np.int32, count=len(ids))


def _known_key(codes: RunKeyedCodes, run: str, key: Any) -> bool:
    """Whether `key` is among `run`'s ids."""
    try:
        return key in codes.by_run.get(run, ())
    except TypeError:  # a list or an object
        raise NotPlainJSONL from None


def _times(values: tuple[Any, ...]) -> np.ndarray:
    """Unix seconds as floats, null as NaN; `NotPlainJSONL` for a non-finite or inexact one."""
    _of_types(values, {float, int, _NULL})
    times = np.array([math.nan if v is None else v for v in values] if None in values else values, dtype=np.float64)
    known = times[~np.isnan(times)]
    if not np.isfinite(known).all() or (np.abs(known) >= _EXACT_FLOAT_INTEGERS).any():
        raise NotPlainJSONL
    return times


def _block_columns(block: list[dict[str, Any]], read: _Read) -> dict[str, np.ndarray]:
    """The columns of one block of records, their values entered in `read`'s code tables; `NotPlainJSONL`
    when any record breaks a rule of `check_record` or `_read_by_record`, checked column by column."""
    f = _fields(block)
    if f["task"].count(FIELDS.task) != len(block):
        raise NotPlainJSONL
    # a left or winner that is neither model is entered as a model of its own, and refused just below
    model_a = _coded(read.models, f["model_a"], _model_names)
    model_b = _coded(read.models, f["model_b"], _model_names)
    left = _coded(read.models, f["left"], lambda v: _distinct(v, (str, _NULL)), {None: UNKNOWN_LEFT_CODE})
    winner = _coded(read.models, f["winner"], _names, OUTCOME_CODES)
    if ((model_a == model_b).any() or ((left != UNKNOWN_LEFT_CODE) & (left != model_a) & (left != model_b)).any()
            or ((winner >= 0) & (winner != model_a) & (winner != model_b)).any()):
        raise NotPlainJSONL
    started, submitted = _times(f["started_at"]), _times(f["submitted_at"])
    if (submitted < started).any():
        raise NotPlainJSONL
    _of_types(f["dialogue_ids"], {list, _NULL})
    runs = f["run_id"]
    _coded(read.runs, runs, _names)
    pair = _key_codes(read.pairs, runs, f["pair_id"])
    _dialogues(block, pair, read.dialogues)
    return {
        "model_a": model_a, "model_b": model_b, "left": left, "winner": winner,
        "worker": _coded(read.workers, f["worker_id"], _names),
        "pair": pair,
        "unit": _key_codes(read.units, runs, f["unit_id"]),
        "is_onboarding": np.array(_of_types(f["is_onboarding"], {bool}), dtype=np.int8),
        "onboarding_passed": np.fromiter(map(_PASSED_CODES.__getitem__, _of_types(f["onboarding_passed"], {bool, _NULL})),
                                         dtype=np.int8, count=len(block)),
        "started_at": started, "submitted_at": submitted,
        "question": _coded(read.questions, f["question"], _names),
        "reason": _reason_codes(read.reasons, f["reason"]),
    }


def _dialogues(block: list[dict[str, Any]], pair: np.ndarray, dialogues: dict[int, list[dict[str, Any]]]) -> None:
    """Keep the first `dialogue_dicts` of each pair, as `_read_by_record` does."""
    for i in (i for i, rec in enumerate(block) if DIALOGUES_FIELD in rec):
        code = int(pair[i])
        if code not in dialogues:
            if _dialogues_problem(block[i][DIALOGUES_FIELD]) is not None:
                raise NotPlainJSONL
            dialogues[code] = block[i][DIALOGUES_FIELD]


def _read_by_record(paths: Sequence[str | Path], allow_mixed_questions: bool) -> _Read:
    """Every record checked on its own, in file order: the first problem is an `InputError` naming it."""
    read = _Read()
    models, workers, pairs, units, questions, runs = (read.models, read.workers, read.pairs, read.units,
                                                      read.questions, read.runs)
    # packed arrays, not lists: a list keeps a Python object per field and record (a float is 24 bytes and its
    # pointer 8 more), which at a million judgements was ~200 MB of the reader's peak
    cols: dict[str, array] = {key: array(typecode) for key, typecode in COLUMN_TYPES.items()}
    dialogues = read.dialogues
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
            pair = pairs.code(run, str(rec["pair_id"]))
            if DIALOGUES_FIELD in rec and pair not in dialogues:
                dialogues[pair] = _check_dialogues(rec[DIALOGUES_FIELD], path, line)
            cols["model_a"].append(models.code(a))
            cols["model_b"].append(models.code(b))
            cols["left"].append(UNKNOWN_LEFT_CODE if left is None else models.code(left))
            cols["winner"].append(OUTCOME_CODES[winner] if winner in OUTCOME_CODES else models.code(winner))
            cols["worker"].append(workers.code(rec["worker_id"]))
            cols["pair"].append(pair)
            cols["unit"].append(units.code(run, str(rec["unit_id"])))
            cols["question"].append(q)
            cols["is_onboarding"].append(rec["is_onboarding"])
            cols["onboarding_passed"].append(-1 if passed is None else int(passed))
            # null (unknown) becomes NaN; timing.py treats it, and a 0-second duration, as unknown
            cols["started_at"].append(math.nan if rec["started_at"] is None else float(rec["started_at"]))
            cols["submitted_at"].append(math.nan if rec["submitted_at"] is None else float(rec["submitted_at"]))
            cols["reason"].append(read.reasons.code(reason))
            sources.add(path, line)
    read.cols = _arrays(cols)
    refuse_repeated_records([read.cols["unit"], read.cols["worker"], read.cols["pair"]], sources,
                            "unit, worker and pair", "pair_id")
    return read


def _arrays(cols: dict[str, array]) -> dict[str, np.ndarray]:
    """The packed arrays as numpy arrays of the same type, sharing their memory."""
    return {key: np.frombuffer(values, dtype=values.typecode) if len(values) else np.zeros(0, values.typecode)
            for key, values in cols.items()}


def _judgements(read: _Read) -> AcuteJudgements:
    """The judgements of what a reader collected: models of real comparisons first (codes 0..K-1,
    alphabetical); models seen only in onboarding pairs (the weak "I don't know" bot) follow them and never
    enter a statistic."""
    cols = read.cols
    onboarding = cols["is_onboarding"].view(bool)
    compared: set[int] = set()
    for key in ("model_a", "model_b"):
        compared.update(np.unique(cols[key][~onboarding]).tolist())
    compared_models, onboarding_models, remap = read.models.split_sorted(compared, np.int16)

    # old code -> new one, the negative codes (unknown side, the ties) shifted in front and kept: one lookup of
    # the int32 codes instead of int64 copies of each column (8 MB apiece at a million judgements)
    shift = -UNKNOWN_LEFT_CODE
    lookup = np.concatenate([np.arange(-shift, 0, dtype=np.int16), remap])

    def model_col(key: str) -> np.ndarray:
        if not remap.size:
            return np.zeros(0, np.int16)
        return lookup[cols[key] + shift]

    result = AcuteJudgements(
        models=compared_models,
        onboarding_models=onboarding_models,
        workers=read.workers.values(),
        pair_keys=read.pairs.keys(),
        questions=read.questions.values(),
        runs=read.runs.values(),
        model_a=model_col("model_a"),
        model_b=model_col("model_b"),
        left=model_col("left"),
        winner=model_col("winner"),
        worker=cols["worker"].astype(np.int32, copy=False),
        pair=cols["pair"].astype(np.int32, copy=False),
        unit=cols["unit"].astype(np.int32, copy=False),
        is_onboarding=onboarding,
        onboarding_passed=cols["onboarding_passed"].astype(np.int8, copy=False),
        started_at=cols["started_at"].astype(np.float64, copy=False),
        submitted_at=cols["submitted_at"].astype(np.float64, copy=False),
        reason=cols["reason"].astype(_narrowest(len(read.reasons.index))),
        reason_texts=read.reasons.values(),
        dialogues=read.dialogues,
        unit_keys=read.units.keys(),
        question=cols["question"].astype(_narrowest(len(read.questions.index))),
    )
    log.info("read %d judgements of %d models by %d workers", len(result), len(result.models), len(result.workers))
    return result


def _narrowest(size: int) -> type[np.signedinteger]:
    """The narrowest integer type for codes below `size`: reasons and questions are a few stock values in most
    studies, and int32 codes for them were 8 MB of every million judgements held to the end."""
    return next(t for t in (np.int8, np.int16, np.int32) if size <= np.iinfo(t).max + 1)


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


