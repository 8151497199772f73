"""What a launch CLI does around a `LocalLaunch`: settings from config, worker URLs, progress,
the Ctrl-C / SIGTERM story, and the export when the run is done. Shared by every task's launcher."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from omegaconf import DictConfig

from humaneval.crowd.data_dir import data_dir_path, open_database
from humaneval.crowd.export import StudyExport, export_records, export_to_file
from humaneval.crowd.launcher import LaunchError, LaunchSettings, LocalLaunch
from humaneval.crowd.mephisto_api import AssignmentState, Blueprint, MephistoDB, SharedTaskState, get_blueprint_from_type
from humaneval.crowd.prolific.records import study_of_run
from humaneval.crowd.work_driven_units import WorkDrivenUnits

EXIT_INTERRUPTED = 130
EXIT_CANNOT_LAUNCH = 2
PROGRESS_EVERY = 2.0  # seconds between progress checks (a few database queries each)

UNITS_DONE = (AssignmentState.COMPLETED, AssignmentState.ACCEPTED, AssignmentState.MIXED,
              AssignmentState.REJECTED, AssignmentState.SOFT_REJECTED)
UNITS_WAITING = (AssignmentState.CREATED, AssignmentState.LAUNCHED)


def settings_from_config(cfg: DictConfig, verbose: bool = False) -> LaunchSettings:
    he = cfg.humaneval
    return LaunchSettings(
        data_dir=Path(he.data_dir) if he.get("data_dir") else None,
        bind_host=he.get("router_host") or "127.0.0.1",
        public_hostname=he.get("public_hostname") or "localhost",
        port=int(he.port) if he.get("port") else None,
        verbose=verbose,
    )


def progress_text(statuses: Mapping[str, int], blueprint: Blueprint | None) -> str:
    """The progress line without its timestamp: the study's count, then Mephisto's units."""
    done = sum(statuses.get(s, 0) for s in UNITS_DONE)
    waiting = sum(statuses.get(s, 0) for s in UNITS_WAITING)
    units = (f"units: {done} done, {statuses.get(AssignmentState.ASSIGNED, 0)} in progress, "
             f"{waiting} waiting for a worker")
    study = blueprint.progress_summary() if isinstance(blueprint, WorkDrivenUnits) else None
    return f"{study}; {units}" if study else units


class ProgressLine:
    """The run's progress on one console line: rewritten in place on a terminal; elsewhere (a log
    file, a pipe) a new line only when the counts change, so a day-long run does not fill the log."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.in_place = stream.isatty()
        self._last: str | None = None
        self._open = False  # an in-place line is on screen without its newline

    def show(self, text: str) -> None:
        stamped = f"[{time.strftime('%H:%M:%S')}] {text}"
        if self.in_place:
            self.stream.write(f"\r\x1b[K{stamped}")
            self._open = True
        elif text != self._last:
            self.stream.write(stamped + "\n")
        self._last = text
        self.stream.flush()

    def end(self) -> None:
        """Finish an in-place line, so that what is printed next starts a line of its own."""
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


def _serve(run: LocalLaunch, task_name: str, provider: str, data_dir: Path, progress: ProgressLine,
           sandbox_workers: int) -> bool:
    """Print how to take part, then serve until every unit is done (True) or we are asked to stop."""
    print(f"task '{task_name}' is live: task run {run.run_id}, provider {provider}, data in {data_dir}")
    print(f"router: pid {run.router_pid}, port {run.port}, bound to {run.settings.bind_host}", flush=True)
    if run.pay_summary:
        print(f"pay: {run.pay_summary}")
    if provider == "prolific":
        study = study_of_run(run.db, run.run_id) if run.db is not None and run.run_id else None
        if study is not None:
            print(f"Prolific study {study.study_id}: published when the first unit is offered, places follow the "
                  "work, stopped when this run ends (docs/prolific.md)")
    if provider == "mock":
        print("open one of these pages per sandbox worker (any worker_id works):")
        for i in range(1, sandbox_workers + 1):
            print(f"  {run.worker_url(f'worker_{i}', f'assignment_{i}_{int(time.time())}')}")
    print("Ctrl-C stops the run; everything submitted so far is kept, and relaunching with the "
          "same task name resumes it.", flush=True)

    def show_progress() -> None:
        progress.show(progress_text(run.task_run.get_assignment_statuses(), run.blueprint))

    show_progress()
    return run.wait_until_done(progress=show_progress, progress_every=PROGRESS_EVERY)


