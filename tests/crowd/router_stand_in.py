"""A stand-in for Mephisto's router: a small ws server script run by node with one of our preloads, as
node_router runs the real one, so a preload's behaviour is checked without a whole Mephisto run."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from humaneval.crowd import node_router


@contextlib.contextmanager
def stand_in_router(script: str, preload_name: str, folder: Path) -> Iterator[str]:
    """Run `script` (it prints its port) under the preload named `preload_name`; yields its websocket URL."""
    if shutil.which("node") is None or not node_router.router_is_prepared():
        pytest.fail("node and the router's packages are needed: run `bash scripts/setup.sh`")
    path = folder / "stand_in.js"
    path.write_text(script, encoding="utf-8")
    (preload,) = [p for p in node_router.PRELOADS if p.name == preload_name]
    env = {**os.environ, "NODE_PATH": str(node_router.ROUTER_SOURCE / "node_modules")}
    proc = subprocess.Popen(["node", f"--require={preload}", str(path)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield f"ws://127.0.0.1:{int(proc.stdout.readline())}/"
    finally:
        proc.kill()
        proc.wait(10)
