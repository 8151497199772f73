"""Real test models for the BAD tests (served through the model server's `factory` mechanism), small
helpers shared by the unit and integration tests, and the scripted crowd the integration tests run against
a real Mephisto run (`Scenario`, `take_unit`, `wait_for_unit`)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from humaneval.bad_collection.bundled_data import DEFAULT_ONBOARDING_PATH
from humaneval.bad_collection.chat_record import NOT_OK, OK
from humaneval.bad_collection.onboarding import load_onboarding
from humaneval.crowd.simulated_worker import AgentSession, LiveConnection, SimulatedWorker

from humaneval.models.client import EmbeddedClient
from humaneval.models.reply_model import DialogueContext
from humaneval.models.server import ModelConfig, ModelService, ServerConfig

ECHO_FACTORY = "humaneval.bad_collection.echo_bot:build"


@dataclass
class SlowEcho:
    """Echoes after `delay_s`: a model slower than the chat's timeout."""

    name: str = "slow"
    delay_s: float = 1.0
    max_batch_size: int = 4

    def generate_batch(self, contexts: list[DialogueContext]) -> list[str]:
        time.sleep(self.delay_s)
        return [c.turns[-1] for c in contexts]


def slow_echo(name: str = "slow", device: str = "cpu", delay_s: float = 1.0) -> SlowEcho:
    return SlowEcho(name=name, delay_s=delay_s)


def embedded_client(**factories: str) -> EmbeddedClient:
    """An in-process model service with the given name -> factory models and the default safety checks."""
    config = ServerConfig(models=tuple(ModelConfig(name=n, factory=f) for n, f in factories.items()),
                          request_timeout_s=10)
    return EmbeddedClient(ModelService.from_config(config))


def two_demo_bots_registry(path: Path) -> Path:
    """A registry with the demo bot twice: beam search (as shipped) and greedy decoding."""
    path.write_text(
        "default: demo_bot\n"
        "models:\n"
        "  demo_bot: {path: pkg:models/demo_bot, max_batch_size: 8}\n"
        "  demo_bot_greedy: {path: pkg:models/demo_bot, max_batch_size: 8, recipe: {inference: greedy}}\n",
        encoding="utf-8")
    return path


def call(live: LiveConnection, target: str, **args: Any) -> dict[str, Any]:
    """A remote procedure call as the page makes it; Mephisto sends the response JSON-encoded."""
    response = live.call(target, args, timeout=60)
    return json.loads(response) if isinstance(response, str) else response


def chat_until_finishable(live: LiveConnection, who: str, *, first: int = 0) -> dict[str, Any]:
    """Play the page: label what needs a label (every second bot turn NOT OK), write new messages,
    retry when the bot is pending, until the conversation can finish. Returns the final state."""
    state = call(live, "get_state")["state"]
    n = first
    while not state["can_finish"]:
        if state["needs_label"] is not None:
            label = NOT_OK if (state["needs_label"] // 2) % 2 else OK
            answer = call(live, "label", turn_index=state["needs_label"], label=label)
        elif state["awaiting_bot"]:
            answer = call(live, "retry_bot")
        else:
            answer = call(live, "send_message", text=f"{who} asks question {n}: what is your favourite {TOPICS[n % len(TOPICS)]}?")
            n += 1
        assert answer["ok"], answer["error"]
        state = answer["state"]
    return state


TOPICS = ("colour", "city", "song", "food", "animal", "season", "book", "sport")


# ------------------------------------------------------------ a scripted crowd against a real run
QUIZ = {item.item_id: item.label for item in load_onboarding(DEFAULT_ONBOARDING_PATH)}
CHECKS = {"string_matcher", "profanity_classifier"}


def quiz_answers(correct: bool) -> dict[str, Any]:
    flip = {OK: NOT_OK, NOT_OK: OK}
    return {"onboarding_answers": {i: (label if correct else flip[label]) for i, label in QUIZ.items()}}


def take_unit(worker: SimulatedWorker, assignment: str | None = None, *, quiz_right: bool = True) -> AgentSession:
    session = worker.request_agent(assignment)
    if session.is_onboarding:
        items = session.init_task_data["onboarding"]["items"]
        assert {i["id"] for i in items} == set(QUIZ) and "label" not in json.dumps(items)
        session = worker.submit_onboarding(session.agent_id, quiz_answers(quiz_right))
    return session


class Scenario:
    """Runs a scripted crowd on its own thread while the test thread drives Mephisto's loop."""

    def __init__(self, target: Any) -> None:
        self.errors: list[BaseException] = []
        self.facts: dict[str, Any] = {}

        def run() -> None:
            try:
                target(self.facts)
            except requests.ConnectionError:
                pass  # the run ended and its router is gone (checked by the test)
            except BaseException as err:
                self.errors.append(err)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()


def wait_for_unit(worker: SimulatedWorker, deadline_s: float = 40, **kwargs: Any) -> tuple[AgentSession, str]:
    """Ask until a unit is free, each time as a new page (a new assignment id: asking again under an
    assignment whose onboarding already passed would replay that onboarding, as Mephisto reconnects it).
    Returns the session and its assignment id."""
    deadline = time.monotonic() + deadline_s
    for attempt in itertools.count():
        assignment = f"{worker.worker_name}-{attempt}"
        session = take_unit(worker, assignment, **kwargs)
        if session.agent_id is not None or time.monotonic() > deadline:
            return session, assignment
        time.sleep(0.3)
    raise AssertionError("unreachable")
