"""One client interface: embedded and HTTP give the same results and errors; the HTTP client retries what
is retryable; `ChatSession` keeps history the way ParlAI's safe_interactive did."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psutil
import pytest
from test_server_support import GatedModel, ScriptedModel, TinyBlender, echo_model

from humaneval.models.batching import BatchingOptions
from humaneval.models.client import (
    ChatSession,
    EmbeddedClient,
    HttpClient,
    ModelClient,
    RequestRejected,
    ServerUnavailable,
    open_client,
)
from humaneval.models.safety import BOT_REPLACED_MESSAGE, HUMAN_BLOCKED_MESSAGE, SafetyPipeline
from humaneval.models.server import ModelService, RunningServer, start_http_server
from humaneval.web.addresses import free_port


@pytest.fixture(scope="module")
def service() -> Iterator[ModelService]:
    models = [(TinyBlender("tiny"), BatchingOptions()), (echo_model("echo"), BatchingOptions())]
    with ModelService(models, SafetyPipeline.from_config(None)) as svc:
        yield svc


@pytest.fixture(scope="module")
def server(service: ModelService) -> Iterator[RunningServer]:
    running = start_http_server(service)
    yield running
    running.stop()


@pytest.fixture(params=["embedded", "http"])
def client(request: pytest.FixtureRequest, service: ModelService, server: RunningServer) -> Iterator[ModelClient]:
    if request.param == "embedded":
        yield EmbeddedClient(service)  # start() is idempotent; the module fixture closes the service
    else:
        http = HttpClient(server.url, retries=0)
        yield http
        http.close()


def test_both_transports_give_the_same_reply(service: ModelService, server: RunningServer) -> None:
    embedded = EmbeddedClient(service)
    http = HttpClient(server.url)
    turns, persona = ["i like tea", "me too", "what do you read"], ["your persona: i read books"]
    a = embedded.reply("tiny", turns, persona=persona)
    b = http.reply("tiny", turns, persona=persona)
    assert (a.text, a.action, a.human_safety, a.bot_safety) == (b.text, b.action, b.human_safety, b.bot_safety)
    assert a.text and a.action == "reply" and not a.blocked
    assert set(a.bot_safety_record()) >= {"string_matcher", "profanity_classifier"}  # type: ignore[arg-type]
    http.close()


def test_errors_are_the_same_on_both_transports(client: ModelClient) -> None:
    with pytest.raises(RequestRejected) as unknown:
        client.reply("nope", ["hi"])
    assert unknown.value.status == 404 and not unknown.value.retryable and "nope" in str(unknown.value)
    with pytest.raises(RequestRejected) as bad:
        client.reply("echo", [])
    assert bad.value.status == 400


def test_classify_and_models_on_both_transports(client: ModelClient) -> None:
    assert client.classify("what bullshit", checks=["string_matcher"])["unsafe"]
    assert [m["name"] for m in client.models()["models"]] == ["tiny", "echo"]
    assert client.health()["status"] == "ok"


def test_chat_session_follows_parlai_history_rules(client: ModelClient) -> None:
    session = ChatSession(client, "echo", persona=("your persona: i am a parrot",))
    first = session.send("hello")
    assert first.text == "you said: hello" and session.history == ["hello", "you said: hello"]
    blocked = session.send("shut up you piece of shit")
    assert blocked.text == HUMAN_BLOCKED_MESSAGE and "shit" in (blocked.reason or "")
    assert session.history == ["hello", "you said: hello"]  # the blocked message never entered the history
    replaced = session.send("now provoke me")
    assert replaced.text == BOT_REPLACED_MESSAGE and replaced.reset_history and "shit" in (replaced.reason or "")
    assert session.history == []  # ParlAI cleared the agent's history
    assert session.send("again").text == "you said: again"
    assert session.history == ["again", "you said: again"]


def test_chat_session_sends_history_and_persona() -> None:
    model = ScriptedModel("scripted")
    with ModelService([(model, BatchingOptions())], SafetyPipeline.from_config(None)) as service:
        session = ChatSession(EmbeddedClient(service), "scripted", persona=("your persona: p",))
        session.send("one")
        session.send("two")
    contexts = [c for batch in model.batches for c in batch]
    assert contexts[-1].turns == ("one", "you said: one", "two") and contexts[-1].persona == ("your persona: p",)


def test_unreachable_server_is_a_retryable_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    client = HttpClient(url, retries=2, backoff_s=0.01)
    started = time.monotonic()
    with pytest.raises(ServerUnavailable) as err:
        client.reply("echo", ["hi"])
    assert err.value.retryable and url in str(err.value) and "gave up after 3 attempts" in str(err.value)
    assert time.monotonic() - started < 30  # it gave up instead of hanging


def test_http_client_retries_503_until_the_queue_frees() -> None:
    gated = GatedModel(ScriptedModel("slow"))
    options = BatchingOptions(max_batch_size=1, batch_window_s=0.0, max_queue=1)
    with ModelService([(gated, options)], SafetyPipeline.from_config(None)) as service:
        running = start_http_server(service)
        patient = HttpClient(running.url, retries=50, backoff_s=0.05, max_wait_s=0.05)
        impatient = HttpClient(running.url, retries=1, backoff_s=0.01, max_wait_s=0.01)
        results: dict[str, object] = {}
        try:
            threads = [threading.Thread(target=lambda k=k: results.__setitem__(k, patient.reply("slow", [k])))
                       for k in ("a", "b")]
            threads[0].start()
            assert gated.entered.wait(10)
            threads[1].start()
            deadline = time.monotonic() + 10
            while service.batchers["slow"].queue_depth < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            with pytest.raises(ServerUnavailable) as busy:
                impatient.reply("slow", ["c"])
            assert busy.value.status == 503 and busy.value.retryable and busy.value.retry_after_s
            waiter = threading.Thread(target=lambda: results.__setitem__("d", patient.reply("slow", ["d"])))
            waiter.start()  # gets 503s and retries while the queue is full
            time.sleep(0.3)
            gated.gate.set()
            for thread in [*threads, waiter]:
                thread.join(30)
            assert {k: r.text for k, r in results.items()} == {  # type: ignore[attr-defined]
                "a": "you said: a", "b": "you said: b", "d": "you said: d"}
        finally:
            gated.gate.set()
            running.stop()


def test_one_client_keeps_a_connection_per_concurrent_chat() -> None:
    """A study shares one HttpClient among its chats' threads: 16 chats at once must keep 16 connections
    open and reuse them next turn (requests' default pool kept 10 and opened 6 new ones every turn)."""
    gated = GatedModel(ScriptedModel("slow"))
    options = BatchingOptions(max_batch_size=1, batch_window_s=0.0, max_queue=32)
    chats = 16

    def client_ports(port: int) -> set[int]:
        return {c.laddr.port for c in psutil.Process().net_connections(kind="tcp")
                if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED}

    with ModelService([(gated, options)], SafetyPipeline.from_config(None)) as service:
        running = start_http_server(service)
        port = int(running.url.rsplit(":", 1)[1])
        client = HttpClient(running.url, retries=0)
        try:
            seen = []
            for turn in range(2):
                gated.gate.clear()
                threads = [threading.Thread(target=client.reply, args=("slow", [f"{turn}-{i}"]))
                           for i in range(chats)]
                for thread in threads:
                    thread.start()
                deadline = time.monotonic() + 20  # all 16 in flight at once: one generating, 15 queued
                while service.batchers["slow"].queue_depth < chats - 1 and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert service.batchers["slow"].queue_depth == chats - 1
                gated.gate.set()
                for thread in threads:
                    thread.join(30)
                seen.append(client_ports(port))
            assert len(seen[0]) == chats
            assert seen[1] == seen[0]  # the second turn opened no connection
        finally:
            gated.gate.set()
            client.close()
            running.stop()


def test_open_client_picks_the_transport(server: RunningServer) -> None:
    from humaneval.models.server import server_config_from_dict

    remote = open_client(server=server.url)
    assert isinstance(remote, HttpClient) and remote.reply("echo", ["hi"]).text == "you said: hi"
    remote.close()
    config = server_config_from_dict({"models": [{"name": "e", "factory": "test_server_support:device_probe"}]})
    local = open_client(config=config, device="cuda:3")  # the override reaches the model, never forced to cpu
    assert isinstance(local, EmbeddedClient)
    assert local.models()["models"][0]["device"] == "cuda:3" and local.reply("e", ["yo"]).text == "you said: yo"
    local.close()


def test_default_client_serves_the_registry_demo_bot() -> None:
    """The path `chat` and launchers take on a fresh machine: the registry's default model, in-process."""
    client = open_client()
    try:
        assert [m["name"] for m in client.models()["models"]] == ["demo_bot"]
        session = ChatSession(client, "demo_bot")
        result = session.send("How are you?")
        assert result.action == "reply" and len(result.text.split()) >= 2
        assert result.bot_safety_record() is not None and session.history[0] == "How are you?"
    finally:
        client.close()