def _task_type_clash(cfg: DictConfig, data_dir: Path, task_name: str, task: Any) -> str | None:
    """Why this task name cannot be used for this study in this data folder, or None. Mephisto keys a task by
    its name alone: a second study under the name would mix its units into the first one's (and neither
    could be exported or resumed any more)."""
    wanted = cfg.mephisto.blueprint._blueprint_type
    if task is not None and task.task_type != wanted:
        return (f"'{task_name}' already holds a {task.task_type} task in {data_dir}, and this launch is a {wanted} "
                "task; choose another task name")
    return None


def _work_already_done(cfg: DictConfig, db: MephistoDB, task_name: str) -> bool:
    """Whether an earlier run of this task already collected everything its config asks for, asked of the
    study's blueprint class before anything starts (no router, no lock). A study whose config asks for
    more (e.g. a higher annotations_per_pair) is not done."""
    blueprint_class = get_blueprint_from_type(cfg.mephisto.blueprint._blueprint_type)
    if not issubclass(blueprint_class, WorkDrivenUnits):
        return False
    logging.disable(logging.WARNING)  # the live run's rebuild says the same things again, once
    try:
        return blueprint_class.work_done_in(cfg.mephisto.blueprint, db, task_name)
    finally:
        logging.disable(logging.NOTSET)


def run_until_done(cfg: DictConfig, shared_state: SharedTaskState, exports: Mapping[str, StudyExport], *,
                   sandbox_workers: int = 3, verbose: bool = False) -> int:
    """Launch, print how to take part, serve until every unit is done, export (with `exports`, by
    blueprint type). Returns an exit code.

    A study whose work is already complete is not launched at all (exit 0, with the export command)."""
    settings = settings_from_config(cfg, verbose)
    task_name = cfg.mephisto.task.task_name
    provider = cfg.mephisto.provider._provider_type
    data_dir = data_dir_path(settings.data_dir)  # created by the launch itself, not by a refusal
    # an earlier task of this name, if the data folder has one (opening no database where there is none)
    db = open_database(data_dir) if (data_dir / "database.db").exists() else None
    stored = db.find_tasks(task_name=task_name) if db is not None else []
    clash = _task_type_clash(cfg, data_dir, task_name, stored[0] if stored else None)
    if clash:
        print(f"error: mephisto.task.task_name: {clash}", file=sys.stderr)
        return EXIT_CANNOT_LAUNCH
    if stored and _work_already_done(cfg, db, task_name):
        count = sum(1 for _ in export_records(db, task_name, exports))
        where = f" --data-dir {data_dir}" if settings.data_dir is not None else ""
        print(f"already complete: {count} records collected; export with "
              f"python -m humaneval.crowd export --task-name {task_name} --out FILE{where}")
        return 0
    progress = ProgressLine(sys.stdout)
    try:
        with LocalLaunch(cfg, shared_state, settings) as run:
            finished = _serve(run, task_name, provider, data_dir, progress, sandbox_workers)
    except KeyboardInterrupt:
        finished = False
    except LaunchError as err:  # nothing is left running: another launcher has the task, the port is taken,
        # or Mephisto / the crowd provider refused to start the run
        print(f"error: {err}", file=sys.stderr)
        return EXIT_CANNOT_LAUNCH
    finally:
        progress.end()
    if not finished:
        print("\nstopped; the router is shut down and all submitted work is in the database.", flush=True)
        return EXIT_INTERRUPTED
    out = data_dir / "exports" / f"{task_name}.jsonl"
    count = export_to_file(open_database(data_dir), task_name, out, exports)
    print(f"run complete: {count} record(s) exported to {out}")
    return 0
