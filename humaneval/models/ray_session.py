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

import argparse
import contextlib
import ipaddress
import logging
import os
import re
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from humaneval.input_errors import InputError
from humaneval.usable_cpus import usable_cpus
from humaneval.web.addresses import is_loopback

LOOPBACK_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
CONNECT_TIMEOUT_S = 10.0  # for the head node to accept a TCP connection; a reachable one does so in milliseconds
_HOST_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*")
logger = logging.getLogger(__name__)


def host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of a HOST:PORT address, or None: HOST a name or an IPv4 literal (ASCII letters, digits,
    `-`, `_` in dot-separated labels) or a bracketed IPv6 literal, never an unspecified address (0.0.0.0,
    [::]: nothing to connect to); PORT 1-65535 in ASCII digits."""
    host, colon, port = address.rpartition(":")
    if not colon or not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
        return None
    bracketed = host.startswith("[") and host.endswith("]")
    if not bracketed and not _HOST_NAME.fullmatch(host):
        return None
    host = host[1:-1] if bracketed else host
    try:
        ip = ipaddress.IPv6Address(host) if bracketed else ipaddress.IPv4Address(host)
    except ValueError:
        return None if bracketed else (host, int(port))
    return None if ip.is_unspecified else (host, int(port))


def cluster_address(address: str | None, field: str = "ray address", path: Path | None = None) -> str | None:
    """The cluster `address` names, or None for a local instance: no address, an empty one, or Ray's own word
    for a new local instance, "local" (which must get the same loopback start as no address).

    A cluster is `auto` (Ray finds it: RAY_ADDRESS, or the last `ray start` on this machine) or HOST:PORT;
    anything else is an input error naming `field` (and `path`), raised before anything is started or
    written: Ray itself refuses a malformed address only when it connects, with a traceback."""
    if address is None or address.strip() in ("", "local"):
        return None
    address = address.strip()
    if address != "auto" and host_port(address) is None:
        raise InputError(f"{address!r} is not a Ray cluster address: use auto, HOST:PORT (the head node's GCS "
                         f"port, 6379 unless `ray start --port` chose another) or null for a local instance",
                         path=path, field=field)
    return address


def auto_target() -> str | None:
    """The HOST:PORT the address `auto` joins, as Ray finds it: RAY_ADDRESS (checked like a configured
    address), else the last `ray start` on this machine (Ray's `ray_current_cluster` file in its temporary
    folder); None when there is none, which Ray then reports at once."""
    given = os.environ.get("RAY_ADDRESS", "").strip()
    if given:
        target = cluster_address(given, field="RAY_ADDRESS")
        if target in (None, "auto"):
            raise InputError(f"{given!r} names no cluster; with the address auto it must be HOST:PORT (or unset "
                             f"it, and configure no address for a local instance)", field="RAY_ADDRESS")
        return target
    # Ray's temporary folder on Linux (ray/_common/utils.py, get_default_system_temp_dir), read without
    # importing Ray, which must not happen before the loopback switch is decided
    folder = Path(os.environ.get("RAY_TMPDIR") or os.environ.get("TMPDIR") or "/tmp") / "ray"
    try:
        found = (folder / "ray_current_cluster").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return found if host_port(found) else None


def check_ray_flags(args: argparse.Namespace) -> None:
    """`generate` and `self-chat`: refuse the flags only --ray reads when --ray is not given (the run would
    quietly be a single-process one), and check --ray-address (stored back as the cluster or None) before
    anything is read, started or written."""
    given = [flag for flag, value in (("--ray-address", args.ray_address), ("--ray-workers", args.ray_workers),
                                      ("--shard-size", args.shard_size)) if value is not None]
    if given and not args.ray:
        raise InputError(f"{given[0]} only applies with --ray", field=given[0])
    args.ray_address = cluster_address(args.ray_address, field="--ray-address")


def require_reachable(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Refuse a cluster whose HOST:PORT (given, or found for `auto`) accepts no connection within `timeout_s`.

    Ray itself retries such an address without end, printing only its own gRPC warnings (seen with Ray 2.60:
    still waiting after 10 minutes), so a typo in an address would hang the command."""
    reached = _reached(address)
    if reached is None:  # auto with no cluster to be found: Ray says so at once
        return
    target, parts = reached
    try:
        with socket.create_connection(parts, timeout=timeout_s):
            pass
    except OSError as err:
        where = f"{target} (what the address auto found)" if address == "auto" else target
        raise ConnectionError(f"no Ray cluster answers at {where} ({err.strerror or err}): is `ray start --head` "
                              f"running there, and does this machine reach that port?") from None


