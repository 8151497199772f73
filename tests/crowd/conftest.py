"""Fixtures for tests that run real Mephisto task runs (local architect + node router) in tmp dirs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from omegaconf import DictConfig

from humaneval.crowd.data_dir import open_database
from humaneval.crowd.launcher import LaunchSettings, LocalLaunch
from humaneval.crowd.prolific.credentials import ProlificToken, register_requester
from humaneval.crowd.smoke_task import build_task
from mephisto.abstractions.blueprint import SharedTaskState
from tests.crowd.prolific_support import TOKEN
from tests.prolific_fake import FakeProlific


@pytest.fixture()
def smoke_run(tmp_path: Path) -> Iterator[LocalLaunch]:
    """A live smoke task run (two prompts, so two units) in a fresh data dir; the test drives its loop."""
    cfg, state = build_task([f"humaneval.data_dir={tmp_path / 'mephisto'}"])
    with LocalLaunch(cfg, state, LaunchSettings(data_dir=tmp_path / "mephisto")) as run:
        yield run


@pytest.fixture()
def prolific(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProlific]:
    """A fake Prolific on 127.0.0.1 with requester `lab` registered against it (token file in tmp_path)."""
    monkeypatch.setenv("HUMANEVAL_PROLIFIC_CREDENTIALS", str(tmp_path / "prolific_credentials"))
    with FakeProlific(token=TOKEN) as server:
        register_requester(open_database(tmp_path / "mephisto"), "lab", ProlificToken(TOKEN, server.api_url))
        yield server
        # every run's submission watcher ended with its study (a leaked one would poll a server that is gone)
        assert wait_for(lambda: not [t for t in threading.enumerate() if t.name.startswith("prolific-watch-")], 10)


class BackgroundRun:
    """A task run whose Mephisto Operator lives and loops on its own thread.

    Browser tests need this: Playwright's sync API keeps an asyncio loop on the test's thread, and
    Mephisto's Operator refuses to start on a thread that has one.
    """

    def __init__(self, cfg: DictConfig, state: SharedTaskState, settings: LaunchSettings, timeout: float = 180) -> None:
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.run: LocalLaunch | None = None
        self._thread = threading.Thread(target=self._serve, args=(cfg, state, settings, timeout), daemon=True)

    def _serve(self, cfg: DictConfig, state: SharedTaskState, settings: LaunchSettings, timeout: float) -> None:
        try:
            with LocalLaunch(cfg, state, settings) as run:
                self.run = run
                self._ready.set()
                run.wait_until(self._stop.is_set, timeout)
        except BaseException as err:
            self._error = err
            self._ready.set()

    def __enter__(self) -> LocalLaunch:
        self._thread.start()
        self._ready.wait(120)
        if self._error is not None or self.run is None:
            raise RuntimeError("task run did not start") from self._error
        return self.run

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(60)
        assert not self._thread.is_alive(), "the task run did not shut down"


@pytest.fixture()
def smoke_run_in_background(tmp_path: Path) -> Iterator[LocalLaunch]:
    cfg, state = build_task([f"humaneval.data_dir={tmp_path / 'mephisto'}"])
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=tmp_path / "mephisto")) as run:
        yield run


def completed_units(run: LocalLaunch) -> int:
    statuses = run.task_run.get_assignment_statuses()
    return statuses.get("completed", 0) + statuses.get("accepted", 0)


def wait_for(condition, timeout: float = 60, interval: float = 0.2) -> bool:  # type: ignore[no-untyped-def]
    """Poll `condition` from a thread that does not drive Mephisto's loop."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())
