"""A launch interrupted by Ctrl-C (SIGINT), SIGTERM or even SIGKILL leaves no node router and no bound
port behind, and the next launch in the same data directory works."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from humaneval.crowd.simulated_worker import SimulatedWorker

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
# `python -m humaneval.launch`, except that SIGUSR1 makes it print every thread's stack (faulthandler only dumps
# on fatal signals by itself): a launcher that hangs in CI then says where it sat.
DUMPABLE_LAUNCH = ("import faulthandler, runpy, signal; faulthandler.register(signal.SIGUSR1, all_threads=True); "
                   "runpy.run_module('humaneval.launch', run_name='__main__', alter_sys=True)")


class LaunchProcess:
    """`python -m humaneval.launch TASK` (smoke by default) in a subprocess, its output read line by line."""

    def __init__(self, data_dir: Path, *args: str, task: str = "smoke", sigint_ignored: bool = False) -> None:
        """`sigint_ignored`: started as `launch ... &` from a non-interactive shell, which leaves SIGINT ignored."""
        self.proc = subprocess.Popen(
            [sys.executable, "-c", DUMPABLE_LAUNCH, task, f"humaneval.data_dir={data_dir}", *args],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self._pumping = threading.Thread(target=self._pump, daemon=True)
        self._pumping.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for_line(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """The first line not read yet that matches `pattern` (a regex)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if not self._pumping.is_alive() and self.lines.empty():  # the process has exited
                    break
                continue
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"launch never printed /{pattern}/:\n" + "".join(self.output))

    def wait_for_router(self, timeout: float = 60) -> tuple[int, int]:
        match = self.wait_for_line(r"router: pid (\d+), port (\d+)", timeout)
        return int(match.group(1)), int(match.group(2))

    def wait(self, timeout: float) -> int:
        """The exit code, once all the output has been read."""
        code = self.proc.wait(timeout)
        self._pumping.join(10)
        return code

    def exit_code(self, timeout: float) -> int:
        """The exit code; a launcher still running at the deadline fails the test with its threads' stacks."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGUSR1)
            _wait(lambda: "most recent call first" in "".join(self.output), timeout=10)
            time.sleep(1)  # the rest of the dump: one stack per thread
            raise AssertionError(f"the launcher did not exit within {timeout} s; its output, then its threads:\n"
                                 + "".join(self.output)) from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _wait(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return bool(condition())


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_interrupted_launch_cleans_up_and_relaunch_works(tmp_path: Path, sig: signal.Signals) -> None:
    data_dir = tmp_path / "mephisto"
    first = LaunchProcess(data_dir)
    try:
        router_pid, port = first.wait_for_router()
        assert _alive(router_pid) and _port_open(port)
        first.proc.send_signal(sig)
        code = first.proc.wait(60)
        if sig != signal.SIGKILL:
            assert code == 130, "".join(first.output)
            assert "all submitted work is in the database" in "".join(first.output)
        # SIGKILL gives the launcher no chance to clean up: the router's own watchdog must exit.
        assert _wait(lambda: not _alive(router_pid), timeout=15), f"router {router_pid} survived {sig.name}"
        assert _wait(lambda: not _port_open(port), timeout=5), f"port {port} still bound after {sig.name}"
    finally:
        first.stop()

    second = LaunchProcess(data_dir)
    try:
        router_pid, port = second.wait_for_router()
        session = SimulatedWorker(f"http://localhost:{port}", "after_restart").request_agent()
        assert session.agent_id is not None, session.failure_reason
        assert session.init_task_data["prompt"]
        second.proc.send_signal(signal.SIGTERM)
        assert second.proc.wait(60) == 130
        assert _wait(lambda: not _alive(router_pid), timeout=15)
    finally:
        second.stop()


def test_a_second_launcher_of_the_same_task_exits_2_naming_the_first(tmp_path: Path) -> None:
    """Two launchers would hand out the same units twice (paid twice on MTurk): the second one refuses at
    once, names the running launcher's pid and starts nothing; once the first is gone, a launch works."""
    data_dir = tmp_path / "mephisto"
    first = LaunchProcess(data_dir)
    try:
        first.wait_for_router()
        second = subprocess.run(
            [sys.executable, "-m", "humaneval.launch", "smoke", f"humaneval.data_dir={data_dir}"],
            cwd=REPO, capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stdout + second.stderr
        assert f"launcher pid {first.proc.pid}" in second.stderr and "already running" in second.stderr
        assert "Traceback" not in second.stderr and "router:" not in second.stdout
        assert first.proc.poll() is None, "the first launcher must keep running"
        first.proc.send_signal(signal.SIGINT)
        assert first.proc.wait(60) == 130
    finally:
        first.stop()
    third = LaunchProcess(data_dir)  # the lock went with the first process
    try:
        third.wait_for_router()
        third.proc.send_signal(signal.SIGINT)
        assert third.proc.wait(60) == 130
    finally:
        third.stop()


def _catches_sigint(pid: int) -> bool:
    """Whether the process has a handler for SIGINT (bit 1 of SigCgt in /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    return False


def test_first_sigint_before_the_run_stops_a_launcher_started_in_the_background(tmp_path: Path) -> None:
    """A non-interactive shell's `launch ... &` inherits SIGINT as ignored: the first SIGINT while the study is
    still being built must stop it, with no traceback and no router left."""
    launch = LaunchProcess(tmp_path / "mephisto", sigint_ignored=True)
    try:
        assert _wait(lambda: launch.proc.poll() is not None or _catches_sigint(launch.proc.pid), timeout=30)
        assert not any("router:" in line for line in launch.output), "too late: the run had started"
        launch.proc.send_signal(signal.SIGINT)
        assert launch.exit_code(60) == 130, "".join(launch.output)  # the old launcher ignored it and ran on
        output = "".join(launch.output)
        assert "Traceback" not in output, output
        # Python runs the handler between bytecodes: if the signal lands inside a long C call, the launch
        # may reach LocalLaunch, whose own handler then stops the run just as cleanly. No router survives.
        started = re.search(r"router: pid (\d+)", output)
        assert started is None or _wait(lambda: not _alive(int(started.group(1))), timeout=15), output
    finally:
        launch.stop()


def test_first_sigint_during_the_run_stops_a_launcher_started_in_the_background(tmp_path: Path) -> None:
    launch = LaunchProcess(tmp_path / "mephisto", sigint_ignored=True)
    try:
        router_pid, _ = launch.wait_for_router()
        launch.proc.send_signal(signal.SIGINT)
        assert launch.proc.wait(60) == 130, "".join(launch.output)
        assert "Traceback" not in "".join(launch.output)
        assert _wait(lambda: not _alive(router_pid), timeout=15)
    finally:
        launch.stop()


def test_after_the_run_a_launcher_started_in_the_background_exits_by_itself_and_a_late_sigint_is_harmless(
        tmp_path: Path) -> None:
    """After its work is done there is nothing left to stop: the launcher exports, exits 0 by itself
    (no thread waits for anybody) and leaves no router; a SIGINT arriving in that last phase (while
    it exports) still ends it cleanly, with 0 or 130 and no traceback, never an ignored signal."""
    from humaneval.crowd.simulated_worker import SimulatedWorker

    # two independent launchers in their own data dirs, started together: the second one's start-up
    # overlaps the first one's run instead of following it
    launch = LaunchProcess(tmp_path / "mephisto", "humaneval.prompts=[one]", sigint_ignored=True)
    quiet = LaunchProcess(tmp_path / "mephisto2", "humaneval.prompts=[one]", sigint_ignored=True)
    try:
        try:
            router_pid, port = launch.wait_for_router()
            worker = SimulatedWorker(f"http://localhost:{port}", "only_worker")
            session = worker.request_agent()
            assert session.agent_id is not None, session.failure_reason
            worker.submit_task(session.agent_id, {"answer": "done"})
            launch.wait_for_line(r"run complete: 1 record\(s\) exported")
            launch.proc.send_signal(signal.SIGINT)  # late: the run is over
            assert launch.wait(30) in (0, 130), "".join(launch.output)
            assert "Traceback" not in "".join(launch.output)
            assert _wait(lambda: not _alive(router_pid), timeout=15)
        finally:
            launch.stop()

        router_pid, port = quiet.wait_for_router()
        worker = SimulatedWorker(f"http://localhost:{port}", "only_worker")
        session = worker.request_agent()
        worker.submit_task(session.agent_id, {"answer": "done"})
        assert quiet.wait(60) == 0, "".join(quiet.output)  # no signal needed: it ends by itself
        assert _wait(lambda: not _alive(router_pid), timeout=15)
    finally:
        quiet.stop()
