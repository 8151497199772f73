"""How many pytest-xdist workers the README's test command starts: scripts/test.sh runs `pytest -n auto
--dist loadfile`, and tests/conftest.py's `pytest_xdist_auto_num_workers` sizes `auto`. Each case runs pytest
with those options on one small test file, pinned to chosen CPUs with `taskset` as a container's cpuset pins."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import humaneval.usable_cpus
from tests.conftest import MOST_TEST_WORKERS, pytest_xdist_auto_num_workers
from tests.hardware import needs_two_cpus

REPO = Path(__file__).resolve().parents[1]
SMALL_FILE = "tests/test_usable_cpus.py"
TEST_SH_OPTIONS = ["-n", "auto", "--dist", "loadfile"]

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="CPU affinity is Linux's")


def workers_started(tmp_path: Path, cpus: int, *options: str, **environment: str) -> str | None:
    """xdist's line for the workers it started ("2 workers"), or None when the tests ran in pytest's own
    process, for a run on the first `cpus` CPUs of this one's (without this pytest's own PYTEST_ variables)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")} | environment
    on = ",".join(str(cpu) for cpu in sorted(os.sched_getaffinity(0))[:cpus])
    result = subprocess.run(["taskset", "-c", on, sys.executable, "-m", "pytest", *TEST_SH_OPTIONS, *options,
                             SMALL_FILE, "-p", "no:cacheprovider", f"--basetemp={tmp_path / 'inner'}"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    lines = [line.split(" [")[0] for line in result.stdout.splitlines() if line.endswith(("item]", "items]"))]
    return next((line for line in lines if line.endswith(("worker", "workers"))), None)


@needs_two_cpus
def test_two_usable_cpus_start_two_workers(tmp_path: Path) -> None:
    assert workers_started(tmp_path, 2) == "2 workers"


def test_one_usable_cpu_runs_in_pytests_own_process(tmp_path: Path) -> None:
    """The machine may have more CPUs; this process may use one, so no worker process is started."""
    assert workers_started(tmp_path, 1) is None


def test_xdists_own_variable_chooses_the_count(tmp_path: Path) -> None:
    assert workers_started(tmp_path, 1, PYTEST_XDIST_AUTO_NUM_WORKERS="3") == "3 workers"


@needs_two_cpus
def test_pdb_runs_in_pytests_own_process(tmp_path: Path) -> None:
    """The README says --pdb needs nothing else: xdist gives `-n auto` no workers under --pdb."""
    assert workers_started(tmp_path, 2, "--pdb") is None


def test_many_cpus_get_at_most_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS", raising=False)
    monkeypatch.setattr(humaneval.usable_cpus, "usable_cpus", lambda: 64)
    assert pytest_xdist_auto_num_workers(None) == MOST_TEST_WORKERS  # type: ignore[arg-type]
