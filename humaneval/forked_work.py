"""Run one piece of work in a forked copy of this process while this one does another, and take back its
result: a small picklable header and named numpy arrays, each sent on its own through a pipe.

Why a fork: reading a large export is pure Python (parsing, coding values) and holds the GIL, so a thread
would not use a second core; a forked child starts with the modules already imported and shares their
memory pages with its parent, where a fresh interpreter would import them again (~90 MB for the analysis).
Why arrays one at a time: a pickled result is a copy of every array in the child and another in the
parent; an array sent as its bytes is received as one buffer that the parent reads in place.

Only when forking is safe: on a platform with `fork` and with this process running one thread (a fork copies
only the calling thread, and a lock another thread held would stay locked in the child for ever). Otherwise
`ForkedWork.start` returns None and the caller does the work itself.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from humaneval.freed_heap import release_freed_heap

log = logging.getLogger(__name__)

#: what the child sends first: its work raised one of the `expected` exceptions (the parent raises it), failed
#: otherwise, or is done (its header and arrays follow)
_RAISED, _FAILED, _DONE = "raised", "failed", "done"


class ForkedWork:
    """A child process doing `work()`, which returns (header, {name: array}); see the module docstring."""

    def __init__(self, process: Any, connection: Connection) -> None:
        self._process = process
        self._connection = connection

    @classmethod
    def start(cls, work: Callable[[], tuple[Any, dict[str, np.ndarray]]],
              expected: tuple[type[Exception], ...] = ()) -> "ForkedWork | None":
        """The child started, or None where forking is not safe here (see the module docstring).

        `expected`: exceptions of `work` that the parent should raise as its own (by type, without their
        arguments); anything else the child raises ends it, and `result` says so."""
        if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
            return None
        context = multiprocessing.get_context("fork")
        receiving, sending = context.Pipe(duplex=False)
        process = context.Process(target=_run, args=(work, sending, receiving, expected), daemon=True)
        process.start()
        sending.close()  # the child's end: when the child is gone, reading ours ends instead of waiting
        return cls(process, receiving)

    def result(self) -> tuple[Any, list[tuple[str, np.ndarray]]]:
        """The child's header and its arrays (each read in place from the bytes received), once the child has
        ended: its memory is given back before the caller's use of the result makes this process grow.

        Raises the expected exception the child's work raised, or `RuntimeError` when the child failed otherwise
        or died (its output is then incomplete and must not be used)."""
        try:
            status, payload = self._connection.recv()
        except EOFError:
            raise RuntimeError(f"the forked process ended without a result (exit code {self._wait()})") from None
        if status == _RAISED:
            self.close()
            raise payload()
        if status != _DONE:  # _FAILED
            self.close()
            raise RuntimeError(f"the forked process failed: {payload}")
        header, layout = payload
        try:
            arrays = [(name, np.frombuffer(self._connection.recv_bytes(), dtype=dtype)) for name, dtype in layout]
        except EOFError:
            raise RuntimeError("the forked process ended before sending everything") from None
        finally:
            self.close()
        return header, arrays

    def close(self) -> None:
        """End the child (done or not) and release the pipe."""
        self._connection.close()
        if self._process.is_alive():
            self._process.terminate()
        self._wait()

    def _wait(self) -> int | None:
        self._process.join(timeout=10)
        return self._process.exitcode


def _run(work: Callable[[], tuple[Any, dict[str, np.ndarray]]], connection: Connection, parents_end: Connection,
         expected: tuple[type[Exception], ...]) -> None:
    """In the child: do the work and send its result (or what went wrong) to the parent.

    The child's copy of the parent's end of the pipe is closed first: while it stayed open, a parent killed
    outright left the child blocked for ever on a full pipe (its writes never fail while a reader exists),
    holding its memory; now its first write past the pipe's buffer fails and it exits."""
    parents_end.close()
    try:
        try:
            header, arrays = work()
        except expected as err:
            connection.send((_RAISED, type(err)))
            return
        except Exception as err:  # noqa: BLE001 (anything: the parent must hear of it rather than wait)
            log.debug("forked work failed", exc_info=True)
            connection.send((_FAILED, f"{type(err).__name__}: {err}"))
            return
        connection.send((_DONE, (header, [(name, array.dtype.str) for name, array in arrays.items()])))
        del header, work  # and each array once sent, its pages given back: this process shrinks as the parent grows
        while arrays:
            connection.send_bytes(np.ascontiguousarray(arrays.pop(next(iter(arrays)))).data)
            release_freed_heap()
    finally:
        connection.close()
        os._exit(0)  # no atexit handlers, no flushing of buffers the parent also holds copies of
