"""The command-line frame every report verb (`acute`, `safety`, `bad`) shares.

Input files and `--out` are declared alike (`add_inputs_and_out`) and options are range-checked with a
message naming the option (`require`). `ReportRun` refuses an `--out` that is an input or holds anything
but a report before a record is read, then times the run, writes the report folder and says so. The
verb's last line, printed by `tell_flagged`, says where the page is: `report: <out>/report.html`.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from humaneval.input_errors import InputError
from humaneval.outputs import check_outputs
from humaneval.visible_text import visible

from analysis.report.writer import write_report

#: report.html of the report folder this process wrote last, until `tell_flagged` has said where it is
_written: list[str] = []


def add_inputs_and_out(parser: argparse.ArgumentParser, inputs: str, inputs_help: str) -> None:
    """The input files option (`--judgements`, `--labels`; one or more) and the report folder `--out`."""
    parser.add_argument(inputs, nargs="+", required=True, metavar="FILE", help=inputs_help)
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="report folder; created, or replaced if it holds an earlier report")


def require(ok: bool, problem: str, option: str) -> None:
    """Refuse the value of `option` with `problem` (exit 2 through `exit_on_input_error`) unless `ok`."""
    if not ok:
        raise InputError(problem, field=option)


class ReportRun:
    """One report verb from the folder check to the report folder written."""

    def __init__(self, out: str, inputs: Sequence[str]) -> None:
        check_outputs([], inputs=list(inputs), folders=[out], replaces_folders=True, field="--out")
        self.out = out
        self.started = time.perf_counter()

    def seconds(self) -> float:
        """Seconds since the run started."""
        return time.perf_counter() - self.started

    def write(self, tables: Mapping[str, pd.DataFrame], summary: Mapping[str, Any], html: str) -> None:
        """Write the report folder and say how many files went where."""
        paths = write_report(self.out, tables, summary, html)
        print(f"wrote {len(paths)} files to {visible(self.out)} in {self.seconds():.1f} s")
        _written[:] = [os.path.join(self.out, "report.html")]


def tell_flagged(workers: Sequence[str]) -> None:
    """The closing lines: flagged workers, when there are any, then where the report written by
    `ReportRun.write` is (`report: <out>/report.html`, the path as given in `--out`)."""
    if workers:
        print(f"  {len(workers)} flagged workers (see workers.csv)")
    if _written:
        print(f"report: {visible(_written.pop())}")
