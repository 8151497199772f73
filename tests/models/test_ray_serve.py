"""`models serve --ray` on a local Ray instance (CPU, 127.0.0.1 only, started and stopped here): two replicas
of the demo bot answer 16 concurrent chats through the real HTTP API with the token, killing one replica
mid-run loses no chat, and no process of the instance listens beyond loopback. One Serve application is
shared by the module (deploying takes seconds)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
from local_ray import (RAY_MISSING, demo_serve_config, listeners_beyond_loopback, local_ray_instance,
                       refused_address, start_serve_ray)

from humaneval.models.client import HttpClient
from humaneval.models.server import server_config_from_dict
from humaneval.web.addresses import free_port

pytestmark = [pytest.mark.skipif(RAY_MISSING, reason="humaneval[scale] not installed"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]  # Ray Serve's own pydantic fields

REPO = Path(__file__).resolve().parents[2]
TOKEN = "ray-test-token"
CHATS = 16
TURNS = 2


def _config(port: int, **ray_section: Any) -> Any:
    return server_config_from_dict({
        "port": port, "token_env": "HUMANEVAL_RAY_TEST_TOKEN",
        "models": [{"name": "demo_bot", "max_batch_size": 8, "batch_window_ms": 20}],
        "safety": {"checks": {"profanity_classifier": {"enabled": False}}},
        "ray": {"replicas": 2, "num_cpus": 0.5, **ray_section},
    })


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """The demo bot on 2 Ray Serve replicas; afterwards no process Ray started may be alive."""
    from humaneval.models.ray_serve import start_serve

    with local_ray_instance():
        from ray import serve

        try:
            yield start_serve(_config(free_port()), TOKEN)
        finally:
            serve.shutdown()


def _replicas() -> list[Any]:
    import ray

    from humaneval.models.ray_serve import REPLICA_DEPLOYMENT

    names = [a for a in ray.util.list_named_actors(all_namespaces=True) if f"#{REPLICA_DEPLOYMENT}#" in a["name"]]
    return [ray.get_actor(a["name"], namespace=a["namespace"]) for a in names]


def _chat(url: str, index: int, started: threading.Barrier | None = None) -> list[str]:
    client = HttpClient(url, token=TOKEN, retries=6, backoff_s=0.5)
    turns: list[str] = []
    try:
        for turn in range(TURNS):
            turns.append(f"hello, i am person {index}. how was your day {turn}?")
            result = client.reply("demo_bot", turns)
            assert result.action == "reply" and result.text
            turns.append(result.text)
            if started is not None and turn == 0:
                started.wait()
    finally:
        client.close()
    return turns


def test_two_replicas_answer_16_concurrent_chats_over_http(served: str) -> None:
    assert len(_replicas()) == 2
    with ThreadPoolExecutor(CHATS) as pool:
        chats = list(pool.map(lambda i: _chat(served, i), range(CHATS)))
    assert [len(c) for c in chats] == [2 * TURNS] * CHATS
    models = requests.get(f"{served}/models", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert models.status_code == 200 and [m["name"] for m in models.json()["models"]] == ["demo_bot"]
    refused = requests.post(f"{served}/reply", json={"model": "demo_bot", "turns": ["hi"]}, timeout=30)
    assert refused.status_code == 401 and "bearer token" in refused.json()["error"]  # the app's token check


def test_killing_a_replica_mid_run_loses_no_chat(served: str) -> None:
    import ray

    victim = _replicas()[0]
    first_turns_done = threading.Barrier(CHATS + 1)
    with ThreadPoolExecutor(CHATS) as pool:
        chats = [pool.submit(_chat, served, i, first_turns_done) for i in range(CHATS)]
        first_turns_done.wait(timeout=300)
        time.sleep(0.5)  # the second turns are now being generated, on both replicas
        ray.kill(victim)  # a dead process: Serve replaces it, its in-flight requests go to the other replica
        results = [c.result(timeout=300) for c in chats]
    assert [len(c) for c in results] == [2 * TURNS] * CHATS
    deadline = time.monotonic() + 120
    while len(_replicas()) < 2 and time.monotonic() < deadline:  # Serve brings the count back to 2
        time.sleep(1)
    assert len(_replicas()) == 2


def test_no_process_of_the_instance_listens_beyond_loopback(served: str) -> None:
    """The GCS, the raylet, every worker (replicas, Serve's controller and proxy), the agents and this
    driver: Ray would otherwise put its gRPC servers on every interface."""
    assert _chat(served, 0)  # every kind of process has started and served
    assert listeners_beyond_loopback(psutil.Process()) == []


def test_oversized_body_is_refused_by_the_ingress(served: str) -> None:
    big = b'{"model": "demo_bot", "turns": ["' + b"x" * (3 * 65536) + b'"]}'
    response = requests.post(f"{served}/reply", data=big, timeout=30,
                             headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    assert response.status_code == 413 and "larger than the limit" in response.json()["error"]


def test_num_gpus_is_the_gpu_switch() -> None:
    from humaneval.models.ray_serve import replica_config

    assert replica_config(_config(8765, num_gpus=1)).models[0].device == "cuda"
    assert replica_config(_config(8765, num_gpus=1)).device == "cuda"
    assert replica_config(_config(8765)).models[0].device is None  # CPU replicas keep the registry's device
    pinned = server_config_from_dict({"device": "cuda:1", "ray": {"num_gpus": 1}})
    assert replica_config(pinned).device == "cuda:1"


def _cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@pytest.mark.skipif(not _cuda(), reason="no GPU on this machine")
def test_a_gpu_replica_puts_the_model_on_the_gpu(served: str) -> None:
    """After the tests that use the shared application: redeploys it as one replica with `num_gpus: 1`."""
    from humaneval.models.ray_serve import start_serve

    url = start_serve(_config(int(served.rsplit(":", 1)[1]), replicas=1, num_gpus=1), TOKEN)
    models = requests.get(f"{url}/models", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30).json()
    assert models["models"][0]["device"].startswith("cuda")
    assert _chat(url, 0)


@pytest.mark.parametrize(("section", "field"), [
    ({"replicas": 0}, "ray.replicas"),
    ({"replicas": 1.5}, "ray.replicas"),
    ({"num_gpus": -1}, "ray.num_gpus"),
    ({"num_cpus": True}, "ray.num_cpus"),
    ({"autoscaling": {"min_replicas": 3, "max_replicas": 2}}, "ray.autoscaling"),
    ({"autoscaling": {"max_replicas": 2}}, "ray.autoscaling"),
    ({"address": ""}, "ray.address"),
    ({"address": "head-node"}, "ray.address"),
    ({"address": "10.0.0.5:0"}, "ray.address"),
    ({"address": "10.0.0.5:65536"}, "ray.address"),
    ({"address": "ray://10.0.0.5:10001"}, "ray.address"),
    ({"address": 6379}, "ray.address"),
    ({"replica": 2}, "ray"),
])
def test_a_bad_ray_section_names_its_key(section: dict[str, Any], field: str) -> None:
    from humaneval.input_errors import InputError

    with pytest.raises(InputError) as err:
        server_config_from_dict({"ray": section})
    assert err.value.field == field


def test_autoscaling_bounds_replace_the_replica_count() -> None:
    config = server_config_from_dict({"ray": {"autoscaling": {"min_replicas": 1, "max_replicas": 4}, "num_gpus": 1}})
    assert (config.ray.min_replicas, config.ray.max_replicas, config.ray.num_gpus) == (1, 4, 1.0)


def test_serve_ray_refuses_port_0_before_starting_ray(tmp_path: Any, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from humaneval.models.__main__ import main
    from humaneval.models.ray_session import import_ray

    monkeypatch.setattr(signal, "signal", lambda *_: None)  # serve's stop handlers stay out of pytest
    config = tmp_path / "serve.yaml"
    config.write_text("models:\n  - name: demo_bot\nray:\n  replicas: 2\n")
    ray = import_ray(None)  # as the CLI imports it, so a later local instance still stays on loopback
    was_running = ray.is_initialized()
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--config", str(config), "--ray", "--port", "0"])
    assert exc.value.code == 2 and "needs a fixed port" in capsys.readouterr().err
    assert ray.is_initialized() == was_running


@pytest.mark.timeout(120)
def test_serve_ray_fails_at_once_when_no_cluster_answers(tmp_path: Any) -> None:
    """Ray retried an address nothing answers on without end; `serve --ray` says so and exits. Its own
    process, as a user runs it: in this one the module's instance would be used whatever the address."""
    with refused_address() as closed:
        config = tmp_path / "serve.yaml"
        config.write_text(f"models:\n  - name: demo_bot\nray:\n  address: '{closed}'\n")
        run = subprocess.run([sys.executable, "-m", "humaneval.models", "serve", "--config", str(config), "--ray",
                              "--port", str(free_port())], capture_output=True, text=True, timeout=100,
                             env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert run.returncode == 2 and f"no Ray cluster answers at {closed}" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.timeout(300)
def test_sigterm_stops_serve_ray_cleanly_and_leaves_no_process(tmp_path: Any) -> None:
    """SIGTERM (`kill`, `timeout`, a service manager) as Ctrl-C: exit 0, the application removed and the
    local instance stopped. Ray's core worker catches SIGTERM itself and aborted the process (exit 134)
    halfway through the removal."""
    config = demo_serve_config(tmp_path / "serve.yaml", free_port(), ray={"num_cpus": 0.5})
    server, lines = start_serve_ray(config, dict(os.environ, PYTHONPATH=str(REPO)))
    started: list[psutil.Process] = []
    try:
        started = psutil.Process(server.pid).children(recursive=True)
        server.send_signal(signal.SIGTERM)
        rest, _ = server.communicate(timeout=120)
    finally:
        for process in [psutil.Process(server.pid), *started] if server.poll() is None else []:
            process.kill()  # what a failed stop left: not for the next test to trip over
    assert server.returncode == 0, "".join(lines) + rest
    _, alive = psutil.wait_procs(started, timeout=30)
    assert [p.name() for p in alive] == []
