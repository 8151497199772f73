"""The Ray tests' local instance: started the way the CLI starts one (`ray_session`, 127.0.0.1 only), and
what every test of it checks, that nothing Ray started outlives it or listens beyond loopback.

Ray is the optional extra humaneval[scale]; the modules skip without it. They must not import Ray at
collection: `ray_session` imports it with the switch that keeps a local node on loopback, which Ray reads
once, at its import."""

from __future__ import annotations

import contextlib
import importlib.util
import ipaddress
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import yaml

RAY_MISSING = importlib.util.find_spec("ray") is None


@contextlib.contextmanager
def local_ray_instance(num_cpus: int = 2) -> Iterator[Any]:
    """Ray, started here; on exit none of the processes it started may still be alive."""
    from humaneval.models.ray_session import ray_session

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with ray_session(None, num_cpus=num_cpus) as ray:
        started = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
        assert any("raylet" in p.name() for p in started)
        yield ray
    _, alive = psutil.wait_procs(started, timeout=30)
    assert [p.pid for p in alive] == []


def listeners_beyond_loopback(root: psutil.Process) -> list[str]:
    """Every TCP socket listening on a non-loopback address in `root` and its descendants, as 'name addr:port'."""
    found = []
    for process in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            for conn in process.net_connections(kind="tcp"):
                if conn.status == psutil.CONN_LISTEN and not _loopback(conn.laddr.ip):
                    found.append(f"{process.name()} {conn.laddr.ip}:{conn.laddr.port}")
    return found


def _loopback(address: str) -> bool:
    """127.0.0.0/8, ::1, or 127.x written as IPv6 (::ffff:127.0.0.1, how a dual-stack socket shows it)."""
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def ray_processes(root: psutil.Process) -> list[psutil.Process]:
    """`root`'s descendants that are Ray's own servers (the GCS and the raylet), for a test to wait on."""
    return [p for p in root.children(recursive=True) if p.name() in ("gcs_server", "raylet")]


@contextlib.contextmanager
def refused_address() -> Iterator[str]:
    """127.0.0.1:PORT on which a connection is refused for as long as the block runs: the port is bound and
    not listening, so no other process (another test's Ray) can take it in the meantime."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{held.getsockname()[1]}"


def demo_serve_config(path: Path, port: int, **top: Any) -> Path:
    """A `serve --ray` config of the demo bot (profanity classifier off, for speed) on `port`, with `top`-level
    keys added (a `ray` section, a token_env)."""
    config = {"port": port, "models": [{"name": "demo_bot"}],
              "safety": {"checks": {"profanity_classifier": {"enabled": False}}}, **top}
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def start_serve_ray(config: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], list[str]]:
    """`serve --ray` in its own process, as a user runs it, read up to its "serving ..." line; returns the
    process and its output so far (for a failure's message). Fails if the server ends before it serves."""
    server = subprocess.Popen([sys.executable, "-m", "humaneval.models", "serve", "--config", str(config), "--ray"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert server.stdout is not None
    lines: list[str] = []
    while not any(line.startswith("serving ") for line in lines):
        lines.append(server.stdout.readline())
        if not lines[-1]:
            server.wait(timeout=60)
            raise AssertionError("the server ended before it served:\n" + "".join(lines))
    return server, lines
