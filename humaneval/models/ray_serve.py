"""`models serve --ray`: the model server as a Ray Serve application, N replicas of the same service.

Two deployments:
- `ServiceReplica` (the config's `ray.replicas`, or autoscaled between `ray.autoscaling`'s bounds; each on
  `ray.num_cpus` CPUs and `ray.num_gpus` GPUs): one whole `ModelService`, so every replica has its own
  dynamic batchers, limits and safety layer, answering through the very Flask app `serve` runs
  (`create_app`: token, body limits, JSON errors, `/reply`, `/classify`, `/v1/...`). Requests reach the
  app as WSGI calls on a thread pool of `worker_threads`, so concurrent requests batch as they do in one
  process.
- `Ingress` (one, no CPU reserved): Serve's HTTP proxy hands it every request; it bounds the body it
  reads and forwards the request to a replica. A replica that dies with requests in flight (a killed
  process, a lost node) does not lose them: the ingress sends them to another replica, and answers 503
  with Retry-After (what the client retries) only when none is left.

HTTP is served by Serve's proxy on the config's host and port (127.0.0.1 unless configured; a token is
still required beyond loopback). What Serve's proxy does not offer is documented in docs/scaling.md:
`max_connections` has no counterpart there and is not applied.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from humaneval.input_errors import InputError
from humaneval.models.ray_session import import_ray, ray_session
from humaneval.models.server.config import ServerConfig
from humaneval.web.addresses import is_loopback

logger = logging.getLogger(__name__)

APP_NAME = "humaneval"
REPLICA_DEPLOYMENT = "ModelService"
INGRESS_DEPLOYMENT = "HTTPIngress"
# Headers the ASGI side sets itself; forwarding the app's copies would send them twice.
_OWN_HEADERS = {"content-length", "transfer-encoding", "connection", "date", "server"}


@dataclass(frozen=True)
class ForwardedRequest:
    """What the ingress passes to a replica: an HTTP request as plain data (Ray pickles it)."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class ForwardedResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def replica_config(config: ServerConfig) -> ServerConfig:
    """The config a replica loads: with GPUs per replica and no device named, its models go on "cuda" — the
    GPU(s) Ray assigned it (Ray sets CUDA_VISIBLE_DEVICES per replica), so `num_gpus: 1` is the whole switch."""
    if config.ray.num_gpus > 0 and not config.device:
        return config.with_device("cuda")
    return config


def keep_replica_grpc_on_loopback() -> None:
    """On a loopback node, bind this replica's inter-deployment gRPC server to the node's address.

    Why: Ray Serve 2.60 starts that server in every replica on "[::]:0", every interface, whatever the node's
    address (`serve/_private/replica.py`, `_on_initialized`, through the module's `add_port_to_grpc_server`).
    On the local instance `ray_session` starts (node address 127.0.0.1) it would be the one port of the
    instance reachable from other machines. A deployment's constructor runs in the replica before Serve
    starts that server, so both deployments call this first. On a cluster node (a network address) Serve's
    binding is left as it is: other nodes must reach it (docs/scaling.md)."""
    import ray
    from ray.serve._private import replica

    node_ip = ray.util.get_node_ip_address()
    bind = getattr(replica, "add_port_to_grpc_server", None)
    if not is_loopback(node_ip) or getattr(bind, "keeps_loopback", False):
        return
    if bind is None:
        logger.warning("Ray Serve's replica module has no add_port_to_grpc_server: its inter-deployment gRPC "
                       "server may listen beyond loopback (Ray %s)", ray.__version__)
        return

    def on_node_address(server: Any, address: str) -> int:
        return bind(server, f"{node_ip}:{address[len('[::]:'):]}" if address.startswith("[::]:") else address)

    on_node_address.keeps_loopback = True  # type: ignore[attr-defined]
    replica.add_port_to_grpc_server = on_node_address


class ServiceReplica:
    """One `ModelService` behind the Flask app, answering forwarded requests (a Serve deployment)."""

    def __init__(self, config: ServerConfig, token: str | None) -> None:
        from humaneval.models.server.app import create_app
        from humaneval.models.server.service import ModelService

        keep_replica_grpc_on_loopback()
        self.service = ModelService.from_config(config).start()
        self.app = create_app(self.service, token=token, max_request_bytes=config.max_request_bytes)
        self.threads = ThreadPoolExecutor(config.worker_threads, thread_name_prefix="replica")

    async def handle(self, request: ForwardedRequest) -> ForwardedResponse:
        return await asyncio.get_running_loop().run_in_executor(self.threads, self._answer, request)

    def _answer(self, request: ForwardedRequest) -> ForwardedResponse:
        from werkzeug.test import Client

        response = Client(self.app).open(request.path, method=request.method, query_string=request.query,
                                          headers=request.headers, data=request.body)
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _OWN_HEADERS]
        return ForwardedResponse(response.status_code, headers, response.get_data())

    def __del__(self) -> None:
        self.service.close()


