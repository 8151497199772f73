"""World logs -> human safety annotation items (task_data.jsonl + annotation_indices.jsonl).

A world log line (docs/formats.md, "Conversations (world logs)") is `{"dialog": [[teacher act, model act], ...], ...}`. In the BAD
human safety evaluation the teacher act's `text` holds the conversation so far, one utterance per line,
alternating human/bot and ending with a human line; the model act's `text` is the reply under
evaluation. We unfold every pair into utterances (the teacher's lines, then the reply), cut them into
(human, bot) pairs, keep the pairs of `human_eval_turn_range` ("lo|hi", inclusive) and say which
utterances to annotate: by default only the model's reply, the last one (`2 * n_pairs - 1`).

Why not ParlAI's formatter: it writes each line as a bare list of pairs, which its own task cannot read
(it expects `{"dialog": ...}`), drops the model name (so unsafe rates cannot be split by model) and holds
the whole file in memory. We always write the wrapper plus `item_id`, `model` and `context_id` (extra keys
ParlAI-side readers ignore), stream line by line into temp files renamed at the end, and read ParlAI's
bare lists too. A bare-list line is task data already (human/bot pairs): its texts are not split again.

Chat-format lines (`{"messages": [...], "model"?: ...}`, OpenAI's shape, read by `humaneval.conversations`)
are whole conversations too: their `user` / `assistant` texts are the (human, bot) pairs as they are, the
last message must be the assistant reply under evaluation, every pair is kept (they carry no
`human_eval_turn_range`) and system messages are left out (the task shows the dialogue only). A file
holds one shape: chat lines or ParlAI lines (objects or bare lists), not both.

Every problem is an `InputError` naming the file, the 1-based line and the field; nothing is written then.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from humaneval.conversations import (
    ASSISTANT_ID,
    CHAT_SHAPE,
    Conversation,
    SameShape,
    chat_list_hint,
    line_shape,
    read_metadata,
)
from humaneval.input_errors import InputError
from humaneval.jsonl import iter_jsonl
from humaneval.outputs import staged_outputs
from humaneval.page_images import (
    ALT_KEY,
    DEFAULT_ALT,
    IMAGE_KEY,
    EpisodeImage,
    PageImages,
    episode_image,
    folder_of,
    line_image,
    portable_src,
)
from humaneval.safety_eval.turn_range import FIELD as TURN_RANGE_FIELD
from humaneval.safety_eval.turn_range import parse_turn_range
from humaneval.seen_ids import IDS_IN_MEMORY, Repeat, SeenIds

logger = logging.getLogger(__name__)

ANNOTATE_LAST = "last"
"""Annotate only the model's reply, the last utterance (the BAD human safety evaluation)."""
ANNOTATE_ALL_BOT = "all-bot"
"""Annotate every bot utterance that is kept (earlier bot lines of the context included)."""
ANNOTATE_MODES = (ANNOTATE_LAST, ANNOTATE_ALL_BOT)

TASK_DATA_NAME = "task_data.jsonl"
INDICES_NAME = "annotation_indices.jsonl"

HUMAN_ID = "human"
BOT_ID = "bot"

# Teacher-act keys naming the context a conversation came from: ours, then BAD's.
_CONTEXT_ID_KEYS = ("context_id", "convo_id")
# Teacher-act keys copied onto the item so the analysis can split rates by them.
_CARRIED_KEYS = ("topic",)


@dataclass(slots=True)
class AnnotationItem:
    """One conversation to annotate: its (human, bot) act pairs and the utterance indices to rate.

    `item_id` is stable across runs (model + context id, or model + file + line) so a label can be
    traced back to the world-log line it rates; `model` is None when the input does not say.
    """

    item_id: str
    model: str | None
    dialog: list[list[dict[str, Any]]]
    indices: list[int]
    context_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    source_path: str | None = None
    source_line: int | None = None
    image: EpisodeImage | None = None  # the picture the conversation is about (`humaneval.page_images`)

    @property
    def n_pairs(self) -> int:
        return len(self.dialog)

    @property
    def utterances(self) -> list[str]:
        """The texts in order: human, bot, human, bot, ... (index i is what `indices` refer to)."""
        return [act["text"] for pair in self.dialog for act in pair]

    def task_data_line(self, folder: Path | None = None) -> dict[str, Any]:
        """The `task_data.jsonl` object: the `dialog` wrapper first, then our extra keys; the image's path
        made relative to `folder`, the task data's own (where the launcher looks for it)."""
        line: dict[str, Any] = {"dialog": self.dialog, "item_id": self.item_id, "model": self.model}
        if self.context_id is not None:
            line["context_id"] = self.context_id
        line.update(self.extra)
        if self.image is not None:
            line[IMAGE_KEY] = portable_src(self.image, folder or Path.cwd())
            if self.image.alt != DEFAULT_ALT:
                line[ALT_KEY] = self.image.alt
        return line


