"""Run one Mephisto task run with the local architect, and always clean up after it.

Mephisto leaves the node router running, its server directory behind and the terminal blocked on
30-second polls when a run is interrupted. `LocalLaunch` owns the whole lifecycle instead: it picks
a free port, binds the router to loopback, removes stale server directories, launches the run,
drives Mephisto's event loop until the run is done (or Ctrl-C / SIGTERM), and then stops the router's
whole process group no matter how we got there.

It also keeps Mephisto's console output (its log, the router's connection messages, the mock provider's
line per unit, its progress bar when units expire) out of a launcher's console unless asked for
(`LaunchSettings.verbose`); `console_logging` gives our own warnings one plain line each.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import os
import signal
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, open_dict

from humaneval.crowd import node_router
from humaneval.crowd.bonus_rules import carry_into_run
from humaneval.crowd.data_dir import data_dir_path, open_database
from humaneval.crowd.mephisto_internals import mephisto_prints_silenced, poll_every_second, run_event_loop_until
from humaneval.crowd.page_intro import page_intro
from humaneval.crowd.pay_floor import check_pay
from humaneval.crowd.run_lock import TaskAlreadyRunning, task_run_lock
from humaneval.input_errors import InputError
from humaneval.web.addresses import free_port
from mephisto.abstractions.blueprint import Blueprint, SharedTaskState
from mephisto.abstractions.database import MephistoDB
from mephisto.data_model.task_run import TaskRun
from mephisto.data_model.unit import Unit
from mephisto.operations.operator import Operator
from mephisto.utils import logger_core
from mephisto.utils.testing import get_mock_requester
from rich.logging import RichHandler

logger = logging.getLogger(__name__)

poll_every_second()  # runs start and end promptly (see mephisto_internals)

PROVIDERS = ("mock", "mturk_sandbox", "mturk", "prolific")
ROUTER_LOG = "router.log"  # in the data folder: the router's own messages when the console is quiet
QUIET_LINE_CHARS = 200  # another library's error on the quiet console: its first line, at most this long
OUR_LOGGERS = "humaneval"


class ConsoleFormatter(logging.Formatter):
    """`warning: message`; another library's record also names its logger (`error: mephisto...: ...`).

    `verbose` False (the quiet console): another library's error comes as its one line, without the
    traceback, and says where the rest is; our own records keep theirs."""

    def __init__(self, verbose: bool = False) -> None:
        super().__init__()
        self.verbose = verbose

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if not _is_ours(record):
            if not self.verbose:  # its first line, shortened: such messages may carry a worker's whole submission
                first = text.splitlines()[0] if text else ""
                text = first if len(first) <= QUIET_LINE_CHARS else first[:QUIET_LINE_CHARS] + " …"
            text = f"{record.name}: {text}"
        line = f"{record.levelname.lower()}: {text}"
        if record.exc_info and (self.verbose or _is_ours(record)):
            line += "\n" + self.formatException(record.exc_info)
        elif record.exc_info:
            line += f" ({record.exc_info[0].__name__ if record.exc_info[0] else 'error'}; -v shows the traceback)"
        return line


class ConsoleHandler(logging.Handler):
    """One plain line per record on the current `sys.stderr`.

    Mephisto's `get_logger` puts a rich handler on the root logger (and on each of its loggers), which
    wraps every record, ours included, into an 80-column box with a timestamp and file:line when the
    output is no terminal. Quiet (the default) lets through our own warnings and errors, and the
    errors of Mephisto and other libraries (a crowd provider refusing a call must not go unseen);
    verbose lets through every record the loggers' levels pass."""

    def __init__(self, verbose: bool = False) -> None:
        super().__init__()
        self.verbose = verbose
        self.setFormatter(ConsoleFormatter(verbose))

    def filter(self, record: logging.LogRecord) -> bool:
        shown = record.levelno >= (logging.WARNING if _is_ours(record) else logging.ERROR)
        if not self.verbose and not shown:
            return False
        return bool(super().filter(record))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            stream = sys.stderr
            if stream.isatty():
                line = "\r\x1b[K" + line  # first wipe a progress line being updated in place
            stream.write(line + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)


