"""Every place where we reach past Mephisto 1.1.1's public surface, each with its reason and the line of
Mephisto it depends on.

Mephisto 1.1.1 is its last release (the project is archived), so these lines will not move under us;
`mephisto_compat.check_version` refuses any other version. Still, each use is listed here so that a
port to another crowd runtime knows exactly what to replace, and nothing else in the project touches
Mephisto's privates, constants or frames.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from mephisto.abstractions.blueprint import Blueprint
from mephisto.abstractions.providers.mock import mock_unit
from mephisto.operations import operator as operator_module
from mephisto.operations import task_launcher as task_launcher_module
from mephisto.operations.task_launcher import TaskLauncher

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from mephisto.abstractions.blueprint import SharedTaskState
    from mephisto.operations.operator import Operator

POLL_SECONDS = 1
"""What Mephisto's two 10-second polls become (a few database queries each)."""


def poll_every_second() -> None:
    """Mephisto checks for finished runs every 10 s (`operator.py:63 RUN_STATUS_POLL_TIME`, read at
    `:357` and `:541`) and its unit generator sleeps 10 s between passes (`task_launcher.py:35
    UNIT_GENERATOR_WAIT_SECONDS`, read at `:178`, and joined at shutdown). A second makes runs start and
    end promptly; both are module constants read at each use, so setting them once is enough."""
    operator_module.RUN_STATUS_POLL_TIME = POLL_SECONDS
    task_launcher_module.UNIT_GENERATOR_WAIT_SECONDS = POLL_SECONDS


def run_event_loop_until(operator: "Operator", condition: Callable[[], bool], timeout: float | None) -> bool:
    """Serve the run on this thread until `condition()` or the timeout.

    `Operator._run_loop_until` (`operator.py:544`) is private, but it is the only way to drive the
    operator's asyncio loop in steps; the public `wait_for_runs_then_shutdown` blocks until every run
    is over and handles no signal of ours."""
    return bool(operator._run_loop_until(condition, timeout))


def driving_task_launcher(frame_depth: int = 2) -> TaskLauncher | None:
    """The `TaskLauncher` that called `next()` on the generator running this code, or None.

    Mephisto hands a blueprint's `get_initialization_data` generator to `TaskLauncher` and calls
    `next(assignment_data_iterator)` from `TaskLauncher._try_generating_assignments`
    (`task_launcher.py:114-120`), but never tells the generator who drives it. A work-driven
    generator must launch units through that launcher and watch its shutdown, so it reads the caller's
    `self` from the frame `frame_depth` levels up: called from the generator's body, 1 is the
    generator and 2 the code that called `next()` on it."""
    caller = sys._getframe(frame_depth).f_locals.get("self")
    return caller if isinstance(caller, TaskLauncher) else None


def assert_blueprint_args(cls: type, args: "DictConfig", shared_state: "SharedTaskState") -> None:
    """Run only `Blueprint.assert_task_args` (the base class's checks) for a subclass of a static or
    remote-procedure blueprint.

    `StaticBlueprint.assert_task_args` (`static_blueprint.py:170-200`) and
    `RemoteProcedureBlueprint.assert_task_args` (`remote_procedure_blueprint.py:175-205`) insist on
    one of their `data_csv` / `data_json` / `data_jsonl` / static data sources; our studies' units
    come from a work queue or model targets instead, so we skip those and call the base's directly."""
    Blueprint.assert_task_args.__func__(cls, args, shared_state)  # type: ignore[attr-defined]


def _no_print(*args: object, **kwargs: object) -> None:
    """Stands in for `print` in a Mephisto module whose prints only repeat its own log."""


@contextlib.contextmanager
def _attribute_set(target: object, name: str, value: object) -> Iterator[None]:
    """`target.name = value` meanwhile; restored (or removed, if it was not set) afterwards."""
    missing = object()
    previous = vars(target).get(name, missing)
    setattr(target, name, value)
    try:
        yield
    finally:
        if previous is missing:
            delattr(target, name)
        else:
            setattr(target, name, previous)


@contextlib.contextmanager
def mephisto_prints_silenced() -> Iterator[None]:
    """Mephisto's console prints that repeat its log, off meanwhile.

    The mock provider prints `Mock task launched: ...?worker_id=x&assignment_id=N` per unit
    (`providers/mock/mock_unit.py:50`), a URL that contradicts the real worker pages we print, and the
    launcher draws a tqdm bar when it expires units at the end (`task_launcher.py:249`). Both names are
    module globals, so they are swapped for the run and put back after."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(_attribute_set(mock_unit, "print", _no_print))
        stack.enter_context(_attribute_set(task_launcher_module, "tqdm", _no_progress_bar))
        yield


def _no_progress_bar(items: Any, **kwargs: Any) -> Any:
    return items
