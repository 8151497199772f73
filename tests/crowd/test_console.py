"""What a launcher's console shows: the worker pages, one progress line and our warnings as plain lines;
Mephisto's log, its router's connection messages and the mock provider's line per unit only with -v.
And a study whose work is complete is not served again."""

from __future__ import annotations

import io
import json
import logging
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from humaneval.acute.blueprint import AcuteBlueprint
from humaneval.bad_collection.blueprint import BadChatBlueprint
from humaneval.bad_collection.model_quota import ModelQuota
from humaneval.crowd.launcher import ConsoleHandler
from humaneval.crowd.run_session import ProgressLine, progress_text
from humaneval.crowd.simulated_worker import SimulatedWorker
from humaneval.crowd.work_queue import QueueItem, WorkQueue
from humaneval.launch import main
from tests.acute.test_acute_integration import Crowd, study_files
from tests.crowd.test_launch_signals import REPO, LaunchProcess

# What Mephisto, its router and the mock provider write to a console when they are let.
MEPHISTO_LINES = ("Mock task launched", "Server running locally", "Listening on", "Client connected",
                  "System socket attached", "rm -rf", "INFO", "Creating a task run", "Traceback", "%|")


# --- in process ---------------------------------------------------------------------------------


def _record(name: str, level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, None, None)


def test_the_console_handler_shows_our_warnings_and_every_error_as_plain_lines_the_rest_only_when_verbose(
        capsys: pytest.CaptureFixture[str]) -> None:
    long_warning = "worker W soft-blocked from task T: failed onboarding (1/4 right) " + "x" * 80
    for verbose in (False, True):
        handler = ConsoleHandler(verbose)
        handler.handle(_record("humaneval.crowd.work_driven_units", logging.WARNING, long_warning))
        handler.handle(_record("humaneval.crowd.launcher", logging.INFO, "task run 1 live"))
        handler.handle(_record("mephisto.operations.operator", logging.WARNING, "Shutting down servers"))
        handler.handle(_record("sh.command", logging.INFO, "<Command '/usr/bin/rm -rf x'>"))
        try:
            raise ConnectionError("HIT creation refused")
        except ConnectionError:
            failure = _record("mephisto.abstractions.providers.mturk", logging.ERROR, "could not launch unit 7")
            failure.exc_info = sys.exc_info()
        handler.handle(failure)
    quiet, verbose_out = capsys.readouterr().err.split(f"warning: {long_warning}\n")[1:]
    # Quiet: Mephisto's errors still show, one line each; its info and warnings do not.
    assert quiet.splitlines() == ["error: mephisto.abstractions.providers.mturk: could not launch unit 7 "
                                  "(ConnectionError; -v shows the traceback)"]
    assert verbose_out.splitlines()[:4] == [
        "info: task run 1 live",
        "warning: mephisto.operations.operator: Shutting down servers",
        "info: sh.command: <Command '/usr/bin/rm -rf x'>",
        "error: mephisto.abstractions.providers.mturk: could not launch unit 7",
    ]
    assert "Traceback" in verbose_out and "HIT creation refused" in verbose_out


def test_another_librarys_error_is_one_short_line_on_the_quiet_console(capsys: pytest.CaptureFixture[str]) -> None:
    """Mephisto's errors can quote a worker's whole submission over many lines (a hostile worker could fill
    the screen): quiet shows the first line, cut at 200 characters; -v shows it all."""
    message = "Task exception was never retrieved: " + "x" * 500 + "\nsecond line\nthird line"
    ConsoleHandler(False).handle(_record("asyncio", logging.ERROR, message))
    ConsoleHandler(True).handle(_record("asyncio", logging.ERROR, message))
    quiet, verbose = capsys.readouterr().err.split("\n", 1)
    assert quiet == "error: asyncio: " + message[:200] + " …"
    assert "third line" in verbose and "x" * 500 in verbose


