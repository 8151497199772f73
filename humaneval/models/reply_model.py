"""The contract between whatever produces bot replies and whatever serves them.

Generators (Blender via transformers), the server, the embedded client and the CLIs all meet here,
so a model can be swapped for another (or for a remote server) without the callers changing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class DialogueContext:
    """What a bot sees before replying.

    `turns` are the utterances so far, oldest first, alternating speakers, the last one being the
    partner's message the bot must answer. `persona` holds context lines shown to the model before the
    dialogue (e.g. "your persona: i like to ski."), in the order ParlAI put them in the history.
    """

    turns: tuple[str, ...]
    persona: tuple[str, ...] = field(default_factory=tuple)


@runtime_checkable
class ReplyModel(Protocol):
    """A named model that answers a batch of dialogue contexts at once (batching is the caller's choice)."""

    name: str
    max_batch_size: int

    def generate_batch(self, contexts: list[DialogueContext]) -> list[str]:
        """One reply per context, in order."""
        ...
