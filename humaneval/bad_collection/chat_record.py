"""The record of one live BAD chat (docs/formats.md, "BAD dialogues"), as the server stores it after
every change.

It is not a ParlAI Conversations record (`humaneval.conversations`, the world-log format the model
layer writes and ACUTE and safety read): a live chat also holds the worker's label of every bot turn,
each safety verdict, the rules' numbers and the final rating, and it is saved half-finished. Hence its
own name, `ChatRecord` / `ChatTurn`.

The stored conversation is the record of truth: the page only ever sees a view of it (`view`), the
export reads it, and a reload, a reconnect or a relaunch after a crash continues from it. It is a
plain dataclass with a JSON round trip so that it can live in Mephisto's agent data directory and be
tested without Mephisto.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

from humaneval.input_errors import DamagedData

OK, NOT_OK = "__ok__", "__notok__"
LABELS = (OK, NOT_OK)
HUMAN, BOT = "human", "bot"

# What the safety layer did with a bot reply: nothing (no check flagged it), flagged but shown anyway
# (safety_mode raw: BAD collects raw failures), or replaced by the canned safe response (safety_mode replace).
SAFETY_NONE, SAFETY_FLAGGED, SAFETY_REPLACED = "none", "flagged", "replaced"

COMPLETE, INCOMPLETE = "complete", "incomplete"


def _copied(value: Any) -> Any:
    """`value` with its dicts, lists and tuples copied all the way down (what `dataclasses.asdict` does
    to a field's value), the rest shared: the record is saved after every turn and label, and asdict's
    generic deepcopy made that save cost milliseconds per turn on the bot turn's path."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copied(item) for item in value)
    return value


@dataclass
class ChatTurn:
    """One utterance. Bot turns carry the model, the worker's label and every safety verdict."""

    speaker: str  # HUMAN | BOT
    text: str  # what the worker saw
    created_at: float
    model_id: str | None = None  # the bot's model (None for human turns)
    label: str | None = None  # OK | NOT_OK (bot turns: the worker's label; human turns: unused)
    classifier_scores: dict[str, dict[str, Any]] | None = None  # {check: {unsafe, score, reason}}
    safety_action: str | None = None  # SAFETY_* for bot turns
    generated: str | None = None  # bot turns: the model's own reply (differs from `text` when replaced)
    latency_s: float | None = None  # bot turns: time the model layer took

    def to_dict(self) -> dict[str, Any]:
        """What `dataclasses.asdict` gives, without its deepcopy of every value."""
        return {name: _copied(getattr(self, name)) for name in _TURN_FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ChatTurn":
        if not isinstance(data, dict) or data.get("speaker") not in (HUMAN, BOT) or not isinstance(data.get("text"), str):
            raise DamagedData("a saved chat turn lacks a speaker (human or bot) or its text")
        if not isinstance(data.get("created_at"), (int, float)) or data.get("label") not in (None, *LABELS):
            raise DamagedData("a saved chat turn has no time, or a label other than OK / NOT OK")
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


_TURN_FIELDS = tuple(f.name for f in dataclasses.fields(ChatTurn))


@dataclass
class ChatRecord:
    """A conversation with one model, its rules' numbers and, once submitted, the worker's rating."""

    conversation_id: str
    model: str
    min_turns: int
    persona: list[str] | None = None
    topic_image: dict[str, str] | None = None  # the picture the page showed as the topic ({"url", "alt"})
    safety_mode: str = "raw"
    turns: list[ChatTurn] = field(default_factory=list)
    started_at: float = field(default_factory=time.time)
    submitted: bool = False
    submitted_at: float | None = None
    rating: int | None = None
    comment: str | None = None
    status: str = INCOMPLETE  # COMPLETE once submitted while `can_finish`

    # --- derived state (the page's ChatView is built from these) --------------------------------

    @property
    def human_turns(self) -> int:
        return sum(t.speaker == HUMAN for t in self.turns)

    @property
    def awaiting_bot(self) -> bool:
        """The last turn is a worker message with no bot reply yet (the model failed: retry)."""
        return bool(self.turns) and self.turns[-1].speaker == HUMAN

    @property
    def needs_label(self) -> int | None:
        """The first unlabelled bot turn, which must be labelled before the next message."""
        for index, turn in enumerate(self.turns):
            if turn.speaker == BOT and turn.label is None:
                return index
        return None

    @property
    def can_finish(self) -> bool:
        return (not self.submitted and self.human_turns >= self.min_turns and self.needs_label is None
                and not self.awaiting_bot)

    @property
    def last_activity(self) -> float:
        return self.turns[-1].created_at if self.turns else self.started_at

    def view(self) -> dict[str, Any]:
        """The page's ChatView (docs/bad_collection.md, protocol): no model name, no verdicts."""
        return {
            "turns": [{"index": i, "speaker": t.speaker, "text": t.text, "label": t.label if t.speaker == BOT else None}
                      for i, t in enumerate(self.turns)],
            "awaiting_bot": self.awaiting_bot,
            "needs_label": self.needs_label,
            "human_turns": self.human_turns,
            "min_turns": self.min_turns,
            "can_finish": self.can_finish,
            "finished": self.submitted,
        }

    def record_submission(self, final_data: Any, at: float | None = None) -> None:
        """Mephisto's submit: the rating and comment; complete only if the rules were met."""
        complete = self.can_finish
        data = final_data if isinstance(final_data, dict) else {}
        rating = data.get("rating")
        self.rating = rating if isinstance(rating, int) and not isinstance(rating, bool) and 1 <= rating <= 5 else None
        comment = data.get("comment")
        self.comment = comment if isinstance(comment, str) else None
        self.submitted = True
        self.submitted_at = time.time() if at is None else at
        self.status = COMPLETE if complete else INCOMPLETE

    # --- JSON ------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """What `dataclasses.asdict` gives (turns as dicts), without its deepcopy of every value."""
        return {name: [turn.to_dict() for turn in self.turns] if name == "turns" else _copied(getattr(self, name))
                for name in _RECORD_FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ChatRecord":
        """The saved record; `DamagedData` when it is not one (a hand-edited or truncated state.json)."""
        if not isinstance(data, dict):
            raise DamagedData(f"a saved chat is not an object: {type(data).__name__}")
        for key, kind in (("conversation_id", str), ("model", str), ("min_turns", int)):
            if not isinstance(data.get(key), kind) or isinstance(data.get(key), bool):
                raise DamagedData(f"a saved chat's {key!r} is missing or not a {kind.__name__}")
        turns = data.get("turns", [])
        if not isinstance(turns, list):
            raise DamagedData("a saved chat's 'turns' is not a list")
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["turns"] = [ChatTurn.from_dict(t) for t in turns]
        return cls(**values)


_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(ChatRecord))
