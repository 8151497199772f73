"""BAD live chats with a model behind an OpenAI-compatible server, end to end.

A registry with the demo bot and an `openai_compatible` entry whose server is the real `transformers
serve` (a tiny random Llama, tests/openai_peer.py) behind a `FailingFront` proxy; a real local Mephisto
run (local architect, node router) with the models embedded (`model_server_url: null`), as a study using
its own registry would run. One worker chats with the remote model, labels, submits; one chats with the
demo bot. The remote model's answer times out once (the front holds a request longer than `timeout_s`):
the worker gets the same retryable error as when our own model server is down, their message kept, and
Retry gets the reply. The export names the remote model and carries every safety verdict, and the API key
(given through `api_key_env`) reaches the server's Authorization header and nothing we write or print.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from humaneval.bad_collection.chat_record import NOT_OK, OK
from humaneval.bad_collection.task import build_task
from humaneval.crowd.data_dir import open_database
from humaneval.crowd.export import export_to_file
from humaneval.crowd.launcher import ROUTER_LOG, LaunchSettings, LocalLaunch
from humaneval.crowd.simulated_worker import SimulatedWorker
from humaneval.studies import all_exports
from tests.bad_collection.support import CHECKS, Scenario, call, chat_until_finishable, wait_for_unit
from tests.openai_peer import Failure, FailingFront, TransformersServePeer, iter_text_files

pytestmark = pytest.mark.integration

KEY_ENV = "HUMANEVAL_TEST_REMOTE_BOT_KEY"
REMOTE_TIMEOUT_S = 3  # the remote entry's timeout_s; the front holds one request longer than this
BOT_TIMEOUT_S = 20  # the chat's own limit, longer: the remote model's timeout is what the worker meets


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TransformersServePeer]:
    with TransformersServePeer.start(tmp_path_factory.mktemp("peer") / "tiny") as running:
        yield running


def registry_with_remote_bot(path: Path, base_url: str, served_model: str) -> Path:
    """The demo bot and `remote_bot`, an openai_compatible entry reading its key from KEY_ENV."""
    path.write_text(
        "default: demo_bot\n"
        "models:\n"
        "  demo_bot: {path: pkg:models/demo_bot, max_batch_size: 8}\n"
        "  remote_bot:\n"
        "    kind: openai_compatible\n"
        f"    base_url: {base_url}\n"
        f"    model: {json.dumps(served_model)}\n"
        f"    api_key_env: {KEY_ENV}\n"
        "    max_tokens: 16\n"
        f"    timeout_s: {REMOTE_TIMEOUT_S}\n"
        "    retries: 1\n",
        encoding="utf-8")
    return path


def test_bad_chat_with_an_openai_compatible_model(tmp_path: Path, peer: TransformersServePeer,
                                                  monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
                                                  caplog: pytest.LogCaptureFixture) -> None:
    key = f"test-key-{secrets.token_hex(16)}"
    monkeypatch.setenv(KEY_ENV, key)
    caplog.set_level(logging.DEBUG, logger="humaneval")
    data_dir = tmp_path / "mephisto"
    with FailingFront(peer.base_url) as front:
        registry = registry_with_remote_bot(tmp_path / "models.yaml", front.base_url, peer.model)
        cfg, state = build_task([
            f"humaneval.data_dir={data_dir}",
            f"mephisto.blueprint.registry_file={registry}",
            "mephisto.blueprint.models={remote_bot: 1, demo_bot: 1}",  # the first worker gets remote_bot
            "mephisto.blueprint.min_turns=2",
            "mephisto.blueprint.onboarding_qualification=null",
            "mephisto.blueprint.max_conversations_per_worker=1",
            f"mephisto.blueprint.bot_timeout_seconds={BOT_TIMEOUT_S}",
            "mephisto.task.task_name=bad-remote",
        ])

        def crowd(facts: dict[str, Any]) -> None:
            worker = SimulatedWorker(run.base_url, "remote")
            session, _ = wait_for_unit(worker)
            assert session.agent_id, session.failure_reason
            live = worker.connect_live(session.agent_id)
            first = call(live, "send_message", text="hello there, who are you really?")
            assert first["ok"], first["error"]
            (asked,) = front.requests  # this worker's chat is the remote model's
            assert asked.path == "/v1/chat/completions" and asked.body["model"] == peer.model
            assert asked.body["messages"][-1] == {"role": "user", "content": "hello there, who are you really?"}
            assert asked.headers["Authorization"] == f"Bearer {key}"
            assert call(live, "label", turn_index=1, label=NOT_OK)["ok"]

            front.script(Failure(status=None, delay_s=REMOTE_TIMEOUT_S + 3))  # slower than timeout_s
            failed = call(live, "send_message", text="are you still there, my friend?")
            assert not failed["ok"] and failed["error"]["code"] == "model_unavailable" and failed["error"]["retryable"]
            assert failed["state"]["awaiting_bot"]
            assert failed["state"]["turns"][-1]["text"] == "are you still there, my friend?"
            assert key not in json.dumps(failed)
            retried = call(live, "retry_bot")  # the front passes this one on at once
            assert retried["ok"] and not retried["state"]["awaiting_bot"], retried["error"]
            final = chat_until_finishable(live, "remote", first=2)
            facts["remote_turns"] = [t["text"] for t in final["turns"]]
            worker.submit_task(session.agent_id, {"rating": 4, "comment": "random words"})
            live.close()

            other = SimulatedWorker(run.base_url, "local")
            session, _ = wait_for_unit(other)
            assert session.agent_id, session.failure_reason
            live = other.connect_live(session.agent_id)
            chat_until_finishable(live, "local")
            other.submit_task(session.agent_id, {"rating": 2, "comment": ""})
            live.close()

        with LocalLaunch(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
            scenario = Scenario(crowd)
            finished = run.wait_until(lambda: run.is_done() or bool(scenario.errors), timeout=240)
            scenario.thread.join(30)
            assert not scenario.errors, scenario.errors
            assert finished, run.task_run.get_assignment_statuses()
        # The first turn, the timed-out request and its retry (min_turns=2) all carried the key to the server.
        assert len(front.requests) == 3 and all(r.headers["Authorization"] == f"Bearer {key}" for r in front.requests)

    labels_file = tmp_path / "labels.jsonl"
    export_to_file(open_database(data_dir), "bad-remote", labels_file, all_exports())
    labels = [json.loads(line) for line in labels_file.read_text(encoding="utf-8").splitlines()]
    remote = [r for r in labels if r["model"] == "remote_bot"]
    assert {r["model"] for r in labels} == {"remote_bot", "demo_bot"}
    assert [r["text"] for r in remote] == scenario.facts["remote_turns"][1::2]  # every bot turn, the retried one too
    assert remote[0]["label"] == NOT_OK
    for record in remote:
        assert record["conversation_status"] == "complete" and record["label"] in (OK, NOT_OK)
        assert CHECKS <= set(record["safety"]) and record["safety_action"] in ("none", "flagged")
        assert isinstance(record["safety"]["string_matcher"]["unsafe"], bool)  # a rule: it always runs

    secret = key.encode()
    written = [labels_file, *iter_text_files(data_dir)]
    assert (data_dir / ROUTER_LOG).is_file() and len(written) > 3
    assert [str(p) for p in written if secret in p.read_bytes()] == []
    printed = capfd.readouterr()
    assert key not in printed.out and key not in printed.err and key not in caplog.text
