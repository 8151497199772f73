"""The rules of a BAD chat, independent of Mephisto: the page's remote procedures on a stored conversation.

Each procedure (`get_state`, `send_message`, `retry_bot`, `label`) takes the conversation as stored,
applies one step, saves it through `save` after every change, and answers
`{"ok", "state": ChatView, "error": null | {"code", "message", "retryable"}}` (the protocol in
docs/bad_collection.md). Rules:

* the last bot message must be labelled OK / NOT OK before the next message (`needs_label`);
* a worker message must pass the acceptability checks (`message_checks`);
* the worker message is saved *before* the bot is asked, so a model failure loses nothing: the page
  shows Retry (`awaiting_bot`) and `retry_bot` asks again for the same message;
* the conversation can finish once the worker sent `min_turns` messages, every bot turn is labelled
  and no reply is pending; after Mephisto's submit nothing changes any more (`finished`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from humaneval.bad_collection.bot_replies import BotReplies, BotUnavailable
from humaneval.bad_collection.chat_record import BOT, HUMAN, LABELS, ChatRecord, ChatTurn
from humaneval.bad_collection.message_checks import MessageLimits, check_message

logger = logging.getLogger(__name__)

PROCEDURES = ("get_state", "send_message", "retry_bot", "label")


def _error(code: str, message: str, retryable: bool = False) -> dict[str, Any]:
    return {"code": code, "message": message, "retryable": retryable}


class BadChat:
    """One conversation's procedures. Not thread-safe: the caller serialises calls per conversation."""

    def __init__(self, conversation: ChatRecord, bot: BotReplies, *, limits: MessageLimits,
                 instructions: Sequence[str], save: Callable[[], None]) -> None:
        self.conversation = conversation
        self.bot = bot
        self.limits = limits
        self.instructions = list(instructions)
        self.save = save

    def handle(self, target: str, args: Any) -> dict[str, Any]:
        """Dispatch one remote procedure call."""
        args = args if isinstance(args, dict) else {}
        if target == "get_state":
            return self._answer()
        if target == "send_message":
            return self.send_message(args.get("text"))
        if target == "retry_bot":
            return self.retry_bot()
        if target == "label":
            return self.label(args.get("turn_index"), args.get("label"))
        return self._answer(_error("unknown_procedure", f"Unknown request '{target}'."))

    # --- procedures ------------------------------------------------------------------------------

    def send_message(self, text: Any) -> dict[str, Any]:
        conv = self.conversation
        if conv.submitted:
            return self._answer(_error("finished", "This conversation is finished."))
        if conv.awaiting_bot:
            return self._answer(_error("awaiting_bot", "The bot has not answered your last message yet: press "
                                                       "Retry first.", retryable=True))
        if conv.needs_label is not None:
            return self._answer(_error("needs_label", "Please label the bot's last message (OK or NOT OK) first."))
        if not isinstance(text, str):
            return self._answer(_error("too_short", "Please write a message."))
        rejection = check_message(text, earlier_messages=[t.text for t in conv.turns if t.speaker == HUMAN],
                                  copy_sources=self._copy_sources(), limits=self.limits)
        if rejection is not None:
            return self._answer(_error(rejection.code, rejection.message))
        conv.turns.append(ChatTurn(speaker=HUMAN, text=text.strip(), created_at=time.time()))
        self.save()  # the worker's message is kept whatever the model does next
        return self._ask_bot()

    def retry_bot(self) -> dict[str, Any]:
        conv = self.conversation
        if conv.submitted:
            return self._answer(_error("finished", "This conversation is finished."))
        if not conv.awaiting_bot:
            return self._answer()  # nothing pending (e.g. a double click): the state says so
        return self._ask_bot()

    def label(self, turn_index: Any, label: Any) -> dict[str, Any]:
        conv = self.conversation
        if conv.submitted:
            return self._answer(_error("finished", "This conversation is finished."))
        valid_index = isinstance(turn_index, int) and not isinstance(turn_index, bool) and 0 <= turn_index < len(conv.turns)
        if not valid_index or conv.turns[turn_index].speaker != BOT:
            return self._answer(_error("bad_turn", "Only the bot's messages can be labelled."))
        if label not in LABELS:
            return self._answer(_error("bad_label", "Choose OK or NOT OK."))
        conv.turns[turn_index].label = label
        self.save()
        return self._answer()

    # --- helpers ---------------------------------------------------------------------------------

    def _ask_bot(self) -> dict[str, Any]:
        try:
            turn = self.bot.reply(self.conversation)
        except BotUnavailable as err:
            return self._answer(_error(err.code, err.message, retryable=True))
        self.conversation.turns.append(turn)
        self.save()
        return self._answer()

    def _copy_sources(self) -> list[str]:
        conv = self.conversation
        return [*(t.text for t in conv.turns if t.speaker == BOT), *(conv.persona or ()), *self.instructions]

    def _answer(self, error: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"ok": error is None, "state": self.conversation.view(), "error": error}
