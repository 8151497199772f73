"""One client interface to the model server, in-process or over HTTP, plus a chat session on top.

Task code (BAD collection, `chat`) must not care where the model runs: `EmbeddedClient` calls a
`ModelService` in the same process (the default, no sockets), `HttpClient` talks to a server on a GPU host
and retries what is worth retrying (connection failures, 503 busy — honouring Retry-After). Both return the
same `ReplyResult` and raise the same errors, whose `retryable` flag tells the caller whether trying again
later can help (server down or busy) or not (bad request, unknown model).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import requests
import requests.adapters

from humaneval.models.safety.checks import Verdict

if TYPE_CHECKING:  # the server module is only needed in-process; HTTP users never import it
    from humaneval.models.server import ModelService, ServerConfig

logger = logging.getLogger(__name__)

# Connections an HttpClient keeps open: as many as the server's default `worker_threads`, the most requests
# it answers at once, so every chat that can be answered concurrently keeps its connection.
DEFAULT_POOL_SIZE = 64


class ModelServerError(RuntimeError):
    """A request that failed; `retryable` says whether the same request may succeed later."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


class ServerUnavailable(ModelServerError):
    """Unreachable, busy (503), shutting down or timed out: retry later."""

    retryable = True


class RequestRejected(ModelServerError):
    """The server refused the request itself (400/401/404/413) or failed on it (500): do not retry as is."""


def error_for_status(status: int, message: str, retry_after_s: float | None = None) -> ModelServerError:
    """Map an HTTP status (or a `ServiceError`'s) to the client's error type."""
    kind = ServerUnavailable if status in (502, 503, 504) else RequestRejected
    return kind(f"{message} (HTTP {status})", status=status, retry_after_s=retry_after_s)


@dataclass(frozen=True)
class ReplyResult:
    """The server's answer to one turn (docs/serving.md, POST /reply)."""

    model: str
    text: str  # what to show the human
    action: str  # "reply" | "human_blocked" | "bot_replaced"
    reset_history: bool
    generated: str | None  # the model's own reply, also when replaced; None when the human was blocked
    reason: str | None  # why the turn was blocked, None otherwise
    human_safety: dict[str, Verdict] | None
    bot_safety: dict[str, Verdict] | None
    batch_size: int | None
    latency_s: float

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ReplyResult":
        safety = data.get("safety") or {}

        def verdicts(side: str) -> dict[str, Verdict] | None:
            raw = safety.get(side)
            return None if raw is None else {k: Verdict.from_dict(v) for k, v in raw.items()}

        return cls(model=data["model"], text=data["text"], action=data["action"],
                   reset_history=bool(data["reset_history"]), generated=data.get("generated"),
                   reason=data.get("reason"), human_safety=verdicts("human"), bot_safety=verdicts("bot"),
                   batch_size=data.get("batch_size"), latency_s=float(data.get("latency_s", 0.0)))

    @property
    def blocked(self) -> bool:
        return self.action != "reply"

    def bot_safety_record(self) -> dict[str, dict[str, Any]] | None:
        """The per-bot-turn `safety` value of docs/formats.md, section 'Exports'."""
        return None if self.bot_safety is None else {k: v.to_dict() for k, v in self.bot_safety.items()}


@runtime_checkable
class ModelClient(Protocol):
    """What task code uses, wherever the models run."""

    def health(self) -> dict[str, Any]: ...

    def models(self) -> dict[str, Any]: ...

    def reply(self, model: str, turns: Sequence[str], *, persona: Sequence[str] = (),
              safety: bool | dict[str, bool] | None = None, timeout_s: float | None = None) -> ReplyResult: ...

    def classify(self, text: str, *, context: Sequence[str] = (), checks: Sequence[str] | None = None,
                 side: str | None = None) -> dict[str, Any]: ...

    def close(self) -> None: ...


def _reply_payload(model: str, turns: Sequence[str], persona: Sequence[str], safety: Any,
                   timeout_s: float | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"model": model, "turns": list(turns), "persona": list(persona)}
    if safety is not None:
        payload["safety"] = safety
    if timeout_s is not None:
        payload["timeout_s"] = timeout_s
    return payload


def _classify_payload(text: str, context: Sequence[str], checks: Sequence[str] | None,
                      side: str | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"text": text, "context": list(context)}
    if checks is not None:
        payload["checks"] = list(checks)
    if side is not None:
        payload["side"] = side
    return payload


class EmbeddedClient:
    """Runs a `ModelService` in this process (started on creation, stopped by `close`)."""

    def __init__(self, service: "ModelService") -> None:
        self.service = service.start()

    @classmethod
    def from_config(cls, path: str | Path) -> "EmbeddedClient":
        """Load the models and safety checks of a server config file, in-process."""
        from humaneval.models.server import ModelService, load_server_config

        return cls(ModelService.from_config(load_server_config(path)))

    def _call(self, method: str, payload: Any = None) -> dict[str, Any]:
        from humaneval.models.server import ServiceError

        try:
            return getattr(self.service, method)() if payload is None else getattr(self.service, method)(payload)
        except ServiceError as err:
            raise error_for_status(err.status, err.message, err.retry_after_s) from None

    def health(self) -> dict[str, Any]:
        return self._call("health")

    def models(self) -> dict[str, Any]:
        return self._call("list_models")

    def reply(self, model: str, turns: Sequence[str], *, persona: Sequence[str] = (),
              safety: bool | dict[str, bool] | None = None, timeout_s: float | None = None) -> ReplyResult:
        return ReplyResult.from_dict(self._call("reply", _reply_payload(model, turns, persona, safety, timeout_s)))

    def classify(self, text: str, *, context: Sequence[str] = (), checks: Sequence[str] | None = None,
                 side: str | None = None) -> dict[str, Any]:
        return self._call("classify", _classify_payload(text, context, checks, side))

    def close(self) -> None:
        self.service.close()


