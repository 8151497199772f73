"""The OpenAI chat-completions protocol on our server: `POST /v1/chat/completions` and `GET /v1/models`.

So that the tools researchers already use (the official `openai` client, eval harnesses, chat UIs) can talk
to a humaneval server, and so that a humaneval server can sit where an OpenAI-compatible one is expected.
Only the shape differs from `/reply`: a request's `messages` become our conversation (system messages the
persona lines, user/assistant turns the dialogue) and go through `ModelService.screened_reply`, the same
batching, safety screening, size limits and timeouts. Every safety verdict comes back in the extension
field `humaneval_safety`, and an unsafe turn ends with `finish_reason: "content_filter"`.

Decoding is the served model's recipe (registry `recipe`), shared by every request in a batch, so sampling
fields (`temperature`, `max_tokens`, ...) are checked and ignored; fields asking for something we cannot
give (`n` > 1, tools, logprobs, stop sequences, usage counts, ...) are refused rather than silently dropped.
Streaming sends the whole reply, generated and screened first, as `chat.completion.chunk` events: no
byte leaves before the safety verdict, and every error is an ordinary HTTP status.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from flask import Blueprint, Response, request

from humaneval.models.server.service import ModelService, ServiceError, json_object
from humaneval.web.json_body import read_json_body

PREFIX = "/v1"
EXTENSION_FIELD = "humaneval_safety"

# Accepted and ignored (the model's recipe decides), but checked as OpenAI does, so a client's mistake shows.
_IGNORED_RANGES: dict[str, tuple[float, float]] = {
    "temperature": (0, 2), "top_p": (0, 1), "frequency_penalty": (-2, 2), "presence_penalty": (-2, 2)}
_IGNORED_COUNTS = ("max_tokens", "max_completion_tokens")
# Accepted and ignored whatever their value: bookkeeping for OpenAI's own platform.
_IGNORED_ANY = ("seed", "user", "safety_identifier", "metadata", "store", "service_tier", "prompt_cache_key",
                "prompt_cache_options", "prompt_cache_retention", "parallel_tool_calls", "reasoning_effort",
                "verbosity", "prediction")
# Refused unless absent, null or one of these harmless values: honouring them is beyond a ReplyModel, and
# dropping them would hand the client something other than what it asked for.
_UNSUPPORTED: dict[str, tuple[Any, ...]] = {
    "n": (1,), "stop": ([],), "logprobs": (False,), "top_logprobs": (0,), "tools": ([],), "tool_choice": ("none",),
    "functions": ([],), "function_call": ("none",), "response_format": ({"type": "text"},),
    "modalities": (["text"],), "logit_bias": ({},), "audio": (), "web_search_options": (), "moderation": ()}
_FIELDS = {"model", "messages", "stream", "stream_options", *_IGNORED_RANGES, *_IGNORED_COUNTS, *_IGNORED_ANY,
           *_UNSUPPORTED}

_PERSONA_ROLES = ("system", "developer")
_TURN_ROLES = ("user", "assistant")
# Message keys a client may echo back from a reply it received; harmless while null or empty.
_ECHOED_MESSAGE_KEYS = ("refusal", "tool_calls", "function_call", "audio", "annotations")

_ERROR_CODES = {401: "invalid_api_key", 404: "not_found", 405: "method_not_allowed", 413: "request_too_large",
                503: "server_busy", 504: "timeout"}


def speaks_openai(path: str) -> bool:
    """Whether a request path is one of this protocol's, so its errors take the protocol's shape."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def error_body(err: ServiceError) -> dict[str, Any]:
    """The protocol's error shape, which the `openai` client reads into its exceptions' `body`/`param`/`code`."""
    code = "model_not_found" if err.status == 404 and err.param == "model" else _ERROR_CODES.get(err.status)
    kind = ("authentication_error" if err.status == 401 else
            "invalid_request_error" if err.status < 500 else "server_error")
    return {"error": {"message": err.message, "type": kind, "param": err.param, "code": code}}


