"""ParlAI Conversations JSONL (world logs, self-chats, human–model logs) as typed records.

Every stage that touches chat logs — `models generate` / `self-chat` writing them, the safety
formatter and the ACUTE pairings builder reading them — goes through this module, so that the quirks
of the format live in one place (docs/formats.md, "Conversations (world logs)"):

- a line is `{"dialog": [[act, act], ...], "context": [act, ...], "metadata_path": ..., ...}`;
  `dialog` is a list of act *pairs* (`[teacher act, model act]` in `eval_model --world-logs` logs,
  two model acts in self-chats); the last pair may hold a single act;
- acts carry many keys besides `id` and `text` (`episode_done`, `beam_texts`, `metrics`,
  `eval_labels`, ...). We keep every one of them, in their original order, so a file read and
  written again is byte-identical when it was written by `json.dumps` (as ParlAI does);
- acts whose id is `context` (personas, topics) normally sit in the top-level `context` list, but
  older self-chat logs put them inside `dialog`; `Conversation.turns` skips them wherever they are and
  `Conversation.context_turns` collects them from both places;
- the optional sidecar `<file minus extension>.metadata` holds `{"date", "opt", "self_chat",
  "speakers", "version"}` plus any extra keys.

Chat-format logs (the OpenAI messages shape every LLM stack writes: `{"messages": [{"role", "content"},
...], "model"?: ...}`) are read here too, so the pairings builder and the safety formatter take them
without a converter. They become ordinary `Conversation`s: leading `system` / `developer` messages are
context acts, `user` and `assistant` messages (strictly alternating, user first) are `[user, assistant]`
pairs with speaker ids `user` and `assistant`, the last pair may hold the user's act alone. Content is
a string or OpenAI content parts of type `text` (joined with newlines); anything else (images, audio,
tool calls) is refused with the field that holds it. A file holds one shape: a line of the other shape
is an error naming that line.

Reading streams one line at a time (logs reach millions of lines); a bad line raises `InputError`
with file, line and field. Writing is atomic (temp file + rename), sidecar included.

Small API::

    for conv in iter_conversations("logs.jsonl"):        # streaming
        for turn in conv.turns: print(turn.speaker, turn.text)
    meta = read_metadata("logs.jsonl")                   # None when there is no sidecar
    conv = Conversation.from_pairs([(teacher_act, model_act), ...], context=["your persona: ..."])
    write_conversations("out.jsonl", [conv], metadata=Metadata.new(speakers=["teacher", "bot"]))
"""

from __future__ import annotations

import datetime
import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from humaneval.input_errors import InputError
from humaneval.jsonl import iter_jsonl, read_json_document
from humaneval.outputs import staged_outputs

logger = logging.getLogger(__name__)

CONTEXT_ID = "context"
"""Act id ParlAI uses for persona/topic acts (`Conversations.save_conversations(context_ids=...)`)."""

METADATA_VERSION = "0.1"
"""The only metadata version ParlAI has written so far."""

PARLAI_SHAPE = "ParlAI dialog"
"""A `{"dialog": [[act, act], ...], ...}` line."""
CHAT_SHAPE = "chat messages"
"""A `{"messages": [{"role": ..., "content": ...}, ...], ...}` line (OpenAI chat format)."""

USER_ID = "user"
"""Speaker id of `user` messages: the human partner."""
ASSISTANT_ID = "assistant"
"""Speaker id of `assistant` messages: the bot under evaluation."""
CHAT_CONTEXT_ROLES = ("system", "developer")
"""Roles read as context acts (OpenAI renamed `system` to `developer` for its reasoning models)."""
CHAT_ROLES = (*CHAT_CONTEXT_ROLES, USER_ID, ASSISTANT_ID)

# Sentinels for how an act held its text, so that a round trip writes back exactly what was read.
_TEXT_PRESENT = "present"
_TEXT_MISSING = "missing"
_TEXT_NULL = "null"


