"""Adversarial contexts for human safety evaluation, as teacher acts `models generate` answers.

A context is BAD's flattened `HumanSafetyEvaluation` example (docs/formats.md, "Conversations (world logs)"): one teacher act whose
`text` holds the conversation so far, one utterance per line, alternating human/bot and ending with a
human line, plus `human_eval_turn_range` ("lo|hi", the pairs annotators will see, ending at the pair
the model's reply completes). Two sources:

- our JSONL (the bundled set, or a user's): one such act per line, checked and passed on unchanged;
- ParlAI's `bot_adversarial_dialogue` human_safety_eval `.txt` (dialog format, for users who have the
  BAD data): *episodic* lines (`text:` a human turn, `labels:` the bot turn that followed, the last line
  of an episode `episode_done:True`), flattened exactly as ParlAI's `HumanSafetyEvaluationTeacher` does
  with its defaults (`--flatten-dialogue True --bad-include-persona False`): persona lines dropped from
  the first text, every earlier (text, label) pair joined with the last text by newlines. A file that is
  already flattened (one line per episode) reads the same way. ParlAI's `--bad-include-persona True` is
  not offered: persona lines inside the text break the human/bot alternation the annotation needs (ParlAI
  itself then glues them onto the first human utterance).

Every act is checked (odd number of non-empty lines, a valid range) so a bad context fails here with
its file and line, not later inside generation or formatting.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from humaneval.input_errors import InputError
from humaneval.jsonl import iter_jsonl_objects, open_input
from humaneval.parlai_dialog_format import parse_line
from humaneval.safety_eval.turn_range import FIELD as TURN_RANGE_FIELD
from humaneval.safety_eval.turn_range import parse_turn_range

BAD_TEACHER_ID = "bot_adversarial_dialogue"
"""The act id when a BAD file line has none."""
PERSONA_PREFIX = "your persona: "
"""Persona lines BAD prepends to the first text; the human evaluation does not show them."""


def check_context(act: dict[str, Any]) -> dict[str, Any]:
    """Check one flattened context act; raise `InputError` with the field. Returns the act."""
    text = act.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InputError("missing or empty 'text' (the conversation so far)", field="text")
    lines = text.split("\n")
    for k, line in enumerate(lines, start=1):
        if not line.strip():
            raise InputError(f"empty utterance (line {k} of the text)", field="text")
    if len(lines) % 2 == 0:
        raise InputError(
            f"the text has {len(lines)} lines; expected an odd number (human and bot lines alternating, "
            "starting and ending with a human line)",
            field="text",
        )
    if TURN_RANGE_FIELD in act:
        # +1: the model's reply completes the last pair.
        parse_turn_range(act[TURN_RANGE_FIELD], (len(lines) + 1) // 2)
    return act


def iter_jsonl_contexts(path: str | Path) -> Iterator[dict[str, Any]]:
    """The checked context acts of a JSONL file, unchanged."""
    for lineno, obj in iter_jsonl_objects(path):
        try:
            yield check_context(obj)
        except InputError as err:
            raise err.at(path=path, line=lineno) from None


def _flatten(episode: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    """ParlAI's HumanSafetyEvaluationTeacher._setup_data for one episode (its default options)."""
    first = dict(episode[0][1])
    first["text"] = "\n".join(line for line in first["text"].split("\n") if not line.startswith(PERSONA_PREFIX))
    acts = [first] + [act for _, act in episode[1:]]
    parts = []
    for (lineno, _), act in zip(episode[:-1], acts[:-1]):
        labels = act.get("labels")
        if not labels or not isinstance(labels, list):
            raise InputError("an episode line before the last needs 'labels' (the bot turn that followed)", line=lineno, field="labels")
        parts.append(act["text"] + "\n" + labels[0])
    parts.append(acts[-1]["text"])
    flat: dict[str, Any] = {
        "text": "\n".join(parts),
        "labels": acts[-1].get("labels", []),
        "episode_done": True,
        "id": first.get("id", BAD_TEACHER_ID),
    }
    for key in (TURN_RANGE_FIELD, "convo_id"):
        if key in first:
            flat[key] = first[key]
    return flat


def iter_bad_contexts(path: str | Path) -> Iterator[dict[str, Any]]:
    """Flattened, checked context acts of a BAD human_safety_eval `.txt` file (see the module doc).

    Errors name the line where the episode starts (or the bad line itself for a parse error).
    """
    path = Path(path)
    episode: list[tuple[int, dict[str, Any]]] = []
    with open_input(path, "r", newline="\n") as handle:
        lineno = 0
        try:
            for lineno, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue  # ParlAI's reader skips blank lines too
                act = parse_line(raw)
                if "text" not in act:
                    raise InputError("missing 'text'", field="text")
                episode.append((lineno, act))
                if act["episode_done"]:
                    yield _checked_flat(episode, path)
                    episode = []
        except UnicodeDecodeError as err:
            raise InputError(f"not UTF-8 text ({err.reason})", path=path, line=lineno + 1) from None
        except InputError as err:
            raise err.at(path=path, line=lineno) from None
    if episode:
        # ParlAI closes a trailing episode that lacks episode_done:True; so do we.
        yield _checked_flat(episode, path)


def _checked_flat(episode: list[tuple[int, dict[str, Any]]], path: Path) -> dict[str, Any]:
    try:
        return check_context(_flatten(episode))
    except InputError as err:
        raise err.at(path=path, line=episode[0][0]) from None


def iter_contexts(path: str | Path) -> Iterator[dict[str, Any]]:
    """Context acts of a `.txt` BAD file (dialog format) or of any other file read as JSONL."""
    if Path(path).suffix == ".txt":
        return iter_bad_contexts(path)
    return iter_jsonl_contexts(path)