def openai_blueprint(service: ModelService, respond: Callable[[dict[str, Any]], Response]) -> Blueprint:
    """The protocol's routes; `respond` is the app's JSON response, and the app shapes errors (`error_body`)."""
    routes = Blueprint("openai", __name__, url_prefix=PREFIX)

    @routes.get("/models")
    def models() -> Response:
        return respond({"object": "list", "data": [_model_object(service, m["name"])
                                                   for m in service.list_models()["models"]]})

    @routes.get("/models/<path:name>")
    def model(name: str) -> Response:
        service.require_model(name)
        return respond(_model_object(service, name))

    @routes.post("/chat/completions")
    def chat_completions() -> Response:
        body = json_object(read_json_body(request), _FIELDS)
        stream = _stream_flag(body)
        _check_fields(body)
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise ServiceError(400, "field 'model' must be a non-empty string", param="model")
        persona, turns = _conversation(body.get("messages"), service)
        answer = service.screened_reply(model, turns, persona)
        completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if not stream:
            return respond(_completion(answer, completion_id, created))
        return Response(_sse(_chunks(answer, completion_id, created)), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache"})

    return routes


def _model_object(service: ModelService, name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": int(service.started_at), "owned_by": "humaneval"}


def _stream_flag(body: dict[str, Any]) -> bool:
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise ServiceError(400, f"field 'stream' must be true or false, got {stream!r}", param="stream")
    options = body.get("stream_options")
    if options is not None:
        if not stream:
            raise ServiceError(400, "field 'stream_options' is only allowed with 'stream': true",
                               param="stream_options")
        if not isinstance(options, dict) or set(options) - {"include_usage", "include_obfuscation"}:
            raise ServiceError(400, "field 'stream_options' may hold only 'include_usage' and "
                                    "'include_obfuscation'", param="stream_options")
        if options.get("include_usage"):
            raise ServiceError(400, "'stream_options.include_usage' is not supported: this server counts no "
                                    "tokens (models are served through a text-only interface)",
                               param="stream_options.include_usage")
    return bool(stream)


def _check_fields(body: dict[str, Any]) -> None:
    """Ignored fields must still be valid; unsupported ones must ask for nothing we would drop."""
    for name, (low, high) in _IGNORED_RANGES.items():
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not low <= value <= high):
            raise ServiceError(400, f"field {name!r} must be a number from {low} to {high}, got {value!r}",
                               param=name)
    for name in _IGNORED_COUNTS:
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ServiceError(400, f"field {name!r} must be a whole number ≥ 1, got {value!r}", param=name)
    for name, harmless in _UNSUPPORTED.items():
        value = body.get(name)
        if value is not None and not any(value == h and type(value) is type(h) for h in harmless):
            raise ServiceError(400, f"field {name!r} = {json.dumps(value)[:80]} is not supported by this server "
                                    f"(it serves one reply per request from the model's own decoding recipe)",
                               param=name)


def _conversation(messages: Any, service: ModelService) -> tuple[list[str], list[str]]:
    """`messages` as our (persona lines, turns): system/developer messages first, each line a persona line;
    then user and assistant turns alternating, a user message last (the one the bot answers)."""
    if not isinstance(messages, list) or not messages:
        raise ServiceError(400, "field 'messages' must be a non-empty list of messages", param="messages")
    persona: list[str] = []
    persona_from: list[str] = []
    turns: list[str] = []
    turns_from: list[str] = []
    last_role: str | None = None
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise ServiceError(400, f"{where} must be an object with 'role' and 'content'", param=where)
        role = message.get("role")
        if role not in _PERSONA_ROLES + _TURN_ROLES:
            raise ServiceError(400, f"{where}.role must be one of {', '.join(_PERSONA_ROLES + _TURN_ROLES)}, got "
                                    f"{role!r}", param=f"{where}.role")
        unknown = sorted(set(message) - {"role", "content", "name", *_ECHOED_MESSAGE_KEYS})
        echoed = [k for k in _ECHOED_MESSAGE_KEYS if message.get(k) not in (None, [], "")]
        if unknown or echoed:
            key = f"{where}.{(unknown or echoed)[0]}"
            raise ServiceError(400, f"{key} is not supported: messages carry text only ('role', 'content', "
                                    f"'name')", param=key)
        content = _text(message.get("content"), f"{where}.content")
        if role in _PERSONA_ROLES:
            if turns:
                raise ServiceError(400, f"{where} is a {role} message after the dialogue began; put system "
                                        f"messages first (they become the bot's persona)", param=f"{where}.role")
            lines = [line for line in content.splitlines() if line.strip()]
            persona += lines
            persona_from += [f"{where}.content"] * len(lines)
        else:
            if role == last_role:
                raise ServiceError(400, f"{where} is a second {role} message in a row; user and assistant "
                                        f"messages must alternate", param=f"{where}.role")
            turns.append(content)
            turns_from.append(f"{where}.content")
            last_role = role
    if last_role != "user":
        raise ServiceError(400, "the last of 'messages' must be a user message (the one the bot answers)",
                           param="messages")
    persona = service.check_texts(persona, "messages", required=False, label="the system messages' lines",
                                  entry_names=persona_from)
    turns = service.check_texts(turns, "messages", required=True, label="the user and assistant messages",
                                entry_names=turns_from)
    return persona, turns


def _text(content: Any, where: str) -> str:
    """A message's content: a string, or a list of text parts (joined by newlines, as vLLM does)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and content and all(
            isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str) for p in content):
        return "\n".join(p["text"] for p in content)
    raise ServiceError(400, f"{where} must be a string or a list of text parts ({{'type': 'text', 'text': ...}}); "
                            f"other content (images, audio, files) is not supported", param=where)


def _extension(answer: dict[str, Any]) -> dict[str, Any]:
    """`humaneval_safety`: what /reply reports about the turn, so a protocol client loses nothing of it."""
    return {"action": answer["action"], "reason": answer["reason"], "generated": answer["generated"],
            "reset_history": answer["reset_history"], "human": answer["safety"]["human"],
            "bot": answer["safety"]["bot"]}


def _finish_reason(answer: dict[str, Any]) -> str:
    return "stop" if answer["action"] == "reply" else "content_filter"


def _completion(answer: dict[str, Any], completion_id: str, created: int) -> dict[str, Any]:
    return {
        "id": completion_id, "object": "chat.completion", "created": created, "model": answer["model"],
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer["text"], "refusal": None},
                     "finish_reason": _finish_reason(answer), "logprobs": None}],
        "usage": None, "system_fingerprint": None, EXTENSION_FIELD: _extension(answer),
    }


def _chunks(answer: dict[str, Any], completion_id: str, created: int) -> Iterator[dict[str, Any]]:
    """The reply as `chat.completion.chunk`s: the role, then word by word, then the finish reason together
    with `humaneval_safety`. Joining the chunks' contents gives back the reply exactly."""
    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                "model": answer["model"], "system_fingerprint": None,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}]}

    yield chunk({"role": "assistant", "content": ""})
    for piece in re.findall(r"\s*\S+|\s+$", answer["text"]):
        yield chunk({"content": piece})
    yield {**chunk({}, _finish_reason(answer)), EXTENSION_FIELD: _extension(answer)}


def _sse(chunks: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    """Server-sent events ending with `data: [DONE]`. The reply is already generated and screened, so a
    client that hangs up costs nothing more: waitress finds the socket closed when sending and drops it."""
    for data in chunks:
        yield f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()
    yield b"data: [DONE]\n\n"