def _is_ours(record: logging.LogRecord) -> bool:
    return record.name == OUR_LOGGERS or record.name.startswith(OUR_LOGGERS + ".")


@contextlib.contextmanager
def console_logging(verbose: bool = False) -> Iterator[None]:
    """All logging goes through one `ConsoleHandler` on the root logger meanwhile; for a launcher's CLI.

    Mephisto's rich handlers are taken off the loggers it made so far, and the loggers it makes later
    (modules imported at launch) get none: their records reach the root logger like any other. Undone
    on exit, so that a caller in the same process (tests call the CLI's `main`) keeps its logging."""
    root = logging.getLogger()
    saved_level, saved_factory = root.level, logger_core.RichHandler
    saved = {each: list(each.handlers) for each in [root, *logger_core.loggers.values()]}
    logger_core.RichHandler = logging.NullHandler  # what Mephisto's get_logger attaches from now on
    for each, handlers in saved.items():
        for handler in handlers:
            if isinstance(handler, RichHandler):
                each.removeHandler(handler)
    console = ConsoleHandler(verbose)
    root.addHandler(console)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    try:
        yield
    finally:
        root.removeHandler(console)
        root.setLevel(saved_level)
        logger_core.RichHandler = saved_factory
        for each, handlers in saved.items():  # in their order, after any a caller added meanwhile
            each.handlers[:] = handlers + [h for h in each.handlers if h not in handlers]


