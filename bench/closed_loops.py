"""Start several closed-loop clients at the same moment and time them until the last one ends.

Both serving benchmarks (serving.py, openai_chats.py) measure N chats running at once: each thread waits
at a barrier so none gets a head start, and the wall time runs from the release to the last join.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def run_together(count: int, loop: Callable[[int], None]) -> float:
    """Run `loop(index)` on `count` threads released together; the wall seconds until all have returned.

    A `loop` must handle its own errors (record them, or let the thread print them): this only times."""
    start = threading.Barrier(count + 1)

    def released(index: int) -> None:
        start.wait()
        loop(index)

    threads = [threading.Thread(target=released, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began
