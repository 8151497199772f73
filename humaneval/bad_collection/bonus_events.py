"""What a BAD unit holds that a bonus rule can pay for (`humaneval.bonus` in task_configs/bad.yaml).

`conversation_completed`: 1 when the submitted conversation reached its end (`status: complete`, the turns
and labels the task asks for); `bot_turn_labelled`: the bot messages the worker labelled OK / NOT OK. Read
from the conversation the unit stored, as the export reads it."""

from __future__ import annotations

from humaneval.bad_collection.chat_record import BOT, COMPLETE, LABELS, ChatRecord
from humaneval.crowd.export import FinishedUnit


def count_events(unit: FinishedUnit) -> dict[str, int]:
    if not isinstance(unit.inputs, dict):
        return {"conversation_completed": 0, "bot_turn_labelled": 0}
    conversation = ChatRecord.from_dict(unit.inputs)
    labelled = sum(1 for turn in conversation.turns if turn.speaker == BOT and turn.label in LABELS)
    return {"conversation_completed": int(conversation.status == COMPLETE), "bot_turn_labelled": labelled}
