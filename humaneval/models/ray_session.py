"""Connecting to Ray, shared by `generate --ray` (`ray_generate`) and `serve --ray` (`ray_serve`).

Ray is the optional extra humaneval[scale], so it is imported here, at the moment of use, with an error that
says how to install it. A local instance (no cluster address) listens on 127.0.0.1 only and has no
dashboard: nothing it starts is reachable from other machines.

Why an environment variable: Ray replaces a node address of 127.0.0.1 by the machine's own address
(`services.resolve_ip_for_localhost`) and its servers (GCS, raylet, every worker, the agents) then listen on
all interfaces, `_node_ip_address="127.0.0.1"` notwithstanding. Ray keeps 127.0.0.1 only where it believes
it cannot form a cluster, a switch (`RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`) read once when Ray is imported.
So a local instance sets it before the import, and checks after the start that the node did stay on
loopback (it cannot if something imported Ray earlier in the process).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any

from humaneval.input_errors import InputError
from humaneval.usable_cpus import usable_cpus
from humaneval.web.addresses import is_loopback

LOOPBACK_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
logger = logging.getLogger(__name__)


def cluster_address(address: str | None) -> str | None:
    """The cluster `address` names, or None for a local instance: no address, an empty one, or Ray's own word
    for a new local instance, "local" (which must get the same loopback start as no address)."""
    if address is None or address.strip() in ("", "local"):
        return None
    return address


def import_ray(address: str | None) -> Any:
    """Ray, or an input error saying how to install it (it is the optional extra humaneval[scale]).

    An `address` that names no cluster means a local instance will be started: Ray is then imported with
    its loopback switch."""
    if cluster_address(address) is None and "ray" not in sys.modules:
        os.environ[LOOPBACK_SWITCH] = "0"
    try:
        import ray
    except ImportError:
        raise InputError("--ray needs Ray: pip install 'humaneval[scale]' (docs/scaling.md)", field="--ray") from None
    return ray


@contextlib.contextmanager
def ray_session(address: str | None, num_cpus: int | None = None) -> Iterator[Any]:
    """A connection to Ray: `address`'s cluster, or a local instance on 127.0.0.1 only (no dashboard),
    shut down on exit. An instance the caller already started (a test, a notebook) is used and left running."""
    ray = import_ray(address)
    address = cluster_address(address)
    if ray.is_initialized():
        yield ray
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no reports to Anyscale from a study machine
    local = {} if address else {"num_cpus": num_cpus or usable_cpus(), "_node_ip_address": "127.0.0.1"}
    if not address and os.environ.get("RAY_ADDRESS"):
        logger.warning("RAY_ADDRESS is set but not used: no Ray address is configured, so a local instance starts "
                       "on 127.0.0.1 (configure the address 'auto' to use that cluster)")
    # "local", not None: given None, Ray joins the cluster of RAY_ADDRESS or of the last `ray start` on this
    # machine (/tmp/ray/ray_current_cluster), which is not what no address means here (and it then refused
    # our num_cpus with a traceback).
    ray.init(address=address or "local", include_dashboard=False, log_to_driver=False, configure_logging=False,
             **local)
    try:
        if not address:
            require_loopback(ray)
        yield ray
    finally:
        ray.shutdown()


def require_loopback(ray: Any) -> None:
    """Refuse a local instance whose node took a network address (its servers then listen on every interface)."""
    node_ip = ray.util.get_node_ip_address()
    if not is_loopback(node_ip):
        raise RuntimeError(f"the local Ray instance took the address {node_ip}, so its servers listen on every "
                           f"interface: Ray was imported before humaneval could set {LOOPBACK_SWITCH}=0 "
                           f"(set it in the environment, or import nothing from Ray first)")
