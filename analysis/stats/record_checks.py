"""Checks every analysis reader (ACUTE, safety, BAD) applies in the same way.

The fields all studies' records share (docs/formats.md, section 'Exports': `task`, non-empty strings such as `run_id` and
`worker_id`, string-or-integer ids such as `unit_id`, finite `started_at` ≤ `submitted_at`) are checked
once, by `check_record`, against each study's `RecordFields`; each reader then checks its own fields.
Every problem is an `InputError` naming file, line and field (`record_error`).

A record given twice — an export concatenated with itself, one file passed twice, two exports of
overlapping runs — is counted twice by every rate and test, and nothing in the report would show it.
So each reader keeps where every record came from (`RecordSources`) and refuses records with the
same identity (`refuse_repeated_records`), naming the file and line of both. Numbers are checked by
`is_finite_number`, which also refuses the integers JSON allows but a float cannot hold.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from humaneval.input_errors import InputError


def is_finite_number(value: Any) -> bool:
    """A JSON number usable as a float: not a bool (Python counts those as ints), not NaN or ±Infinity,
    and not an integer too large for a float (`1` followed by 400 zeros is valid JSON, and `float()` of
    it raises OverflowError, which would end the CLI in a traceback instead of a located error)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


#: the times every record carries, Unix seconds
TIME_FIELDS = ("started_at", "submitted_at")


def record_error(problem: str, path: Path, line: int, fieldname: str | None = None) -> InputError:
    """The error for a record's `fieldname` at `path`:`line`."""
    return InputError(problem, path=path, line=line, field=fieldname)


class RecordFields:
    """What one study's records must carry: the `task` name, the fields every study checks alike, and the
    study's other required fields (which its reader checks).

    `strings` must be non-empty strings; `ids` strings or integers (docs/formats.md); `empty_ids` accepts `""`
    as an id, which the ACUTE reader does and the safety and BAD readers do not; `nullable_times` accepts
    `null` (unknown) for `started_at`/`submitted_at` (ACUTE); a present time is checked as always.
    """

    def __init__(self, task: str, *, strings: tuple[str, ...], ids: tuple[str, ...], others: tuple[str, ...],
                 empty_ids: bool = False, nullable_times: bool = False) -> None:
        self.task = task
        self.nullable_times = nullable_times
        self.strings = strings
        self.ids = ids
        self.empty_ids = empty_ids
        self.required = frozenset(("task",) + strings + ids + TIME_FIELDS + others)


def check_task(rec: dict[str, Any], task: str, path: Path, line: int) -> None:
    """Refuse a record without `task` or of another task: another study's export passed by mistake would
    otherwise give an empty report."""
    if "task" not in rec:
        raise record_error("required field is missing", path, line, "task")
    if rec["task"] != task:
        raise record_error(f"expected {task!r}, got {rec['task']!r}", path, line, "task")


def check_record(rec: dict[str, Any], fields: RecordFields, path: Path, line: int) -> None:
    """Every required field present (the first missing one, alphabetically, is named), then the task, the
    strings, the ids and the times."""
    missing = fields.required.difference(rec)
    if missing:
        raise record_error("required field is missing", path, line, sorted(missing)[0])
    check_task(rec, fields.task, path, line)
    for name in fields.strings:
        if not isinstance(rec[name], str) or not rec[name]:
            raise record_error(f"must be a non-empty string, got {rec[name]!r}", path, line, name)
    for name in fields.ids:
        v = rec[name]
        if isinstance(v, bool) or not isinstance(v, (str, int)) or (v == "" and not fields.empty_ids):
            raise record_error(f"must be a string (or integer) id, got {v!r}", path, line, name)
    for name in TIME_FIELDS:
        if rec[name] is None and fields.nullable_times:
            continue
        if not is_finite_number(rec[name]):
            raise record_error(f"must be a number of Unix seconds, got {rec[name]!r}", path, line, name)
    if rec["started_at"] is not None and rec["submitted_at"] is not None and rec["submitted_at"] < rec["started_at"]:
        raise record_error("is earlier than started_at", path, line, "submitted_at")


def reason_text(rec: dict[str, Any], path: Path, line: int) -> str:
    """The worker's free-text `reason`: a string, or null for none."""
    reason = rec["reason"]
    if reason is None:
        return ""
    if not isinstance(reason, str):
        raise record_error("must be a string", path, line, "reason")
    return reason


