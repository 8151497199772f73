"""The model service: N models behind dynamic batchers and the safety pipeline, answering the API's requests.

Transport-independent on purpose: requests and answers are plain JSON-like dicts and a bad request is a
`ServiceError(status, message)`, so the same behaviour is available in-process (`EmbeddedClient`, what
`launch` embeds by default, no sockets) and over HTTP (`app.create_app`, which only translates).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from humaneval.input_errors import InputError
from humaneval.models.batching import (
    BatcherStopped,
    BatchingOptions,
    DynamicBatcher,
    QueueFull,
    RequestTimedOut,
)
from humaneval.models.client import ModelServerError
from humaneval.models.reply_model import DialogueContext, ReplyModel
from humaneval.models.safety.pipeline import SIDES, SafetyPipeline
from humaneval.models.server.config import (
    DEFAULT_MAX_CHARS_PER_TURN,
    DEFAULT_MAX_TURNS,
    DEFAULT_REQUEST_TIMEOUT_S,
    ServerConfig,
)
from humaneval.models.server.model_loading import load_model, model_device


class ServiceError(Exception):
    """A request the service cannot answer; `status` is the HTTP status the server sends for it.

    `param` names the request field at fault when there is one: the OpenAI-compatible routes report it in
    their error shape (`/reply`'s shape says it in the message alone).
    """

    def __init__(self, status: int, message: str, *, retry_after_s: int | None = None,
                 param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after_s = retry_after_s
        self.param = param

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message, "status": self.status}
        if self.retry_after_s is not None:
            body["retry_after_s"] = self.retry_after_s
        return body


class ModelService:
    """Models + batchers + safety, answering the API's requests as dicts. Start before use, close after."""

    def __init__(
        self,
        models: Sequence[tuple[ReplyModel, BatchingOptions]],
        safety: SafetyPipeline,
        *,
        request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S,
        max_turns: int = DEFAULT_MAX_TURNS,
        max_chars_per_turn: int = DEFAULT_MAX_CHARS_PER_TURN,
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
                 "queue_depth": b.queue_depth, "batches": b.batches, "replies": b.replies, **_control_of(b.model)}
                for name, b in self.batchers.items()
            ],
            "safety_checks": self.safety.status(),
        }

    def reply(self, payload: Any) -> dict[str, Any]:
        """/reply: screen the human's last turn, generate (batched), screen the reply."""
        body = json_object(payload, {"model", "turns", "persona", "safety", "timeout_s"})
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise ServiceError(400, "field 'model' must be a non-empty string", param="model")
        turns = self.check_texts(body.get("turns"), "turns", required=True)
        persona = self.check_texts(body.get("persona", []), "persona", required=False)
        screen_human, screen_bot = _safety_switches(body.get("safety"), self.safety)
        timeout_s = body.get("timeout_s", self.request_timeout_s)
        if (isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or timeout_s <= 0
                or (isinstance(timeout_s, float) and not math.isfinite(timeout_s))):
            raise ServiceError(400, f"field 'timeout_s' must be a positive number, got {timeout_s!r}")
        return self.screened_reply(model, turns, persona, screen_human=screen_human, screen_bot=screen_bot,
                                   timeout_s=timeout_s)

    def screened_reply(self, model: str, turns: list[str], persona: list[str], *, screen_human: bool | None = None,
                       screen_bot: bool | None = None, timeout_s: float | None = None) -> dict[str, Any]:
        """/reply's answer for an already checked conversation (`check_texts`); the OpenAI-compatible route
        calls it too, so both share the batching, safety screening and timeouts. Safety switches left None
        are the server's defaults; `timeout_s` can only shorten `request_timeout_s`."""
        if timeout_s is None:
            timeout_s = self.request_timeout_s
        timeout_s = float(min(timeout_s, self.request_timeout_s))  # min first: float(10**400) overflows
        batcher = self.require_model(model)

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
            except ModelServerError as err:  # a remote model (openai_compatible): keep whether a retry can help
                retry_after = math.ceil(err.retry_after_s) if err.retry_after_s else (5 if err.retryable else None)
                raise ServiceError(503 if err.retryable else 500, f"generation failed: {err}",
                                   retry_after_s=retry_after) from None
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

    def require_model(self, model: str) -> DynamicBatcher:
        """The batcher serving `model`; 404 naming the served models otherwise."""
        batcher = self.batchers.get(model)
        if batcher is None:
            raise ServiceError(404, f"unknown model {model!r}; available: {', '.join(self.batchers) or 'none'}",
                               param="model")
        return batcher

    def classify(self, payload: Any) -> dict[str, Any]:
        """/classify: every check's verdict on one text (optionally a chosen subset or one side's checks)."""
        body = json_object(payload, {"text", "context", "checks", "side"})
        text = body.get("text")
        if not isinstance(text, str):
            raise ServiceError(400, "field 'text' must be a string")
        if len(text) > self.max_chars_per_turn:
            raise ServiceError(400, f"field 'text' is longer than {self.max_chars_per_turn} characters")
        context = self.check_texts(body.get("context", []), "context", required=False)
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

    def check_texts(self, value: Any, name: str, *, required: bool, label: str | None = None,
                    entry_names: Sequence[str] | None = None) -> list[str]:
        """A list of turns within the size limits (`max_turns` entries of `max_chars_per_turn` characters).

        When the list was built from another shape (the OpenAI route's `messages`), `label` says what it
        holds and `entry_names` where each entry came from (`messages[3].content`), so an error points at
        what the client sent; `name` is the request field either way.
        """
        label = label or f"field '{name}'"
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            raise ServiceError(400, f"{label} must be a list of strings", param=name)
        if required and not value:
            raise ServiceError(400, f"{label} must hold at least one turn (the human's message last)", param=name)
        if len(value) > self.max_turns:
            raise ServiceError(400, f"{label} has {len(value)} entries; the limit is {self.max_turns}", param=name)
        too_long = [i for i, t in enumerate(value) if len(t) > self.max_chars_per_turn]
        if too_long:
            where = entry_names[too_long[0]] if entry_names else f"{label} entry {too_long[0]}"
            raise ServiceError(400, f"{where} is longer than {self.max_chars_per_turn} characters",
                               param=entry_names[too_long[0]] if entry_names else name)
        return list(value)


def _control_of(model: ReplyModel) -> dict[str, str]:
    """`{"control": ...}` for a model whose registry entry adds a control string to its input (a client
    can then tell a controlled model from its uncontrolled twin), else nothing."""
    control = getattr(model, "control", None)
    return {"control": control} if isinstance(control, str) else {}


def json_object(payload: Any, allowed: set[str]) -> dict[str, Any]:
    """The request body as a JSON object holding only `allowed` fields (a typo must not pass silently)."""
    if not isinstance(payload, dict):
        raise ServiceError(400, f"the request body must be a JSON object, got {type(payload).__name__}")
    unknown = sorted(set(payload) - allowed)
    if unknown:
        raise ServiceError(400, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}",
                           param=unknown[0])
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
