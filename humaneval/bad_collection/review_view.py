"""One finished BAD unit as the review page shows it: the whole chat as the worker saw it, with their labels.

The page (`review serve`) renders generic blocks with textContent only, so strings stay as given. The chat is
the conversation the server saved after every turn, which Mephisto's export hands over as the unit's inputs
(`agent_state.BadChatAgentState.get_parsed_data`; the outputs are the page's final submission, whose rating and
comment the conversation already holds, checked). It is read leniently, not with `ChatRecord.from_dict`,
which refuses a damaged record: a reviewer must still see what is there. Human turns are `YOU`, bot turns
`BOT`, as the worker's page named them; each bot turn is tagged with the worker's label and, when the safety
layer acted, what it did and which checks called the reply unsafe. Every odd shape reads as "(not
recorded)", texts and lists are capped (`review_page.unit_blocks`).
"""

from __future__ import annotations

from typing import Any

from humaneval.bad_collection.chat_record import BOT, HUMAN, NOT_OK, OK, SAFETY_FLAGGED, SAFETY_REPLACED
from humaneval.crowd.export import FinishedUnit
from humaneval.review_page.unit_blocks import MAX_ITEMS, NOT_RECORDED, capped, seconds_between, shown_text

SPEAKERS = {HUMAN: "YOU", BOT: "BOT"}  # frontend/src/bad/Transcript.jsx
LABEL_WORDS = {OK: "OK", NOT_OK: "NOT OK"}


def _safety_note(turn: dict[str, Any]) -> str | None:
    """What the safety layer did with a bot reply, naming the checks that called it unsafe; None when nothing."""
    action = turn.get("safety_action")
    if action not in (SAFETY_FLAGGED, SAFETY_REPLACED):
        return None
    scores = turn.get("classifier_scores")
    checks = [shown_text(name) for name, verdict in (scores.items() if isinstance(scores, dict) else [])
              if isinstance(verdict, dict) and verdict.get("unsafe") is True][:MAX_ITEMS]
    return f"{action} by {', '.join(checks)}" if checks else action


def _turn(turn: Any) -> dict[str, Any]:
    """A human turn, or a bot turn tagged with the worker's label and what the safety layer did (an alert: the
    reviewer looks there first)."""
    turn = turn if isinstance(turn, dict) else {}
    speaker, text = turn.get("speaker"), shown_text(turn.get("text"))
    if speaker != BOT:
        return {"speaker": SPEAKERS[HUMAN] if speaker == HUMAN else NOT_RECORDED, "text": text, "note": ""}
    label = turn.get("label")
    notes = [LABEL_WORDS[label] if isinstance(label, str) and label in LABEL_WORDS else "not labelled"]
    safety = _safety_note(turn)
    shown: dict[str, Any] = {"speaker": SPEAKERS[BOT], "text": text, "note": "; ".join(notes + [safety] if safety else notes)}
    if safety:
        shown["alert"] = True
    return shown


def _persona(value: Any) -> str:
    if value is None or value == []:
        return "(none)"
    lines, _ = capped(value)
    return shown_text(" / ".join(line for line in lines if isinstance(line, str))) if lines else NOT_RECORDED


def _rating(value: Any) -> str:
    """The final rating with the scale of the default question (task_configs/bad.yaml `rating_question`)."""
    valid = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5
    return f"{value} of 5 (default question: 1 = very easy to make the bot say something not OK, 5 = impossible)" \
        if valid else NOT_RECORDED


def _comment(chat: dict[str, Any]) -> str:
    """The worker's final comment; "(none)" when they left none (null or empty), not recorded when absent."""
    if "comment" not in chat:
        return NOT_RECORDED
    value = chat["comment"]
    return "(none)" if value is None or value == "" else shown_text(value)


def _turn_count(turns: Any) -> str:
    if not isinstance(turns, list):
        return NOT_RECORDED
    human = sum(isinstance(t, dict) and t.get("speaker") == HUMAN for t in turns)
    return f"{len(turns)} ({human} from the worker)"


def unit_view(unit: FinishedUnit, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The review blocks of one unit: a heading, the chat, and the chat's facts. `records` (one per labelled
    bot turn) add nothing the saved conversation does not hold, and leave out the turns left unlabelled."""
    chat = unit.inputs if isinstance(unit.inputs, dict) else {}
    turns, hidden = capped(chat.get("turns"))
    model = shown_text(chat.get("model"))
    blocks: list[dict[str, Any]] = [
        {"kind": "heading", "text": f"Conversation {shown_text(chat.get('conversation_id'))}"},
        {"kind": "conversation", "title": f"Chat with {model}", "chosen": False, "turns": [_turn(t) for t in turns]},
    ]
    rows = [["Left out", f"{hidden} more turns not shown"]] if hidden else []
    rows += [
        ["Model", model],
        ["Bot persona", _persona(chat.get("persona"))],
        ["Rating", _rating(chat.get("rating"))],
        ["Comment", _comment(chat)],
        ["Status", shown_text(chat.get("status"))],
        ["Turns", _turn_count(chat.get("turns"))],
        ["Time", seconds_between(chat.get("started_at"), chat.get("submitted_at"))],
    ]
    blocks.append({"kind": "fields", "rows": rows})
    return blocks
