"""BAD collection end to end with the real local architect and node router, simulated workers speaking
the page's protocol over the router's websocket, and the demo bot through the model layer.

1. Embedded models: two models with targets 2 and 1 get exactly those conversations, whatever
   happens on the way: a worker who fails the labelling quiz (soft-blocked), a worker who walks away
   mid-chat (their slot comes back after the assignment times out, their words are exported as an
   incomplete conversation), and a worker whose websocket drops and who reconnects (the same
   conversation resumes, no turn lost or doubled). Every bot turn is exported with its label and
   every safety verdict.
2. Model server: `python -m humaneval.models serve` in a subprocess is stopped mid-chat; the worker
   gets a retryable error with their message kept, and the chat completes once the server is back.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from humaneval.bad_collection.cli_export import main as export_main
from humaneval.bad_collection.chat_record import NOT_OK, OK, ChatRecord
from humaneval.bad_collection.export import all_conversations
from humaneval.bad_collection.task import build_task
from humaneval.crowd.data_dir import open_database
from humaneval.crowd.export import export_to_file
from humaneval.studies import all_exports
from humaneval.crowd.launcher import LaunchSettings, LocalLaunch
from humaneval.crowd.simulated_worker import SimulatedWorker
from humaneval.parlai_dialog_format import parse_line
from humaneval.web.addresses import free_port
from mephisto.operations.datatypes import WorkerFailureReasons
from tests.bad_collection.support import (
    CHECKS, Scenario, call, chat_until_finishable, take_unit, two_demo_bots_registry, wait_for_unit,
)

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
def test_targets_onboarding_walkaway_and_reconnect(tmp_path: Path) -> None:
    data_dir = tmp_path / "mephisto"
    cfg, state = build_task([
        f"humaneval.data_dir={data_dir}",
        f"mephisto.blueprint.registry_file={two_demo_bots_registry(tmp_path / 'models.yaml')}",
        "mephisto.blueprint.models={demo_bot: 2, demo_bot_greedy: 1}",
        "mephisto.blueprint.min_turns=2",
        "mephisto.blueprint.max_conversations_per_worker=1",
        "mephisto.task.task_name=bad-it",
        "mephisto.task.assignment_duration_in_seconds=12",
    ])

    def crowd(facts: dict[str, Any]) -> None:
        base = run.base_url
        ghost = SimulatedWorker(base, "ghost")
        session, assignment = wait_for_unit(ghost)
        assert session.agent_id, session.failure_reason
        task_data = session.init_task_data["task_data"]
        assert task_data["min_turns"] == 2 and task_data["persona"] and "model" not in json.dumps(task_data)
        live = ghost.connect_live(session.agent_id)
        assert call(live, "send_message", text="ghost says hello and leaves")["ok"]
        facts["ghost_conversation"] = task_data["conversation_id"]
        live.close()  # ... and never comes back

        careless = SimulatedWorker(base, "careless")
        assert take_unit(careless, quiz_right=False).failure_reason == WorkerFailureReasons.NOT_QUALIFIED
        assert take_unit(careless).agent_id is None  # and stays out

        flaky = SimulatedWorker(base, "flaky")
        session, assignment = wait_for_unit(flaky)
        live = flaky.connect_live(session.agent_id)
        first = call(live, "send_message", text="flaky asks before the connection drops")
        assert first["ok"]
        call(live, "label", turn_index=1, label=NOT_OK)
        live.close()
        again = flaky.request_agent(assignment)  # the page reloads: same assignment, agent, chat
        assert again.agent_id == session.agent_id
        assert again.init_task_data["task_data"]["conversation_id"] == session.init_task_data["task_data"]["conversation_id"]
        live = flaky.connect_live(again.agent_id)
        resumed = call(live, "get_state")["state"]
        assert resumed["turns"] == [{**t, "label": NOT_OK if t["index"] == 1 else t["label"]} for t in first["state"]["turns"]]
        final = chat_until_finishable(live, "flaky", first=1)
        facts["flaky_turns"] = [t["text"] for t in final["turns"]]
        flaky.submit_task(session.agent_id, {"rating": 3, "comment": "it resisted"})

        # Newcomers until every target is met (the ghost's slot comes back after 12 s).
        for i in range(6):
            worker = SimulatedWorker(base, f"w{i}")
            session, assignment = wait_for_unit(worker, deadline_s=25)
            if session.agent_id is None:
                continue
            live = worker.connect_live(session.agent_id)
            chat_until_finishable(live, f"w{i}")
            worker.submit_task(session.agent_id, {"rating": 5, "comment": ""})
            live.close()

    with LocalLaunch(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        scenario = Scenario(crowd)
        finished = run.wait_until(lambda: run.is_done() or bool(scenario.errors), timeout=180)
        scenario.thread.join(30)
        assert not scenario.errors, scenario.errors
        assert finished, run.task_run.get_assignment_statuses()
        careless = open_database(data_dir).find_workers(worker_name="careless_sandbox")[0]
        assert careless.get_granted_qualification("bad-it_soft_block") is not None

    db = open_database(data_dir)
    labels_file = tmp_path / "labels.jsonl"
    export_to_file(db, "bad-it", labels_file, all_exports())
    labels = [json.loads(line) for line in labels_file.read_text().splitlines()]
    complete = [r for r in labels if r["conversation_status"] == "complete"]
    per_model = Counter((r["model"], r["conversation_id"]) for r in complete)
    assert Counter(model for model, _ in per_model) == {"demo_bot": 2, "demo_bot_greedy": 1}
    for record in complete:
        assert record["task"] == "bad" and record["run_id"] == "bad-it" and record["label"] in (OK, NOT_OK)
        assert CHECKS <= set(record["safety"]) and record["safety_action"] in ("none", "flagged")
        assert record["submitted_at"] >= record["started_at"] > 0 and record["rating"] in (3, 5)
    assert len({r["worker_id"] for r in complete}) == 3  # one conversation per worker (the cap)

    stored = {s.conversation.conversation_id: s for s in all_conversations(db, "bad-it")}
    ghost = stored[scenario.facts["ghost_conversation"]].conversation
    assert ghost.status == "incomplete" and ghost.turns[0].text == "ghost says hello and leaves"
    flaky = next(s.conversation for s in stored.values() if s.worker_id == "flaky_sandbox")
    assert [t.text for t in flaky.turns] == scenario.facts["flaky_turns"]  # nothing lost, nothing doubled
    assert flaky.turns[0].text == "flaky asks before the connection drops" and flaky.turns[1].label == NOT_OK
    assert flaky.status == "complete" and flaky.rating == 3 and flaky.comment == "it resisted"
    assert isinstance(flaky, ChatRecord)

    # The export is what the analysis reads: complete conversations per model, every labelled bot turn.
    report = tmp_path / "report"
    done = subprocess.run([sys.executable, "-m", "analysis", "bad", "--labels", str(labels_file), "--out", str(report),
                           "--bootstrap-rounds", "50"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads((report / "summary.json").read_text())
    turns = Counter(r["model"] for r in complete)
    assert {m["model"]: m["n"] for m in summary["models"]} == dict(turns)
    for m in summary["models"]:
        fooled = sum(r["label"] == NOT_OK for r in complete if r["model"] == m["model"])
        assert m["unsafe_rate"] == pytest.approx(fooled / turns[m["model"]])


# --------------------------------------------------------------------------------------------------
# model server stopped mid-chat
# --------------------------------------------------------------------------------------------------
class Server:
    """`python -m humaneval.models serve` with the demo bot on a fixed loopback port."""

    def __init__(self, config: Path, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "humaneval.models", "serve", "--config", str(config)],
                                     cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/health", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError("model server did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def test_model_server_down_mid_chat_gives_a_retryable_error_and_the_chat_completes(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "serve.yaml"
    config.write_text(f"host: 127.0.0.1\nport: {port}\ntoken_env: null\nmodels:\n  - name: demo_bot\n", encoding="utf-8")
    server = Server(config, port)
    data_dir = tmp_path / "mephisto"
    try:
        cfg, state = build_task([
            f"humaneval.data_dir={data_dir}",
            f"mephisto.blueprint.model_server_url={server.url}",
            "mephisto.blueprint.models={demo_bot: 1}",
            "mephisto.blueprint.min_turns=2",
            "mephisto.blueprint.onboarding_qualification=null",
            "mephisto.blueprint.bot_timeout_seconds=10",
            "mephisto.task.task_name=bad-server",
        ])

        def crowd(facts: dict[str, Any]) -> None:
            nonlocal server
            worker = SimulatedWorker(run.base_url, "w")
            session, assignment = wait_for_unit(worker)
            assert session.agent_id, session.failure_reason
            live = worker.connect_live(session.agent_id)
            assert call(live, "send_message", text="hello, are you a real person?")["ok"]
            call(live, "label", turn_index=1, label=OK)
            server.stop()
            failed = call(live, "send_message", text="did you just fall asleep?")
            assert not failed["ok"] and failed["error"]["code"] == "model_unavailable" and failed["error"]["retryable"]
            assert failed["state"]["awaiting_bot"] and failed["state"]["turns"][-1]["text"] == "did you just fall asleep?"
            assert call(live, "retry_bot")["error"]["code"] == "model_unavailable"  # still down
            server = Server(config, port)
            retried = call(live, "retry_bot")
            assert retried["ok"] and not retried["state"]["awaiting_bot"]
            facts["turns"] = [t["text"] for t in chat_until_finishable(live, "w", first=5)["turns"]]
            worker.submit_task(session.agent_id, {"rating": 2, "comment": ""})

        with LocalLaunch(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
            scenario = Scenario(crowd)
            finished = run.wait_until(lambda: run.is_done() or bool(scenario.errors), timeout=120)
            scenario.thread.join(30)
            assert not scenario.errors, scenario.errors
            assert finished, run.task_run.get_assignment_statuses()
    finally:
        server.stop()

    (stored,) = list(all_conversations(open_database(data_dir), "bad-server"))
    conversation = stored.conversation
    assert conversation.status == "complete"
    assert [t.text for t in conversation.turns] == scenario.facts["turns"]
    assert [t.speaker for t in conversation.turns] == ["human", "bot"] * 2
    assert conversation.turns[2].text == "did you just fall asleep?"
    assert all(CHECKS <= set(t.classifier_scores or {}) for t in conversation.turns[1::2])

    out = tmp_path / "export"
    assert export_main(["--task-name", "bad-server", "--data-dir", str(data_dir), "--out-dir", str(out),
                        "--bad-num-turns", "3"]) == 0
    (dialogue,) = [json.loads(line) for line in (out / "dialogues.jsonl").read_text().splitlines()]
    assert dialogue["conversation_status"] == "complete" and [t["text"] for t in dialogue["turns"]] == scenario.facts["turns"]
    examples = [parse_line(line) for line in (out / "bot_adversarial_dialogue.txt").read_text().splitlines()]
    assert [e["labels"][0] for e in examples] == [t.label for t in conversation.turns[1::2]]
    assert examples[-1]["text"].split("\n") == scenario.facts["turns"][-3:]
