"""The model server: N models behind dynamic batchers, the safety pipeline, and a small JSON API.

Two layers, so the same behaviour is available in-process and over HTTP:
- `ModelService` does the work on plain JSON-like dicts (validation, batching, safety screening) and raises
  `ServiceError(status, message)` for bad requests. `EmbeddedClient` calls it directly — what `launch`
  embeds by default, no sockets.
- `create_app` wraps it in Flask for a GPU host: `/health`, `/models`, `/reply`, `/classify`, strict JSON
  bodies (application/json, UTF-8, bounded size and nesting, finite numbers only), and a bearer token that is
  mandatory whenever the server listens beyond loopback.

It runs on waitress (`start_http_server`), not werkzeug's development server, because the server must
survive hostile clients: waitress reads requests on one event-loop thread and hands a request to a worker
thread only once it has fully arrived, so a client that sends half a request holds no worker; it closes
connections idle for `read_timeout_s`, stops accepting beyond `max_connections`, and stops reading a body
at twice `max_request_bytes`. Each worker thread then blocks on its model's batcher while the batcher's
single worker thread owns the model; `worker_threads` bounds how many requests wait there at once. That is
enough for the tens of concurrent crowdworker chats a study has; put a reverse proxy (TLS) in front when
exposing it. Requests and responses are documented with examples in docs/serving.md.
"""

from __future__ import annotations

import dataclasses
import hmac
import importlib
import ipaddress
import json
import logging
import math
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from waitress.server import TcpWSGIServer, create_server
from werkzeug.exceptions import HTTPException

from humaneval.input_errors import InputError
from humaneval.models.batching import (
    BatcherStopped,
    BatchingOptions,
    DynamicBatcher,
    QueueFull,
    RequestTimedOut,
)
from humaneval.models.reply_model import DialogueContext, ReplyModel
from humaneval.models.safety.pipeline import SIDES, SafetyPipeline
from humaneval.strict_json import PYTHON_INT_DIGITS, strict_loads
from humaneval.yaml_files import read_yaml_document

logger = logging.getLogger(__name__)

DEFAULT_PORT = 8765
DEFAULT_TOKEN_ENV = "HUMANEVAL_SERVER_TOKEN"
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024
# A study's clients send a whole request within milliseconds and keep idle connections for one chat turn;
# 30 s frees a slot held by a stalled or hostile client without cutting off anyone on a slow network.
DEFAULT_READ_TIMEOUT_S = 30
# Tens of concurrent chats need tens of connections; 100 leaves room for retries and keep-alive pools.
DEFAULT_MAX_CONNECTIONS = 100
# A request holds a worker thread while it waits for its batch, so the threads bound the requests that can
# be batched together; 64 covers a study's concurrent chats (idle threads cost next to nothing).
DEFAULT_WORKER_THREADS = 64


class ServiceError(Exception):
    """A request the service cannot answer; `status` is the HTTP status the server sends for it."""

    def __init__(self, status: int, message: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after_s = retry_after_s

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message, "status": self.status}
        if self.retry_after_s is not None:
            body["retry_after_s"] = self.retry_after_s
        return body


# --------------------------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelConfig:
    """One served model: found by `name` in the model registry, or built by `factory` ("module:callable")."""

    name: str
    factory: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    device: str | None = None
    batching: BatchingOptions = BatchingOptions()


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
    request_timeout_s: float = 60.0
    max_turns: int = 200
    max_chars_per_turn: int = 4000
    device: str | None = None  # None: each registry entry's own device (factories: cpu)
    registry: Path | None = None
    models: tuple[ModelConfig, ...] = ()
    safety: dict[str, Any] = field(default_factory=dict)
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


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_SERVER_KEYS = {"host", "port", "token_env", "token_file", "max_request_bytes", "read_timeout_s", "max_connections",
                "worker_threads", "request_timeout_s", "max_turns", "max_chars_per_turn", "device", "registry",
                "models", "safety"}
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
        request_timeout_s=number("request_timeout_s", 60.0, float, 0.001),
        max_turns=number("max_turns", 200, int, 1),
        max_chars_per_turn=number("max_chars_per_turn", 4000, int, 1),
        device=str(raw["device"]) if raw.get("device") else None,
        registry=(base / registry) if registry else None,
        models=models,
        safety=safety,
        source=source,
    )


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
    try:
        batching = BatchingOptions(
            max_batch_size=int(entry.get("max_batch_size", 8)),
            batch_window_s=float(entry.get("batch_window_ms", 10)) / 1000.0,
            max_queue=int(entry.get("max_queue", 64)),
        )
    except (TypeError, ValueError) as err:
        raise InputError(f"invalid batching settings ({err})", path=source, field=where) from None
    return ModelConfig(name=entry["name"], factory=entry.get("factory"), options=options,
                       device=entry.get("device"), batching=batching)


