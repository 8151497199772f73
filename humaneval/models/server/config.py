"""The server config file (task_configs/serve.yaml): its keys, their defaults and their validation.

Read once at start-up, so every mistake in it is an `InputError` naming the file and the key rather than
a failure during a study. The token rules live here too: the config decides where the server listens, and
a server reachable from other machines must demand a bearer token.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from humaneval.input_errors import InputError
from humaneval.models.batching import BatchingOptions
from humaneval.models.ray_session import cluster_address
from humaneval.web.addresses import is_loopback
from humaneval.yaml_files import read_yaml_document

DEFAULT_PORT = 8765
DEFAULT_TOKEN_ENV = "HUMANEVAL_SERVER_TOKEN"
# A request carries one chat's history (tens of short turns, a few KB); 64 KiB leaves ample room while
# bounding what one request can make the server read and parse.
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024
# A study's clients send a whole request within milliseconds and keep idle connections for one chat turn;
# 30 s frees a slot held by a stalled or hostile client without cutting off anyone on a slow network.
DEFAULT_READ_TIMEOUT_S = 30
# Tens of concurrent chats need tens of connections; 100 leaves room for retries and keep-alive pools.
DEFAULT_MAX_CONNECTIONS = 100
# A request holds a worker thread while it waits for its batch, so the threads bound the requests that can
# be batched together; 64 covers a study's concurrent chats (idle threads cost next to nothing).
DEFAULT_WORKER_THREADS = 64


DEFAULT_REQUEST_TIMEOUT_S = 60.0
DEFAULT_MAX_TURNS = 200
DEFAULT_MAX_CHARS_PER_TURN = 4000


@dataclass(frozen=True)
class ModelConfig:
    """One served model: found by `name` in the model registry, or built by `factory` ("module:callable")."""

    name: str
    factory: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    device: str | None = None
    batching: BatchingOptions = BatchingOptions()


@dataclass(frozen=True)
class RayServeConfig:
    """The `ray` section: how `serve --ray` deploys the service on Ray Serve (ignored by plain `serve`).

    A replica is one whole `ModelService` (every model of the config, its batchers and the safety layer),
    placed by Ray on `num_cpus` CPUs and `num_gpus` GPUs; with `min_replicas`/`max_replicas` Serve scales
    between them by load instead of keeping `replicas`."""

    address: str | None = None  # None: a local Ray instance on 127.0.0.1; "auto" or host:port: a cluster
    replicas: int = 1
    num_cpus: float = 1.0
    num_gpus: float = 0.0
    min_replicas: int | None = None
    max_replicas: int | None = None


@dataclass(frozen=True)
class ServerConfig:
    """The server config file (task_configs/serve.yaml documents every key)."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    token_env: str | None = DEFAULT_TOKEN_ENV
    token_file: Path | None = None
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    read_timeout_s: int = DEFAULT_READ_TIMEOUT_S
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    worker_threads: int = DEFAULT_WORKER_THREADS
    request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S
    max_turns: int = DEFAULT_MAX_TURNS
    max_chars_per_turn: int = DEFAULT_MAX_CHARS_PER_TURN
    device: str | None = None  # None: each registry entry's own device (factories: cpu)
    registry: Path | None = None
    models: tuple[ModelConfig, ...] = ()
    safety: dict[str, Any] = field(default_factory=dict)
    ray: RayServeConfig = RayServeConfig()
    source: Path | None = None

    @property
    def loopback_only(self) -> bool:
        return is_loopback(self.host)

    def with_device(self, device: str | None) -> "ServerConfig":
        """A command-line `--device` override: every model and classifier on `device` (None: unchanged)."""
        if not device:
            return self
        return dataclasses.replace(self, device=device,
                                   models=tuple(dataclasses.replace(m, device=device) for m in self.models))

    def read_token(self) -> str | None:
        """The bearer token from `token_file` or the `token_env` variable; never logged."""
        if self.token_file is not None:
            try:
                token = self.token_file.read_text(encoding="utf-8").strip()
            except OSError as err:
                raise InputError(f"cannot read token file ({err.strerror})", path=self.token_file,
                                 field="token_file") from None
            if not token:
                raise InputError("token file is empty", path=self.token_file, field="token_file")
            return token
        if self.token_env:
            return os.environ.get(self.token_env, "").strip() or None
        return None

    def required_token(self) -> str | None:
        """The token the server will demand; refuses to run beyond loopback without one."""
        token = self.read_token()
        if token is None and not self.loopback_only:
            raise InputError(
                f"host {self.host!r} is reachable from other machines, so a bearer token is required: set "
                f"${self.token_env or DEFAULT_TOKEN_ENV} or token_file", path=self.source, field="host")
        return token




_SERVER_KEYS = {"host", "port", "token_env", "token_file", "max_request_bytes", "read_timeout_s", "max_connections",
                "worker_threads", "request_timeout_s", "max_turns", "max_chars_per_turn", "device", "registry",
                "models", "safety", "ray"}
_MODEL_KEYS = {"name", "factory", "options", "device", "max_batch_size", "batch_window_ms", "max_queue"}


def load_server_config(path: str | Path) -> ServerConfig:
    """Read and validate a server YAML file; errors name the file and the key."""
    path = Path(path)
    raw = read_yaml_document(path, what="config file")
    return server_config_from_dict(raw or {}, source=path)


