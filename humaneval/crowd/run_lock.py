"""One launcher at a time per task: a lock per (data folder, task name), held for the whole run.

Two launchers of the same task in the same data folder share its units and its work queue state only
through the database, so both hand out the same work: a study designed for 2 judgements per pair got 4,
some from the same worker for the same pair, and on MTurk that is paying twice. The lock is an OS file
lock (`flock`) on `locks/<task name>.lock` in the data folder. The kernel releases it when the process
ends however it ends (a SIGKILLed launcher leaves no stale lock), and the file's descriptor is not
inherited by the node router. The file records the holder's pid, so the second launcher can name it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

LOCK_FOLDER = "locks"


class TaskAlreadyRunning(RuntimeError):
    """Another live process holds the task's lock; the message names its pid."""


def lock_path(data_dir: Path, task_name: str) -> Path:
    """A file name for any task name (they may hold characters no file name can)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", task_name)[:80]
    if safe != task_name:
        safe += "-" + hashlib.sha256(task_name.encode()).hexdigest()[:12]
    return data_dir / LOCK_FOLDER / f"{safe}.lock"


@contextlib.contextmanager
def task_run_lock(data_dir: Path, task_name: str) -> Iterator[None]:
    """Hold the task's lock for the block; `TaskAlreadyRunning` at once if another launcher has it."""
    path = lock_path(data_dir, task_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # O_CLOEXEC is Python's default: the router gets no copy
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise TaskAlreadyRunning(
                f"task '{task_name}' is already running from this data folder ({data_dir}), launcher pid "
                f"{holder}: two launchers would hand out the same work twice. Wait for it to finish, or stop "
                f"it (kill -INT {holder}) and launch again to resume.") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the only descriptor releases the lock
