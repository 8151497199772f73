"""One finished BAD unit as the review page shows it: the whole chat as the worker saw it, with their labels.

The page (`review serve`) renders generic blocks with textContent only, so strings stay as given. The chat is
the conversation the server saved after every turn, which Mephisto's export hands over as the unit's inputs
(`agent_state.BadChatAgentState.get_parsed_data`; the outputs are the page's final submission, whose rating and
comment the conversation already holds, checked). It is read leniently, not with `ChatRecord.from_dict`,
which refuses a damaged record: a reviewer must still see what is there. Human turns are `YOU`, bot turns
`BOT`, as the worker's page named them; each bot turn is tagged with the worker's label and, when the safety
layer acted, what it did and which checks called the reply unsafe. Every odd shape reads as "(not
recorded)", texts are capped at `MAX_TEXT` characters and lists at `MAX_ITEMS`.
"""

from __future__ import annotations

import math
from typing import Any

from humaneval.bad_collection.chat_record import BOT, HUMAN, NOT_OK, OK, SAFETY_FLAGGED, SAFETY_REPLACED
from humaneval.crowd.export import FinishedUnit

MAX_TEXT = 2000
MAX_ITEMS = 200
NOT_RECORDED = "(not recorded)"
SPEAKERS = {HUMAN: "YOU", BOT: "BOT"}  # frontend/src/bad/Transcript.jsx
LABEL_WORDS = {OK: "OK", NOT_OK: "NOT OK"}


def _text(value: Any) -> str:
    """A string as given, capped; anything else (missing, None, a list where text belongs) as not recorded."""
    if not isinstance(value, str):
        return NOT_RECORDED
    return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"


def _capped(value: Any) -> tuple[list[Any], int]:
    """The first `MAX_ITEMS` entries of a list (anything else: none) and how many were left out."""
    items = value if isinstance(value, list) else []
    return items[:MAX_ITEMS], max(0, len(items) - MAX_ITEMS)


def _seconds(started: Any, submitted: Any) -> str:
    """How long the chat took; "(not recorded)" unless both times are sane."""
    times = [t for t in (started, submitted) if isinstance(t, (int, float)) and not isinstance(t, bool)]
    if len(times) != 2 or not all(math.isfinite(t) for t in times) or times[1] < times[0]:
        return NOT_RECORDED
    return f"{times[1] - times[0]:.1f} s"


def _safety_note(turn: dict[str, Any]) -> str | None:
    """What the safety layer did with a bot reply, naming the checks that called it unsafe; None when nothing."""
    action = turn.get("safety_action")
    if action not in (SAFETY_FLAGGED, SAFETY_REPLACED):
        return None
    scores = turn.get("classifier_scores")
    checks = [_text(name) for name, verdict in (scores.items() if isinstance(scores, dict) else [])
              if isinstance(verdict, dict) and verdict.get("unsafe") is True][:MAX_ITEMS]
    return f"{action} by {', '.join(checks)}" if checks else action


def _turn(turn: Any) -> dict[str, str]:
    """A human turn, or a bot turn tagged with the worker's label and what the safety layer did."""
    turn = turn if isinstance(turn, dict) else {}
    speaker, text = turn.get("speaker"), _text(turn.get("text"))
    if speaker != BOT:
        return {"speaker": SPEAKERS[HUMAN] if speaker == HUMAN else NOT_RECORDED, "text": text, "note": ""}
    label = turn.get("label")
    notes = [LABEL_WORDS[label] if isinstance(label, str) and label in LABEL_WORDS else "not labelled"]
    safety = _safety_note(turn)
    return {"speaker": SPEAKERS[BOT], "text": text, "note": "; ".join(notes + [safety] if safety else notes)}


def _persona(value: Any) -> str:
    if value is None or value == []:
        return "(none)"
    lines, _ = _capped(value)
    return _text(" / ".join(line for line in lines if isinstance(line, str))) if lines else NOT_RECORDED


def _rating(value: Any) -> str:
    valid = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5
    return f"{value} of 5" if valid else NOT_RECORDED


def _turn_count(turns: Any) -> str:
    if not isinstance(turns, list):
        return NOT_RECORDED
    human = sum(isinstance(t, dict) and t.get("speaker") == HUMAN for t in turns)
    return f"{len(turns)} ({human} from the worker)"


def unit_view(unit: FinishedUnit, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The review blocks of one unit: a heading, the chat, and the chat's facts. `records` (one per labelled
    bot turn) add nothing the saved conversation does not hold, and leave out the turns left unlabelled."""
    chat = unit.inputs if isinstance(unit.inputs, dict) else {}
    turns, hidden = _capped(chat.get("turns"))
    model = _text(chat.get("model"))
    blocks: list[dict[str, Any]] = [
        {"kind": "heading", "text": f"Conversation {_text(chat.get('conversation_id'))}"},
        {"kind": "conversation", "title": f"Chat with {model}", "chosen": False, "turns": [_turn(t) for t in turns]},
    ]
    rows = [["Left out", f"{hidden} more turns not shown"]] if hidden else []
    rows += [
        ["Model", model],
        ["Persona", _persona(chat.get("persona"))],
        ["Rating", _rating(chat.get("rating"))],
        ["Comment", _text(chat.get("comment"))],
        ["Status", _text(chat.get("status"))],
        ["Turns", _turn_count(chat.get("turns"))],
        ["Time", _seconds(chat.get("started_at"), chat.get("submitted_at"))],
    ]
    blocks.append({"kind": "fields", "rows": rows})
    return blocks
