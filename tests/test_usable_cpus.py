"""`usable_cpus`: the CPUs a process may run on (its affinity), which is what sizing work by processes needs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from humaneval.usable_cpus import usable_cpus

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity on this platform")


def test_a_process_pinned_to_one_cpu_has_one() -> None:
    code = "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); " \
           "from humaneval.usable_cpus import usable_cpus; print(usable_cpus(), os.cpu_count())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[1]).stdout.split()
    assert out[0] == "1"
    assert int(out[1]) == os.cpu_count()  # the machine's count is unchanged: only the affinity says 1


def test_unpinned_it_is_the_affinity_mask() -> None:
    assert usable_cpus() == len(os.sched_getaffinity(0))