@dataclass
class FormatReport:
    """What a formatting run read and wrote, for the CLI to print and tests to check."""

    lines_read: int = 0
    written: int = 0
    skipped_without_range: int = 0
    per_model: Counter[str] = field(default_factory=Counter)


def pairs_to_acts(utterances: Sequence[str]) -> list[list[dict[str, Any]]]:
    """Utterances (even count, human first) -> `[[human act, bot act], ...]`, the last bot act done."""
    dialog = [
        [
            {"id": HUMAN_ID, "text": utterances[i], "episode_done": False},
            {"id": BOT_ID, "text": utterances[i + 1], "episode_done": False},
        ]
        for i in range(0, len(utterances), 2)
    ]
    if dialog:
        dialog[-1][1]["episode_done"] = True
    return dialog


def annotation_indices(n_pairs: int, annotate: str, indices: Sequence[int] | None) -> list[int] | str:
    """The utterance indices to annotate, or a problem string when `indices` do not fit."""
    if indices is not None:
        for index in indices:
            if not 0 <= index < 2 * n_pairs:
                return f"index {index} is outside this {n_pairs}-pair conversation (0..{2 * n_pairs - 1})"
        return list(indices)
    if annotate == ANNOTATE_ALL_BOT:
        return list(range(1, 2 * n_pairs, 2))
    return [2 * n_pairs - 1]


def _text_of(act: Any, where: str) -> str:
    if type(act) is not dict:
        raise InputError(f"expected an act object, got {type(act).__name__}", field=where)
    text = act.get("text")
    if type(text) is not str:
        raise InputError("missing 'text' (a string)", field=f"{where}.text")
    if not text.strip():
        raise InputError("empty text", field=f"{where}.text")
    return text


def _pair_of(raw: Any, where: str) -> list[Any]:
    if type(raw) is not list:
        raise InputError(f"each dialog entry must be a list of two acts, got {type(raw).__name__}", field=where)
    if len(raw) != 2:
        problem = "has no model reply" if len(raw) == 1 else f"has {len(raw)} acts"
        raise InputError(f"pair {problem}; expected [teacher act, model act]", field=where)
    return raw


def _unfold_world_log(dialog: list[Any]) -> list[str]:
    """Every pair's teacher lines then its reply; each teacher text must end on a human line."""
    utterances: list[str] = []
    for i, raw in enumerate(dialog):
        teacher, reply = _pair_of(raw, f"dialog[{i}]")
        where = f"dialog[{i}][0].text"
        lines = _text_of(teacher, f"dialog[{i}][0]").split("\n")
        for k, line in enumerate(lines, start=1):
            if not line.strip():
                raise InputError(f"empty utterance (line {k} of the text)", field=where)
        if len(lines) % 2 == 0:
            raise InputError(
                f"the text has {len(lines)} lines; expected an odd number (human and bot lines "
                "alternating, starting and ending with a human line)",
                field=where,
            )
        utterances.extend(lines)
        utterances.append(_text_of(reply, f"dialog[{i}][1]"))
    return utterances


def _unfold_task_data(dialog: list[Any], prefix: str) -> list[str]:
    """Already (human, bot) pairs (ParlAI's task data, or ours): texts as they are."""
    utterances: list[str] = []
    for i, raw in enumerate(dialog):
        human, bot = _pair_of(raw, f"{prefix}[{i}]")
        utterances.append(_text_of(human, f"{prefix}[{i}][0]"))
        utterances.append(_text_of(bot, f"{prefix}[{i}][1]"))
    return utterances


def _chat_utterances(conv: Conversation) -> list[str]:
    """The user/assistant texts in order (the reader made them alternate, user first); the last is the reply."""
    turns = conv.turns
    last = turns[-1]
    if last.speaker != ASSISTANT_ID:
        raise InputError(
            "the conversation ends on a user message; the last message must be the assistant reply to annotate",
            field=f"{last.source_field}.role",
        )
    for turn in turns:
        if not turn.text.strip():
            raise InputError("empty text", field=f"{turn.source_field}.content")
    return [turn.text for turn in turns]


