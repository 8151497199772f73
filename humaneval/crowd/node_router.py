"""Mephisto's node router: install it once, run it on loopback, and clean up after it.

Mephisto 1.1.1's LocalArchitect runs `npm install` inside site-packages on *every* launch, copies the
router into `site-packages/tmp/local_server_<run id>` (shared by every data dir using this Python
environment, left behind when the launcher is killed, and fatal to the next run that reuses the id),
binds all interfaces, never checks that its port is free, and starts node in its own process group so
that it survives its parent. This module owns each of those fixes so the launcher can stay about
launching. The router copies live under `<data dir>/tmp` instead (see `use_server_dir_under`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from mephisto.abstractions.architects import local_architect
from mephisto.abstractions.architects import router as mephisto_router

logger = logging.getLogger(__name__)

ROUTER_SOURCE = Path(mephisto_router.__file__).parent / "node"
PRELOADS = (Path(__file__).with_name("router_preload.cjs"), Path(__file__).with_name("router_forward.cjs"))
"""Node modules the router loads before server.js: loopback bind, parent watchdog, send-callback and
nosniff fixes (router_preload.cjs); packets passed on to Mephisto as they arrive, not every 50 ms
(router_forward.cjs)."""
LOOPBACK = "127.0.0.1"


class RouterNotPrepared(RuntimeError):
    """The router's node packages are missing; scripts/setup.sh installs them once."""


def router_is_prepared() -> bool:
    return (ROUTER_SOURCE / "node_modules" / "express" / "package.json").is_file()


def prepare_router() -> bool:
    """Install the router's node packages from Mephisto's lockfile; return False when already done."""
    if router_is_prepared():
        return False
    if shutil.which("npm") is None:
        raise RouterNotPrepared("npm not found: install Node.js and npm (Debian: apt-get install nodejs npm)")
    logger.info("installing Mephisto's node router packages in %s", ROUTER_SOURCE)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROUTER_SOURCE, check=True)
    return True


def prepared_router_source() -> str:
    """The directory to hand the LocalArchitect as `server_source_path` (skips its npm install)."""
    if not router_is_prepared():
        raise RouterNotPrepared(
            f"Mephisto's node router is not installed in {ROUTER_SOURCE}; run `bash scripts/setup.sh`"
        )
    return str(ROUTER_SOURCE)


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def router_environment(bind_host: str = LOOPBACK) -> dict[str, str]:
    """Environment variables the router inherits: our preloads (`PRELOADS`), the loopback bind and the
    parent watchdog."""
    node_options = os.environ.get("NODE_OPTIONS", "")
    for path in PRELOADS:
        preload = f"--require={path}"
        if preload not in node_options:
            node_options = f"{node_options} {preload}".strip()
    return {
        "NODE_OPTIONS": node_options,
        "HUMANEVAL_ROUTER_HOST": bind_host,
        "HUMANEVAL_ROUTER_PARENT_PID": str(os.getpid()),
    }


def _processes_using(directory: Path) -> list[int]:
    """PIDs whose working directory lies inside `directory` (the router runs from its server dir)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cwd = Path(os.readlink(proc / "cwd"))
            if cwd == directory or directory in cwd.parents:
                pids.append(int(proc.name))
    return pids


def use_server_dir_under(data_dir: Path) -> Path:
    """Make the LocalArchitect copy its router into `<data_dir>/tmp` (one place per data dir)."""
    tmp = data_dir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    local_architect.get_mephisto_tmp_dir = lambda: str(tmp)
    return tmp


def server_tmp_dir() -> Path:
    """Where the LocalArchitect currently puts its router copies."""
    return Path(local_architect.get_mephisto_tmp_dir())


def remove_stale_server_dirs() -> list[Path]:
    """Delete `local_server_*` dirs that no running process uses; return what was removed."""
    tmp = server_tmp_dir()
    removed = []
    if not tmp.is_dir():
        return removed
    for server_dir in tmp.glob("local_server_*"):
        if _processes_using(server_dir.resolve()):
            continue
        shutil.rmtree(server_dir, ignore_errors=True)
        removed.append(server_dir)
    if removed:
        logger.info("removed %d stale local server dir(s): %s", len(removed), ", ".join(p.name for p in removed))
    return removed


def kill_process_group(pid: int, timeout: float = 5.0) -> None:
    """SIGTERM the process group led by `pid`, SIGKILL it if it lingers; bounded, never blocks."""
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    if not _wait_gone(pid, timeout):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        _wait_gone(pid, timeout)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it when it was our child (Mephisto starts it from this process)


def _alive(pid: int) -> bool:
    """Running, i.e. neither gone nor a zombie waiting to be reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _alive(pid)
