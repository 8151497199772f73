"""`--ray-address` against a cluster started with `ray start --head`, as docs/scaling.md has a user start one,
here on 127.0.0.1 only (Ray's loopback switch, under which a cluster cannot take a second node) with token
authentication on, as Ray 2.60 starts a head node where a token exists. The other Ray tests start their own
local instance; this is the path of a study that joins a cluster: the address, its token, its shutdown."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from generator_fixtures import tiny_registry
from local_ray import RAY_MISSING, demo_serve_config, listeners_beyond_loopback, start_serve_ray

from humaneval.web.addresses import free_port

pytestmark = pytest.mark.skipif(RAY_MISSING, reason="humaneval[scale] not installed")
REPO = Path(__file__).resolve().parents[2]
RAY_CLI = Path(sys.executable).with_name("ray")


@dataclass(frozen=True)
class Cluster:
    address: str
    auth: dict[str, str]  # what a process joining it by address needs in its environment
    head: psutil.Process
    tmpdir: str  # RAY_TMPDIR under which its `ray start` left ray/ray_current_cluster, where `auto` looks


def _environment(**extra: str) -> dict[str, str]:
    """This process's environment without Ray's own variables (a developer's RAY_ADDRESS, an auth mode)."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    return {**kept, "PYTHONPATH": str(REPO), "RAY_USAGE_STATS_ENABLED": "0", **extra}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A head node on 127.0.0.1 with a token of its own (not ~/.ray's); stopped afterwards, leaving nothing."""
    token = tmp_path_factory.mktemp("token") / "auth_token"
    token.write_text(secrets.token_hex(32))
    token.chmod(0o600)
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token)}
    temp = Path(tempfile.mkdtemp(prefix="rc", dir="/tmp"))  # Ray's unix sockets need a short path
    port = free_port()
    log = tmp_path_factory.mktemp("head") / "ray_start.log"
    with log.open("wb") as out:
        head = subprocess.Popen(
            [str(RAY_CLI), "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port", str(port),
             "--num-cpus", "1", "--include-dashboard", "false", "--disable-usage-stats",
             "--temp-dir", str(temp / "ray"),
             # ports of their own, not the fixed defaults (10001, 52365) another Ray on this machine may hold
             "--ray-client-server-port", str(free_port()), "--dashboard-agent-listen-port", str(free_port())],
            env=_environment(RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", **auth), stdout=out, stderr=subprocess.STDOUT)
    root = psutil.Process(head.pid)
    try:
        deadline = time.monotonic() + 120
        while "will now block" not in log.read_text(errors="replace"):
            assert head.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.5)
        yield Cluster(f"127.0.0.1:{port}", auth, root, str(temp))
    finally:
        started = root.children(recursive=True) if root.is_running() else []  # now: workers, Serve's actors
        head.terminate()
        try:
            head.wait(timeout=60)
        finally:
            _, alive = psutil.wait_procs(started, timeout=30)
            for process in alive:
                process.kill()
            shutil.rmtree(temp, ignore_errors=True)
    assert [p.name() for p in alive] == []


def _contexts(path: Path, count: int) -> Path:
    path.write_text("".join(json.dumps({"text": f"hi there\nwhat do you think of topic {i}?"}) + "\n"
                            for i in range(count)))
    return path


def _generate(folder: Path, contexts: Path, registry: Path, *extra: str,
              **environment: str) -> subprocess.CompletedProcess[str]:
    folder.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "humaneval.models", "generate", str(contexts), "--out", "logs.jsonl",
                           "--registry", str(registry), "--batch-size", "2", "--no-progress", *extra],
                          cwd=folder, env=_environment(**environment), capture_output=True, text=True, timeout=180)


def test_generate_on_a_cluster_equals_the_single_process_output(cluster: Cluster, tmp_path: Path) -> None:
    contexts, registry = _contexts(tmp_path / "contexts.jsonl", count=5), tiny_registry(tmp_path)
    single = _generate(tmp_path / "single", contexts, registry)
    assert single.returncode == 0, single.stderr
    joined = _generate(tmp_path / "cluster", contexts, registry, "--ray", "--ray-address", cluster.address,
                       "--shard-size", "2", **cluster.auth)
    assert joined.returncode == 0, joined.stderr
    assert (tmp_path / "cluster" / "logs.jsonl").read_bytes() == (tmp_path / "single" / "logs.jsonl").read_bytes()
    assert not (tmp_path / "cluster" / "logs.jsonl.shards").exists()
    assert listeners_beyond_loopback(cluster.head) == []


def test_without_the_token_mode_the_error_says_what_to_set(cluster: Cluster, tmp_path: Path) -> None:
    """Ray sends no token to an address it is given unless RAY_AUTH_MODE=token; it said only "Failed to
    connect to Ray cluster"."""
    contexts, registry = _contexts(tmp_path / "contexts.jsonl", count=2), tiny_registry(tmp_path)
    refused = _generate(tmp_path / "run", contexts, registry, "--ray", "--ray-address", cluster.address,
                        RAY_AUTH_TOKEN_PATH=cluster.auth["RAY_AUTH_TOKEN_PATH"])
    assert refused.returncode == 2
    assert f"Failed to connect to Ray cluster at {cluster.address}" in refused.stderr
    assert "RAY_AUTH_MODE=token" in refused.stderr and "Traceback" not in refused.stderr
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == []  # no work folder, no output


def test_serve_on_a_cluster_answers_and_leaves_the_cluster_to_auto(cluster: Cluster, tmp_path: Path) -> None:
    """`serve --ray` with the cluster's address: the demo bot answers through the real HTTP API with the token;
    stopping the server (SIGTERM) removes its application and leaves the cluster, which others may share."""
    from humaneval.models.client import HttpClient

    port = free_port()
    config = demo_serve_config(tmp_path / "serve.yaml", port, token_env="HUMANEVAL_SERVER_TOKEN",
                               ray={"address": cluster.address, "num_cpus": 0.5})
    server, lines = start_serve_ray(config, _environment(HUMANEVAL_SERVER_TOKEN="cluster-token", **cluster.auth))
    try:
        client = HttpClient(f"http://127.0.0.1:{port}", token="cluster-token", retries=3, backoff_s=0.5)
        try:
            reply = client.reply("demo_bot", ["hello, how was your day?"])
        finally:
            client.close()
        assert reply.action == "reply" and reply.text
        assert listeners_beyond_loopback(cluster.head) == []
    finally:
        server.terminate()
        rest, _ = server.communicate(timeout=120)
    assert server.returncode == 0, "".join(lines) + rest
    assert cluster.head.is_running() and cluster.head.status() != psutil.STATUS_ZOMBIE
    # The cluster still takes work, joined with `auto` this time: without RAY_ADDRESS Ray finds the cluster in
    # its temporary folder and sends the token by itself; humaneval reads the same file to give the loopback
    # cluster its loopback switch (without it the driver waited without end).
    joined = _generate(tmp_path / "after", _contexts(tmp_path / "contexts.jsonl", count=2), tiny_registry(tmp_path),
                       "--ray", "--ray-address", "auto", RAY_TMPDIR=cluster.tmpdir,
                       RAY_AUTH_TOKEN_PATH=cluster.auth["RAY_AUTH_TOKEN_PATH"])
    assert joined.returncode == 0, joined.stderr
    assert len((tmp_path / "after" / "logs.jsonl").read_bytes().splitlines()) == 2