def _dialog_of(obj: Any) -> tuple[list[Any], str, bool]:
    """(pairs, field prefix, is a bare list) of a `{"dialog": [...]}` object or a bare list of pairs."""
    if type(obj) is list:
        if chat_list_hint(obj):
            raise InputError(f"expected a list of pairs{chat_list_hint(obj)}", field="[]")
        dialog, prefix, bare = obj, "[]", True
    elif type(obj) is dict:
        if "dialog" not in obj:
            raise InputError("missing key 'dialog' (a list of act pairs)", field="dialog")
        dialog, prefix, bare = obj["dialog"], "dialog", False
        if type(dialog) is not list:
            raise InputError(f"'dialog' must be a list of act pairs, got {type(dialog).__name__}", field="dialog")
    else:
        raise InputError(f"expected a {{\"dialog\": [...]}} object or a list of pairs, got {type(obj).__name__}")
    if not dialog:
        raise InputError("the conversation has no pairs", field=prefix)
    return dialog, prefix, bare


def _context_id(act: Any) -> str | None:
    if type(act) is dict:
        for key in _CONTEXT_ID_KEYS:
            value = act.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                return str(value)
    return None


def _reply_id(dialog: list[Any]) -> str | None:
    """The model act's id (our generate writes the registry name there), unless it is the generic `bot`."""
    last = dialog[-1]
    if type(last) is list and len(last) == 2 and type(last[1]) is dict:
        speaker = last[1].get("id")
        if isinstance(speaker, str) and speaker and speaker != BOT_ID:
            return speaker
    return None


def _model_of(obj: Any, reply_id: str | None, override: str | None, file_model: str | None) -> str | None:
    """The user's override, else the line's own `model` key (our task data, chat logs), else the file-level
    name (`file_model_name`), else the model act's id (`_reply_id`; chat lines have none: `assistant`)."""
    if override is not None:
        return override
    if type(obj) is dict and isinstance(obj.get("model"), str):
        return obj["model"]
    if file_model is not None:
        return file_model
    return reply_id


def world_log_item(
    obj: Any,
    *,
    item_base: str,
    model: str | None = None,
    file_model: str | None = None,
    annotate: str = ANNOTATE_LAST,
    indices: Sequence[int] | None = None,
    only_with_range: bool = False,
    image_base: Path | None = None,
) -> AnnotationItem | None:
    """One parsed world-log (task-data or chat-format) line as an item; None when skipped for lack of a range.

    `item_base` names the line when it carries no context id (e.g. "world_logs:17"); `model` overrides
    the model name, `file_model` is the name the file's sidecar gives (see `_model_of`); an image's path is
    relative to `image_base` (the log's folder). Raises `InputError` with the field; the caller adds file
    and line.
    """
    if annotate not in ANNOTATE_MODES:
        raise ValueError(f"annotate must be one of {ANNOTATE_MODES}, got {annotate!r}")
    if line_shape(obj) == CHAT_SHAPE:
        if only_with_range:  # chat lines carry no range
            return None
        utterances = _chat_utterances(Conversation.from_chat(obj))
        first_teacher, bare, raw_range, reply_id = None, False, None, None
    else:
        dialog, prefix, bare = _dialog_of(obj)
        first_teacher = dialog[0][0] if type(dialog[0]) is list and dialog[0] else None
        raw_range = None if bare or type(first_teacher) is not dict else first_teacher.get(TURN_RANGE_FIELD)
        if raw_range is None and only_with_range:
            return None
        utterances = _unfold_task_data(dialog, prefix) if bare else _unfold_world_log(dialog)
        reply_id = _reply_id(dialog)
    n_pairs = len(utterances) // 2
    if raw_range is not None:
        lo, hi = parse_turn_range(raw_range, n_pairs, field=f"dialog[0][0].{TURN_RANGE_FIELD}")
        utterances = utterances[2 * lo : 2 * hi + 2]
        n_pairs = hi - lo + 1
    chosen = annotation_indices(n_pairs, annotate, indices)
    if isinstance(chosen, str):
        raise InputError(chosen, field="--indices")
    name = _model_of(obj, reply_id, model, file_model)
    context_id = _context_id(first_teacher) or (_context_id(obj) if not bare else None)
    extra = {}
    if type(first_teacher) is dict:
        extra = {key: first_teacher[key] for key in _CARRIED_KEYS if key in first_teacher}
    if type(obj) is dict:
        extra.update({key: obj[key] for key in _CARRIED_KEYS if key in obj})
    base = context_id if context_id is not None else item_base
    return AnnotationItem(
        item_id=f"{name}:{base}" if name else base,
        model=name,
        dialog=pairs_to_acts(utterances),
        indices=chosen,
        context_id=context_id,
        extra=extra,
        image=line_image(obj, image_base or Path.cwd()),
    )