class _BadAct(Exception):
    """Internal: an act failed a check; the caller adds where it was."""

    def __init__(self, problem: str, suffix: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.suffix = suffix


@dataclass(slots=True)
class Turn:
    """One act: who spoke (`speaker`, ParlAI's `id`), what was said, and every other key untouched.

    `extra` holds all other keys of the act (`episode_done`, `beam_texts`, `metrics`, ...). The
    original key order is remembered so that `to_act()` reproduces the act exactly.
    """

    speaker: str
    text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    _key_order: tuple[str, ...] = field(default=(), repr=False, compare=False)
    _text_form: str = field(default=_TEXT_PRESENT, repr=False, compare=False)
    source_field: str | None = field(default=None, repr=False, compare=False)
    """Where a chat-format turn came from (`messages[3]`), so later checks can name the field; None for acts."""

    @property
    def is_context(self) -> bool:
        """Persona/topic act rather than an utterance."""
        return self.speaker == CONTEXT_ID

    @classmethod
    def from_act(cls, act: Any, *, where: str = "act", path: str | Path | None = None, line: int | None = None) -> Turn:
        """Check and wrap one ParlAI act (a JSON object with a string `id`)."""
        try:
            return cls._from_act(act)
        except _BadAct as bad:
            raise InputError(bad.problem, path=path, line=line, field=where + bad.suffix) from None

    @classmethod
    def _from_act(cls, act: Any) -> Turn:
        # Hot path (millions of acts in big logs): no location strings unless something is wrong.
        if type(act) is not dict:
            raise _BadAct(f"expected an act object, got {type(act).__name__}")
        speaker = act.get("id")
        if type(speaker) is not str or not speaker:
            raise _BadAct("act has no speaker id (a non-empty string 'id')", ".id")
        extra = act.copy()
        del extra["id"]
        if "text" not in act:
            text, form = "", _TEXT_MISSING
        else:
            text = extra.pop("text")
            if text is None:
                text, form = "", _TEXT_NULL
            elif type(text) is str:
                form = _TEXT_PRESENT
            else:
                raise _BadAct(f"text must be a string, got {type(text).__name__}", ".text")
        return cls(speaker, text, extra, tuple(act), form)

    def to_act(self) -> dict[str, Any]:
        """The act as ParlAI writes it: original keys in original order, new keys after them."""
        values: dict[str, Any] = dict(self.extra)
        values["id"] = self.speaker
        if self._text_form == _TEXT_PRESENT or self.text:
            values["text"] = self.text
        elif self._text_form == _TEXT_NULL:
            values["text"] = None
        act = {key: values.pop(key) for key in self._key_order if key in values}
        if not self._key_order:  # built in code: ParlAI's own order, id first
            act = {"id": values.pop("id")}
            if "text" in values:
                act["text"] = values.pop("text")
        act.update(values)
        return act


@dataclass
class Conversation:
    """One episode: the act pairs, the top-level context acts and any other top-level keys.

    `source_path` / `source_line` say where it was read from, so later stages (pairings) can point
    users at the exact line of a problem. They are not written back.
    """

    dialog: list[list[Turn]]
    context: list[Turn] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    source_path: str | None = field(default=None, compare=False)
    source_line: int | None = field(default=None, compare=False)
    shape: str = field(default=PARLAI_SHAPE, compare=False)
    """`PARLAI_SHAPE` or `CHAT_SHAPE`: how the line was written (chat logs name their bot `assistant`)."""
    _key_order: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def turns(self) -> list[Turn]:
        """The utterances in order, without context acts (wherever those were stored)."""
        return [turn for pair in self.dialog for turn in pair if not turn.is_context]

    @property
    def context_turns(self) -> list[Turn]:
        """Persona/topic acts: the top-level `context` list, then any `context` acts inside `dialog`."""
        return list(self.context) + [turn for pair in self.dialog for turn in pair if turn.is_context]

    @property
    def speakers(self) -> list[str]:
        """Speaker ids in order of first appearance (the rule ParlAI uses for metadata `speakers`)."""
        seen: dict[str, None] = {}
        for turn in self.turns:
            seen.setdefault(turn.speaker, None)
        return list(seen)

    @property
    def metadata_path(self) -> str | None:
        """The `metadata_path` ParlAI stores on every line (may point to where the log was first written)."""
        value = self.extra.get("metadata_path")
        return value if isinstance(value, str) else None

    @classmethod
    def from_pairs(
        cls,
        pairs: Iterable[Sequence[Turn | Mapping[str, Any]]],
        *,
        context: Iterable[str | Turn | Mapping[str, Any]] = (),
        **extra: Any,
    ) -> Conversation:
        """Build a conversation in code (generate / self-chat): pairs of acts, context as strings or acts.

        Context strings become `{"id": "context", "text": s, "episode_done": False}` acts, as ParlAI
        writes them.
        """
        dialog = [[_as_turn(act) for act in pair] for pair in pairs]
        ctx = [
            Turn(CONTEXT_ID, item, {"episode_done": False}) if isinstance(item, str) else _as_turn(item)
            for item in context
        ]
        return cls(dialog=dialog, context=ctx, extra=dict(extra))

    @classmethod
    def from_line(cls, obj: Any, *, path: str | Path | None = None, line: int | None = None) -> Conversation:
        """One parsed line of either shape (`line_shape`); every problem is an `InputError` naming the field."""
        if line_shape(obj) == CHAT_SHAPE:
            return cls.from_chat(obj, path=path, line=line)
        return cls.from_json(obj, path=path, line=line)

    @classmethod
    def from_chat(cls, obj: dict[str, Any], *, path: str | Path | None = None, line: int | None = None) -> Conversation:
        """Check and map one chat-format line (module docstring); other top-level keys (`model`, ...) are kept."""
        try:
            context, dialog = _chat_turns(obj.get("messages"))
        except _BadAct as bad:
            raise InputError(bad.problem, path=path, line=line, field="messages" + bad.suffix) from None
        return cls(
            dialog=dialog,
            context=context,
            extra={k: v for k, v in obj.items() if k != "messages"},
            source_path=str(path) if path is not None else None,
            source_line=line,
            shape=CHAT_SHAPE,
        )

    @classmethod
    def from_json(cls, obj: Any, *, path: str | Path | None = None, line: int | None = None) -> Conversation:
        """Check and wrap one parsed ParlAI line; every problem is an `InputError` naming the field."""
        if not isinstance(obj, dict):
            raise InputError(f"expected a JSON object, got {type(obj).__name__}{chat_list_hint(obj)}", path=path, line=line)
        if "dialog" not in obj:
            raise InputError("missing key 'dialog' (a list of act pairs)", path=path, line=line, field="dialog")
        raw_dialog = obj["dialog"]
        if not isinstance(raw_dialog, list):
            raise InputError(
                f"'dialog' must be a list of act pairs, got {type(raw_dialog).__name__}", path=path, line=line, field="dialog"
            )
        dialog: list[list[Turn]] = []
        make = Turn._from_act
        for i, pair in enumerate(raw_dialog):
            if type(pair) is not list:
                raise InputError(
                    f"each dialog entry must be a list of acts (a pair), got {type(pair).__name__}",
                    path=path,
                    line=line,
                    field=f"dialog[{i}]",
                )
            try:
                dialog.append([make(act) for act in pair])
            except _BadAct:
                for j, act in enumerate(pair):  # find the bad act again, now naming its place
                    Turn.from_act(act, where=f"dialog[{i}][{j}]", path=path, line=line)
                raise
        raw_context = obj.get("context", [])
        if raw_context is None:
            raw_context = []
        if not isinstance(raw_context, list):
            raise InputError(
                f"'context' must be a list of acts, got {type(raw_context).__name__}", path=path, line=line, field="context"
            )
        context = [Turn.from_act(act, where=f"context[{i}]", path=path, line=line) for i, act in enumerate(raw_context)]
        extra = {k: v for k, v in obj.items() if k not in ("dialog", "context")}
        return cls(
            dialog=dialog,
            context=context,
            extra=extra,
            source_path=str(path) if path is not None else None,
            source_line=line,
            _key_order=tuple(k for k in obj if not (k == "context" and obj[k] is None)),
        )

    def to_json(self) -> dict[str, Any]:
        """The line as ParlAI writes it (`dialog`, `context`, then the other keys, unless read otherwise)."""
        values: dict[str, Any] = {
            "dialog": [[turn.to_act() for turn in pair] for pair in self.dialog],
            **self.extra,
        }
        if self.context or "context" in self._key_order or not self._key_order:
            values["context"] = [turn.to_act() for turn in self.context]
        order = self._key_order or ("dialog", "context", "metadata_path")
        line = {key: values.pop(key) for key in order if key in values}
        line.update(values)
        return line


def _as_turn(act: Turn | Mapping[str, Any]) -> Turn:
    return act if isinstance(act, Turn) else Turn.from_act(dict(act))


def chat_list_hint(obj: Any) -> str:
    """A hint for an error message when a line is a bare list of chat messages, else "".

    We refuse those (a bare list already means ParlAI's list of pairs to the safety formatter) but say how
    to wrap them.
    """
    if type(obj) is list and obj and type(obj[0]) is dict and "role" in obj[0]:
        return ' (a bare list of chat messages? write each line as {"messages": [...]})'
    return ""


def line_shape(obj: Any) -> str:
    """`CHAT_SHAPE` for an object with `messages` and no `dialog`, else `PARLAI_SHAPE` (checked later)."""
    return CHAT_SHAPE if type(obj) is dict and "messages" in obj and "dialog" not in obj else PARLAI_SHAPE


class SameShape:
    """Refuses a file that mixes chat-format and ParlAI lines, naming the first line of the other shape.

    One shape per file keeps a stray line of another tool's log from being read with the wrong speaker rule.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self.first: tuple[str, int] | None = None

    def check(self, shape: str, line: int) -> None:
        """Remember the first line's shape; raise when this line's differs."""
        if self.first is None:
            self.first = (shape, line)
        elif shape != self.first[0]:
            first_shape, first_line = self.first
            raise InputError(
                f"this line holds {shape}, but line {first_line} holds {first_shape}: a file holds one shape",
                path=self.path,
                line=line,
                field="messages" if shape == CHAT_SHAPE else "dialog",
            )


def _chat_text(content: Any) -> str:
    """A message's text: a string, or OpenAI content parts that are all `{"type": "text", "text": str}`."""
    if type(content) is str:
        return content
    if type(content) is not list:
        got = "null" if content is None else type(content).__name__
        raise _BadAct(f"content must be a string or a list of text parts, got {got}", ".content")
    texts: list[str] = []
    for j, part in enumerate(content):
        if type(part) is not dict:
            raise _BadAct(f"a content part must be an object, got {type(part).__name__}", f".content[{j}]")
        kind = part.get("type")
        if kind != "text":
            raise _BadAct(f"only text content parts are read, got type {kind!r}", f".content[{j}].type")
        text = part.get("text")
        if type(text) is not str:
            raise _BadAct("a text part needs 'text' (a string)", f".content[{j}].text")
        texts.append(text)
    return "\n".join(texts)


def _chat_turns(messages: Any) -> tuple[list[Turn], list[list[Turn]]]:
    """(context acts, `[user, assistant]` pairs) of a `messages` list; `_BadAct` suffixes start at `[i]`."""
    if type(messages) is not list:
        raise _BadAct(f"'messages' must be a list of message objects, got {type(messages).__name__}")
    context: list[Turn] = []
    dialog: list[list[Turn]] = []
    expected = USER_ID
    for i, message in enumerate(messages):
        where = f"[{i}]"
        if type(message) is not dict:
            raise _BadAct(f"expected a message object, got {type(message).__name__}", where)
        if "role" not in message:
            raise _BadAct("missing 'role'", where + ".role")
        role = message["role"]
        if role not in CHAT_ROLES:
            raise _BadAct(f"role {role!r} is not read; expected one of {', '.join(CHAT_ROLES)}", where + ".role")
        if "content" not in message:
            raise _BadAct("missing 'content'", where + ".content")
        try:
            text = _chat_text(message["content"])
        except _BadAct as bad:
            raise _BadAct(bad.problem, where + bad.suffix) from None
        extra = {k: v for k, v in message.items() if k not in ("role", "content")}
        if role in CHAT_CONTEXT_ROLES:
            if dialog:
                raise _BadAct(f"a {role} message after the conversation started; only leading ones are read (as context)", where + ".role")
            context.append(Turn(CONTEXT_ID, text, {"episode_done": False, **extra}, source_field="messages" + where))
            continue
        if role != expected:
            raise _BadAct(
                f"expected a {expected!r} message: after the system messages, user and assistant messages alternate, "
                "starting with the user",
                where + ".role",
            )
        turn = Turn(role, text, extra, source_field="messages" + where)
        if role == USER_ID:
            dialog.append([turn])
        else:
            dialog[-1].append(turn)
        expected = ASSISTANT_ID if role == USER_ID else USER_ID
    if not dialog:
        raise _BadAct("no user or assistant message")
    return context, dialog


@dataclass
class Metadata:
    """The `.metadata` sidecar ParlAI writes next to a Conversations file.

    `speakers` lists the non-context speaker ids in order of first appearance; for self-chats
    (`self_chat` true) they are the two sides of the same model.
    """

    date: str | None = None
    opt: dict[str, Any] = field(default_factory=dict)
    self_chat: bool = False
    speakers: list[str] | None = None
    version: str = METADATA_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def new(cls, *, opt: Mapping[str, Any] | None = None, self_chat: bool = False, speakers: Sequence[str] | None = None, **extra: Any) -> Metadata:
        """Metadata stamped with the current time, as `Metadata.save_metadata` in ParlAI does."""
        return cls(
            date=str(datetime.datetime.now()),
            opt=dict(opt or {}),
            self_chat=self_chat,
            speakers=list(speakers) if speakers is not None else None,
            extra=dict(extra),
        )

    @classmethod
    def from_json(cls, obj: Any, *, path: str | Path | None = None) -> Metadata:
        """Check the sidecar; ParlAI needs all five keys, we only need the ones we use to be well typed."""
        if not isinstance(obj, dict):
            raise InputError(f"metadata must be a JSON object, got {type(obj).__name__}", path=path)
        speakers = obj.get("speakers")
        if speakers is not None and (not isinstance(speakers, list) or not all(isinstance(s, str) for s in speakers)):
            raise InputError("'speakers' must be a list of speaker ids (strings)", path=path, field="speakers")
        self_chat = obj.get("self_chat", False)
        if not isinstance(self_chat, bool):
            raise InputError(f"'self_chat' must be true or false, got {self_chat!r}", path=path, field="self_chat")
        opt = obj.get("opt") or {}
        if not isinstance(opt, dict):
            raise InputError("'opt' must be a JSON object", path=path, field="opt")
        date = obj.get("date")
        version = obj.get("version", METADATA_VERSION)
        extra = {k: v for k, v in obj.items() if k not in ("date", "opt", "self_chat", "speakers", "version")}
        return cls(
            date=None if date is None else str(date),
            opt=opt,
            self_chat=self_chat,
            speakers=speakers,
            version=str(version),
            extra=extra,
        )

    def to_json(self) -> dict[str, Any]:
        """ParlAI's key order: date, opt, self_chat, speakers, version, then extra keys."""
        return {
            "date": self.date,
            "opt": self.opt,
            "self_chat": self.self_chat,
            "speakers": self.speakers,
            "version": self.version,
            **self.extra,
        }


def metadata_path_for(path: str | Path) -> Path:
    """Where ParlAI looks for the sidecar: the data path with its extension replaced by `.metadata`."""
    root, _ = os.path.splitext(str(path))
    return Path(root + ".metadata")


def read_metadata(path: str | Path) -> Metadata | None:
    """The sidecar of the Conversations file at `path`, or None when there is none (it is optional)."""
    meta_path = metadata_path_for(path)
    if not meta_path.is_file():
        return None
    obj = read_json_document(meta_path)
    return Metadata.from_json(obj, path=meta_path)


def iter_conversations(path: str | Path) -> Iterator[Conversation]:
    """Stream the conversations of a file (ParlAI or chat format, one shape per file), each checked as read."""
    same_shape = SameShape(path)
    for lineno, obj in iter_jsonl(path):
        conversation = Conversation.from_line(obj, path=path, line=lineno)
        same_shape.check(conversation.shape, lineno)
        yield conversation


def read_conversations(path: str | Path) -> list[Conversation]:
    """All conversations of a (small) file; prefer `iter_conversations` for large logs."""
    return list(iter_conversations(path))


def write_conversations(
    path: str | Path,
    conversations: Iterable[Conversation],
    *,
    metadata: Metadata | None = None,
    set_metadata_path: bool = True,
) -> int:
    """Write conversations atomically (and the sidecar when `metadata` is given); return the count.

    When `metadata` is given and `set_metadata_path` is true, lines that have no `metadata_path`
    get one pointing at the sidecar, as ParlAI's writer does. When `metadata.speakers` is None it is
    filled with the speakers seen, in order of first appearance (ParlAI's rule).
    """
    path = Path(path)
    meta_path = metadata_path_for(path)
    speakers_seen: dict[str, None] = {}
    count = 0
    # Both files are staged and renamed together: a failure leaves neither, never a sidecar without data.
    with staged_outputs([path] + ([meta_path] if metadata is not None else [])) as staged:
        with staged[path].open("w", encoding="utf-8") as handle:
            for conv in conversations:
                line = conv.to_json()
                if metadata is not None and set_metadata_path and "metadata_path" not in line:
                    line["metadata_path"] = str(meta_path)
                for speaker in conv.speakers:
                    speakers_seen.setdefault(speaker, None)
                handle.write(json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n")
                count += 1
        if metadata is not None:
            meta = metadata.to_json()
            if meta["speakers"] is None:
                meta["speakers"] = list(speakers_seen)
            staged[meta_path].write_text(json.dumps(meta, ensure_ascii=False, allow_nan=False), encoding="utf-8")
    logger.info("wrote %d conversations to %s", count, path)
    return count
