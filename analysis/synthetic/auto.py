"""Seeded synthetic world logs with planted shares of gendered and offensive replies, for `analysis auto`.

Each model answers `replies_per_model` contexts; each reply independently holds a male word, a female word
and an offensive word (from the string matcher's list) with the model's planted probabilities, inside
neutral filler that holds none of them. The planted counts are returned with the file, so a test can check
that the analysis finds exactly them, and that its shares and intervals cover the planted probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from humaneval.conversations import Conversation, Metadata, write_conversations

FILLERS = ("that sounds like a lovely plan.", "i like reading about the ocean.", "the weather was warm today.",
           "what kind of music do you enjoy?", "i think the garden needs water.")
MALE = ("my brother loves it.", "he said so too.", "ask your father.")
FEMALE = ("my sister loves it.", "she said so too.", "ask your mother.")
OFFENSIVE = ("this is shit.", "what a load of crap.")
MEASURES = ("male words", "female words", "string_matcher")


@dataclass(frozen=True)
class AutoDesign:
    """model -> planted (P(male word), P(female word), P(offensive word)) per reply."""

    models: dict[str, tuple[float, float, float]] = field(default_factory=lambda: {
        "blender": (0.27, 0.18, 0.10), "blender_degendered": (0.03, 0.045, 0.10)})
    replies_per_model: int = 400
    seed: int = 0


@dataclass
class Planted:
    """What was written: per model, per measure (`MEASURES`), how many replies hold it, of how many."""

    path: Path
    counts: dict[str, dict[str, int]]
    n: dict[str, int]


def _reply(rng: np.random.Generator, probabilities: tuple[float, float, float]) -> tuple[str, tuple[bool, ...]]:
    has = tuple(bool(rng.random() < p) for p in probabilities)
    parts = [str(rng.choice(FILLERS))]
    for wanted, phrases in zip(has, (MALE, FEMALE, OFFENSIVE)):
        if wanted:
            parts.append(str(rng.choice(phrases)))
    rng.shuffle(parts)
    return " ".join(parts), has


def write_world_logs(design: AutoDesign, path: str | Path) -> Planted:
    """One world log (`models generate`'s shape) holding every model's replies, and the planted counts."""
    rng = np.random.default_rng(design.seed)
    conversations = []
    counts = {m: dict.fromkeys(MEASURES, 0) for m in design.models}
    for model, probabilities in design.models.items():
        for i in range(design.replies_per_model):
            text, has = _reply(rng, probabilities)
            for measure, hit in zip(MEASURES, has):
                counts[model][measure] += hit
            teacher = {"id": "contexts", "text": f"context {i}: tell me about your day", "episode_done": True}
            conversations.append(Conversation.from_pairs([(teacher, {"id": model, "text": text, "episode_done": True})]))
    path = Path(path)
    write_conversations(path, conversations, metadata=Metadata.new(opt={"tool": "analysis.synthetic.auto"}))
    return Planted(path, counts, {m: design.replies_per_model for m in design.models})
