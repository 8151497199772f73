"""The bot's turn of a BAD chat: one call into the model layer, with the safety layer's verdicts.

Wherever the models run (in-process `EmbeddedClient`, or `HttpClient` to `python -m humaneval.models
serve`), a bot turn is one `/reply` with the worker's message screened off and the bot's reply screened
on: adversarial worker messages must reach the bot unchanged, and every bot reply gets every check's
verdict `{check: {unsafe, score, reason}}` recorded on its turn. `safety_mode` decides what the worker
sees when a check flags the reply: `raw` shows the model's reply anyway (BAD collects raw failures),
`replace` shows the safety layer's canned response as the safe chat does (the raw reply is still
recorded, and, as in ParlAI's safe_interactive, the bot's history restarts after it).

The bot's history is derived from the stored transcript at every turn rather than kept in memory, so
that a reload, a reconnect or a relaunch continues the same conversation; the call itself is the model
layer's `ChatSession.send`.

Model failures become a `BotUnavailable` whose code the page understands (`model_timeout`,
`model_unavailable`); the worker's message stays in the transcript and the worker can retry.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from humaneval.bad_collection.chat_record import (
    BOT,
    HUMAN,
    SAFETY_FLAGGED,
    SAFETY_NONE,
    SAFETY_REPLACED,
    ChatRecord,
    ChatTurn,
)
from humaneval.models.client import ChatSession, ModelClient, ModelServerError

logger = logging.getLogger(__name__)

SAFETY_MODES = ("raw", "replace")
# Screen the bot's reply only: the worker's adversarial message must reach the bot.
BAD_SAFETY_SWITCHES = {"human": False, "bot": True}
PERSONA_PREFIX = "your persona: "  # how ParlAI puts persona lines before the dialogue


class BotUnavailable(RuntimeError):
    """The model did not answer; retryable (the worker's message is kept)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def model_history(conversation: ChatRecord) -> list[str]:
    """The utterances the bot sees before the pending worker message (which is not included).

    In `replace` mode a replaced reply restarts the history after it, as the safe chat does."""
    turns = conversation.turns[:-1] if conversation.awaiting_bot else list(conversation.turns)
    start = 0
    if conversation.safety_mode == "replace":
        for index, turn in enumerate(turns):
            if turn.speaker == BOT and turn.safety_action == SAFETY_REPLACED:
                start = index + 1
    return [t.text for t in turns[start:]]


@dataclass
class BotReplies:
    """Makes bot turns for conversations through one model client."""

    client: ModelClient
    timeout_s: float = 30.0

    def reply(self, conversation: ChatRecord) -> ChatTurn:
        """The bot's turn answering the conversation's pending worker message."""
        assert conversation.awaiting_bot and conversation.turns[-1].speaker == HUMAN, "no worker message to answer"
        message = conversation.turns[-1].text
        persona = tuple(PERSONA_PREFIX + line for line in conversation.persona or ())
        session = ChatSession(self.client, conversation.model, persona=persona, safety=dict(BAD_SAFETY_SWITCHES),
                              history=model_history(conversation))
        started = time.monotonic()
        try:
            result = session.send(message, timeout_s=self.timeout_s)
        except ModelServerError as err:
            logger.warning("model %s failed on conversation %s: %s", conversation.model,
                           conversation.conversation_id, err)
            if err.status == 504 or (err.status is None and "within" in str(err)):
                raise BotUnavailable("model_timeout", "The bot took too long to answer. Your message is saved: "
                                                      "press Retry to ask the bot again.") from None
            raise BotUnavailable("model_unavailable", "The bot is not available right now. Your message is "
                                                      "saved: press Retry in a moment.") from None
        generated = result.generated if result.generated is not None else result.text
        if result.action == "reply":
            shown, action = result.text, SAFETY_NONE
        elif conversation.safety_mode == "replace":
            shown, action = result.text, SAFETY_REPLACED
        else:
            shown, action = generated, SAFETY_FLAGGED
        return ChatTurn(speaker=BOT, text=shown, created_at=time.time(), model_id=conversation.model,
                    classifier_scores=result.bot_safety_record(), safety_action=action, generated=generated,
                    latency_s=round(time.monotonic() - started, 4))