def load_model(spec: ModelConfig, config: ServerConfig) -> ReplyModel:
    """Build one served model: through its factory, or by name from the model registry.

    Device precedence: the model's `device`, then the server's (`device:` / `serve --device`), then the
    registry entry's own (a factory defaults to cpu).
    """
    device = spec.device or config.device
    if spec.factory:
        module_name, _, attr = spec.factory.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError, ValueError) as err:
            raise InputError(f"cannot import factory {spec.factory!r} ({err})", path=config.source,
                             field=f"models.{spec.name}.factory") from None
        model = factory(name=spec.name, device=device or "cpu", **spec.options)
    else:
        model = _load_from_registry(spec, device, config)
    if not isinstance(model, ReplyModel):
        raise InputError(f"{spec.name!r} did not build a ReplyModel (got {type(model).__name__})",
                         path=config.source, field=f"models.{spec.name}")
    return model


def _load_from_registry(spec: ModelConfig, device: str | None, config: ServerConfig) -> ReplyModel:
    from humaneval.models.registry import load_generator, load_registry, with_device

    unknown = sorted(set(spec.options) - {"dtype"})
    if unknown:
        raise InputError(f"registry models accept only the option 'dtype', got {', '.join(unknown)}",
                         path=config.source, field=f"models.{spec.name}.options")
    entry = load_registry(config.registry).get(spec.name)
    return load_generator(with_device(entry, device=device, dtype=spec.options.get("dtype")))


def model_device(spec: ModelConfig, config: ServerConfig, model: ReplyModel) -> str:
    """The device a loaded model runs on, for /models (what the model says, else what was asked)."""
    device = getattr(model, "device", None)
    return str(device) if device is not None else (spec.device or config.device or "cpu")