@contextlib.contextmanager
def _router_output_to_log(log: Path) -> Iterator[None]:
    """File descriptor 1 goes to /dev/null and 2 to `log` meanwhile: the node router, started now, inherits
    them. It writes a line per connection to stdout (Mephisto prints its pid there too) and a stack trace to
    stderr for every malformed request a worker's browser (or anyone) sends; those belong in a file, not on
    the console between the worker pages and the progress line."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(devnull, 1)
        os.dup2(log_fd, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull, log_fd):
            os.close(fd)


class LaunchError(RuntimeError):
    """The run could not be started; the message says why and what to do."""


@dataclass(frozen=True)
class LaunchSettings:
    """Where and how to run, independent of the task itself."""

    data_dir: Path | None = None  # Mephisto data dir; None = $HUMANEVAL_DATA_DIR or ./data/mephisto
    bind_host: str = node_router.LOOPBACK  # interface the router listens on
    public_hostname: str = "localhost"  # how workers reach the router (URLs we print)
    port: int | None = None  # None = a free port chosen by the OS
    verbose: bool = False  # Mephisto's console output too: its log (at INFO at least), the router's, the mock provider's


def _store_status_on_submit(shared_state: SharedTaskState) -> None:
    """Write a finished unit's status to the database as soon as it is submitted, then run the task's
    own `on_unit_submitted` hook.

    Mephisto stores a unit's status only when someone asks for it (`Unit.get_status`), yet decides
    whether a returning worker may take another unit from the stored status (`allowed_concurrent`
    counts their units still stored as ASSIGNED). Without this, a worker who just submitted is told
    "no available work" until something happens to poll the unit."""
    task_hook = shared_state.on_unit_submitted
    if getattr(task_hook, "stores_unit_status", False):
        return  # this state was launched before

    def on_unit_submitted(unit: Unit) -> None:
        unit.get_status()
        task_hook(unit)

    on_unit_submitted.stores_unit_status = True  # type: ignore[attr-defined]
    shared_state.on_unit_submitted = on_unit_submitted


class LocalLaunch:
    """Context manager around one task run: `with LocalLaunch(cfg, state) as run: run.wait_until_done()`."""

    def __init__(
        self,
        cfg: DictConfig,
        shared_state: SharedTaskState | None = None,
        settings: LaunchSettings | None = None,
    ) -> None:
        self.cfg = cfg
        self.shared_state = shared_state
        self.settings = settings or LaunchSettings()
        self.db: MephistoDB | None = None
        self.operator: Operator | None = None
        self.run_id: str | None = None
        self.port: int | None = None
        self.router_pid: int | None = None
        self._saved_env: dict[str, str | None] = {}
        self._previous_sigterm: Any = None
        self._previous_sigint: Any = None
        self.stop_requested: str | None = None  # name of the signal that asked us to stop
        self._lock = contextlib.ExitStack()  # the task's run lock (run_lock), held from start to stop
        self._task_runner: Any = None  # Mephisto's TaskRunner of our run, whose threads we must end
        self._quiet = contextlib.ExitStack()  # Mephisto's prints silenced for the run (not verbose)
        self.blueprint: Blueprint | None = None  # the live run's blueprint (kept: the run may end before we ask)
        self._provider_cleanup: Any = None  # ends what the crowd provider set up for the run (a Prolific study)
        self.pay_summary: str | None = None  # the hourly rate checked at launch (paid providers only)

    # --- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> "LocalLaunch":
        try:
            self._start()
        except LaunchError:
            self._stop()
            raise
        except Exception as err:
            # The crowd provider refused (no network, bad credentials), or the router could not listen (an
            # address this machine does not have): one line saying so; -v shows the traceback.
            self._stop()
            logger.info("the run could not start", exc_info=True)
            detail = " ".join(str(err).split())[:300] or type(err).__name__
            raise LaunchError(f"the run could not start: {type(err).__name__}: {detail} (-v shows the details)") from err
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop()

    def _start(self) -> None:
        if threading.current_thread() is threading.main_thread():
            # Explicit handlers: a launcher started in the background by a non-interactive shell
            # inherits SIGINT as ignored, and Ctrl-C / `kill -INT` must still stop it cleanly.
            self._previous_sigterm = signal.signal(signal.SIGTERM, self._on_stop_signal)
            self._previous_sigint = signal.signal(signal.SIGINT, self._on_stop_signal)
        self._refuse_a_provider_without_database()
        self.db = open_database(self.settings.data_dir)
        try:
            self._lock.enter_context(task_run_lock(Path(self.db.db_root), str(self.cfg.mephisto.task.task_name)))
        except TaskAlreadyRunning as err:
            raise LaunchError(str(err)) from None
        node_router.use_server_dir_under(Path(self.db.db_root))
        node_router.remove_stale_server_dirs()
        self.port = self.settings.port or free_port(self.settings.bind_host)
        if not node_router.port_is_free(self.port, self.settings.bind_host):
            raise LaunchError(f"port {self.port} is already in use; choose another or leave it unset")
        cfg = self._with_architect_settings(self.cfg)
        self._check_pay(cfg)
        carry_into_run(cfg)  # the run's bonus rule is stored with it: the rule its units are paid by later
        self._ensure_requester(cfg)
        if self.shared_state is not None:
            _store_status_on_submit(self.shared_state)
        self._set_env(node_router.router_environment(self.settings.bind_host))
        self.operator = Operator(self.db)
        with contextlib.ExitStack() as launching:
            if not self.settings.verbose:
                self._quiet.enter_context(mephisto_prints_silenced())
                launching.enter_context(_router_output_to_log(Path(self.db.db_root) / ROUTER_LOG))
            self.run_id = self.operator.launch_task_run_or_die(cfg.mephisto, shared_state=self.shared_state)
        live_run = self.operator.get_running_task_runs()[self.run_id]
        self._task_runner = live_run.task_runner
        self.blueprint = live_run.blueprint
        # Mephisto 1.1.1 never calls the provider's cleanup; a Prolific study left running keeps recruiting.
        self._provider_cleanup = functools.partial(live_run.provider.cleanup_resources_from_task_run,
                                                   live_run.task_run, self.base_url)
        architect = live_run.architect
        self.router_pid = architect.server_process_pid
        logger.info("task run %s live on port %s (router pid %s)", self.run_id, self.port, self.router_pid)

    def _stop(self) -> None:
        """Best effort, bounded, and never skipped: Mephisto first, then the router's process group.

        Further signals are ignored meanwhile: every step below has its own timeout."""
        on_main_thread = threading.current_thread() is threading.main_thread()
        if on_main_thread:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            if self.operator is not None:
                with contextlib.suppress(Exception):
                    self._close_client_channels()
                with contextlib.suppress(Exception):
                    self.operator.force_shutdown(timeout=5)
            self._end_task_runner_threads(timeout=10)
            self._clean_up_provider()
            if self.router_pid is not None:
                node_router.kill_process_group(self.router_pid)
            with contextlib.suppress(Exception):
                node_router.remove_stale_server_dirs()
        finally:
            self._lock.close()
            self._quiet.close()
            self._restore_env()
            if on_main_thread:
                signal.signal(signal.SIGTERM, self._previous_sigterm or signal.SIG_DFL)
                signal.signal(signal.SIGINT, self._previous_sigint or signal.default_int_handler)
            self._previous_sigterm = self._previous_sigint = None

    def _clean_up_provider(self) -> None:
        """The provider's end of the run (stopping a Prolific study); a failure is said, never hidden."""
        cleanup, self._provider_cleanup = self._provider_cleanup, None
        if cleanup is None:
            return
        try:
            cleanup()
        except Exception as err:
            logger.error("the crowd provider could not end run %s: %s: %s (stop it on the provider's site)",
                         self.run_id, type(err).__name__, " ".join(str(err).split())[:300])

    def _close_client_channels(self) -> None:
        """Close our run's websocket to the router before Mephisto's `force_shutdown` stops the router.

        `force_shutdown` stops the architect (the router) before it closes the channels, so the channel
        sees its connection drop, takes it for an error and prints a traceback at every Ctrl-C (the
        path of a run that completes by itself closes the channels first, as this does)."""
        assert self.operator is not None
        live_run = self.operator.get_running_task_runs().get(self.run_id)
        if live_run is not None:
            live_run.client_io.shutdown()

    def _end_task_runner_threads(self, timeout: float) -> None:
        """Wake and join the threads Mephisto's TaskRunner still runs for agents that never came back.

        When a run completes by itself, Mephisto's operator shuts down its launcher, router and sockets
        but never its TaskRunner (`_track_and_kill_runs` skips `task_runner.shutdown()`). An onboarding
        or unit thread whose worker closed the tab then waits for the whole assignment duration (30
        min by default) and, being a non-daemon thread, keeps the process alive after "run complete".
        `TaskRunner.shutdown` makes every such agent raise AgentShutdownError and joins the threads;
        it runs on a daemon thread of its own, bounded, so a wedged thread cannot hang the stop."""
        runner, self._task_runner = self._task_runner, None
        if runner is None:
            return
        closer = threading.Thread(target=runner.shutdown, name="end-task-runner-threads", daemon=True)
        closer.start()
        closer.join(timeout)
        if closer.is_alive():
            logger.warning("Mephisto's task threads did not end within %.0f s", timeout)

    # --- driving the run -------------------------------------------------------------------------

    @property
    def task_run(self) -> TaskRun:
        assert self.db is not None and self.run_id is not None, "not launched"
        return TaskRun.get(self.db, self.run_id)

    def _on_stop_signal(self, signum: int, frame: types.FrameType | None) -> None:
        """First signal: ask the loop to stop at its next check (state stays consistent). Second: force."""
        if self.stop_requested is not None:
            raise KeyboardInterrupt
        self.stop_requested = signal.Signals(signum).name
        logger.info("%s received: stopping the run (signal again to force)", self.stop_requested)

    def is_done(self) -> bool:
        """True once Mephisto has no live units left for this run."""
        assert self.operator is not None
        return self.run_id not in self.operator.get_running_task_runs()

    def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Run Mephisto's event loop (on this thread) until `condition()`, a stop signal, or the timeout."""
        assert self.operator is not None, "not launched"
        run_event_loop_until(self.operator, lambda: self.stop_requested is not None or condition(), timeout)
        return condition()

    def wait_until_done(
        self,
        timeout: float | None = None,
        progress: Callable[[], None] | None = None,
        progress_every: float = 10.0,
    ) -> bool:
        """Serve the run until every unit is finished (True), or a stop signal / the timeout (False).

        `progress` is called about every `progress_every` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.is_done():
            if self.stop_requested is not None:
                return False
            if deadline is not None and time.monotonic() >= deadline:
                return False
            step = progress_every if deadline is None else max(0.1, min(progress_every, deadline - time.monotonic()))
            self.wait_until(self.is_done, step)
            if progress is not None:
                progress()
        return True

    def worker_url(self, worker_name: str, assignment_id: str) -> str:
        """The page a sandbox (mock provider) worker opens."""
        return (
            f"http://{self.settings.public_hostname}:{self.port}/"
            f"?worker_id={worker_name}&assignment_id={assignment_id}"
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.settings.public_hostname}:{self.port}"

    # --- helpers ---------------------------------------------------------------------------------

    def _with_architect_settings(self, cfg: DictConfig) -> DictConfig:
        cfg = copy.deepcopy(cfg)
        with open_dict(cfg):
            if self.settings.verbose and str(cfg.mephisto.get("log_level", "info")).lower() != "debug":
                cfg.mephisto.log_level = "info"  # the task YAMLs say warning, which would show next to nothing
            cfg.mephisto.architect.port = str(self.port)
            cfg.mephisto.architect.hostname = self.settings.public_hostname
            cfg.mephisto.architect.server_source_path = node_router.prepared_router_source()
        return cfg

    def _check_pay(self, cfg: DictConfig) -> None:
        """The hourly rate, before anything is created with a provider (`pay_floor`): a Prolific launch
        below the floor stops here; MTurk's low rates are warned about. On Prolific the minutes checked
        (whole ones, rounded up by `check_pay`) are the minutes the study declares."""
        try:
            pay = check_pay(cfg, self.db)
        except InputError as err:
            where = f"{err.field}: " if err.field else ""
            raise LaunchError(f"{where}{err.problem}") from None
        if pay.provider == "prolific" and pay.minutes is not None:
            with open_dict(cfg):
                cfg.mephisto.provider.estimated_minutes = int(pay.minutes)
        for warning in pay.warnings:
            logger.warning("%s", warning)
        if pay.hourly_rate is not None:
            self.pay_summary = pay.summary
            logger.info("pay: %s", pay.summary)
        if self.shared_state is not None:  # what the pages say before the work (page_intro)
            self.shared_state.task_config["intro"] = page_intro(cfg, pay)

    def _refuse_a_provider_without_database(self) -> None:
        """A real provider needs a requester registered in the data folder's database; when there is no
        database yet there is none, so refuse before creating the folder (nothing left behind)."""
        provider = self.cfg.mephisto.provider._provider_type
        database = data_dir_path(self.settings.data_dir) / "database.db"
        if provider != "mock" and not database.is_file():
            raise _no_requester(provider, str(self.cfg.mephisto.provider.requester_name), database)

    def _ensure_requester(self, cfg: DictConfig) -> None:
        assert self.db is not None
        provider = cfg.mephisto.provider._provider_type
        name = cfg.mephisto.provider.requester_name
        if provider == "mock":
            requester = get_mock_requester(self.db)
            with open_dict(cfg):
                cfg.mephisto.provider.requester_name = requester.requester_name
            return
        if provider == "mturk_sandbox" and not name.endswith("_sandbox"):
            # Mephisto stores sandbox requesters as NAME_sandbox; accept the name the user registered.
            name = f"{name}_sandbox"
            with open_dict(cfg):
                cfg.mephisto.provider.requester_name = name
        if not self.db.find_requesters(requester_name=name, provider_type=provider):
            raise _no_requester(provider, name, Path(self.db.db_path))

    def _set_env(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _restore_env(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()



def _no_requester(provider: str, name: str, database: Path) -> LaunchError:
    """The refusal of a launch whose provider has no requester of that name registered in `database`."""
    shown = name[: -len("_sandbox")] if provider == "mturk_sandbox" and name.endswith("_sandbox") else name
    return LaunchError(
        f"no {provider} requester named '{name}' in {database}; register one first with\n"
        f"  python -m humaneval.crowd register-requester --provider {provider} --name {shown}\n"
        f"(see docs/{'prolific' if provider == 'prolific' else 'mturk'}.md)"
    )