def server_config_from_dict(raw: Any, *, source: Path | None = None) -> ServerConfig:
    if not isinstance(raw, dict):
        raise InputError("the config must be a mapping", path=source)
    unknown = sorted(set(raw) - _SERVER_KEYS)
    if unknown:
        raise InputError(f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_SERVER_KEYS))}",
                         path=source)
    base = source.parent if source else Path.cwd()

    def number(key: str, default: float, kind: type = float, minimum: float = 0) -> Any:
        value = raw.get(key, default)
        if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
                or value < minimum):
            raise InputError(f"must be a number ≥ {minimum}, got {value!r}", path=source, field=key)
        if kind is int and value != int(value):
            raise InputError(f"must be a whole number, got {value!r}", path=source, field=key)
        return kind(value)

    models_raw = raw.get("models") or []
    if not isinstance(models_raw, list):
        raise InputError("must be a list of models", path=source, field="models")
    models = tuple(_model_config(entry, i, source) for i, entry in enumerate(models_raw))
    names = [m.name for m in models]
    if len(set(names)) != len(names):
        raise InputError(f"model names must be unique, got {names}", path=source, field="models")
    safety = raw.get("safety") or {}
    if not isinstance(safety, dict):
        raise InputError("must be a mapping", path=source, field="safety")
    token_file = raw.get("token_file")
    registry = raw.get("registry")
    return ServerConfig(
        host=str(raw.get("host", "127.0.0.1")),
        port=number("port", DEFAULT_PORT, int),
        token_env=raw.get("token_env", DEFAULT_TOKEN_ENV),
        token_file=(base / token_file) if token_file else None,
        max_request_bytes=number("max_request_bytes", DEFAULT_MAX_REQUEST_BYTES, int, 1),
        read_timeout_s=number("read_timeout_s", DEFAULT_READ_TIMEOUT_S, int, 1),
        max_connections=number("max_connections", DEFAULT_MAX_CONNECTIONS, int, 1),
        worker_threads=number("worker_threads", DEFAULT_WORKER_THREADS, int, 1),
        request_timeout_s=number("request_timeout_s", DEFAULT_REQUEST_TIMEOUT_S, float, 0.001),
        max_turns=number("max_turns", DEFAULT_MAX_TURNS, int, 1),
        max_chars_per_turn=number("max_chars_per_turn", DEFAULT_MAX_CHARS_PER_TURN, int, 1),
        device=str(raw["device"]) if raw.get("device") else None,
        registry=(base / registry) if registry else None,
        models=models,
        safety=safety,
        ray=_ray_config(raw.get("ray") or {}, source),
        source=source,
    )


_RAY_KEYS = {"address", "replicas", "num_cpus", "num_gpus", "autoscaling"}


def _ray_config(raw: Any, source: Path | None) -> RayServeConfig:
    """The `ray` section, checked here so a typo fails before a cluster is asked for anything."""
    if not isinstance(raw, dict):
        raise InputError("must be a mapping", path=source, field="ray")
    unknown = sorted(set(raw) - _RAY_KEYS)
    if unknown:
        raise InputError(f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_RAY_KEYS))}",
                         path=source, field="ray")

    def number(value: Any, where: str, minimum: float, whole: bool) -> Any:
        if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
                or value < minimum or (whole and value != int(value))):
            kind = "a whole number" if whole else "a number"
            raise InputError(f"must be {kind} ≥ {minimum:g}, got {value!r}", path=source, field=f"ray.{where}")
        return int(value) if whole else float(value)

    scaling = raw.get("autoscaling")
    bounds: tuple[int | None, int | None] = (None, None)
    if scaling is not None:
        if not isinstance(scaling, dict) or set(scaling) != {"min_replicas", "max_replicas"}:
            raise InputError("must be a mapping with exactly min_replicas and max_replicas", path=source,
                             field="ray.autoscaling")
        bounds = (number(scaling["min_replicas"], "autoscaling.min_replicas", 0, True),
                  number(scaling["max_replicas"], "autoscaling.max_replicas", 1, True))
        if bounds[0] > bounds[1]:
            raise InputError(f"min_replicas {bounds[0]} exceeds max_replicas {bounds[1]}", path=source,
                             field="ray.autoscaling")
    address = raw.get("address")
    if address is not None and (not isinstance(address, str) or not address.strip()):
        raise InputError("must be a cluster address (HOST:PORT or auto), local, or null", path=source,
                         field="ray.address")
    return RayServeConfig(address=cluster_address(address, field="ray.address", path=source),
                          replicas=number(raw.get("replicas", 1), "replicas", 1, True),
                          num_cpus=number(raw.get("num_cpus", 1), "num_cpus", 0, False),
                          num_gpus=number(raw.get("num_gpus", 0), "num_gpus", 0, False),
                          min_replicas=bounds[0], max_replicas=bounds[1])


def _model_config(entry: Any, index: int, source: Path | None) -> ModelConfig:
    where = f"models[{index}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
        raise InputError("each model needs a non-empty `name`", path=source, field=where)
    unknown = sorted(set(entry) - _MODEL_KEYS)
    if unknown:
        raise InputError(f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_MODEL_KEYS))}",
                         path=source, field=where)
    options = entry.get("options") or {}
    if not isinstance(options, dict):
        raise InputError("must be a mapping", path=source, field=f"{where}.options")
    defaults = BatchingOptions()
    try:
        batching = BatchingOptions(
            max_batch_size=int(entry.get("max_batch_size", defaults.max_batch_size)),
            batch_window_s=float(entry.get("batch_window_ms", defaults.batch_window_s * 1000.0)) / 1000.0,
            max_queue=int(entry.get("max_queue", defaults.max_queue)),
        )
    except (TypeError, ValueError) as err:
        raise InputError(f"invalid batching settings ({err})", path=source, field=where) from None
    return ModelConfig(name=entry["name"], factory=entry.get("factory"), options=options,
                       device=entry.get("device"), batching=batching)
