"""Wall time and peak memory of one step, measured in a child process of its own.

Peak RSS must belong to the step alone (not to the benchmark's own data), so each step runs as a
child and its resource usage is read from `wait4`. Output goes to temporary files, not pipes: a
chatty child filling a pipe nobody reads until it exits would hang the benchmark.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ChildRun:
    """How one child process ended: exit code, wall seconds, peak RSS (MiB) and its last stderr line."""

    code: int
    seconds: float
    peak_mb: float
    last_error_line: str


def measure_child(argv: list[str]) -> ChildRun:
    """Run `argv` to its end, whatever its exit code (a refusal with exit 2 is a result too)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=REPO, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        err.seek(0)
        lines = err.read().decode(errors="replace").strip().splitlines()
    return ChildRun(os.waitstatus_to_exitcode(status), elapsed, usage.ru_maxrss / 1024, lines[-1] if lines else "")


def run_child(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process; fails loudly if the child fails."""
    run = measure_child(argv)
    if run.code != 0:
        raise SystemExit(f"child failed ({run.code}): {' '.join(argv)}\n{run.last_error_line}")
    return run.seconds, run.peak_mb
