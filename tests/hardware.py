"""Skip markers for hardware a machine may lack, shared by the tests that need it (skipped nowhere else)."""

from __future__ import annotations

import os

import pytest

from humaneval.usable_cpus import usable_cpus

# Tests that pin a process to fewer CPUs than it may use, to show what changes: they need 2 to start from.
needs_two_cpus = pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or usable_cpus() < 2,
                                    reason="needs a process allowed on 2 CPUs (hardware), to pin it to fewer")
