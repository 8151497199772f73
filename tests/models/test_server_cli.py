"""`python -m humaneval.models serve` as a real process: token enforcement off loopback, refusal without a
token, a server killed and restarted mid-conversation (the client reports a retryable error, then the
conversation continues), a clean exit on SIGTERM, and the connection limits of the config file at work."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from humaneval.models.client import ChatSession, HttpClient, ServerUnavailable

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TOKEN = "t0ken-for-tests"
READY = re.compile(r"serving .* on http://[^:]+:(\d+)")


def env(**extra: str) -> dict[str, str]:
    merged = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(REPO)])}
    merged.pop("HUMANEVAL_SERVER_TOKEN", None)
    merged.update(extra)
    return merged


def write_config(tmp_path: Path, host: str, extra: str = "") -> Path:
    path = tmp_path / "serve.yaml"
    path.write_text(
        f"host: {host}\n"
        "port: 0\n"
        f"{extra}"
        "models:\n"
        "  - name: tiny\n"
        "    factory: test_server_support:tiny_blender\n"
        "    max_batch_size: 4\n",
        encoding="utf-8",
    )
    return path


class ServeProcess:
    """A `serve` subprocess in its own process group; always killed by `stop`."""

    def __init__(self, config: Path, *extra: str, token: str | None = TOKEN) -> None:
        extra_env = {"HUMANEVAL_SERVER_TOKEN": token} if token else {}
        self.log = tempfile.TemporaryFile("w+")  # the request log; a pipe nobody reads could fill and block
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "humaneval.models", "serve", "--config", str(config), *extra],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env=env(**extra_env), cwd=REPO,
            start_new_session=True,
        )
        self.port = self._wait_ready()

    def _wait_ready(self) -> int:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # blocks until the server prints its address (or dies)
        match = READY.search(line)
        if not match:
            self.log.seek(0)
            output = self.log.read()
            self.stop()
            raise AssertionError(f"server did not start: {line!r}\n{output}")
        return int(match.group(1))

    def kill(self) -> None:
        """SIGKILL: no goodbye, as when a GPU host crashes."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log.close()


@pytest.fixture()
def processes() -> Iterator[list[ServeProcess]]:
    started: list[ServeProcess] = []
    yield started
    for process in started:
        process.stop()


def test_help_explains_the_options() -> None:
    result = subprocess.run([sys.executable, "-m", "humaneval.models", "serve", "--help"], capture_output=True,
                            text=True, env=env(), cwd=REPO, timeout=60)
    assert result.returncode == 0
    for option in ("--config", "--host", "--port", "--device", "bearer token"):
        assert option in result.stdout


def test_refuses_to_listen_beyond_loopback_without_a_token(tmp_path: Path) -> None:
    config = write_config(tmp_path, "0.0.0.0")
    result = subprocess.run([sys.executable, "-m", "humaneval.models", "serve", "--config", str(config)],
                            capture_output=True, text=True, env=env(), cwd=REPO, timeout=60)
    assert result.returncode == 2
    assert str(config) in result.stderr and "bearer token is required" in result.stderr


def test_bad_config_exits_2_naming_file_and_field(tmp_path: Path) -> None:
    config = tmp_path / "serve.yaml"
    config.write_text("models:\n  - name: x\n    batch: 3\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "humaneval.models", "serve", "--config", str(config)],
                            capture_output=True, text=True, env=env(), cwd=REPO, timeout=60)
    assert result.returncode == 2 and "models[0]" in result.stderr and "batch" in result.stderr


def test_token_and_restart_mid_conversation(tmp_path: Path, processes: list[ServeProcess]) -> None:
    config = write_config(tmp_path, "0.0.0.0")  # bound beyond loopback; reached via 127.0.0.1
    processes.append(ServeProcess(config))
    port = processes[0].port
    url = f"http://127.0.0.1:{port}"

    anonymous = requests.post(url + "/reply", json={"model": "tiny", "turns": ["hi"]}, timeout=30)
    assert anonymous.status_code == 401 and "missing bearer token" in anonymous.json()["error"]
    wrong = requests.get(url + "/health", headers={"Authorization": "Bearer guess"}, timeout=30)
    assert wrong.status_code == 401

    client = HttpClient(url, token=TOKEN, retries=2, backoff_s=0.05)
    session = ChatSession(client, "tiny")
    first = session.send("hello how are you")
    assert first.action == "reply" and first.text and len(session.history) == 2

    processes[0].kill()
    with pytest.raises(ServerUnavailable) as err:
        session.send("are you still there")
    assert err.value.retryable and "cannot reach the model server" in str(err.value)
    assert "retried later" in str(err.value)
    assert len(session.history) == 2  # a failed turn changes nothing

    processes.append(ServeProcess(config, "--port", str(port)))
    deadline = time.monotonic() + 30
    second = None
    while second is None:
        try:
            second = session.send("are you still there")
        except ServerUnavailable:
            if time.monotonic() > deadline:
                raise
    assert second.action == "reply" and second.text
    assert session.history[:2] == ["hello how are you", first.text] and len(session.history) == 4

    os.killpg(processes[1].proc.pid, signal.SIGTERM)  # Ctrl-C / systemd stop: a clean exit
    assert processes[1].proc.wait(30) == 0


def test_connection_limits_from_the_config_file(tmp_path: Path, processes: list[ServeProcess]) -> None:
    config = write_config(tmp_path, "127.0.0.1", "read_timeout_s: 1\nmax_connections: 2\nworker_threads: 3\n")
    processes.append(ServeProcess(config, token=None))
    url = f"http://127.0.0.1:{processes[0].port}"
    with socket.create_connection(("127.0.0.1", processes[0].port), timeout=30) as stalled:
        stalled.sendall(b"POST /reply HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{")
        # Closed by the server after 1 s of silence (the default would wait 30 s, beyond this socket's 30 s).
        assert stalled.recv(1024) == b""
    assert requests.get(url + "/health", timeout=30).status_code == 200
    processes[0].log.seek(0)
    assert "at most 2 connections, idle ones closed after 1 s, 3 worker threads" in processes[0].log.read()
