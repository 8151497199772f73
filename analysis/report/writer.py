"""Put a report folder on disk all at once.

Everything is written into a hidden temporary folder beside the target and renamed into place at
the end, so an error (or Ctrl-C) never leaves a half-written report that looks complete. An existing
report folder is replaced; a folder holding anything else is refused rather than deleted.

Reports are opened by colleagues and in spreadsheets. The folder gets the permissions the user's umask
gives any new folder (`tempfile.mkdtemp` alone makes it 0700, so nobody else on a shared server could
open it), and the files those it gives any new file. Worker ids, model names and reasons are typed by
strangers, and a spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
as a formula (OWASP, "CSV Injection"): such text cells get a leading `'`, for every table written here.
Numbers are left alone, so a strength of -0.5 stays a number.

Every chart of the page is also written on its own, as `charts/NN-<name>.svg` (`standalone_charts`), a
complete SVG file for a paper or a slide; its name is made of the chart's position and the ASCII letters
and digits of its label only, so no text from the data can name a path.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from html import unescape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from humaneval.input_errors import InputError
from humaneval.outputs import staged_folder

from analysis.report.charts import CHART_SVG

#: first characters that make a spreadsheet read a cell as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: how every CSV writes a float
FLOAT_FORMAT = "%.10g"
#: characters that make Python's csv writer quote a cell (`write_csv`'s dialect)
_QUOTED = re.compile('[,"\r\n]')
#: rows `write_csv` turns into text at a time: the text of a whole million-row table would take gigabytes
CSV_CHUNK_ROWS = 5_000


def _defused(value: Any) -> Any:
    """A string a spreadsheet would run as a formula, with a `'` in front so it shows as text; else `value`."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every string cell, column name and index label that starts like a formula defused."""
    out = frame.copy()
    for i in range(out.shape[1]):  # by position: model names as column names need not be unique once defused
        column = out.iloc[:, i]
        if not pd.api.types.is_numeric_dtype(column):
            out.isetitem(i, column.map(_defused))
    out.columns = out.columns.map(_defused)
    out.index = out.index.map(_defused)
    return out


def json_ready(value: Any) -> Any:
    """`value` as strict JSON can hold it, through dicts, lists and tuples: numpy scalars as Python values, and
    every NaN or infinity as null — strict JSON readers (and ours) refuse them, and an undefined statistic
    is "no value", not a number."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    return value


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """`frame`, spreadsheet-safe, as CSV: with its index when the index has a name (a grid), floats as `FLOAT_FORMAT`.

    The bytes are those of pandas' `to_csv`, which formats every float through a Python call per cell and
    hands every row to Python's csv writer: on ACUTE's million-row judgements.csv that was most of the
    report's writing time. When every column is of a kind `_cell_maker` knows, the cells are made here as
    text, a chunk of rows at a time (a category's text, quoted as the csv writer quotes it, once per
    category), and each line is the cells joined by commas; any other frame goes to `to_csv`.
    """
    index = frame.index.name is not None
    makers = None if index else _cell_makers(frame)
    if makers is None:
        spreadsheet_safe(frame).to_csv(path, index=index, float_format=FLOAT_FORMAT)
        return
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator=os.linesep).writerow(map(_defused, frame.columns))  # to_csv's dialect
        for start in range(0, len(frame), CSV_CHUNK_ROWS):
            rows = slice(start, start + CSV_CHUNK_ROWS)
            handle.write(os.linesep.join(map(",".join, zip(*(make(rows) for make in makers)))) + os.linesep)


def _cell_makers(frame: pd.DataFrame) -> list[Callable[[slice], Sequence[str]]] | None:
    """Per column, a function from a slice of rows to their cells as `to_csv` writes them for the
    spreadsheet-safe frame (text defused here: only categories are text among the kinds handled); None when
    a column label is not a string or a column is of a kind not handled here."""
    if frame.shape[1] == 0 or not all(isinstance(label, str) for label in frame.columns):
        return None
    makers = [_cell_maker(frame.iloc[:, i]) for i in range(frame.shape[1])]
    return None if any(make is None for make in makers) else makers  # type: ignore[return-value]


def _csv_cell(value: Any) -> str:
    """`value` as Python's csv writer writes it as a cell of a row (quoted when it holds a comma, a quote
    or a line break), by asking that writer unless it is text without any of those."""
    if isinstance(value, str) and not _QUOTED.search(value):
        return value
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow([value, ""])
    return line.getvalue()[:-2]


def _floats(values: np.ndarray) -> list[str]:
    """Each float as `FLOAT_FORMAT`, NaN as ""; each distinct value formatted once (a unit's judgements share
    their times, and formatting took a microsecond a cell)."""
    if np.signbit(values[values == 0]).any():  # -0.0 writes as "-0" but is one value with 0.0 to np.unique
        return [FLOAT_FORMAT % v if v == v else "" for v in values.tolist()]
    distinct, position = np.unique(values, return_inverse=True)
    text = np.array([FLOAT_FORMAT % v if v == v else "" for v in distinct.tolist()], dtype=object)
    return text[position].tolist()


def _cell_maker(column: pd.Series) -> Callable[[slice], Sequence[str]] | None:
    """`to_csv`'s cells of one column: a float as `FLOAT_FORMAT`, NaN and other missing values as "", an
    integer or a bool as Python writes it, a category as its value (made once per category)."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = column.cat.categories.astype(object)
        text = np.array([*(_csv_cell(_defused(c)) for c in categories), ""], dtype=object)  # code -1: missing
        codes = column.array.codes  # the Categorical's own codes (`.cat.codes` makes a Series of a copy)
        return lambda rows: text[codes[rows]].tolist()
    if isinstance(dtype, pd.BooleanDtype):
        cells = np.array(["False", "True", ""], dtype=object)
        flags, missing = column.to_numpy(dtype=bool, na_value=False), column.isna().to_numpy()
        return lambda rows: cells[np.where(missing[rows], 2, flags[rows])].tolist()
    if not isinstance(dtype, np.dtype):
        return None
    values = column.to_numpy()
    if dtype == np.float64:
        return lambda rows: _floats(values[rows])
    if dtype.kind == "b":
        cells = np.array(["False", "True"], dtype=object)
        return lambda rows: cells[values[rows].view(np.int8)].tolist()
    if dtype.kind in "iu":
        return lambda rows: list(map(str, values[rows].tolist()))
    return None


