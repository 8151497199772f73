"""ParlAI `model_chat` conversations (`*_live.json`, one per conversation) → BAD turn labels with every bucket kept.

In ParlAI's `model_chat` task a worker chats with a bot and, after each bot message, ticks the problem buckets
it shows (`problem_data` on that bot turn of `dialog`), then gives a final 1–5 rating (`final_rating` on the
last bot turn; inside `problem_data` in files written before early 2021). Each annotated bot turn becomes one
BAD turn label (docs/formats.md, section 'BAD turn labels') with `buckets` and an OK / NOT OK `label` derived
from them (`parlai_buckets`). Bot turns without `problem_data` were not annotated (the task ran without
buckets, or the worker left) and are not imported.

Identity: the conversation is the file's assignment (`assignment_ids[0]`, else the file name), the worker
`workers[0]`, the model `task_description.model_nickname` (older files: `workers[1]`, else `--model`).
A file whose name says `incomplete` (ParlAI's naming for unfinished chats) is `conversation_status: incomplete`.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from humaneval.input_errors import InputError

from analysis.importers.rows import files_in, read_document
from analysis.importers.parlai_buckets import BucketTally, add_bucket_options, check_bucket_name, is_not_ok
from analysis.importers.source import Imported

log = logging.getLogger(__name__)

#: keys of `problem_data` that are not checkboxes
NOT_BUCKETS = ("turn_idx", "final_rating")


def build_parser(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("IN: *_live.json files, or folders searched for them (ParlAI's chat_data_folder). "
                     "See docs/migrating_from_parlai.md, section 'model_chat'.")
    parser.add_argument("--run-id", default="parlai-model-chat", help="the records' run_id (default: %(default)s)")
    parser.add_argument("--model", metavar="NAME",
                        help="the bot's name for files that name none (neither task_description.model_nickname nor "
                             "workers[1])")
    add_bucket_options(parser)


def _text(value: Any, path: Path, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise InputError(f"must be a non-empty string, got {value!r}", path=path, field=field)
    return value


def _first_string(data: dict[str, Any], key: str, path: Path, index: int = 0) -> str | None:
    """`data[key][index]` when the list has one (checked to be a non-empty string), else None."""
    values = data.get(key)
    if values is None:
        return None
    if not isinstance(values, list):
        raise InputError("must be a list", path=path, field=key)
    return _text(values[index], path, f"{key}[{index}]") if len(values) > index else None


def _model(data: dict[str, Any], path: Path, fallback: str | None) -> str:
    description = data.get("task_description")
    if description is not None and not isinstance(description, dict):
        raise InputError("must be an object", path=path, field="task_description")
    if description and description.get("model_nickname") is not None:
        return _text(description["model_nickname"], path, "task_description.model_nickname")
    model = _first_string(data, "workers", path, index=1) or fallback
    if model is None:
        raise InputError("names no model (task_description.model_nickname, workers[1]); give it with --model", path=path)
    return model


def _rating(value: Any, path: Path, field: str) -> int:
    """ParlAI stores the final rating as a string ("4"); 1 to 5."""
    rating = int(value) if isinstance(value, str) and value.strip().isdigit() else value
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InputError(f"must be a rating from 1 to 5, got {value!r}", path=path, field=field)
    return rating


def _buckets(problem_data: Any, path: Path, field: str) -> dict[str, bool]:
    if not isinstance(problem_data, dict):
        raise InputError("must be an object {bucket: true|false}", path=path, field=field)
    buckets = {}
    for name, value in problem_data.items():
        if name in NOT_BUCKETS:
            continue
        check_bucket_name(name, path, f"{field}.{name}")
        if not isinstance(value, bool):
            raise InputError(f"must be true or false (a checkbox), got {value!r}", path=path, field=f"{field}.{name}")
        buckets[name] = value
    return buckets


class _Conversation:
    """One `*_live.json`: its checked fields and annotated bot turns."""

    def __init__(self, path: Path, args: argparse.Namespace) -> None:
        data = read_document(path)
        if not isinstance(data, dict):
            raise InputError("must be one JSON object (a model_chat conversation)", path=path)
        dialog = data.get("dialog")
        if not isinstance(dialog, list):
            raise InputError("must be a list of utterances", path=path, field="dialog")
        self.path = path
        self.worker_id = _first_string(data, "workers", path)
        if self.worker_id is None:
            raise InputError("must name the worker (workers[0])", path=path, field="workers")
        self.model = _model(data, path, args.model)
        self.conversation_id = _first_string(data, "assignment_ids", path) or path.stem
        self.task_run_id = _first_string(data, "hit_ids", path)
        self.status = "incomplete" if "incomplete" in path.name else "complete"
        self.context_fields = [k for k in ("personas", "context_dataset", "additional_context",
                                           "person1_seed_utterance", "person2_seed_utterance") if data.get(k)]
        self.turns: list[dict[str, Any]] = []  # index, bot turn number, text, buckets
        self.unannotated = 0
        self.rating: int | None = None
        bot_turns = 0
        for index, utt in enumerate(dialog):
            where = f"dialog[{index}]"
            if not isinstance(utt, dict):
                raise InputError("must be an object", path=path, field=where)
            agent = utt.get("agent_idx")
            if agent is None and utt.get("id") == "SYSTEM":  # model_image_chat's opening act: the image and style
                self.context_fields.append("image context (SYSTEM acts)")
                continue
            if agent not in (0, 1) or isinstance(agent, bool):
                raise InputError(f"must be 0 (the worker) or 1 (the bot), got {agent!r}", path=path, field=f"{where}.agent_idx")
            if not isinstance(utt.get("text"), str):
                raise InputError("must be a string", path=path, field=f"{where}.text")
            if agent == 0:
                continue
            bot_turns += 1
            problem = utt.get("problem_data")
            rating = utt.get("final_rating", problem.get("final_rating") if isinstance(problem, dict) else None)
            if rating is not None:
                self.rating = _rating(rating, path, f"{where}.final_rating")
            buckets = None if problem is None else _buckets(problem, path, f"{where}.problem_data")
            if not buckets:
                self.unannotated += 1
                continue
            self.turns.append({"turn_index": index, "bot_turn_number": bot_turns, "text": utt["text"], "buckets": buckets})

    def records(self, args: argparse.Namespace, tally: BucketTally) -> list[dict[str, Any]]:
        return [{
            "task": "bad", "run_id": args.run_id, "task_run_id": self.task_run_id, "unit_id": self.conversation_id,
            "worker_id": self.worker_id, "conversation_id": self.conversation_id, "turn_index": turn["turn_index"],
            "bot_turn_number": turn["bot_turn_number"], "model": self.model, "text": turn["text"],
            "buckets": turn["buckets"],
            "label": "__notok__" if is_not_ok(turn["buckets"], tally.ok_bucket) else "__ok__",
            "safety": {}, "conversation_status": self.status, "rating": self.rating,
            "started_at": None, "submitted_at": None,
        } for turn in self.turns if tally.keep(turn["buckets"])]


def convert(paths: list[Path], args: argparse.Namespace) -> Imported:
    """Every `*_live.json` given or under the folders given → BAD turn labels, plus what was not carried over."""
    tally = BucketTally(args.ok_bucket, args.drop_none_with_problem)
    records: list[dict[str, Any]] = []
    origins: list[str] = []
    unannotated = unrated = 0
    context_fields: set[str] = set()
    conversations = [_Conversation(path, args) for path in files_in(paths, ("*_live.json",), exclude=Path(args.out))]
    for conv in conversations:
        converted = conv.records(args, tally)
        records.extend(converted)
        origins.extend([str(conv.path)] * len(converted))
        unannotated += conv.unannotated
        unrated += conv.rating is None and bool(conv.turns)
        context_fields.update(conv.context_fields)
    log.info("read %d model_chat conversations: %d annotated bot turns", len(conversations), len(records))
    tally.check_names()
    if not records:
        raise InputError("no bot turn carries problem_data (the task ran without annotation buckets): there are no turn "
                         "labels to import", path=", ".join(str(p) for p in paths))
    notes = ["model_chat files record no times: started_at and submitted_at are null",
             "ParlAI's model_chat runs no safety classifier on the bot's turns: safety is {} (no check ran)"]
    if unannotated:
        notes.append(f"{unannotated} bot turns carry no problem_data (not annotated): not imported")
    if unrated:
        notes.append(f"{unrated} conversations have no final_rating: rating is null")
    if context_fields:
        notes.append(f"the conversations' {', '.join(sorted(context_fields))} have no place in BAD turn labels")
    return Imported(task="bad", records=records, not_carried=notes + tally.sentences("bot turns"), origins=origins)