# --------------------------------------------------------------------------------------------------------
# the service (transport-independent)
# --------------------------------------------------------------------------------------------------------
class ModelService:
    """Models + batchers + safety, answering the API's requests as dicts. Start before use, close after."""

    def __init__(
        self,
        models: Sequence[tuple[ReplyModel, BatchingOptions]],
        safety: SafetyPipeline,
        *,
        request_timeout_s: float = 60.0,
        max_turns: int = 200,
        max_chars_per_turn: int = 4000,
        devices: Mapping[str, str] | None = None,
    ) -> None:
        self.batchers = {model.name: DynamicBatcher(model, options) for model, options in models}
        self.safety = safety
        self.request_timeout_s = request_timeout_s
        self.max_turns = max_turns
        self.max_chars_per_turn = max_chars_per_turn
        self.devices = dict(devices or {})
        self.started_at = time.time()

    @classmethod
    def from_config(cls, config: ServerConfig) -> "ModelService":
        """Load every configured model and the safety pipeline (slow: models are loaded here)."""
        loaded = [(spec, load_model(spec, config)) for spec in config.models]
        safety = SafetyPipeline.from_config(config.safety, device=config.device or "cpu", source=config.source)
        models = [(model, spec.batching) for spec, model in loaded]
        devices = {spec.name: model_device(spec, config, model) for spec, model in loaded}
        return cls(models, safety, request_timeout_s=config.request_timeout_s, max_turns=config.max_turns,
                   max_chars_per_turn=config.max_chars_per_turn, devices=devices)

    def start(self) -> "ModelService":
        for batcher in self.batchers.values():
            batcher.start()
        # Loads lazily imported checks (the profanity classifier's scikit-learn model, ~1 s) now rather
        # than during the first crowdworker's turn.
        self.safety.assess("hello")
        return self

    def close(self) -> None:
        for batcher in self.batchers.values():
            batcher.stop()

    def __enter__(self) -> "ModelService":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- endpoints ----------------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "uptime_s": round(time.time() - self.started_at, 1),
            "models": {name: {"queue_depth": b.queue_depth, "max_queue": b.max_queue}
                       for name, b in self.batchers.items()},
            "safety_checks": self.safety.status(),
        }

    def list_models(self) -> dict[str, Any]:
        return {
            "models": [
                {"name": name, "device": self.devices.get(name), "max_batch_size": b.max_batch_size,
                 "batch_window_ms": round(b.batch_window_s * 1000, 3), "max_queue": b.max_queue,
                 "queue_depth": b.queue_depth, "batches": b.batches, "replies": b.replies}
                for name, b in self.batchers.items()
            ],
            "safety_checks": self.safety.status(),
        }

    def reply(self, payload: Any) -> dict[str, Any]:
        """/reply: screen the human's last turn, generate (batched), screen the reply."""
        body = _object(payload, {"model", "turns", "persona", "safety", "timeout_s"})
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise ServiceError(400, "field 'model' must be a non-empty string")
        turns = self._texts(body.get("turns"), "turns", required=True)
        persona = self._texts(body.get("persona", []), "persona", required=False)
        screen_human, screen_bot = _safety_switches(body.get("safety"), self.safety)
        timeout_s = body.get("timeout_s", self.request_timeout_s)
        if (isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or timeout_s <= 0
                or (isinstance(timeout_s, float) and not math.isfinite(timeout_s))):
            raise ServiceError(400, f"field 'timeout_s' must be a positive number, got {timeout_s!r}")
        timeout_s = float(min(timeout_s, self.request_timeout_s))  # min first: float(10**400) overflows
        batcher = self.batchers.get(model)
        if batcher is None:
            raise ServiceError(404, f"unknown model {model!r}; available: {', '.join(self.batchers) or 'none'}")

        started = time.monotonic()
        batch_size: list[int] = []

        def generate() -> str:
            context = DialogueContext(turns=tuple(turns), persona=tuple(persona))
            remaining = timeout_s - (time.monotonic() - started)
            try:
                text, size = batcher.generate(context, timeout_s=max(remaining, 0.001))
            except QueueFull as err:
                raise ServiceError(503, str(err), retry_after_s=err.retry_after_s) from None
            except RequestTimedOut:
                raise ServiceError(
                    504, f"no reply from {model!r} within the request's timeout of {timeout_s:g} s") from None
            except BatcherStopped as err:
                raise ServiceError(503, str(err), retry_after_s=5) from None
            except Exception as err:  # a model failure must reach the caller as an error, not a hang
                raise ServiceError(500, f"generation failed: {type(err).__name__}: {err}") from None
            batch_size.append(size)
            return text

        outcome = self.safety.screen_turn(turns, generate, screen_human=screen_human, screen_bot=screen_bot)
        return {
            "model": model,
            "text": outcome.text,
            "action": outcome.action,
            "reset_history": outcome.reset_history,
            "generated": outcome.generated,
            "reason": outcome.reason,
            "safety": {
                "human": outcome.human_safety.to_dict() if outcome.human_safety else None,
                "bot": outcome.bot_safety.to_dict() if outcome.bot_safety else None,
            },
            "batch_size": batch_size[0] if batch_size else None,
            "latency_s": round(time.monotonic() - started, 4),
        }

    def classify(self, payload: Any) -> dict[str, Any]:
        """/classify: every check's verdict on one text (optionally a chosen subset or one side's checks)."""
        body = _object(payload, {"text", "context", "checks", "side"})
        text = body.get("text")
        if not isinstance(text, str):
            raise ServiceError(400, "field 'text' must be a string")
        if len(text) > self.max_chars_per_turn:
            raise ServiceError(400, f"field 'text' is longer than {self.max_chars_per_turn} characters")
        context = self._texts(body.get("context", []), "context", required=False)
        checks = body.get("checks")
        if checks is not None and (not isinstance(checks, list) or not all(isinstance(c, str) for c in checks)):
            raise ServiceError(400, "field 'checks' must be a list of check names")
        side = body.get("side")
        if side is not None and side not in SIDES:
            raise ServiceError(400, f"field 'side' must be one of {list(SIDES)} or absent, got {side!r}")
        try:
            assessment = self.safety.assess(text, context, side=side, only=checks)
        except InputError as err:
            raise ServiceError(400, err.problem) from None
        return {"unsafe": assessment.unsafe, "reason": assessment.reason, "safety": assessment.to_dict()}

    def _texts(self, value: Any, name: str, *, required: bool) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            raise ServiceError(400, f"field '{name}' must be a list of strings")
        if required and not value:
            raise ServiceError(400, f"field '{name}' must hold at least one turn (the human's message last)")
        if len(value) > self.max_turns:
            raise ServiceError(400, f"field '{name}' has {len(value)} entries; the limit is {self.max_turns}")
        too_long = [i for i, t in enumerate(value) if len(t) > self.max_chars_per_turn]
        if too_long:
            raise ServiceError(400, f"field '{name}' entry {too_long[0]} is longer than "
                                    f"{self.max_chars_per_turn} characters")
        return list(value)


