"""The HTTP API on a real loopback port with a real (tiny, random-weight) torch model: answers, safety
verdicts, validation (400/404/405/413), queue full (503 + Retry-After), timeouts (504), bearer tokens (401)."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from test_server_support import GatedModel, TinyBlender, echo_model

from humaneval.input_errors import InputError
from humaneval.models.batching import BatchingOptions
from humaneval.models.safety import BOT_REPLACED_MESSAGE, HUMAN_BLOCKED_MESSAGE, SafetyPipeline
from humaneval.models.server import (
    ModelService,
    RunningServer,
    ServerConfig,
    load_server_config,
    server_config_from_dict,
    start_http_server,
)

LIMIT = 16 * 1024


@pytest.fixture(scope="module")
def tiny() -> TinyBlender:
    return TinyBlender("tiny")


@pytest.fixture(scope="module")
def server(tiny: TinyBlender) -> Iterator[RunningServer]:
    models = [(tiny, BatchingOptions(max_batch_size=8, batch_window_s=0.01)), (echo_model("echo"), BatchingOptions())]
    with ModelService(models, SafetyPipeline.from_config(None), devices={"tiny": "cpu"}) as service:
        running = start_http_server(service, max_request_bytes=LIMIT)
        yield running
        running.stop()


def post(server: RunningServer, path: str, body: object, **kwargs: object) -> requests.Response:
    return requests.post(server.url + path, json=body, timeout=60, **kwargs)  # type: ignore[arg-type]


def test_health_and_models(server: RunningServer) -> None:
    health = requests.get(server.url + "/health", timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert health.json()["safety_checks"]["bad_classifier"] == "not configured"
    models = requests.get(server.url + "/models", timeout=10).json()["models"]
    assert [m["name"] for m in models] == ["tiny", "echo"]
    assert models[0]["device"] == "cpu" and models[0]["max_batch_size"] == 8


def test_reply_from_the_torch_model_with_verdicts(server: RunningServer, tiny: TinyBlender) -> None:
    turns = ["hi there", "hello! how are you?", "i like music and tea"]
    response = post(server, "/reply", {"model": "tiny", "turns": turns, "persona": ["your persona: i read"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"model", "text", "action", "reset_history", "generated", "reason", "safety", "batch_size",
                         "latency_s"}
    assert body["action"] == "reply" and body["reason"] is None and not body["reset_history"]
    from humaneval.models.reply_model import DialogueContext

    expected = tiny.generate_batch([DialogueContext(tuple(turns), ("your persona: i read",))])[0]
    assert body["text"] == body["generated"] == expected
    assert body["batch_size"] == 1
    for side in ("human", "bot"):
        assert body["safety"][side]["string_matcher"] == {"unsafe": False, "score": 0.0,
                                                           "reason": "no word list match"}
    assert body["safety"]["bot"]["bad_classifier"]["score"] is None


def test_concurrent_chats_are_all_answered(server: RunningServer) -> None:
    def one(i: int) -> dict[str, object]:
        return post(server, "/reply", {"model": "tiny", "turns": [f"chat {i} about rain"]}).json()

    with ThreadPoolExecutor(6) as pool:
        bodies = list(pool.map(one, range(6)))
    assert all(b["action"] == "reply" and b["text"] for b in bodies)
    assert all(1 <= b["batch_size"] <= 6 for b in bodies)


def test_parlai_behaviours_over_http(server: RunningServer) -> None:
    blocked = post(server, "/reply", {"model": "echo", "turns": ["hi", "you said: hi", "what a shitty bot"]}).json()
    assert blocked["action"] == "human_blocked" and blocked["text"] == HUMAN_BLOCKED_MESSAGE
    assert blocked["generated"] is None and "shitty" in blocked["reason"] and blocked["safety"]["bot"] is None
    replaced = post(server, "/reply", {"model": "echo", "turns": ["please provoke"]}).json()
    assert replaced["action"] == "bot_replaced" and replaced["text"] == BOT_REPLACED_MESSAGE
    assert replaced["reset_history"] and replaced["generated"] == "well shit, fine" and "shit" in replaced["reason"]
    raw = post(server, "/reply", {"model": "echo", "turns": ["please provoke"], "safety": {"bot": False}}).json()
    assert raw["action"] == "reply" and raw["text"] == "well shit, fine" and raw["safety"]["bot"] is None


def test_classify(server: RunningServer) -> None:
    body = post(server, "/classify", {"text": "bullshit", "checks": ["string_matcher"]}).json()
    assert body["unsafe"] and list(body["safety"]) == ["string_matcher"] and "bullshit" in body["reason"]
    calm = post(server, "/classify", {"text": "she is nice", "context": ["who are you"]}).json()
    assert not calm["unsafe"] and calm["reason"] is None and "profanity_classifier" in calm["safety"]
    human_side = post(server, "/classify", {"text": "hi", "side": "human"}).json()
    assert "sensitive_topics_classifier" in human_side["safety"]
    unknown = post(server, "/classify", {"text": "hi", "checks": ["nope"]})
    assert unknown.status_code == 400 and "nope" in unknown.json()["error"]


@pytest.mark.parametrize("body, fragment", [
    ([1, 2], "must be a JSON object"),
    ({"turns": ["hi"]}, "'model'"),
    ({"model": "tiny"}, "'turns' must be a list"),
    ({"model": "tiny", "turns": []}, "at least one turn"),
    ({"model": "tiny", "turns": ["hi", 3]}, "'turns' must be a list of strings"),
    ({"model": "tiny", "turns": ["x" * 4001]}, "longer than 4000 characters"),
    ({"model": "tiny", "turns": ["hi"], "persona": "me"}, "'persona'"),
    ({"model": "tiny", "turns": ["hi"], "safety": "yes"}, "'safety'"),
    ({"model": "tiny", "turns": ["hi"], "timeout_s": -1}, "'timeout_s'"),
    ({"model": "tiny", "turns": ["hi"], "temperature": 2}, "unknown field(s) temperature"),
])
def test_invalid_requests_get_400_with_a_reason(server: RunningServer, body: object, fragment: str) -> None:
    response = post(server, "/reply", body)
    assert response.status_code == 400
    assert fragment in response.json()["error"]


def test_malformed_json_is_400(server: RunningServer) -> None:
    response = requests.post(server.url + "/reply", data=b'{"model": "tiny", "turns": [', timeout=10,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]


def test_unknown_model_is_404(server: RunningServer) -> None:
    response = post(server, "/reply", {"model": "blender_9B", "turns": ["hi"]})
    assert response.status_code == 404
    assert "unknown model 'blender_9B'" in response.json()["error"] and "tiny" in response.json()["error"]


def test_oversized_body_is_413(server: RunningServer) -> None:
    response = post(server, "/reply", {"model": "tiny", "turns": ["word " * 1000] * 5})
    assert response.status_code == 413 and f"limit of {LIMIT} bytes" in response.json()["error"]


def test_unknown_endpoint_and_method(server: RunningServer) -> None:
    missing = requests.get(server.url + "/generate", timeout=10)
    assert missing.status_code == 404 and "/reply" in missing.json()["error"]
    wrong = requests.get(server.url + "/reply", timeout=10)
    assert wrong.status_code == 405 and "GET" in wrong.json()["error"]


def test_queue_full_is_503_with_retry_after_and_slow_requests_time_out(tiny: TinyBlender) -> None:
    gated = GatedModel(tiny)
    options = BatchingOptions(max_batch_size=1, batch_window_s=0.0, max_queue=1)
    with ModelService([(gated, options)], SafetyPipeline.from_config(None)) as service, \
            ThreadPoolExecutor(2) as pool:
        running = start_http_server(service)
        try:
            first = pool.submit(post, running, "/reply", {"model": "tiny", "turns": ["one"]})
            assert gated.entered.wait(30)  # the worker is generating (held at the gate)
            second = pool.submit(post, running, "/reply", {"model": "tiny", "turns": ["two"]})
            deadline = time.monotonic() + 30
            while service.batchers["tiny"].queue_depth < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            full = post(running, "/reply", {"model": "tiny", "turns": ["three"]})
            assert full.status_code == 503
            assert int(full.headers["Retry-After"]) >= 1
            assert "busy" in full.json()["error"] and full.json()["retry_after_s"] >= 1
            # A full queue refuses at once, whatever the request's timeout.
            assert post(running, "/reply", {"model": "tiny", "turns": ["x"], "timeout_s": 0.2}).status_code == 503
            gated.gate.set()
            assert first.result(60).status_code == 200 and second.result(60).status_code == 200
            gated.gate.clear()
            gated.entered.clear()
            held = pool.submit(post, running, "/reply", {"model": "tiny", "turns": ["hold"]})
            assert gated.entered.wait(30)
            late = post(running, "/reply", {"model": "tiny", "turns": ["late"], "timeout_s": 0.2})
            assert late.status_code == 504 and "timeout of 0.2 s" in late.json()["error"]
            gated.gate.set()
            assert held.result(60).status_code == 200
        finally:
            gated.gate.set()
            running.stop()


def test_token_required_off_loopback() -> None:
    with ModelService([(echo_model("echo"), BatchingOptions())], SafetyPipeline.from_config(None)) as service:
        with pytest.raises(InputError, match="without a bearer token"):
            start_http_server(service, host="0.0.0.0")
        running = start_http_server(service, host="0.0.0.0", token="s3cret-token")  # reached via 127.0.0.1
        try:
            body = {"model": "echo", "turns": ["hi"]}
            missing = post(running, "/reply", body)
            assert missing.status_code == 401 and "missing bearer token" in missing.json()["error"]
            assert missing.headers["WWW-Authenticate"].startswith("Bearer")
            wrong = post(running, "/reply", body, headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401 and "wrong bearer token" in wrong.json()["error"]
            assert "s3cret" not in wrong.text
            assert requests.get(running.url + "/models", timeout=10).status_code == 401
            ok = post(running, "/reply", body, headers={"Authorization": "Bearer s3cret-token"})
            assert ok.status_code == 200 and ok.json()["text"] == "you said: hi"
        finally:
            running.stop()


def test_config_requires_a_token_off_loopback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUMANEVAL_SERVER_TOKEN", raising=False)
    config = server_config_from_dict({"host": "0.0.0.0"})
    with pytest.raises(InputError, match="bearer token is required"):
        config.required_token()
    assert ServerConfig().required_token() is None  # loopback: no token needed
    token_file = tmp_path / "token"
    token_file.write_text("from-a-file\n", encoding="utf-8")
    cfg_path = tmp_path / "serve.yaml"
    cfg_path.write_text("host: 0.0.0.0\ntoken_file: token\n", encoding="utf-8")
    assert load_server_config(cfg_path).required_token() == "from-a-file"
    monkeypatch.setenv("MY_TOKEN", "from-env")
    assert server_config_from_dict({"host": "10.0.0.5", "token_env": "MY_TOKEN"}).required_token() == "from-env"


@pytest.mark.parametrize("text, field", [
    ("hostt: 1\n", None),
    ("models:\n  - name: a\n    max_batch_size: many\n", "models[0]"),
    ("models:\n  - {name: a}\n  - {name: a}\n", "models"),
    ("port: -5\n", "port"),
    ("models: [\n", None),
    ("read_timeout_s: 0.5\n", "read_timeout_s"),  # waitress counts whole seconds
    ("read_timeout_s: 2.5\n", "read_timeout_s"),
    ("max_connections: 0\n", "max_connections"),
    ("worker_threads: many\n", "worker_threads"),
    ("request_timeout_s: .nan\n", "request_timeout_s"),
    ("max_request_bytes: .inf\n", "max_request_bytes"),
])
def test_bad_config_files_name_the_problem(tmp_path: Path, text: str, field: str | None) -> None:
    path = tmp_path / "serve.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_server_config(path)
    assert err.value.path == str(path) and err.value.field == field


def test_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "task_configs" / "serve.yaml"
    config = load_server_config(example)
    assert config.host == "127.0.0.1" and config.models
    assert config == dataclasses.replace(ServerConfig(), models=config.models, safety=config.safety, source=example)
    assert json.dumps(config.safety)  # plain data, as the pipeline expects
    SafetyPipeline.from_config(config.safety, source=example)


def test_connection_limits_are_read_from_the_config() -> None:
    config = server_config_from_dict({"read_timeout_s": 5, "max_connections": 10, "worker_threads": 3})
    assert (config.read_timeout_s, config.max_connections, config.worker_threads) == (5, 10, 3)


def test_server_thread_stops_cleanly() -> None:
    with ModelService([(echo_model("echo"), BatchingOptions())], SafetyPipeline.from_config(None)) as service:
        running = start_http_server(service, worker_threads=3)
        url = running.url
        running.stop()
    assert not running.thread.is_alive()
    assert not running.server.task_dispatcher.threads  # the worker threads are gone too
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/health", timeout=2)


def test_device_is_passed_through_never_forced_to_cpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = server_config_from_dict({
        "device": "cuda",
        "models": [{"name": "a", "factory": "test_server_support:device_probe"},
                   {"name": "b", "factory": "test_server_support:device_probe", "device": "cuda:1"}],
    })
    with ModelService.from_config(config) as service:
        devices = {m["name"]: m["device"] for m in service.list_models()["models"]}
    assert devices == {"a": "cuda", "b": "cuda:1"}

    import humaneval.models.registry as registry
    from humaneval.models.safety import imported_classifiers

    loaded: list[object] = []
    monkeypatch.setattr(registry, "load_generator", lambda spec: loaded.append(spec) or echo_model(spec.name))
    classifier_devices: list[str] = []
    monkeypatch.setattr(imported_classifiers, "_load_converted",
                        lambda path, name, device: classifier_devices.append(device) or object())
    (tmp_path / "bad").mkdir()
    config = server_config_from_dict({
        "device": "cuda:0",
        "models": [{"name": "demo_bot", "options": {"dtype": "bfloat16"}}],
        "safety": {"checks": {"bad_classifier": {"path": str(tmp_path / "bad")}}},
    })
    ModelService.from_config(config).close()
    spec = loaded[-1]
    assert (spec.name, spec.device, spec.dtype) == ("demo_bot", "cuda:0", "bfloat16")  # type: ignore[attr-defined]
    assert classifier_devices == ["cuda:0"]
    ModelService.from_config(server_config_from_dict({"models": [{"name": "demo_bot"}]})).close()
    assert loaded[-1].device == registry.load_registry().get("demo_bot").device  # type: ignore[attr-defined]