@pytest.mark.parametrize("flag", ["-v", "--verbose"])
def test_the_verbose_flag_is_no_hydra_override_and_the_help_names_it(
        flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    handlers = list(logging.getLogger().handlers)
    assert main(["smoke", flag, "--cfg"]) == 0
    out, err = capsys.readouterr()
    assert "task_name: humaneval-smoke" in out and err == ""
    assert logging.getLogger().handlers == handlers  # the console's logging is undone on return
    assert main(["smoke", "--help"]) == 0
    assert "-v (--verbose) shows Mephisto's own log" in capsys.readouterr().out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_one_line_in_place_on_a_terminal_and_a_line_per_change_elsewhere() -> None:
    log = io.StringIO()
    progress = ProgressLine(log)
    for text in ("units: 0 done", "units: 0 done", "units: 1 done", "units: 1 done"):
        progress.show(text)
    progress.end()
    lines = log.getvalue().splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == ["units: 0 done", "units: 1 done"]
    assert all(re.fullmatch(r"\[\d\d:\d\d:\d\d\] .*", line) for line in lines)

    terminal = _Terminal()
    progress = ProgressLine(terminal)
    progress.show("units: 0 done")
    progress.show("units: 0 done")
    progress.end()
    progress.end()
    screen = terminal.getvalue()
    assert screen.count("\r\x1b[K") == 2 and screen.count("\n") == 1 and screen.endswith("units: 0 done\n")


def test_the_progress_line_says_what_the_study_collected() -> None:
    statuses = {"completed": 2, "accepted": 1, "assigned": 1, "launched": 1, "expired": 4}
    units = "units: 3 done, 1 in progress, 1 waiting for a worker"
    assert progress_text(statuses, None) == units

    acute = object.__new__(AcuteBlueprint)  # the real blueprint's progress, without a live run
    acute._lock, acute.answers_per_item = threading.RLock(), 2
    acute._queue = WorkQueue([QueueItem(f"p{i}", (f"a{i}", f"b{i}")) for i in range(4)], answers_per_item=2)
    acute.queue.reserve("agent1", "w1", 3)
    acute.queue.complete("agent1", ["p0", "p1", "p2", "p3"])
    assert progress_text(statuses, acute) == f"3 of 8 judgements collected; {units}"

    bad = object.__new__(BadChatBlueprint)
    bad._lock, bad._quota = threading.Lock(), ModelQuota({"bot_a": 2, "bot_b": 1})
    bad.quota.restore_completed("w1", "bot_a")
    assert progress_text(statuses, bad) == f"1 of 3 conversations collected; {units}"


# --- the CLI with a real router -----------------------------------------------------------------


@pytest.mark.integration
def test_the_console_shows_the_worker_pages_and_progress_and_nothing_of_mephisto(tmp_path: Path) -> None:
    launch = LaunchProcess(tmp_path / "mephisto")
    try:
        _, port = launch.wait_for_router()
        launch.wait_for_line(r"units: 0 done, 0 in progress, 2 waiting for a worker")
        worker = SimulatedWorker(f"http://localhost:{port}", "console_worker")
        session = worker.request_agent()
        assert session.agent_id is not None, session.failure_reason
        worker.submit_task(session.agent_id, {"answer": "blue"})
        launch.wait_for_line(r"units: 1 done, 0 in progress, 1 waiting for a worker")
        launch.proc.send_signal(signal.SIGINT)
        assert launch.wait(60) == 130
    finally:
        launch.stop()
    out = "".join(launch.output)
    assert len(re.findall(rf"^  http://localhost:{port}/\?worker_id=worker_\d&assignment_id=\S+$", out, re.M)) == 3
    progress = [line for line in launch.output if "units:" in line]
    assert all(a != b for a, b in zip(progress, progress[1:])), progress  # a new line only on a change
    for line in MEPHISTO_LINES:
        assert line not in out, out
    assert (tmp_path / "mephisto" / "router.log").is_file()  # where the router's own complaints go


@pytest.mark.integration
def test_verbose_console_adds_mephisto_and_its_router(tmp_path: Path) -> None:
    launch = LaunchProcess(tmp_path / "mephisto", "-v")
    try:
        launch.wait_for_router()
        launch.wait_for_line(r"Mock task launched: http://localhost:\d+")
        launch.proc.send_signal(signal.SIGINT)
        assert launch.wait(60) == 130
    finally:
        launch.stop()
    out = "".join(launch.output)
    assert "info: mephisto.operations.operator: Creating a task run under task name: humaneval-smoke" in out
    assert "Server running locally with pid" in out and "Listening on" in out  # the router's own output
    assert "units: " in out


@pytest.mark.integration
def test_a_second_launcher_is_refused_the_first_collects_exactly_the_design_and_a_relaunch_serves_nothing(
        tmp_path: Path) -> None:
    """While an ACUTE study runs, a second launcher of the same task exits 2 naming the first; the first
    ends with exactly one judgement per pair (the design), never two by one worker; relaunching the
    complete study says so and serves nothing."""
    pairings, onboarding, pairs = study_files(tmp_path, pairs_per_model_pair=1, conversations_per_model=2)
    args = [f"mephisto.blueprint.pairings_file={pairings}", f"mephisto.blueprint.onboarding_file={onboarding}",
            "mephisto.blueprint.annotations_per_pair=1", "mephisto.blueprint.subtasks_per_unit=3",
            "mephisto.task.task_name=acute-relaunch"]
    data_dir = tmp_path / "mephisto"
    first = LaunchProcess(data_dir, *args, task="acute")
    try:
        _, port = first.wait_for_router()
        first.wait_for_line(r"0 of \d+ judgements collected; units: ")
        rival = subprocess.run([sys.executable, "-m", "humaneval.launch", "acute", f"humaneval.data_dir={data_dir}",
                                *args], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert rival.returncode == 2, rival.stdout + rival.stderr
        assert f"launcher pid {first.proc.pid}" in rival.stderr and "already running" in rival.stderr
        crowd = Crowd(f"http://localhost:{port}")
        names = [f"finisher{i}" for i in range(8)]  # a worker never sees a conversation twice
        deadline = time.monotonic() + 180
        while first.proc.poll() is None and time.monotonic() < deadline:
            try:
                if not any([crowd.work(name) for name in names]):
                    time.sleep(0.3)
            except requests.ConnectionError:
                break  # the run ended and its router is gone
        assert first.wait(60) == 0, "".join(first.output)
    finally:
        first.stop()
    records = int(first.wait_for_line(r"run complete: (\d+) record\(s\) exported").group(1))
    exported = [json.loads(line) for line in (data_dir / "exports" / "acute-relaunch.jsonl").read_text().splitlines()]
    judgements = [(r["pair_id"], r["worker_id"]) for r in exported if not r["is_onboarding"]]
    assert sorted(pair for pair, _ in judgements) == sorted(pairs)  # one judgement per pair, none twice

    second = subprocess.run([sys.executable, "-m", "humaneval.launch", "acute", f"humaneval.data_dir={data_dir}", *args],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.stdout == (
        f"already complete: {records} records collected; export with python -m humaneval.crowd export "
        f"--task-name acute-relaunch --out FILE --data-dir {data_dir}\n")
    assert second.stderr == ""