class RecordSources:
    """File and line of every record a reader kept, in reading order.

    Two packed integer arrays rather than a list of (path, line) tuples: ACUTE studies reach a million
    records, and these are only read back to name lines in an error message.
    """

    def __init__(self) -> None:
        self._paths: list[Path] = []
        self._file = array("I")
        self._line = array("I")

    def add(self, path: Path, line: int) -> None:
        """Record where the next record came from; readers pass one Path object per file, so an identity
        test finds a new file (`==` on Paths costs a second per million records)."""
        if not self._paths or self._paths[-1] is not path:
            self._paths.append(path)
        self._file.append(len(self._paths) - 1)
        self._line.append(line)

    def __len__(self) -> int:
        return len(self._line)

    def __getitem__(self, index: int) -> tuple[Path, int]:
        return self._paths[self._file[index]], self._line[index]


def refuse_repeated_records(keys: Sequence[Sequence[Any]], sources: RecordSources, what: str, field: str) -> None:
    """Raise an `InputError` at the first record whose identity repeats an earlier one's, naming both.

    `keys` are the identity's columns, one value per record in reading order (the integer codes the
    readers already hold, so the check is one hash pass rather than a million Python tuples); `what`
    names them for the message, `field` is the field reported with the later record.
    """
    if len(sources) == 0:
        return
    columns = [np.asarray(k) for k in keys]
    repeated = pd.DataFrame(dict(enumerate(columns))).duplicated().to_numpy()
    if not repeated.any():
        return
    later = int(repeated.argmax())
    first = int(np.logical_and.reduce([c == c[later] for c in columns]).argmax())
    first_path, first_line = sources[first]
    path, line = sources[later]
    raise InputError(
        f"has the same {what} as the record at {first_path}:{first_line}: a record given twice would be counted twice",
        path=path, line=line, field=field,
    )


class DenseCodes:
    """String -> dense integer code, in first-seen order."""

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}

    def code(self, value: Any) -> int:
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.index)
        return found

    def values(self) -> list[Any]:
        return list(self.index)

    def split_sorted(self, first: Collection[int], dtype: type[np.integer]) -> tuple[list[Any], list[Any], np.ndarray]:
        """The values whose codes are in `first`, sorted; then the others, sorted; and the array that maps an
        old code to its new place in that order (first ones from 0)."""
        names = self.values()
        order = sorted(range(len(names)), key=lambda c: (c not in first, names[c]))
        remap = np.empty(len(names), dtype=dtype)
        remap[order] = np.arange(len(names), dtype=dtype)
        return [names[c] for c in order if c in first], [names[c] for c in order if c not in first], remap


class RunKeys(Sequence[tuple[str, str]]):
    """(run_id, id) keys by code — a unit's or a pair's: ids are only unique within a run — held as one list of
    ids and one run code per key. A tuple per key was 56 bytes: 12 MB for the ~200,000 units of a million
    judgements, held from reading to the report's end. `keys[code]` is still the (run_id, id) tuple."""

    def __init__(self, runs: list[str], run: np.ndarray, ids: list[str]) -> None:
        self.runs = runs  # the distinct run ids
        self.run = run  # per key: its run's index in `runs`
        self.ids = ids  # per key: the id, as a string

    @classmethod
    def empty(cls) -> "RunKeys":
        return cls([], np.zeros(0, np.int32), [])

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, code: int) -> tuple[str, str]:  # type: ignore[override]  # no slices: a code at a time
        return self.runs[self.run[code]], self.ids[code]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return zip(map(self.runs.__getitem__, self.run.tolist()), self.ids)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return repr(list(self))


class RunKeyedCodes:
    """(run_id, id) -> dense integer code in first-seen order, as `DenseCodes` of tuples would give, kept as a
    dict of ids per run: no tuple is built or hashed per record (two per record at a million judgements)."""

    def __init__(self) -> None:
        self.by_run: dict[str, dict[str, int]] = {}  # run id -> id -> code
        self._run_index: dict[str, int] = {}
        self._runs: list[str] = []
        self._run = array("i")  # per code: its run's index
        self._ids: list[str] = []

    def __len__(self) -> int:
        return len(self._ids)

    def table(self, run: str) -> dict[str, int]:
        """The codes of one run's ids (empty for a run not seen yet)."""
        found = self.by_run.get(run)
        if found is None:
            found = self.by_run[run] = {}
            self._run_index[run] = len(self._runs)
            self._runs.append(run)
        return found

    def code(self, run: str, key: str) -> int:
        table = self.table(run)
        found = table.get(key)
        if found is None:
            found = table[key] = len(self._ids)
            self._ids.append(key)
            self._run.append(self._run_index[run])
        return found

    def keys(self) -> RunKeys:
        return RunKeys(list(self._runs), np.array(self._run, dtype=np.int32), self._ids)