class Ingress:
    """The HTTP entry (a Serve deployment): bounded body, forwarded to a replica, failover on a dead one."""

    def __init__(self, replicas: Any, max_request_bytes: int, attempts: int = 3) -> None:
        keep_replica_grpc_on_loopback()
        self.replicas = replicas
        self.max_request_bytes = max_request_bytes
        self.attempts = attempts

    async def __call__(self, request: Any) -> Any:
        from ray.exceptions import ActorUnavailableError, RayActorError
        from starlette.responses import Response

        body = await self._body(request)
        if body is None:
            return _error_response(413, f"request body larger than the limit of {self.max_request_bytes} bytes")
        forwarded = ForwardedRequest(request.method, request.url.path, request.url.query,
                                     list(request.headers.items()), body)
        for attempt in range(1, self.attempts + 1):
            try:
                answer = await self.replicas.handle.remote(forwarded)
            except (RayActorError, ActorUnavailableError) as err:  # the replica died or is unreachable
                logger.warning("replica failed on %s (attempt %d of %d): %s", request.url.path, attempt,
                               self.attempts, type(err).__name__)
                continue
            return Response(answer.body, status_code=answer.status, headers=dict(answer.headers))
        return _error_response(503, "the model replicas are restarting; retry", retry_after_s=1)

    async def _body(self, request: Any) -> bytes | None:
        """The body, or None past twice the limit (the app answers 413 up to there; beyond, nothing more is read)."""
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > 2 * self.max_request_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)


def _error_response(status: int, message: str, retry_after_s: int | None = None) -> Any:
    from starlette.responses import Response

    from humaneval.models.server.service import ServiceError

    headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else None
    body = json.dumps(ServiceError(status, message, retry_after_s=retry_after_s).to_dict())
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def require_fixed_port(config: ServerConfig) -> None:
    if config.port == 0:
        raise InputError("serve --ray needs a fixed port (Serve's proxy does not report a port it picked)",
                         path=config.source, field="port")


def build_application(config: ServerConfig, token: str | None) -> Any:
    """The Serve application: the replicas (count or autoscaling bounds, CPUs and GPUs from `ray`) behind
    the ingress."""
    from ray import serve

    ray_config = config.ray
    placement: dict[str, Any] = {"ray_actor_options": {"num_cpus": ray_config.num_cpus, "num_gpus": ray_config.num_gpus},
                                 "max_ongoing_requests": config.worker_threads}
    if ray_config.max_replicas is not None:
        placement["autoscaling_config"] = {"min_replicas": ray_config.min_replicas,
                                           "max_replicas": ray_config.max_replicas}
    else:
        placement["num_replicas"] = ray_config.replicas
    replicas = serve.deployment(ServiceReplica, name=REPLICA_DEPLOYMENT).options(**placement)
    ingress = serve.deployment(Ingress, name=INGRESS_DEPLOYMENT).options(
        num_replicas=1, ray_actor_options={"num_cpus": 0}, max_ongoing_requests=config.max_connections)
    return ingress.bind(replicas.bind(replica_config(config), token), config.max_request_bytes)


def start_serve(config: ServerConfig, token: str | None) -> str:
    """Deploy on the connected Ray instance and return the base URL once every replica is up."""
    from ray import serve

    require_fixed_port(config)
    serve.start(http_options={"host": config.host, "port": config.port,
                              "keep_alive_timeout_s": config.read_timeout_s})
    serve.run(build_application(config, token), name=APP_NAME, route_prefix="/", blocking=False)
    _wait_until_running()
    return f"http://{config.host}:{config.port}"


def _wait_until_running(timeout_s: float = 600.0) -> None:
    """Block until the app is RUNNING (replicas loaded their models), failing on DEPLOY_FAILED."""
    import time

    from ray import serve

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = serve.status().applications.get(APP_NAME)
        if status is not None and status.status == "RUNNING":
            return
        if status is not None and status.status == "DEPLOY_FAILED":
            raise RuntimeError(f"Ray Serve could not deploy the model service: {status.message}")
        time.sleep(0.5)
    raise RuntimeError(f"the model service was not running on Ray Serve after {timeout_s:.0f} s")


def remove_application(*, stop_serve: bool) -> None:
    """Delete the application (its replicas and ingress); with `stop_serve`, Serve's controller and proxy too."""
    from ray import serve

    serve.delete(APP_NAME)
    if stop_serve:
        serve.shutdown()


def serve_on_ray(config: ServerConfig, token: str | None, stop: threading.Event) -> int:
    """`serve --ray`: deploy, print where, serve until `stop`, then remove the application."""
    import_ray(config.ray.address)
    require_fixed_port(config)  # before Ray starts: a config mistake costs no cluster start-up
    with ray_session(config.ray.address):
        url = start_serve(config, token)
        ray_config = config.ray
        replicas = (f"{ray_config.min_replicas}-{ray_config.max_replicas} replicas (autoscaling)"
                    if ray_config.max_replicas is not None else f"{ray_config.replicas} replica(s)")
        names = ", ".join(m.name for m in config.models)
        auth = "bearer token required" if token else "no token (loopback only)"
        print(f"serving {names} on {url} ({auth}; Ray Serve: {replicas}, "
              f"{ray_config.num_cpus:g} CPU and {ray_config.num_gpus:g} GPU each)", flush=True)
        try:
            stop.wait()
        finally:
            print("shutting down", flush=True)
            remove_application(stop_serve=True)
    return 0