class HttpClient:
    """Talks to `python -m humaneval.models serve` over HTTP.

    Retries up to `retries` times after the first attempt on connection errors, read timeouts and 503
    (waiting `backoff_s`, doubling, or the server's Retry-After, capped at `max_wait_s`); the model server is
    stateless per request, so resending a /reply is safe. When retries run out, `ServerUnavailable` says so.

    One client serves a whole study's chats from many threads (the BAD task shares one). It keeps up to
    `pool_size` connections open for reuse: requests' default of 10 made every call beyond 10 at once open
    a new connection and drop it afterwards (urllib3 warns "Connection pool is full"), so at 16 chats six
    new TCP connections a turn — and a burst of new connections through Ray Serve's proxy arrives spread
    out enough to split a batch (docs/scaling.md).
    """

    def __init__(self, base_url: str, *, token: str | None = None, retries: int = 3, backoff_s: float = 0.5,
                 max_wait_s: float = 10.0, timeout_s: float = 120.0, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_wait_s = max_wait_s
        self.timeout_s = timeout_s
        self._session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"

    def _request(self, method: str, path: str, payload: Any = None) -> dict[str, Any]:
        url = self.base_url + path
        wait = self.backoff_s
        last: ModelServerError | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                delay = min(self.max_wait_s, last.retry_after_s if last and last.retry_after_s else wait)
                logger.info("retrying %s %s in %.1f s (%s)", method, path, delay, last)
                time.sleep(delay)
                wait *= 2
            try:
                response = self._session.request(method, url, json=payload, timeout=self.timeout_s)
            except requests.ConnectionError as err:
                last = ServerUnavailable(f"cannot reach the model server at {self.base_url} "
                                         f"({type(err).__name__})")
                continue
            except requests.Timeout:
                last = ServerUnavailable(f"no answer from the model server at {self.base_url} within "
                                         f"{self.timeout_s:g} s")
                continue
            body = self._decode(response)
            if response.status_code == 200:
                return body
            retry_after = _retry_after(response)
            error = error_for_status(response.status_code, str(body.get("error", response.reason)), retry_after)
            if response.status_code != 503:
                raise error
            last = error
        assert last is not None
        raise type(last)(f"{last} — gave up after {self.retries + 1} attempts; the request can be retried "
                         f"later", status=last.status, retry_after_s=last.retry_after_s)

    @staticmethod
    def _decode(response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            return {"error": response.text[:200] or response.reason}
        return body if isinstance(body, dict) else {"error": f"unexpected response {body!r:.200}"}

    def health(self) -> dict[str, Any]:
        return self._request("GET", "/health")

    def models(self) -> dict[str, Any]:
        return self._request("GET", "/models")

    def reply(self, model: str, turns: Sequence[str], *, persona: Sequence[str] = (),
              safety: bool | dict[str, bool] | None = None, timeout_s: float | None = None) -> ReplyResult:
        payload = _reply_payload(model, turns, persona, safety, timeout_s)
        return ReplyResult.from_dict(self._request("POST", "/reply", payload))

    def classify(self, text: str, *, context: Sequence[str] = (), checks: Sequence[str] | None = None,
                 side: str | None = None) -> dict[str, Any]:
        return self._request("POST", "/classify", _classify_payload(text, context, checks, side))

    def close(self) -> None:
        self._session.close()


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def open_client(*, server: str | None = None, token: str | None = None,
                config: "str | Path | ServerConfig | None" = None, model: str | None = None,
                device: str | None = None, registry: str | Path | None = None) -> ModelClient:
    """The client for wherever the models run — what `chat` and task launchers call.

    `server`: a URL → `HttpClient` (with `token`). Otherwise in-process: the models and safety checks of a
    server `config` (file or object), or else the model `model` of the `registry` file (default registry:
    $HUMANEVAL_MODELS or task_configs/models.yaml; default model: the registry's default, the demo bot) with
    the default safety checks. `device` overrides every in-process model's device.
    """
    if server:
        return HttpClient(server, token=token)
    from humaneval.models.server import ModelConfig, ModelService, ServerConfig, load_server_config

    if config is None:
        if model is None:
            from humaneval.models.registry import load_registry

            model = load_registry(registry).default
        config = ServerConfig(registry=Path(registry) if registry else None, models=(ModelConfig(name=model),))
    elif not isinstance(config, ServerConfig):
        config = load_server_config(config)
    return EmbeddedClient(ModelService.from_config(config.with_device(device)))


@dataclass
class ChatSession:
    """One conversation with one model, keeping the bot's history the way ParlAI's safe_interactive did.

    A blocked human message never enters the history; a replaced bot reply clears it (the persona stays:
    it is the task's setting, not something the bot said).
    """

    client: ModelClient
    model: str
    persona: tuple[str, ...] = ()
    safety: bool | dict[str, bool] | None = None
    history: list[str] = field(default_factory=list)

    def send(self, message: str, *, timeout_s: float | None = None) -> ReplyResult:
        result = self.client.reply(self.model, [*self.history, message], persona=self.persona,
                                   safety=self.safety, timeout_s=timeout_s)
        if result.action == "reply":
            self.history.extend([message, result.text])
        elif result.reset_history:
            self.history.clear()
        return result

    def reset(self) -> None:
        self.history.clear()
