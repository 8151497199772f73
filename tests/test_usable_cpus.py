"""`usable_cpus`: the CPUs a process may run on (its affinity), which is what sizing work by processes needs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.hardware import needs_two_cpus

pytestmark = needs_two_cpus


def test_a_process_pinned_to_one_cpu_has_one_although_the_machine_has_more() -> None:
    code = "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); " \
           "from humaneval.usable_cpus import usable_cpus; print(usable_cpus(), os.cpu_count())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[1]).stdout.split()
    assert out == ["1", str(os.cpu_count())]
