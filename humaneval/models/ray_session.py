"""Connecting to Ray, shared by `generate --ray` (`ray_generate`) and `serve --ray` (`ray_serve`).

Ray is the optional extra humaneval[scale], so it is imported here, at the moment of use, with an error that
says how to install it; a local instance is bound to 127.0.0.1 and has no dashboard (nothing reachable
from other machines unless a cluster address is given).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from humaneval.input_errors import InputError


def import_ray() -> Any:
    """Ray, or an input error saying how to install it (it is the optional extra humaneval[scale])."""
    try:
        import ray
    except ImportError:
        raise InputError("--ray needs Ray: pip install 'humaneval[scale]' (docs/scaling.md)", field="--ray") from None
    return ray


@contextlib.contextmanager
def ray_session(address: str | None, num_cpus: int | None = None) -> Iterator[Any]:
    """A connection to Ray: `address`'s cluster, or a local instance bound to 127.0.0.1 (no dashboard),
    shut down on exit. An instance the caller already started (a test, a notebook) is used and left running."""
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no reports to Anyscale from a study machine
    local = {} if address else {"num_cpus": num_cpus or os.cpu_count() or 1, "_node_ip_address": "127.0.0.1"}
    ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False, **local)
    try:
        yield ray
    finally:
        ray.shutdown()
