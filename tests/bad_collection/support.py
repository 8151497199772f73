"""Real test models for the BAD tests (served through the model server's `factory` mechanism) and
small helpers shared by the unit and integration tests."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from humaneval.bad_collection.chat_record import NOT_OK, OK
from humaneval.crowd.simulated_worker import LiveConnection

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
