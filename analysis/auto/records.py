"""Read the model replies of world logs, self-chats, chat-format logs and BAD exports into one table.

`analysis auto` measures replies, so every input is reduced to (model, reply text, where it was) plus the
safety verdicts a file already records. The model of each reply (docs/analysis_auto.md, "Which replies"):

- **world logs** (`models generate`, ParlAI `eval_model --world-logs`, human–bot chats): the second act of
  each pair is the model's reply and its speaker `id` names the model; a pair holding one act has no reply;
- **self-chats** (the `.metadata` sidecar says `self_chat: true`): both acts of every pair are the model's;
  the model is the sidecar's `opt.model` (both sides are one model), else each act's own speaker id;
- **chat-format logs** (`{"messages": [...]}`): the `assistant` messages; the model is the line's `model`,
  else the file name without its extension;
- **BAD turn labels** (`crowd export` of a BAD task, `task: "bad"`): each record is one bot reply of its
  `model`, with the verdicts of the safety checks the collection ran (`safety`);
- **BAD dialogues** (`bad_collection export`, `task: "bad"` with `turns`): the `bot` turns, model from
  the turn's `model_id` (else the line's `model`), verdicts from `classifier_scores`.

For BAD records the reply measured is `generated` (the model's own reply) when present: `text` is what
the worker saw, the safety layer's replacement message when it replaced the reply. Context acts
(personas, topics, system prompts) are never replies. The reading goes through
`humaneval.conversations.iter_conversations` (conversations) and `humaneval.jsonl` (exports); every
problem is an `InputError` naming the file, line and field, raised before anything is written.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from humaneval.conversations import ASSISTANT_ID, CHAT_SHAPE, Conversation, iter_conversations, read_metadata
from humaneval.input_errors import InputError
from humaneval.jsonl import iter_jsonl, iter_jsonl_objects

from analysis.stats.record_checks import RecordSources, is_finite_number, record_error, refuse_repeated_records

log = logging.getLogger(__name__)

WORLD_LOG, SELF_CHAT, CHAT_LOG = "world log", "self-chat", "chat-format log"
BAD_LABELS, BAD_DIALOGUES = "BAD turn labels", "BAD dialogues"
#: the suffix naming a safety check's verdict read from the file, not computed by `analysis auto`
RECORDED = " (recorded)"


@dataclass(frozen=True)
class Reply:
    """One model reply: who wrote it, what it says, where it is (`file:line`, and the field inside the line)."""

    model: str
    text: str
    source: str
    where: str
    recorded: dict[str, float]  # recorded check -> 1.0 unsafe, 0.0 safe (checks that did not run are absent)
    control: str = ""  # the control string that steered the reply, when the log records one
    context: tuple[str, ...] = ()  # the conversation's earlier turns, oldest first (what a safety check sees)


@dataclass
class Replies:
    """Every reply read, one row per reply, in reading order.

    `replies` columns: `model`, `text`, `source` (file:line), `where` (the field in the line), `format`,
    `control` (the registry control string the act or the sidecar records, "" when none), `context` (the
    earlier turns of the reply's conversation, a tuple; empty for BAD turn labels, which hold none).
    `recorded` has one column per safety check whose verdicts the files hold (`recorded_checks`, each
    named `<check> (recorded)`): 1.0 unsafe, 0.0 safe, NaN where that check did not judge the reply.
    `files` says per file its format, how its models were named and how many replies it gave.
    """

    replies: pd.DataFrame
    recorded: pd.DataFrame
    recorded_checks: list[str]
    models: list[str]
    files: list[dict[str, Any]]


def _first_value(path: Path) -> Any:
    """The first JSON value of the file (None when it has none), to tell an export from a conversation log."""
    for _line, value in iter_jsonl(path):
        return value
    return None


def _is_bad_export(value: Any) -> bool:
    return isinstance(value, dict) and value.get("task") == "bad"


def _text_field(value: Any, path: Path, line: int, where: str, *, nullable: bool = False) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise record_error(f"must be a string{' or null' if nullable else ''}, got {value!r}"[:200], path, line, where)
    return value


def _model_field(value: Any, path: Path, line: int, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise record_error(f"must be a non-empty string (the model), got {value!r}"[:200], path, line, where)
    return value


def _verdicts(value: Any, path: Path, line: int, where: str) -> dict[str, float]:
    """`{check: {unsafe: bool|null, score: number|null, ...}}` -> {check (recorded): 1.0 / 0.0}.

    A check did not run when it says `unsafe: null`, or (records written before that rule) `unsafe: false`
    with `score: null` (docs/formats.md, 'BAD turn labels'): it is left out, never counted as "safe"."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise record_error("must be an object {check: {unsafe, score, reason}} or null", path, line, where)
    out: dict[str, float] = {}
    for check, verdict in value.items():
        here = f"{where}.{check}"
        if not isinstance(verdict, dict):
            raise record_error("must be an object {unsafe, score, reason}", path, line, here)
        unsafe, score = verdict.get("unsafe"), verdict.get("score")
        if not (unsafe is None or isinstance(unsafe, bool)):
            raise record_error(f"must be true, false or null (did not run), got {unsafe!r}"[:200], path, line, here + ".unsafe")
        if score is not None and not is_finite_number(score):
            raise record_error(f"must be a number or null, got {score!r}"[:200], path, line, here + ".score")
        if unsafe is None or (unsafe is False and score is None):
            continue
        out[check + RECORDED] = float(unsafe)
    return out


def _bad_id(value: Any, path: Path, line: int, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise record_error(f"must be a non-empty string (or an integer), got {value!r}"[:200], path, line, where)
    return str(value)


def _bad_label_reply(rec: dict[str, Any], path: Path, line: int) -> Reply:
    generated = _text_field(rec.get("generated"), path, line, "generated", nullable=True)
    text = generated if generated is not None else _text_field(rec.get("text"), path, line, "text")
    return Reply(_model_field(rec.get("model"), path, line, "model"), text, f"{path}:{line}",
                 "generated" if generated is not None else "text", _verdicts(rec.get("safety"), path, line, "safety"))


def _bad_dialogue_replies(rec: dict[str, Any], path: Path, line: int) -> Iterator[Reply]:
    turns = rec.get("turns")
    if not isinstance(turns, list):
        raise record_error("must be a list of turns", path, line, "turns")
    earlier: list[str] = []
    for i, turn in enumerate(turns):
        where = f"turns[{i}]"
        if not isinstance(turn, dict):
            raise record_error("must be an object {speaker, text, ...}", path, line, where)
        if turn.get("speaker") not in ("human", "bot"):
            raise record_error(f"must be 'human' or 'bot', got {turn.get('speaker')!r}"[:200], path, line, where + ".speaker")
        if turn["speaker"] != "bot":
            earlier.append(_text_field(turn.get("text"), path, line, where + ".text"))
            continue
        model = turn.get("model_id")
        model = _model_field(rec.get("model") if model is None else model, path, line,
                             "model" if model is None else where + ".model_id")
        generated = _text_field(turn.get("generated"), path, line, where + ".generated", nullable=True)
        text = generated if generated is not None else _text_field(turn.get("text"), path, line, where + ".text")
        yield Reply(model, text, f"{path}:{line}", where + (".generated" if generated is not None else ".text"),
                    _verdicts(turn.get("classifier_scores"), path, line, where + ".classifier_scores"),
                    context=tuple(earlier))
        earlier.append(_text_field(turn.get("text"), path, line, where + ".text"))


def _bad_replies(path: Path, sources: RecordSources, keys: list[list[str]]) -> tuple[str, list[Reply]]:
    """The replies of a BAD export (turn labels, or dialogues when the first line has `turns`)."""
    out: list[Reply] = []
    kind: str | None = None
    for line, rec in iter_jsonl_objects(path):
        if rec.get("task") != "bad":
            raise record_error(f"must be 'bad' like the file's first record, got {rec.get('task')!r}"[:200], path, line, "task")
        this = BAD_DIALOGUES if "turns" in rec else BAD_LABELS
        kind = kind or this
        if this != kind:
            raise record_error(f"this line holds {this}, but the file's first line holds {kind}: a file holds one shape",
                               path, line, "turns")
        run = _bad_id(rec.get("run_id"), path, line, "run_id")
        conversation = _bad_id(rec.get("conversation_id"), path, line, "conversation_id")
        if kind == BAD_LABELS:
            turn = rec.get("turn_index")
            if isinstance(turn, bool) or not isinstance(turn, int) or turn < 0:
                raise record_error(f"must be an integer >= 0, got {turn!r}"[:200], path, line, "turn_index")
            out.append(_bad_label_reply(rec, path, line))
            identity = [run, conversation, str(turn)]
        else:
            out.extend(_bad_dialogue_replies(rec, path, line))
            identity = [run, conversation, ""]
        sources.add(path, line)
        for column, value in zip(keys, identity):
            column.append(value)
    return kind or BAD_LABELS, out


def _control(value: Any, fallback: str) -> str:
    """A recorded control string (`models generate` puts it on each model act, the sidecar in opt.control)."""
    return value if isinstance(value, str) else fallback


def _conversation_replies(conv: Conversation, path: Path, self_chat_model: str | None,
                          self_chat: bool, control: str) -> Iterator[Reply]:
    """The model replies of one conversation line (module docstring)."""
    source = f"{path}:{conv.source_line}"
    if conv.shape == CHAT_SHAPE:
        named = conv.extra.get("model")
        model = path.stem if named is None else _model_field(named, path, conv.source_line or 0, "model")
        texts = [turn.text for turn in conv.turns]
        for k, turn in enumerate(conv.turns):
            if turn.speaker == ASSISTANT_ID:
                yield Reply(model, turn.text, source, turn.source_field or "messages", {}, context=tuple(texts[:k]))
        return
    earlier: list[str] = []
    for i, pair in enumerate(conv.dialog):
        acts = [(j, turn) for j, turn in enumerate(pair) if not turn.is_context]
        chosen = {j for j, _turn in (acts if self_chat else acts[1:2])}
        for j, turn in acts:
            if j in chosen:
                yield Reply(self_chat_model or turn.speaker, turn.text, source, f"dialog[{i}][{j}]", {},
                            _control(turn.extra.get("control"), control), tuple(earlier))
            earlier.append(turn.text)


def _log_replies(path: Path) -> tuple[str, list[Reply], str]:
    """The replies of a world log / self-chat / chat-format log, its format, and how its models were named."""
    meta = read_metadata(path)
    self_chat = bool(meta and meta.self_chat)
    opt_model = meta.opt.get("model") if meta and self_chat else None
    self_chat_model = opt_model if isinstance(opt_model, str) and opt_model.strip() else None
    control = _control(meta.opt.get("control"), "") if meta else ""
    out: list[Reply] = []
    shape = None
    for conv in iter_conversations(path):
        shape = conv.shape
        out.extend(_conversation_replies(conv, path, self_chat_model, self_chat, control))
    if shape == CHAT_SHAPE:
        return CHAT_LOG, out, "the line's 'model', else the file name"
    if self_chat:
        how = "the sidecar's opt.model" if self_chat_model else "each act's speaker id (the sidecar names no opt.model)"
        return SELF_CHAT, out, how
    return WORLD_LOG, out, "the speaker id of each pair's second act"


def load_replies(paths: Sequence[str | Path], models: Sequence[str] = ()) -> Replies:
    """Read every file's model replies (module docstring); keep only `models` when some are named.

    A file with no model reply, and a BAD record given twice (same run, conversation and turn), are errors;
    so is a name in `models` that no file has a reply of (a typo would otherwise give an empty report)."""
    replies: list[Reply] = []
    formats: list[str] = []
    files: list[dict[str, Any]] = []
    sources = RecordSources()
    keys: list[list[str]] = [[], [], []]
    for raw in paths:
        path = Path(raw)
        if _is_bad_export(_first_value(path)):
            kind, found = _bad_replies(path, sources, keys)
            how = "the record's model" if kind == BAD_LABELS else "the bot turn's model_id, else the line's model"
        else:
            kind, found, how = _log_replies(path)
        if not found:
            raise InputError(f"holds no model replies (read as {kind})", path=path)
        replies += found
        formats += [kind] * len(found)
        files.append({"file": str(path), "format": kind, "model_named_by": how, "replies": len(found),
                      "models": sorted({r.model for r in found})})
    refuse_repeated_records(keys, sources, "run_id, conversation_id and turn_index", "turn_index")
    found_models = sorted({r.model for r in replies})
    missing = [m for m in models if m not in found_models]
    if missing:
        raise InputError(f"no reply of {', '.join(map(repr, missing))} in the logs (their models: "
                         f"{', '.join(found_models)})"[:1000], field="--model")
    frame = pd.DataFrame({"model": [r.model for r in replies], "text": [r.text for r in replies],
                          "source": [r.source for r in replies], "where": [r.where for r in replies],
                          "format": formats, "control": [r.control for r in replies],
                          "context": [r.context for r in replies]})
    checks = sorted({c for r in replies for c in r.recorded})
    recorded = pd.DataFrame([{c: r.recorded.get(c, math.nan) for c in checks} for r in replies],
                            columns=checks, dtype=float)
    if models:
        keep = frame["model"].isin(list(models)).to_numpy()
        frame, recorded = frame[keep].reset_index(drop=True), recorded[keep].reset_index(drop=True)
    ran = recorded.notna().any()
    checks = [c for c in checks if ran[c]]
    log.info("read %d replies of %d models from %d files", len(frame), frame["model"].nunique(), len(files))
    return Replies(replies=frame, recorded=recorded[checks], recorded_checks=checks,
                   models=sorted(frame["model"].unique()), files=files)


def mixed_controls(replies: Replies) -> str | None:
    """The first model whose replies carry more than one control string ("" = none), else None: ParlAI logs name
    the model act by its agent class, so a controlled and an uncontrolled run can arrive under one name, and
    pooled they would hide the very difference the report measures."""
    table = replies.replies
    counts = table.groupby("model", sort=True)["control"].nunique()
    mixed = counts[counts > 1]
    return str(mixed.index[0]) if len(mixed) else None
