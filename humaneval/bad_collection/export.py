"""BAD conversations → records: per-bot-turn labels (docs/formats.md, "Exports", the analysis input) and whole
dialogues (docs/formats.md, "BAD dialogues"). Its `EXPORT` (for `bad_chat`) is what `python -m humaneval.crowd export` writes: the
labels.

Nothing a worker said is lost: besides submitted units, the conversations of units that never
completed (returned, expired, disconnected, or a launcher that crashed mid-chat) are exported too,
marked `conversation_status: "incomplete"`, from the conversation saved after every turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from humaneval.bad_collection.blueprint import BLUEPRINT_TYPE_BAD
from humaneval.bad_collection.chat_record import BOT, LABELS, ChatRecord
from humaneval.crowd.export import FinishedUnit, StudyExport, finished_units
from humaneval.crowd.mephisto_api import AgentState, MephistoDB, Worker

SUBMITTED_AGENT_STATUSES = frozenset({AgentState.STATUS_COMPLETED, AgentState.STATUS_APPROVED,
                                      AgentState.STATUS_REJECTED, AgentState.STATUS_SOFT_REJECTED})


@dataclass(frozen=True)
class StoredChat:
    """A conversation with where it was collected."""

    conversation: ChatRecord
    run_id: str  # the task name (docs/formats.md, "Exports" `run_id`)
    task_run_id: str
    unit_id: str
    worker_id: str

    def common_fields(self) -> dict[str, Any]:
        """Where the conversation was collected: the fields every exported BAD record starts with."""
        return {
            "task": "bad",
            "run_id": self.run_id,
            "task_run_id": self.task_run_id,
            "unit_id": self.unit_id,
            "worker_id": self.worker_id,
            "conversation_id": self.conversation.conversation_id,
        }

    @property
    def times(self) -> tuple[float, float]:
        """(started_at, submitted_at); an unsubmitted conversation ends at its last turn."""
        conv = self.conversation
        end = conv.submitted_at if conv.submitted_at is not None else conv.last_activity
        return conv.started_at, max(end, conv.started_at)


def label_records(stored: StoredChat) -> Iterator[dict[str, Any]]:
    """One record per labelled bot turn (an unlabelled last bot turn of an unfinished chat has no label)."""
    conv = stored.conversation
    started, submitted = stored.times
    bot_turn = 0
    for index, turn in enumerate(conv.turns):
        if turn.speaker != BOT:
            continue
        bot_turn += 1
        if turn.label not in LABELS:
            continue
        yield {
            **stored.common_fields(),
            "turn_index": index,
            "bot_turn_number": bot_turn,
            "model": turn.model_id or conv.model,
            "text": turn.text,
            "generated": turn.generated,
            "label": turn.label,
            "safety": safety_record(turn.classifier_scores),
            "safety_action": turn.safety_action,
            "conversation_status": conv.status,
            "rating": conv.rating,
            "started_at": started,
            "submitted_at": submitted,
        }


def safety_record(verdicts: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """The turn's `safety` value (docs/formats.md, section 'BAD turn labels'): every check's verdict, a check that
    did not run as `unsafe: null`. Chats saved before not-run verdicts existed hold `unsafe: false` with `score:
    null` for a classifier slot without weights; those are written as not run too, so no export says such a check
    judged the reply safe."""
    out = {}
    for check, verdict in (verdicts or {}).items():
        if isinstance(verdict, dict) and verdict.get("unsafe") is False and verdict.get("score") is None:
            verdict = {**verdict, "unsafe": None}
        out[check] = verdict
    return out


def dialogue_record(stored: StoredChat) -> dict[str, Any]:
    """The whole conversation (docs/formats.md, "BAD dialogues") with where and when it was collected."""
    conv = stored.conversation
    started, submitted = stored.times
    return {
        **stored.common_fields(),
        "model": conv.model,
        "persona": conv.persona,
        **({"topic_image": conv.topic_image} if conv.topic_image else {}),
        "safety_mode": conv.safety_mode,
        "turns": [t.to_dict() for t in conv.turns],
        "rating": conv.rating,
        "comment": conv.comment,
        "conversation_status": conv.status,
        "started_at": started,
        "submitted_at": submitted,
    }


def _from_unit(unit: FinishedUnit) -> StoredChat | None:
    if not isinstance(unit.inputs, dict):
        return None
    return StoredChat(ChatRecord.from_dict(unit.inputs), unit.task_name, unit.task_run_id, unit.unit_id,
                              unit.worker_name)


def unit_records(unit: FinishedUnit) -> Iterator[dict[str, Any]]:
    stored = _from_unit(unit)
    if stored is not None:
        yield from label_records(stored)


def unfinished_conversations(db: MephistoDB, task_name: str) -> Iterator[StoredChat]:
    """Conversations of agents that never submitted (every run of the task), oldest first."""
    workers: dict[str, str] = {}
    for task in db.find_tasks(task_name=task_name):
        for agent in db.find_agents(task_id=task.db_id):
            if agent.get_status() in SUBMITTED_AGENT_STATUSES:
                continue
            conversation = getattr(agent.state, "conversation", None)
            if not isinstance(conversation, ChatRecord) or not conversation.turns:
                continue
            if agent.worker_id not in workers:
                workers[agent.worker_id] = Worker.get(db, agent.worker_id).worker_name
            yield StoredChat(conversation, task_name, str(agent.task_run_id), str(agent.unit_id),
                                     workers[agent.worker_id])


def all_conversations(db: MephistoDB, task_name: str) -> Iterator[StoredChat]:
    """Submitted conversations, then unfinished ones."""
    for unit in finished_units(db, task_name):
        stored = _from_unit(unit)
        if stored is not None:
            yield stored
    yield from unfinished_conversations(db, task_name)


def unfinished_records(db: MephistoDB, task_name: str) -> Iterator[dict[str, Any]]:
    for stored in unfinished_conversations(db, task_name):
        yield from label_records(stored)


EXPORT = StudyExport(BLUEPRINT_TYPE_BAD, unit_records=unit_records, task_records=unfinished_records)
