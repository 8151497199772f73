"""What a launch CLI does around a `LocalLaunch`: settings from config, worker URLs, progress,
the Ctrl-C / SIGTERM story, and the export when the run is done. Shared by every task's launcher."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from omegaconf import DictConfig

from humaneval.crowd.data_dir import open_database, resolve_data_dir
from humaneval.crowd.export import export_to_file
from humaneval.crowd.launcher import LaunchError, LaunchSettings, LocalLaunch
from mephisto.abstractions.blueprint import SharedTaskState

EXIT_INTERRUPTED = 130
EXIT_CANNOT_LAUNCH = 2


def settings_from_config(cfg: DictConfig) -> LaunchSettings:
    he = cfg.humaneval
    return LaunchSettings(
        data_dir=Path(he.data_dir) if he.get("data_dir") else None,
        bind_host=he.get("router_host") or "127.0.0.1",
        public_hostname=he.get("public_hostname") or "localhost",
        port=int(he.port) if he.get("port") else None,
    )


def run_until_done(cfg: DictConfig, shared_state: SharedTaskState, *, sandbox_workers: int = 3) -> int:
    """Launch, print how to take part, serve until every unit is done, export. Returns an exit code."""
    settings = settings_from_config(cfg)
    task_name = cfg.mephisto.task.task_name
    provider = cfg.mephisto.provider._provider_type
    data_dir = resolve_data_dir(settings.data_dir)
    try:
        with LocalLaunch(cfg, shared_state, settings) as run:
            print(f"task '{task_name}' is live: task run {run.run_id}, provider {provider}, data in {data_dir}")
            print(f"router: pid {run.router_pid}, port {run.port}, bound to {settings.bind_host}", flush=True)
            if provider == "mock":
                print("open one of these pages per sandbox worker (any worker_id works):")
                for i in range(1, sandbox_workers + 1):
                    print(f"  {run.worker_url(f'worker_{i}', f'assignment_{i}_{int(time.time())}')}")
            print("Ctrl-C stops the run; everything submitted so far is kept, and relaunching with the "
                  "same task name resumes it.", flush=True)
            last: list[str] = []

            def progress() -> None:
                statuses = run.task_run.get_assignment_statuses()
                line = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()) if v)
                if line != (last[0] if last else None):
                    print(f"[{time.strftime('%H:%M:%S')}] units: {line}", flush=True)
                    last[:] = [line]

            finished = run.wait_until_done(progress=progress)
    except KeyboardInterrupt:
        finished = False
    except LaunchError as err:  # nothing was started: another launcher has the task, or the port is taken
        print(f"error: {err}", file=sys.stderr)
        return EXIT_CANNOT_LAUNCH
    if not finished:
        print("\nstopped; the router is shut down and all submitted work is in the database.", flush=True)
        return EXIT_INTERRUPTED
    out = data_dir / "exports" / f"{task_name}.jsonl"
    count = export_to_file(open_database(data_dir), task_name, out)
    print(f"run complete: {count} record(s) exported to {out}")
    return 0

