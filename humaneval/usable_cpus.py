"""How many CPUs this process may run on, for sizing the work it spreads over processes.

Why not `os.cpu_count()`: that is the machine's count. A process pinned with `taskset`, or a container given
a cpuset, may run on fewer, and starting a second reading process or a second Ray worker there only makes
two share one core. The affinity mask is what the scheduler will actually grant.
"""

from __future__ import annotations

import os


def usable_cpus() -> int:
    """The CPUs in this process's affinity mask (at least 1); the machine's count where the platform has no
    affinity call (macOS)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is None:
        return os.cpu_count() or 1
    return max(1, len(affinity(0)))
