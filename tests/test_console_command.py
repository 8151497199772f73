"""`humaneval VERB ...`, the console script pyproject.toml installs, runs the same entry points as
`python -m ...`: same output, same exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
COMMAND = Path(sys.executable).parent / "humaneval"


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), cwd=REPO, capture_output=True, text=True, timeout=120)


def test_the_command_lists_its_verbs_and_refuses_an_unknown_one() -> None:
    listing = _run(str(COMMAND), "--help")
    assert listing.returncode == 0
    for verb in ("launch", "acute", "safety", "bad", "crowd", "models", "analysis"):
        assert f"  {verb} " in listing.stdout
    unknown = _run(str(COMMAND), "nonsense")
    assert unknown.returncode == 2 and "usage: humaneval VERB" in unknown.stdout


@pytest.mark.parametrize(("verb_argv", "module_argv"), [
    (["analysis", "plan", "--win-rate", "0.6"], ["-m", "analysis", "plan", "--win-rate", "0.6"]),
    (["launch", "smoke", "--help"], ["-m", "humaneval.launch", "smoke", "--help"]),
    (["crowd", "review", "--help"], ["-m", "humaneval.crowd", "review", "--help"]),
    (["acute", "nonsense"], ["-m", "humaneval.acute", "nonsense"]),
])
def test_a_verb_does_what_its_python_m_entry_point_does(verb_argv: list[str], module_argv: list[str]) -> None:
    ours, theirs = _run(str(COMMAND), *verb_argv), _run(sys.executable, *module_argv)
    assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)
    assert ours.stdout or ours.stderr