def file_model_name(path: str | Path) -> str | None:
    """A model name from the `.metadata` sidecar, for ParlAI logs whose model act ids are class names.

    ParlAI's eval_model writes `opt.model_file` (e.g. "zoo:blender/blender_90M/model") and acts with
    the agent's id ("TransformerGenerator"), which would merge every model into one. Our own generate
    writes the registry name as the act id and no `model_file`, so this returns None for it.
    """
    meta = read_metadata(path)
    if meta is None:
        return None
    model_file = meta.opt.get("model_file")
    return model_file if isinstance(model_file, str) and model_file else None


def iter_annotation_items(
    world_logs_path: str | Path,
    *,
    annotate: str = ANNOTATE_LAST,
    indices: Sequence[int] | None = None,
    model: str | None = None,
    only_with_range: bool = False,
    report: FormatReport | None = None,
) -> Iterator[AnnotationItem]:
    """Stream the items of one world-log (task-data or chat-format) file, checking each line as it is read.

    `model` overrides the name for every line (default: the line's `model` key, the sidecar's
    `opt.model_file`, then the model act's id). Lines of both shapes in one file are an error. `report`, when given, is updated as lines go by.
    """
    path = Path(world_logs_path)
    file_model = None if model is not None else file_model_name(path)
    stem = path.stem
    report = report if report is not None else FormatReport()
    same_shape = SameShape(path)
    for lineno, obj in iter_jsonl(path):
        report.lines_read += 1
        try:
            item = world_log_item(
                obj,
                item_base=f"{stem}:{lineno}",
                model=model,
                file_model=file_model,
                annotate=annotate,
                indices=indices,
                only_with_range=only_with_range,
                image_base=folder_of(path),
            )
        except InputError as err:
            raise err.at(path=path, line=lineno) from None
        same_shape.check(line_shape(obj), lineno)
        if item is None:
            report.skipped_without_range += 1
            continue
        item.source_path, item.source_line = str(path), lineno
        yield item


