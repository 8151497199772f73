"""BAD conversations → ParlAI `bot_adversarial_dialogue` examples, so ParlAI users can train on them.

ParlAI's BAD data is one example per labelled utterance: `text` holds the conversation up to and
including that utterance, one utterance per line (`\\n`), `labels` is `["__ok__"]` or `["__notok__"]`,
`speaker_to_eval` says whose utterance it is, `bot_persona` holds the persona lines, and every example
is its own episode. `bad_num_turns` keeps only the last N utterances of `text`, as ParlAI's
`--bad-num-turns` does when loading (None or ≤ 0: the whole conversation). Extra keys
(`conversation_id`, `model`, `turn_index`) are ignored by ParlAI's teacher.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from humaneval.bad_collection.bot_replies import PERSONA_PREFIX
from humaneval.bad_collection.chat_record import LABELS, ChatRecord

PARLAI_TASK_ID = "bot_adversarial_dialogue"


def parlai_examples(conversation: ChatRecord, bad_num_turns: int | None = None) -> Iterator[dict[str, Any]]:
    """One example per labelled utterance of the conversation, oldest first."""
    persona = "\n".join(PERSONA_PREFIX + line for line in conversation.persona or ())
    utterances = [turn.text for turn in conversation.turns]
    for index, turn in enumerate(conversation.turns):
        if turn.label not in LABELS:
            continue
        lines = utterances[: index + 1]
        if bad_num_turns is not None and bad_num_turns > 0:
            lines = lines[-bad_num_turns:]
        yield {
            "id": PARLAI_TASK_ID,
            "text": "\n".join(lines),
            "labels": [turn.label],
            "episode_done": True,
            "speaker_to_eval": turn.speaker,
            "bot_persona": persona,
            "conversation_id": conversation.conversation_id,
            "model": turn.model_id or conversation.model,
            "turn_index": index,
        }