def on_loopback(address: str | None) -> bool:
    """Whether Ray's node for `address` is on loopback: a local instance, or a cluster whose HOST:PORT (given,
    or found for `auto`) has a loopback host."""
    cluster = cluster_address(address)
    if cluster is None:
        return True
    reached = _reached(cluster)
    return reached is not None and is_loopback(reached[1][0])


def _reached(cluster: str) -> tuple[str, tuple[str, int]] | None:
    """The HOST:PORT a cluster address reaches (itself, or what `auto` finds) and its (host, port); None when
    `auto` finds nothing."""
    target = auto_target() if cluster == "auto" else cluster
    parts = host_port(target) if target else None
    return (target, parts) if target and parts else None


def import_ray(address: str | None) -> Any:
    """Ray, or an input error saying how to install it (it is the optional extra humaneval[scale]).

    An `address` that names no cluster means a local instance will be started, and one on a loopback address
    is a cluster on this machine's loopback (`ray start --head --node-ip-address 127.0.0.1`): Ray is then
    imported with its loopback switch. Without it this process would take the machine's network address as
    its node's, find no raylet there and wait without end."""
    if on_loopback(address) and "ray" not in sys.modules:
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
    if address:
        require_reachable(address)
    try:
        with python_sigterm_handler():
            # "local", not None: given None, Ray joins the cluster of RAY_ADDRESS or of the last `ray start`
            # on this machine (/tmp/ray/ray_current_cluster), which is not what no address means here (and
            # it then refused our num_cpus with a traceback).
            ray.init(address=address or "local", include_dashboard=False, log_to_driver=False,
                     configure_logging=False, **local)
    except (ConnectionError, ray.exceptions.AuthenticationError) as err:
        if not address:
            raise
        raise ConnectionError(f"{err}{_token_hint(address)}") from None
    try:
        if not address:
            require_loopback(ray)
        yield ray
    finally:
        ray.shutdown()


def _token_hint(address: str) -> str:
    """What to set when a cluster refused us: Ray sends its token to a cluster it finds itself (`auto` without
    RAY_ADDRESS) but to an address it is given only under RAY_AUTH_MODE=token, and a cluster with token
    authentication (Ray's default since 2.59) then refuses the connection."""
    if os.environ.get("RAY_AUTH_MODE", "").strip().lower() == "token":
        hint = "is the cluster's token the one in RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token here?"
    elif address != "auto" or os.environ.get("RAY_ADDRESS", "").strip():
        hint = ("a cluster with token authentication (Ray's default) also needs RAY_AUTH_MODE=token here, and its "
                "token in RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token")
    else:
        return ""
    return f"; {hint} (docs/scaling.md)"


@contextlib.contextmanager
def python_sigterm_handler() -> Iterator[None]:
    """Keep this process's Python SIGTERM handler over the one Ray's core worker installs while connecting.

    Ray's handler (a crash logger) prints a stack and then aborts the process: `serve --ray` stopped with
    SIGTERM (`kill`, `timeout`, a service manager) died with SIGABRT, exit 134, halfway through removing its
    application, and `generate --ray` skipped its clean-up. The handler from before (the server's stop, the
    CLIs' clean exit, or the default or ignore disposition) is put back, so SIGTERM ends the command as
    Ctrl-C does. Only the main thread may set handlers: elsewhere (Ray started from a worker thread) Ray's
    stays. A SIGTERM while Ray is still connecting meets Ray's."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    ours = signal.getsignal(signal.SIGTERM) if in_main_thread else None
    try:
        yield
    finally:
        if ours is not None:  # None: a handler not set from Python, which cannot be put back
            signal.signal(signal.SIGTERM, ours)


def require_loopback(ray: Any) -> None:
    """Refuse a local instance whose node took a network address (its servers then listen on every interface)."""
    node_ip = ray.util.get_node_ip_address()
    if not is_loopback(node_ip):
        raise RuntimeError(f"the local Ray instance took the address {node_ip}, so its servers listen on every "
                           f"interface: Ray was imported before humaneval could set {LOOPBACK_SWITCH}=0 "
                           f"(set it in the environment, or import nothing from Ray first)")