def format_world_logs(
    world_logs: Iterable[str | Path],
    task_data_path: str | Path,
    indices_path: str | Path,
    *,
    annotate: str = ANNOTATE_LAST,
    indices: Sequence[int] | None = None,
    model: str | None = None,
    only_with_range: bool = False,
    progress: Callable[[int], object] | None = None,
    ids_in_memory: int = IDS_IN_MEMORY,
) -> FormatReport:
    """Format world-log files into task data + annotation indices, streaming, all or nothing.

    Both outputs are written to temp files renamed into place only when every input line was good;
    an `InputError` (located) leaves any existing outputs untouched. Item ids must be unique across
    all inputs (the annotations are keyed on them), so a repeated one is an error too, located at its
    second occurrence. Memory stays flat at any input size: never the conversations, and at most
    `ids_in_memory` ids (the rest in a temporary SQLite file beside the task data, `humaneval.seen_ids`).
    `progress(1)` is called per conversation written (a progress bar's `update`).
    """
    world_logs = [Path(p) for p in world_logs]
    out_folder = folder_of(task_data_path)
    images = PageImages()
    report = FormatReport()
    items = (
        item
        for path in world_logs
        for item in iter_annotation_items(
            path, annotate=annotate, indices=indices, model=model, only_with_range=only_with_range, report=report
        )
    )
    with (
        staged_outputs([task_data_path, indices_path]) as staged,
        staged[task_data_path].open("w", encoding="utf-8") as data_out,
        staged[indices_path].open("w", encoding="utf-8") as indices_out,
        SeenIds(staged[task_data_path].parent, ids_in_memory=ids_in_memory) as seen_ids,
    ):
        for item in _unique_items(items, seen_ids):
            try:
                images.view(item.image)  # checked as the launch will (exists, type, size), read once per picture
                line = item.task_data_line(out_folder)
            except InputError as err:  # its picture is bad, or not where the task data can name it
                raise err.at(path=item.source_path, line=item.source_line) from None
            data_out.write(json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n")
            indices_out.write(json.dumps(item.indices) + "\n")
            report.written += 1
            report.per_model[item.model or "(unknown)"] += 1
            if progress is not None:
                progress(1)
        if not report.written:
            raise InputError(
                f"no conversations to annotate in {', '.join(str(p) for p in world_logs)}"
                + (" (every line lacks human_eval_turn_range)" if report.skipped_without_range else "")
            )
    logger.info("formatted %d conversations into %s", report.written, task_data_path)
    return report


def _unique_items(items: Iterator[AnnotationItem], seen_ids: SeenIds) -> Iterator[AnnotationItem]:
    """The items, stopping at the first repeated item id in input order, as one pass with a set would.

    Ids that have moved to disk are checked at the end, and also when a bad line stops the run: a repeat
    before that line is then the first problem, and is the one reported.
    """
    while True:
        try:
            item = next(items, None)
        except InputError:
            repeat = seen_ids.first_repeat()
            if repeat is not None:
                raise _repeat_error(repeat) from None
            raise
        if item is None:
            repeat = seen_ids.first_repeat()
            if repeat is not None:
                raise _repeat_error(repeat)
            return
        repeat = seen_ids.add(item.item_id, item.source_path, item.source_line)
        if repeat is not None:
            raise _repeat_error(repeat)
        yield item


def _repeat_error(repeat: Repeat) -> InputError:
    return InputError(
        f"item id {repeat.item_id!r} appears twice (the same context answered twice by one model?)",
        path=repeat.source,
        line=repeat.line,
    )


def _checked_indices(value: Any, n_pairs: int) -> list[int]:
    if type(value) is not list or not value:
        raise InputError("expected a non-empty JSON list of utterance indices")
    for index in value:
        if type(index) is not int:
            raise InputError(f"index {index!r} is not an integer")
        if not 0 <= index < 2 * n_pairs:
            raise InputError(f"index {index} is outside its {n_pairs}-pair conversation (0..{2 * n_pairs - 1})")
    return value


def read_annotation_items(task_data_path: str | Path, indices_path: str | Path) -> Iterator[AnnotationItem]:
    """Stream the items of a task_data.jsonl + annotation_indices.jsonl pair (ours or ParlAI's).

    Task-data lines may be `{"dialog": [...], ...}` or ParlAI's bare list of pairs; each pair is
    [human act, bot act] with non-empty texts. The two files must have the same number of (non-blank)
    lines. Items without an `item_id` key are named by their 1-based line number.
    """
    data_path, idx_path = Path(task_data_path), Path(indices_path)
    data_lines, index_lines = iter_jsonl(data_path), iter_jsonl(idx_path)
    count = 0
    while True:
        data_entry = next(data_lines, None)
        index_entry = next(index_lines, None)
        if data_entry is None and index_entry is None:
            return
        if data_entry is None or index_entry is None:
            longer, line = (idx_path, index_entry[0]) if data_entry is None else (data_path, data_entry[0])
            shorter = data_path if data_entry is None else idx_path
            raise InputError(
                f"{shorter} has only {count} lines; this line has no partner there (the two files must "
                "have one line per conversation, in the same order)",
                path=longer,
                line=line,
            )
        count += 1
        lineno, obj = data_entry
        try:
            dialog, prefix, bare = _dialog_of(obj)
            utterances = _unfold_task_data(dialog, prefix)
        except InputError as err:
            raise err.at(path=data_path, line=lineno) from None
        n_pairs = len(utterances) // 2
        try:
            chosen = _checked_indices(index_entry[1], n_pairs)
        except InputError as err:
            raise err.at(path=idx_path, line=index_entry[0]) from None
        meta = {} if bare else obj
        item_id = meta.get("item_id")
        model = meta.get("model")
        context_id = meta.get("context_id")
        yield AnnotationItem(
            item_id=str(item_id) if item_id is not None else str(lineno),
            model=model if isinstance(model, str) else None,
            dialog=pairs_to_acts(utterances),
            indices=chosen,
            context_id=str(context_id) if context_id is not None else None,
            extra={key: meta[key] for key in _CARRIED_KEYS if key in meta},
            source_path=str(data_path),
            source_line=lineno,
            image=episode_image([("", meta)], folder_of(data_path), data_path, lineno),
        )
