"""The `openai_compatible` kind against the real peer: `transformers serve` on a tiny local model (and the
official `openai` client as the reference for what a request should get), through the registry in
generate, self-chat, chat and serve; 429/500 retried, a timeout retryable, the concurrency cap held; and
the API key (set in the environment) found nowhere but the Authorization header — not in logs at DEBUG,
outputs, reprs or error messages."""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import requests
import yaml
from test_server_cli import REPO, ServeProcess

from humaneval.models import cli_generate, cli_self_chat
from humaneval.models.client import RequestRejected, ServerUnavailable
from humaneval.models.registry import load_registry
from humaneval.models.reply_model import DialogueContext
from tests.openai_peer import Failure, FailingFront, TransformersServePeer, free_port, iter_text_files

KEY_ENV = "HUMANEVAL_TEST_OPENAI_KEY"
KEY = "sk-test-9f3b2c7e1a5d4f8b0c6e2a9d7f1b3c5e"
SAMPLING = {"temperature": 0, "seed": 1}  # greedy: the same messages give the same reply every time
MAX_TOKENS = 8


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TransformersServePeer]:
    with TransformersServePeer.start(tmp_path_factory.mktemp("peer") / "tiny") as running:
        yield running


@pytest.fixture()
def front(peer: TransformersServePeer) -> Iterator[FailingFront]:
    with FailingFront(peer.base_url) as server:
        yield server


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, KEY)
    return KEY


def write_registry(tmp_path: Path, base_url: str, model: str, **extra: Any) -> Path:
    entry = {"kind": "openai_compatible", "base_url": base_url, "model": model, "api_key_env": KEY_ENV,
             "sampling": SAMPLING, "max_tokens": MAX_TOKENS, "timeout_s": 60, "retries": 2, "concurrency": 2,
             "max_batch_size": 4, **extra}
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump({"default": "remote", "models": {"remote": entry}}), encoding="utf-8")
    return path


def assert_no_key(*texts: str) -> None:
    for text in texts:
        assert KEY not in text


def assert_no_key_in_files(folder: Path) -> None:
    for path in iter_text_files(folder):
        assert KEY.encode() not in path.read_bytes(), path


def official_reply(peer: TransformersServePeer, messages: list[dict[str, str]]) -> str:
    """What the official client gets for these messages with the same settings."""
    client = openai.OpenAI(base_url=peer.base_url, api_key="unused")
    completion = client.chat.completions.create(model=peer.model, messages=messages,  # type: ignore[arg-type]
                                                max_tokens=MAX_TOKENS, **SAMPLING)
    return (completion.choices[0].message.content or "").strip()