#: the report folder's sub-folder of standalone chart files
CHARTS = "charts"
_LABEL = re.compile(r"\baria-label='([^']*)'")


def standalone_charts(html: str) -> list[tuple[str, str]]:
    """(file name, SVG document) of every chart in `html`, in page order: `NN-<label>.svg`, the label cut
    to its lower-case ASCII letters and digits joined by "-", and the chart as a standalone SVG file (XML
    declaration, white background; it already has its namespace, width, height and viewBox)."""
    out = []
    for n, match in enumerate(CHART_SVG.finditer(html), start=1):
        svg = match.group(0)
        opening = svg[: svg.index(">") + 1]
        label = _LABEL.search(opening)
        slug = re.sub(r"[^a-z0-9]+", "-", unescape(label.group(1)).lower() if label else "").strip("-")[:60].strip("-")
        body = opening + "<rect width='100%' height='100%' fill='white'/>" + svg[len(opening):]
        out.append((f"{n:02d}-{slug or 'chart'}.svg", '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"))
    return out


def _earlier_charts(path: Path) -> bool:
    """Whether `path` is the charts folder of an earlier report: a folder of SVG files and nothing else."""
    return (path.name == CHARTS and path.is_dir() and not path.is_symlink()
            and all(p.suffix == ".svg" and p.is_file() and not p.is_symlink() for p in path.iterdir()))


def write_report(
    out_dir: str | Path, tables: Mapping[str, pd.DataFrame], summary: Mapping[str, Any], html: str
) -> list[Path]:
    """Write CSVs, summary.json, report.html and, when the page has charts, `charts/` with each as an SVG
    file (`standalone_charts`); return the final paths of the files."""
    # A link to a report folder: replace the folder it points to and keep the link (renaming onto the
    # link itself would turn it into a folder and leave the link's old target behind).
    out = Path(out_dir).resolve() if Path(out_dir).is_symlink() else Path(out_dir)
    names = set(tables) | {"summary.json", "report.html"}
    charts = standalone_charts(html)
    if out.exists():
        if not out.is_dir():
            raise InputError("exists and is not a folder", path=out)
        foreign = sorted(p.name for p in out.iterdir() if p.name not in names and not _earlier_charts(p))
        if foreign:
            raise InputError(f"holds files that are not part of a report ({', '.join(foreign[:3])}); choose a new folder", path=out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with staged_folder(out) as tmp:
        for name, frame in tables.items():
            write_csv(frame, tmp / name)
        (tmp / "summary.json").write_text(
            json.dumps(json_ready(summary), indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
        (tmp / "report.html").write_text(html, encoding="utf-8")
        if charts:
            (tmp / CHARTS).mkdir()
            for name, svg in charts:
                (tmp / CHARTS / name).write_text(svg, encoding="utf-8")
    return sorted([out / n for n in names] + [out / CHARTS / name for name, _svg in charts])
