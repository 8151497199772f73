"""Checks every analysis reader (ACUTE, safety, BAD) applies in the same way.

A record given twice — an export concatenated with itself, one file passed twice, two exports of
overlapping runs — is counted twice by every rate and test, and nothing in the report would show it.
So each reader keeps where every record came from (`RecordSources`) and refuses records with the
same identity (`refuse_repeated_records`), naming the file and line of both. Numbers are checked by
`is_finite_number`, which also refuses the integers JSON allows but a float cannot hold.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
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