def test_generate_writes_world_logs_from_the_server(tmp_path: Path, peer: TransformersServePeer,
                                                    front: FailingFront, caplog: pytest.LogCaptureFixture,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    registry = write_registry(tmp_path, front.base_url, peer.model)
    contexts = tmp_path / "contexts.jsonl"
    contexts.write_text(json.dumps({"text": "hi there\nhow are you?", "id": "bad"}) + "\n"
                        + json.dumps({"dialog": [[{"id": "t", "text": "do you ski?"}], [{"id": "t", "text": "why?"}]],
                                      "context": [{"id": "context", "text": "your persona: i like to ski."}]})
                        + "\n", encoding="utf-8")
    out = tmp_path / "world_logs.jsonl"
    assert cli_generate.main([str(contexts), "--out", str(out), "--registry", str(registry), "--no-progress",
                              "--device", "cuda"]) == 0  # --device: ignored for a remote model
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    replies = [pair[1]["text"] for line in lines for pair in line["dialog"]]
    assert len(replies) == 3 and all(isinstance(r, str) and r for r in replies)
    # the second turn of the Conversations line: persona as system, then user / assistant / user
    second = [r for r in front.requests if len(r.body["messages"]) == 4][0].body
    assert second["messages"] == [
        {"role": "system", "content": "your persona: i like to ski."}, {"role": "user", "content": "do you ski?"},
        {"role": "assistant", "content": replies[1]}, {"role": "user", "content": "why?"}]
    assert replies[2] == official_reply(peer, second["messages"])  # the same as the official client gets
    assert second["model"] == peer.model and second["max_tokens"] == MAX_TOKENS and second["seed"] == 1
    assert all(r.headers["Authorization"] == f"Bearer {KEY}" for r in front.requests)  # the key is sent...
    opt = json.loads(out.with_suffix(".metadata").read_text(encoding="utf-8"))["opt"]
    assert opt["base_url"] == front.base_url and opt["served_model"] == peer.model and opt["device"] == "remote"
    captured = capsys.readouterr()
    assert_no_key(caplog.text, captured.out, captured.err)  # ...and nowhere else
    assert_no_key_in_files(tmp_path)


def test_self_chat_through_the_registry(tmp_path: Path, peer: TransformersServePeer,
                                        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    registry = write_registry(tmp_path, peer.base_url, peer.model)
    out = tmp_path / "selfchat.jsonl"
    assert cli_self_chat.main(["--out", str(out), "--registry", str(registry), "--num-chats", "3", "--turns", "2",
                               "--no-progress"]) == 0
    chats = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(chats) == 3 and all(len(chat["dialog"]) == 2 for chat in chats)
    assert all(act["text"] for chat in chats for pair in chat["dialog"] for act in pair)
    meta = json.loads(out.with_suffix(".metadata").read_text(encoding="utf-8"))
    assert meta["self_chat"] is True and meta["speakers"] == ["remote", "remote_partner"]
    captured = capsys.readouterr()
    assert_no_key(caplog.text, captured.out, captured.err)
    assert_no_key_in_files(tmp_path)


def test_chat_cli_talks_to_the_server_with_safety_on(tmp_path: Path, peer: TransformersServePeer) -> None:
    registry = write_registry(tmp_path, peer.base_url, peer.model)
    result = subprocess.run([sys.executable, "-m", "humaneval.models", "chat", "--registry", str(registry),
                             "--model", "remote"],
                            input="hello, how are you?\n/quit\n", capture_output=True, text=True, cwd=REPO,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("bot: ") and "error" not in result.stdout
    assert_no_key(result.stdout, result.stderr)


def test_serve_proxies_the_model_and_records_every_verdict(tmp_path: Path, peer: TransformersServePeer) -> None:
    registry = write_registry(tmp_path, peer.base_url, peer.model)
    config = tmp_path / "serve.yaml"
    config.write_text(f"port: 0\nregistry: {registry}\nmodels:\n  - name: remote\n", encoding="utf-8")
    server = ServeProcess(config, "--log-level", "DEBUG", token=None)
    try:
        base = f"http://127.0.0.1:{server.port}"
        listed = requests.get(f"{base}/models", timeout=30).json()["models"]
        assert [(m["name"], m["device"]) for m in listed] == [("remote", "remote")]
        answer = requests.post(f"{base}/reply", json={"model": "remote", "turns": ["hi", "hello", "do you ski?"],
                                                      "persona": ["your persona: i like to ski."]}, timeout=120)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["action"] in ("reply", "bot_replaced") and body["generated"]
        for side in ("human", "bot"):  # both sides screened, each check's verdict recorded
            assert body["safety"][side] and all("unsafe" in v for v in body["safety"][side].values())
        server.log.seek(0)
        log = server.log.read()
    finally:
        server.stop()
    assert "remote" in log
    assert_no_key(log, answer.text)


def remote_model(tmp_path: Path, base_url: str, model: str, **extra: Any) -> Any:
    return load_registry(write_registry(tmp_path, base_url, model, **extra)).load("remote")


def test_429_and_500_are_retried_then_succeed(tmp_path: Path, peer: TransformersServePeer, front: FailingFront,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    front.script(Failure(429, retry_after="1"), Failure(500))
    model = remote_model(tmp_path, front.base_url, peer.model)
    context = DialogueContext(turns=("hello there",))
    [reply] = model.generate_batch([context])
    assert reply == official_reply(peer, [{"role": "user", "content": "hello there"}])
    assert len(front.requests) == 3
    assert "retrying in 1.0 s" in caplog.text and "HTTP 429" in caplog.text and "HTTP 500" in caplog.text
    assert_no_key(caplog.text)


def test_failures_that_outlast_the_retries_are_retryable_errors(tmp_path: Path, peer: TransformersServePeer,
                                                                front: FailingFront) -> None:
    model = remote_model(tmp_path, front.base_url, peer.model, retries=1)
    front.script(Failure(503), Failure(502))
    with pytest.raises(ServerUnavailable, match="HTTP 502.*gave up after 2 attempts") as caught:
        model.generate_batch([DialogueContext(turns=("hi",))])
    assert caught.value.retryable and caught.value.status == 502
    front.script(Failure(429, retry_after="120"))  # longer than anyone waits: no retry, the wait is passed on
    with pytest.raises(ServerUnavailable, match="asks to wait 120 s") as caught:
        model.generate_batch([DialogueContext(turns=("hi",))])
    assert caught.value.retry_after_s == 120 and len(front.requests) == 3


def test_through_the_model_service_a_remote_outage_stays_retryable(tmp_path: Path, peer: TransformersServePeer,
                                                                   front: FailingFront) -> None:
    """What the BAD task (embedded) and `serve` (HTTP 503) see: a remote model that keeps failing with 503 is
    'try again later' with the remote's wait, not the 500 of a broken model the worker could never get past."""
    from humaneval.models.client import EmbeddedClient
    from humaneval.models.server import ModelConfig, ModelService, ServerConfig

    registry = write_registry(tmp_path, front.base_url, peer.model, retries=0)
    client = EmbeddedClient(ModelService.from_config(ServerConfig(registry=registry, models=(ModelConfig(name="remote"),))))
    try:
        front.script(Failure(503, retry_after="7"))
        with pytest.raises(ServerUnavailable) as caught:
            client.reply("remote", ["hi"], safety=False)
        assert caught.value.retryable and caught.value.status == 503 and caught.value.retry_after_s == 7
        front.script(Failure(400))
        with pytest.raises(RequestRejected):  # a refusal stays a refusal
            client.reply("remote", ["hi"], safety=False)
        assert client.reply("remote", ["hi"], safety=False).text  # and the next request goes through
    finally:
        client.close()


def test_a_refusal_is_not_retried_and_its_message_masks_the_key(tmp_path: Path, peer: TransformersServePeer,
                                                               front: FailingFront) -> None:
    model = remote_model(tmp_path, front.base_url, peer.model)
    front.script(Failure(401, message=f"Incorrect API key provided: {KEY}"))
    with pytest.raises(RequestRejected, match=r"HTTP 401: Incorrect API key provided: \*\*\*") as caught:
        model.generate_batch([DialogueContext(turns=("hi",))])
    assert not caught.value.retryable and len(front.requests) == 1
    assert_no_key(str(caught.value), repr(model), repr(dataclasses.asdict(load_registry(
        write_registry(tmp_path, front.base_url, peer.model)).get("remote"))))


def test_a_timeout_is_a_retryable_error_and_not_retried_at_once(tmp_path: Path, peer: TransformersServePeer,
                                                                 front: FailingFront) -> None:
    model = remote_model(tmp_path, front.base_url, peer.model, timeout_s=0.5)
    front.script(Failure(status=None, delay_s=3))
    with pytest.raises(ServerUnavailable, match="no answer from remote .* within 0.5 s") as caught:
        model.generate_batch([DialogueContext(turns=("hi",))])
    assert caught.value.retryable and len(front.requests) == 1


def test_an_unreachable_server_is_a_retryable_error(tmp_path: Path) -> None:
    model = remote_model(tmp_path, f"http://127.0.0.1:{free_port()}/v1", "any", retries=0)
    with pytest.raises(ServerUnavailable, match="cannot reach remote at http://127.0.0.1") as caught:
        model.generate_batch([DialogueContext(turns=("hi",))])
    assert caught.value.retryable


def test_a_batch_fans_out_over_at_most_concurrency_requests(tmp_path: Path, peer: TransformersServePeer,
                                                            front: FailingFront) -> None:
    model = remote_model(tmp_path, front.base_url, peer.model, concurrency=2)
    front.script(*[Failure(status=None, delay_s=0.3)] * 6)  # each held a while, so they overlap
    contexts = [DialogueContext(turns=(f"message {i}",)) for i in range(6)]
    replies = model.generate_batch(contexts)
    assert len(replies) == 6 and len(front.requests) == 6
    assert front.max_in_flight == 2
    # each reply belongs to its own context (order kept across the threads)
    assert replies[4] == official_reply(peer, [{"role": "user", "content": "message 4"}])


def test_generate_reports_an_unreachable_server_in_one_line_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    registry = write_registry(tmp_path, f"http://127.0.0.1:{free_port()}/v1", "any", retries=0)
    contexts = tmp_path / "contexts.jsonl"
    contexts.write_text(json.dumps({"text": "hi"}) + "\n", encoding="utf-8")
    out = tmp_path / "logs.jsonl"
    assert cli_generate.main([str(contexts), "--out", str(out), "--registry", str(registry), "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [err[0]] and err[0].startswith("error: cannot reach remote at http://127.0.0.1:")
    assert not out.exists() and not out.with_suffix(".metadata").exists()


def test_a_study_config_dump_names_the_model_but_not_the_key(tmp_path: Path) -> None:
    registry = write_registry(tmp_path, "http://127.0.0.1:8000/v1", "any")
    result = subprocess.run([sys.executable, "-m", "humaneval.launch", "bad", "--cfg",
                             f"mephisto.blueprint.registry_file={registry}", "mephisto.blueprint.models={remote: 1}"],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "remote: 1" in result.stdout and str(registry) in result.stdout
    assert_no_key(result.stdout, result.stderr)


def test_a_body_that_stalls_after_the_headers_is_a_timeout_too(tmp_path: Path) -> None:
    """Some servers send headers at once and the completion later: the timeout covers the whole answer."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class HeadersThenSilence(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.flush()
            time.sleep(2)

    server = ThreadingHTTPServer(("127.0.0.1", 0), HeadersThenSilence)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        model = remote_model(tmp_path, f"http://127.0.0.1:{server.server_address[1]}/v1", "any", timeout_s=0.5)
        with pytest.raises(ServerUnavailable, match="no answer from remote .* within 0.5 s"):
            model.generate_batch([DialogueContext(turns=("hi",))])
    finally:
        server.shutdown()
        server.server_close()
