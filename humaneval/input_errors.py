"""The one error type for bad user input, so every CLI can report it the same way.

Researchers feed us files from ParlAI, other tools and their own scripts. When one is wrong, the
message must say which file, which line and which field, and the CLI must exit with code 2 without
writing partial output. Library code raises `InputError`; CLIs wrap their main in `exit_on_input_error`.
"""

from __future__ import annotations

import functools
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from humaneval.visible_text import visible

EXIT_BAD_INPUT = 2
MAX_PROBLEM_CHARS = 500

T = TypeVar("T")


class DamagedData(ValueError):
    """A record our own code stored (e.g. a saved chat in Mephisto's data folder) does not read back: the
    command reading it reports the file as damaged input (exit 2) instead of a traceback."""


class InputError(ValueError):
    """Bad input, located as precisely as we can: file, 1-based line, field."""

    def __init__(
        self,
        problem: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        # A message may quote a value from the file; a hostile 4 MB value must not become a 4 MB message.
        self.problem = problem if len(problem) <= MAX_PROBLEM_CHARS else problem[:MAX_PROBLEM_CHARS] + "… (cut)"
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        # file names, fields and quoted values come from the input: a newline or an ESC sequence in them
        # must neither split the one-line message nor reach the terminal (humaneval/visible_text.py)
        if self.path is None and self.field:  # a command-line option or config key: it is the location
            return visible(f"field '{self.field}': {self.problem}")
        where = self.path or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f": field '{self.field}'"
        return visible(f"{where}: {self.problem}")

    def at(self, *, path: str | Path | None = None, line: int | None = None) -> "InputError":
        """The same error with the location filled in where the raiser did not know it."""
        return InputError(
            self.problem,
            path=self.path if self.path is not None else path,
            line=self.line if self.line is not None else line,
            field=self.field,
        )


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def exit_on_input_error(main: Callable[..., T]) -> Callable[..., T]:
    """Turn an `InputError` escaping a CLI entry point into one stderr line and exit code 2.

    An `OSError` the command did not foresee (a disk that fills up, a file removed under it) is reported
    the same way, naming the file: a researcher needs the path and the reason, not a traceback. SIGTERM
    (`kill`, `timeout`) ends the command like Ctrl-C does, through Python's clean-up, so staged outputs
    are removed instead of left behind as hidden temporary files.
    """

    @functools.wraps(main)
    def wrapper(*args: object, **kwargs: object) -> T:
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _terminated) if in_main_thread else None
        try:
            return main(*args, **kwargs)
        except InputError as err:
            print(f"error: {err}", file=sys.stderr)
            raise SystemExit(EXIT_BAD_INPUT) from None
        except OSError as err:
            where = f"{err.filename}: " if err.filename else ""
            print(f"error: {visible(where)}{visible(err.strerror or err)}", file=sys.stderr)
            raise SystemExit(EXIT_BAD_INPUT) from None
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    return wrapper
