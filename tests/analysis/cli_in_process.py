"""`python -m analysis ARGS` through its own `main`, in the test's process.

The same parsing, exit codes and messages as the command, without a fresh interpreter importing numpy,
scipy and pandas first (~2-3 s a call on a 2-core box). An exception other than the CLI's own exit
escapes and fails the test, as a traceback would. Tests about the process itself (signals, the entry
point, what a user's shell sees) keep a real subprocess."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from analysis.__main__ import main


@dataclass(frozen=True)
class CliRun:
    """How the command ended, named as subprocess.CompletedProcess names it."""

    returncode: int
    stdout: str
    stderr: str


def run_analysis(capsys: pytest.CaptureFixture[str], *args: str | Path) -> CliRun:
    capsys.readouterr()  # only this command's output
    try:
        code = main([str(arg) for arg in args])
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    out, err = capsys.readouterr()
    return CliRun(code, out, err)