def _object(payload: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise ServiceError(400, f"the request body must be a JSON object, got {type(payload).__name__}")
    unknown = sorted(set(payload) - allowed)
    if unknown:
        raise ServiceError(400, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    return payload


def _safety_switches(value: Any, pipeline: SafetyPipeline) -> tuple[bool, bool]:
    """`safety`: absent = the server's defaults, a bool for both sides, or {"human": bool, "bot": bool}."""
    if value is None:
        return pipeline.screen_human, pipeline.screen_bot
    if isinstance(value, bool):
        return value, value
    if isinstance(value, dict) and set(value) <= {"human", "bot"} and all(isinstance(v, bool) for v in value.values()):
        return value.get("human", pipeline.screen_human), value.get("bot", pipeline.screen_bot)
    raise ServiceError(400, "field 'safety' must be true, false or {\"human\": bool, \"bot\": bool}")


# --------------------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------------------
def parse_json_body(raw: bytes) -> Any:
    """A request body as strict JSON (`humaneval.strict_json`): UTF-8, nested at most `MAX_DEPTH` levels,
    finite numbers only, strings of valid Unicode. Anything else is a 400, never a 500 or a silently odd
    value. Integers may be as long as Python converts: `ModelService` checks each field's range itself."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ServiceError(400, f"the request body is not UTF-8 (invalid byte at offset {err.start})") from None
    try:
        return strict_loads(text, max_int_digits=PYTHON_INT_DIGITS)
    except ValueError as err:  # JSONDecodeError or NotStrictJSON
        raise ServiceError(400, f"the request body is not valid JSON ({err})") from None


def require_json_content_type(mimetype: str, params: Mapping[str, str]) -> None:
    """Bodies must be declared `application/json` (UTF-8): anything else is a client mistake or a browser.

    A web page can POST `text/plain` or a form to a loopback server without the browser asking first
    (a CORS "simple request"); `application/json` makes the browser ask, and this server never says yes.
    """
    if mimetype != "application/json":
        raise ServiceError(400, f"the request body must be sent as Content-Type: application/json, "
                                f"got {mimetype or 'none'!r}")
    charset = params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise ServiceError(400, f"JSON request bodies must be UTF-8, got charset {charset!r}")


def create_app(service: ModelService, *, token: str | None = None,
               max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES) -> Flask:
    """The Flask app for `service`. With a `token`, every endpoint requires `Authorization: Bearer TOKEN`."""
    app = Flask("humaneval.models.server")
    app.config["MAX_CONTENT_LENGTH"] = max_request_bytes

    def respond(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(body, ensure_ascii=False), status=status, headers=headers,
                        mimetype="application/json")

    def error_response(err: ServiceError) -> Response:
        headers = {"Retry-After": str(err.retry_after_s)} if err.retry_after_s is not None else None
        return respond(err.to_dict(), err.status, headers)

    @app.before_request
    def require_token() -> Response | None:
        if token is None:
            return None
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
            reason = "missing bearer token" if not given else "wrong bearer token"
            return respond({"error": f"{reason}: send 'Authorization: Bearer <token>'", "status": 401}, 401,
                           {"WWW-Authenticate": 'Bearer realm="humaneval"'})
        return None

    @app.after_request
    def log_request(response: Response) -> Response:
        logger.info('%s "%s %s" %d', request.remote_addr, request.method, request.path, response.status_code)
        return response

    def json_body() -> Any:
        require_json_content_type(request.mimetype, request.mimetype_params)
        # waitress hands the app a known Content-Length (chunked bodies are de-chunked first), so werkzeug
        # raises 413 beyond MAX_CONTENT_LENGTH before reading.
        return parse_json_body(request.get_data(cache=False))

    @app.get("/health")
    def health() -> Response:
        return respond(service.health())

    @app.get("/models")
    def models() -> Response:
        return respond(service.list_models())

    @app.post("/reply")
    def reply() -> Response:
        return respond(service.reply(json_body()))

    @app.post("/classify")
    def classify() -> Response:
        return respond(service.classify(json_body()))

    @app.errorhandler(ServiceError)
    def service_error(err: ServiceError) -> Response:
        if err.status >= 500:
            log = logger.info if err.status == 503 else logger.warning  # busy is routine, not a fault
            log("%s %s -> %d: %s", request.method, request.path, err.status, err.message)
        return error_response(err)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response:
        message = {
            413: f"request body larger than the limit of {max_request_bytes} bytes",
            404: f"no endpoint {request.path!r}; endpoints: /health, /models, /reply, /classify",
            405: f"{request.method} is not allowed on {request.path}",
        }.get(err.code or 500, err.description or err.name)
        return error_response(ServiceError(err.code or 500, message))

    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> Response:
        logger.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(ServiceError(500, f"internal error: {type(err).__name__}"))

    return app


@dataclass
class RunningServer:
    """A server listening in a background thread (tests, benchmarks, `serve`)."""

    server: TcpWSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    @property
    def url(self) -> str:
        host = str(self.server.effective_host)
        shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
        return f"http://[{shown}]:{self.port}" if ":" in shown else f"http://{shown}:{self.port}"

    @property
    def open_connections(self) -> int:
        """Client connections open now, half-sent requests and idle keep-alives included (≤ max_connections)."""
        return len(self.server.active_channels)

    def stop(self) -> None:
        """Stop the worker threads (letting running requests finish for up to 5 s), then close every socket.

        Sockets are closed by waitress's event-loop thread, which owns them; with none left its loop returns.
        """
        if not self.thread.is_alive():
            return
        self.server.task_dispatcher.shutdown(timeout=5)
        self.server.trigger.pull_trigger(self._close_sockets)
        self.thread.join(10)

    def _close_sockets(self) -> None:
        for channel in list(self.server.active_channels.values()):
            channel.handle_close()
        self.server.close()  # the listening socket and the loop's wake-up pipe


def start_http_server(service: ModelService, *, host: str = "127.0.0.1", port: int = 0, token: str | None = None,
                      max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
                      read_timeout_s: int = DEFAULT_READ_TIMEOUT_S,
                      max_connections: int = DEFAULT_MAX_CONNECTIONS,
                      worker_threads: int = DEFAULT_WORKER_THREADS) -> RunningServer:
    """Serve `service` over HTTP (waitress) from a background thread; port 0 picks a free port (see `.port`)."""
    if token is None and not is_loopback(host):
        raise InputError(f"refusing to listen on {host!r} without a bearer token", field="host")
    app = create_app(service, token=token, max_request_bytes=max_request_bytes)
    server = create_server(app, **waitress_settings(host, port, max_request_bytes=max_request_bytes,
                                                    read_timeout_s=read_timeout_s, max_connections=max_connections,
                                                    worker_threads=worker_threads))
    thread = threading.Thread(target=server.run, name="http-server", daemon=True)
    thread.start()
    logger.info("listening on %s:%s (token %s; at most %d connections, idle ones closed after %d s, %d worker "
                "threads)", host, server.effective_port, "required" if token else "not required", max_connections,
                read_timeout_s, worker_threads)
    return RunningServer(server, thread)


def waitress_settings(host: str, port: int, *, max_request_bytes: int, read_timeout_s: int, max_connections: int,
                      worker_threads: int) -> dict[str, Any]:
    """waitress's adjustments for our limits; each comment is what waitress 3.0.2's source really does."""
    ipv6 = ":" in host
    return {
        "host": host,
        "port": port,
        # One address family, as before: "localhost" would otherwise bind ::1 too (with port 0, another port).
        "ipv4": not ipv6,
        "ipv6": ipv6,
        # Tasks run only once their request has fully arrived: slow senders hold a connection, never a thread.
        "threads": worker_threads,
        # Compared with every socket in waitress's loop, its own listening socket and wake-up pipe included.
        # At the limit it stops accepting; further clients wait in the kernel's listen queue.
        "connection_limit": max_connections + 2,
        # Closes a connection with no request in progress after this long without receiving or sending
        # (half-sent requests and idle keep-alives alike), checked every `cleanup_interval` (whole seconds).
        "channel_timeout": read_timeout_s,
        "cleanup_interval": 1,
        # A hard stop on reading, counted on the wire (chunk framing included): waitress answers 413 in plain
        # text and closes the connection. Bodies below it reach the app, which answers 413 (JSON) for any
        # de-chunked body over max_request_bytes; the margin keeps the app's exact limit for chunked bodies.
        "max_request_body_size": 2 * max_request_bytes,
        "asyncore_use_poll": True,  # select() cannot watch file descriptors above 1023
        "ident": "humaneval",
    }
