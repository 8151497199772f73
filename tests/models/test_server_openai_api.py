"""The OpenAI-compatible routes, driven by the official `openai` client against a real waitress server
serving the bundled demo bot: plain and streamed completions, /v1/models, the safety extension field on
replaced and blocked turns, the bearer token, size limits, bad messages, unknown models and timeouts, every
error in the protocol's shape."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import openai
import pytest
import requests
from openai import OpenAI
from test_server_support import GatedModel, ScriptedModel

from humaneval.models.batching import BatchingOptions
from humaneval.models.safety import BOT_REPLACED_MESSAGE, HUMAN_BLOCKED_MESSAGE, SafetyPipeline
from humaneval.models.server import ModelConfig, ModelService, RunningServer, ServerConfig, start_http_server

TOKEN = "test-token-3f9c"
MAX_BYTES = 8 * 1024
MAX_TURNS = 6
MAX_CHARS = 500
# The demo bot answers this prompt "I failed math so many times at school, I can't even count."; the test's
# word list flags "math", so the reply is replaced.
FLAGGED_PROMPT = "Tell me a joke"
PERSONA = "your persona: i like tea.\nyour persona: i read books."
ERROR_KEYS = {"message", "type", "param", "code"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("config")
    words = folder / "words.txt"
    words.write_text("math\n", encoding="utf-8")
    registry = folder / "models.yaml"  # the bundled demo bot, whatever $HUMANEVAL_MODELS says
    registry.write_text("models:\n  demo_bot: {path: pkg:models/demo_bot}\n", encoding="utf-8")
    config = ServerConfig(models=(ModelConfig(name="demo_bot"),), registry=registry, max_request_bytes=MAX_BYTES,
                          max_turns=MAX_TURNS, max_chars_per_turn=MAX_CHARS,
                          safety={"checks": {"string_matcher": {"word_list": str(words)}}})
    with ModelService.from_config(config) as service:
        running = start_http_server(service, token=TOKEN, max_request_bytes=MAX_BYTES)
        yield running
        running.stop()


@pytest.fixture(scope="module")
def client(server: RunningServer) -> Iterator[OpenAI]:
    with OpenAI(base_url=server.url + "/v1", api_key=TOKEN, max_retries=0) as openai_client:
        yield openai_client


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def our_reply(server: RunningServer, turns: list[str], persona: list[str]) -> dict[str, Any]:
    """What /reply answers for the same conversation: the route must go through the same service path."""
    response = requests.post(server.url + "/reply", json={"model": "demo_bot", "turns": turns, "persona": persona},
                             headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def test_plain_completion_is_the_reply_of_our_own_api(server: RunningServer, client: OpenAI) -> None:
    completion = client.chat.completions.create(model="demo_bot", messages=[
        {"role": "system", "content": PERSONA}, user("Hello"), {"role": "assistant", "content": "Hi"},
        user("How are you?")])
    expected = our_reply(server, ["Hello", "Hi", "How are you?"], PERSONA.split("\n"))
    assert completion.object == "chat.completion" and completion.model == "demo_bot"
    assert completion.id.startswith("chatcmpl-") and len(completion.choices) == 1
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and choice.finish_reason == "stop"
    assert choice.message.content == expected["text"] and expected["action"] == "reply"
    safety = completion.model_extra["humaneval_safety"]  # type: ignore[index]
    assert safety["action"] == "reply" and safety["reason"] is None and not safety["reset_history"]
    assert safety["generated"] == choice.message.content
    assert safety["human"] == expected["safety"]["human"] and safety["bot"] == expected["safety"]["bot"]
    assert safety["bot"]["string_matcher"]["unsafe"] is False


def test_sampling_fields_are_accepted_and_ignored(client: OpenAI) -> None:
    messages = [user("How are you?")]
    plain = client.chat.completions.create(model="demo_bot", messages=messages)
    tuned = client.chat.completions.create(model="demo_bot", messages=messages, temperature=1.5, top_p=0.5,
                                           max_tokens=2, seed=7, user="someone")
    assert tuned.choices[0].message.content == plain.choices[0].message.content


def test_streamed_completion_is_the_same_reply_in_chunks(client: OpenAI) -> None:
    messages = [{"role": "system", "content": PERSONA}, user("How are you?")]
    whole = client.chat.completions.create(model="demo_bot", messages=messages).choices[0].message.content
    chunks = list(client.chat.completions.create(model="demo_bot", messages=messages, stream=True))
    assert all(c.object == "chat.completion.chunk" and c.model == "demo_bot" for c in chunks)
    assert len({c.id for c in chunks}) == 1 and len(chunks) >= 3
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == whole
    assert [c.choices[0].finish_reason for c in chunks] == [None] * (len(chunks) - 1) + ["stop"]
    assert [bool(c.model_extra) for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert chunks[-1].model_extra["humaneval_safety"]["action"] == "reply"  # type: ignore[index]


def test_stream_on_the_wire_is_server_sent_events_ending_with_done(server: RunningServer) -> None:
    response = requests.post(server.url + "/v1/chat/completions", headers={"Authorization": f"Bearer {TOKEN}"},
                             json={"model": "demo_bot", "messages": [user("Hello")], "stream": True}, timeout=60)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    events = response.text.split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""] and all(e.startswith("data: {") for e in events[:-2])


def test_models_list_and_retrieve(client: OpenAI) -> None:
    assert [(m.id, m.object, m.owned_by) for m in client.models.list()] == [("demo_bot", "model", "humaneval")]
    assert client.models.retrieve("demo_bot").id == "demo_bot"
    with pytest.raises(openai.NotFoundError) as err:
        client.models.retrieve("blender_9B")
    assert err.value.code == "model_not_found" and "demo_bot" in err.value.message


def test_an_unsafe_reply_is_replaced_and_says_so(client: OpenAI) -> None:
    completion = client.chat.completions.create(model="demo_bot", messages=[user(FLAGGED_PROMPT)])
    choice = completion.choices[0]
    assert choice.message.content == BOT_REPLACED_MESSAGE and choice.finish_reason == "content_filter"
    safety = completion.model_extra["humaneval_safety"]  # type: ignore[index]
    assert safety["action"] == "bot_replaced" and safety["reset_history"]
    assert "math" in safety["generated"] and "'math'" in safety["reason"]
    assert safety["bot"]["string_matcher"] == {"unsafe": True, "score": 1.0, "reason": "word list match: 'math'"}
    assert safety["human"]["string_matcher"]["unsafe"] is False

    chunks = list(client.chat.completions.create(model="demo_bot", messages=[user(FLAGGED_PROMPT)], stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == BOT_REPLACED_MESSAGE
    assert chunks[-1].choices[0].finish_reason == "content_filter"
    assert chunks[-1].model_extra["humaneval_safety"] == safety  # type: ignore[index]


def test_an_unsafe_user_message_is_blocked_before_the_model(client: OpenAI) -> None:
    completion = client.chat.completions.create(model="demo_bot", messages=[user("what a shitty bot")])
    assert completion.choices[0].message.content == HUMAN_BLOCKED_MESSAGE
    assert completion.choices[0].finish_reason == "content_filter"
    safety = completion.model_extra["humaneval_safety"]  # type: ignore[index]
    assert safety["action"] == "human_blocked" and safety["generated"] is None and safety["bot"] is None
    assert safety["human"]["profanity_classifier"]["unsafe"] is True and "profan" in safety["reason"]


@pytest.mark.parametrize("api_key, headers", [(TOKEN + "x", None), (TOKEN, {"Authorization": openai.Omit()})],
                         ids=["wrong key", "no key"])
def test_the_server_token_is_the_api_key(server: RunningServer, api_key: str, headers: Any) -> None:
    with OpenAI(base_url=server.url + "/v1", api_key=api_key, max_retries=0) as other:
        for call in (lambda: other.models.list(extra_headers=headers),
                     lambda: other.chat.completions.create(model="demo_bot", messages=[user("hi")],
                                                           extra_headers=headers)):
            with pytest.raises(openai.AuthenticationError) as err:
                call()
            assert set(err.value.body) == ERROR_KEYS and err.value.code == "invalid_api_key"  # type: ignore[arg-type]
            assert TOKEN not in err.value.message


def test_a_body_over_the_limit_is_413(client: OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as err:
        client.chat.completions.create(model="demo_bot", messages=[user("x" * (MAX_BYTES + 1))])
    assert err.value.status_code == 413 and err.value.code == "request_too_large"
    assert set(err.value.body) == ERROR_KEYS  # type: ignore[arg-type]


def alternating(count: int) -> list[dict[str, str]]:
    return [{"role": "user" if (count - i) % 2 else "assistant", "content": f"turn {i}"} for i in range(count)]


@pytest.mark.parametrize("messages, param, fragment", [
    (alternating(MAX_TURNS + 1), "messages", f"has {MAX_TURNS + 1} entries; the limit is {MAX_TURNS}"),
    ([user("hi"), {"role": "assistant", "content": "ho"}, user("y" * (MAX_CHARS + 1))], "messages[2].content",
     f"longer than {MAX_CHARS} characters"),
    ([{"role": "system", "content": "a\n" + "z" * (MAX_CHARS + 1)}, user("hi")], "messages[0].content",
     f"longer than {MAX_CHARS} characters"),
    ([{"role": "system", "content": "\n".join(["p"] * (MAX_TURNS + 1))}, user("hi")], "messages",
     "system messages' lines has"),
], ids=["too many turns", "too long a turn", "too long a persona line", "too many persona lines"])
def test_conversations_over_the_limits_are_400(client: OpenAI, messages: list[dict[str, str]], param: str,
                                                fragment: str) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="demo_bot", messages=messages)  # type: ignore[arg-type]
    assert err.value.param == param and fragment in err.value.message


@pytest.mark.parametrize("request_fields, param", [
    ({"messages": []}, "messages"),
    ({"messages": [user("hi"), {"role": "assistant", "content": "ho"}]}, "messages"),
    ({"messages": [user("hi"), user("again")]}, "messages[1].role"),
    ({"messages": [user("hi"), {"role": "system", "content": "be nice"}, user("yo")]}, "messages[1].role"),
    ({"messages": [{"role": "tool", "content": "42", "tool_call_id": "c1"}, user("hi")]}, "messages[0].role"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x/y.png"}}]}]},
     "messages[0].content"),
    ({"messages": [{"role": "user"}]}, "messages[0].content"),
    ({"messages": [user("hi")], "n": 2}, "n"),
    ({"messages": [user("hi")], "stop": ["\n"]}, "stop"),
    ({"messages": [user("hi")], "temperature": 3}, "temperature"),
    ({"messages": [user("hi")], "max_tokens": 0}, "max_tokens"),
    ({"messages": [user("hi")], "stream": True, "stream_options": {"include_usage": True}},
     "stream_options.include_usage"),
    ({"messages": [user("hi")], "extra_body": {"beam_size": 3}}, "beam_size"),
], ids=["no messages", "assistant last", "two users", "system later", "tool role", "image", "no content", "n=2",
        "stop", "temperature 3", "max_tokens 0", "usage", "unknown field"])
def test_bad_requests_are_400_in_the_protocol_shape(client: OpenAI, request_fields: dict[str, Any],
                                                    param: str) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="demo_bot", **request_fields)
    assert set(err.value.body) == ERROR_KEYS and err.value.type == "invalid_request_error"  # type: ignore[arg-type]
    assert err.value.param == param


def test_text_parts_are_joined_like_a_string(client: OpenAI) -> None:
    parts = client.chat.completions.create(model="demo_bot", messages=[
        {"role": "user", "content": [{"type": "text", "text": "How are"}, {"type": "text", "text": "you?"}]}])
    string = client.chat.completions.create(model="demo_bot", messages=[user("How are\nyou?")])
    assert parts.choices[0].message.content == string.choices[0].message.content


def test_an_unknown_model_is_404(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="gpt-4o", messages=[user("hi")])
    assert err.value.param == "model" and err.value.code == "model_not_found"
    assert set(err.value.body) == ERROR_KEYS and "demo_bot" in err.value.message  # type: ignore[arg-type]


def test_other_errors_take_the_protocol_shape_under_v1_only(server: RunningServer) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for method, path, status in (("GET", "/v1/chat/completions", 405), ("GET", "/v1/nope", 404)):
        response = requests.request(method, server.url + path, headers=auth, timeout=10)
        assert response.status_code == status and set(response.json()["error"]) == ERROR_KEYS
    ours = requests.get(server.url + "/nope", headers=auth, timeout=10)
    assert ours.status_code == 404 and set(ours.json()) == {"error", "status"}
    not_json = requests.post(server.url + "/v1/chat/completions", data="hi", headers=auth, timeout=10)
    assert not_json.status_code == 400 and "application/json" in not_json.json()["error"]["message"]



@contextmanager
def gated_server(request_timeout_s: float) -> Iterator[tuple[RunningServer, GatedModel]]:
    """A server whose model replies only once the test opens its gate (no token: loopback)."""
    slow = GatedModel(ScriptedModel("slow"))
    with ModelService([(slow, BatchingOptions())], SafetyPipeline.from_config(None),
                      request_timeout_s=request_timeout_s) as service:
        running = start_http_server(service)
        try:
            yield running, slow
        finally:
            slow.gate.set()
            running.stop()


def test_a_reply_slower_than_the_timeout_is_504_before_any_chunk() -> None:
    with gated_server(0.5) as (running, _), OpenAI(base_url=running.url + "/v1", api_key="unused",
                                                   max_retries=0) as local:
        for stream in (False, True):
            with pytest.raises(openai.InternalServerError) as err:
                local.chat.completions.create(model="slow", messages=[user("hi")], stream=stream)
            assert err.value.status_code == 504 and err.value.type == "server_error" and err.value.code == "timeout"


def test_a_client_hanging_up_while_its_reply_is_generated_harms_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    body = json.dumps({"model": "slow", "messages": [user("hi")], "stream": True}).encode()
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with gated_server(60) as (running, slow):
        with socket.create_connection(("127.0.0.1", running.port), timeout=10) as sock:
            sock.sendall(head + body)
            assert slow.entered.wait(30)  # the reply is being generated: hang up now
        slow.gate.set()
        served = '"POST /v1/chat/completions" 200'
        deadline = time.monotonic() + 30
        while served not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        assert served in caplog.text
        answered = requests.post(running.url + "/v1/chat/completions", json={"model": "slow", "messages": [user("hi")]},
                                 timeout=30)
        assert answered.json()["choices"][0]["message"]["content"] == "you said: hi"  # the server carries on
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
