"""`python -m humaneval.models generate CONTEXTS --out WORLD_LOGS`: a model answers a file of contexts.

This is how a model's replies to fixed (e.g. adversarial) contexts are produced for human safety
evaluation: the output is what ParlAI's `eval_model --world-logs` writes, so the safety formatter and any
ParlAI-side tool read it unchanged.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from humaneval.input_errors import InputError, exit_on_input_error
from humaneval.models.ray_session import check_ray_flags
from humaneval.outputs import check_outputs

if TYPE_CHECKING:
    from humaneval.models.registry import ModelSpec
    from humaneval.models.reply_model import ReplyModel

log = logging.getLogger(__name__)

DESCRIPTION = """\
Answer every context of a JSONL file with a registry model and write ParlAI world logs
(Conversations JSONL, each dialog pair = [teacher act, model act]) plus a .metadata sidecar.

Each input line is one of:
  a teacher act      {"text": "hi\\nhello there\\nhow are you?", "id": ..., any other keys}
                     e.g. BAD human-safety-evaluation examples, where `text` holds the conversation
                     so far, one utterance per line. Every key is kept in the output's teacher act.
  a Conversations    {"dialog": [[teacher act, model act?], ...], "context": [...]}
  line               (a world log of another model): each pair's first act is answered in turn, the
                     model's history holding the earlier teacher acts and its own earlier replies, as in
                     ParlAI's eval_model; `context` acts (personas) come first.

How the teacher text is fed: by default exactly as ParlAI's eval_model did, one utterance with its
newlines inside. With --split-lines each line is a separate turn, joined by the model's own delimiter
(as if the conversation had happened live).

A registry entry with a `control` string (e.g. ParlAI's bias bucket " f0m0") gets it appended to every
context; each model act then carries "control" and the sidecar's opt records it too.

Batches of up to the model's max_batch_size (or --batch-size) contexts are generated together. The
input is checked completely before any generation; a bad line stops the run with file, line and field
and exit code 2, and the output is written atomically (nothing partial).

With --ray (humaneval[scale], docs/scaling.md) the contexts are split into shards of whole batches,
answered by Ray workers (a local Ray instance on 127.0.0.1, or --ray-address's cluster) and saved as they
finish in FILE.shards/ beside the output; the world log is the single-process one, byte for byte (greedy
or beam decoding; sampling recipes are refused). A killed run rerun with the same arguments generates
only the missing shards.
"""

EPILOG = """\
example:
  python -m humaneval.models generate bad_contexts.jsonl --out out/world_logs.jsonl      (the demo bot)
  python -m humaneval.models generate contexts.jsonl --out logs.jsonl --model blender_90M --device cuda

exit codes: 0 ok, 1 failure, 2 bad input
"""


@dataclass
class Episode:
    """One input line: the teacher acts to answer in order, plus persona/topic context."""

    line: int
    teacher_acts: list[dict[str, Any]]
    context_acts: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    replies: list[str] = field(default_factory=list)


def _check_text(act: Any, path: Path, line: int, where: str) -> dict[str, Any]:
    if not isinstance(act, dict):
        raise InputError(f"expected an act object, got {type(act).__name__}", path=path, line=line, field=where)
    text = act.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InputError("missing or empty 'text' (the context to answer)", path=path, line=line, field=f"{where}.text")
    return act


def read_episodes(path: Path) -> list[Episode]:
    """Parse and check the whole file before anything is generated."""
    from humaneval.jsonl import iter_jsonl_objects

    episodes: list[Episode] = []
    for lineno, obj in iter_jsonl_objects(path):
        if "dialog" in obj:
            dialog = obj["dialog"]
            if not isinstance(dialog, list) or not dialog:
                raise InputError("'dialog' must be a non-empty list of act pairs", path=path, line=lineno, field="dialog")
            teachers = []
            for i, pair in enumerate(dialog):
                if not isinstance(pair, list) or not pair:
                    raise InputError("each dialog entry must be a non-empty list of acts", path=path, line=lineno, field=f"dialog[{i}]")
                teachers.append(dict(_check_text(pair[0], path, lineno, f"dialog[{i}][0]")))
            context = obj.get("context") or []
            if not isinstance(context, list):
                raise InputError("'context' must be a list of acts", path=path, line=lineno, field="context")
            for i, act in enumerate(context):
                _check_text(act, path, lineno, f"context[{i}]")
            extra = {k: v for k, v in obj.items() if k not in ("dialog", "context", "metadata_path")}
            episodes.append(Episode(lineno, teachers, [dict(a) for a in context], extra))
        else:
            act = dict(_check_text(obj, path, lineno, "act"))
            episodes.append(Episode(lineno, [act]))
    if not episodes:
        raise InputError("no contexts in the file", path=path)
    return episodes


def model_act(model_id: str, reply: str, episode_done: bool, control: str | None) -> dict[str, Any]:
    """The model's act; a registry control string is recorded on it, so each reply says what steered it
    even when the line is read without its sidecar (entries without one write what they always wrote)."""
    act: dict[str, Any] = {"id": model_id, "text": reply, "episode_done": episode_done}
    return {**act, "control": control} if control is not None else act


def history_for(episode: Episode, index: int, split_lines: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(persona lines, turns) the model sees before answering teacher act `index`."""
    persona = tuple(act["text"] for act in episode.context_acts)
    turns: list[str] = []
    for i in range(index + 1):
        text = episode.teacher_acts[i]["text"]
        turns.extend(line for line in text.split("\n") if line.strip()) if split_lines else turns.append(text)
        if i < index:
            turns.append(episode.replies[i])
    return persona, tuple(turns)


def answer_episodes(model: ReplyModel, episodes: list[Episode], split_lines: bool, progress: Callable[[int], Any]) -> None:
    """Fill each episode's replies: round by round (teacher act index), in batches of the model's
    max_batch_size over the episodes still active, so batch composition depends only on the episode list
    (what lets `generate --ray` reproduce this run shard by shard)."""
    from humaneval.models.reply_model import DialogueContext

    rounds = max(len(e.teacher_acts) for e in episodes)
    for index in range(rounds):
        active = [e for e in episodes if len(e.teacher_acts) > index]
        for start in range(0, len(active), model.max_batch_size):
            chunk = active[start : start + model.max_batch_size]
            contexts = []
            for episode in chunk:
                persona, turns = history_for(episode, index, split_lines)
                contexts.append(DialogueContext(turns=turns, persona=persona))
            for episode, reply in zip(chunk, model.generate_batch(contexts), strict=True):
                episode.replies.append(reply)
            progress(len(chunk))


def _generate_here(spec: ModelSpec, episodes: list[Episode], args: argparse.Namespace,
                   total: int) -> tuple[dict[str, Any], float, float]:
    """The single-process run: fills the episodes' replies; returns (recipe, load s, generate s)."""
    import torch
    from tqdm import tqdm

    from humaneval.models.registry import load_generator

    started = time.time()
    model = load_generator(spec)
    if args.batch_size:
        model.max_batch_size = args.batch_size
    torch.manual_seed(args.seed)
    load_seconds = time.time() - started
    gen_started = time.time()
    with tqdm(total=total, desc=f"generate ({spec.name})", unit="reply", disable=True if args.no_progress else None, file=sys.stderr) as bar:
        answer_episodes(model, episodes, args.split_lines, bar.update)
    return recipe_of(model), load_seconds, time.time() - gen_started


def recipe_of(model: ReplyModel) -> dict[str, Any]:
    """The decoding recipe recorded in the sidecar ({} for a model without one, e.g. a remote server)."""
    return dict(vars(model.recipe)) if hasattr(model, "recipe") else {}


@exit_on_input_error
def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m humaneval.models generate",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("contexts", metavar="CONTEXTS", type=Path, help="JSONL file of contexts (see above)")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="world-log JSONL to write (+ FILE minus extension .metadata)")
    parser.add_argument("--model", default=None, metavar="NAME", help="registry model name: a local generator or an openai_compatible server (default: the registry's default, the demo bot)")
    parser.add_argument("--registry", default=None, metavar="FILE", help="registry YAML (default: $HUMANEVAL_MODELS or task_configs/models.yaml)")
    parser.add_argument("--device", default=None, help="override the registry device (cpu, cuda, cuda:N; ignored for openai_compatible models)")
    parser.add_argument("--dtype", default=None, help="override the registry dtype (float32, bfloat16; ignored for openai_compatible models)")
    parser.add_argument("--batch-size", type=int, default=None, metavar="N", help="contexts per generate call (default: the model's max_batch_size)")
    parser.add_argument("--split-lines", action="store_true", help="treat each line of a teacher text as its own turn")
    parser.add_argument("--model-id", default=None, metavar="ID", help="speaker id of the model acts (default: the model name)")
    parser.add_argument("--seed", type=int, default=0, help="torch seed, for sampling recipes (default 0; an openai_compatible model uses its sampling.seed)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--ray", action="store_true", help="shard the contexts across Ray workers (needs humaneval[scale]; docs/scaling.md): same output, resumable")
    parser.add_argument("--ray-address", default=None, metavar="ADDR", help="with --ray: an existing Ray cluster, its head node's HOST:PORT (e.g. 10.0.0.5:6379) or auto (RAY_ADDRESS, or the last `ray start` on this machine); default: a local Ray instance on 127.0.0.1")
    parser.add_argument("--ray-workers", type=int, default=None, metavar="N", help="with --ray: model copies working at once (default: the cluster's CPUs)")
    parser.add_argument("--shard-size", type=int, default=None, metavar="N", help="with --ray: contexts per shard, rounded up to whole batches (default 4 batches)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    for flag, value in (("--batch-size", args.batch_size), ("--ray-workers", args.ray_workers), ("--shard-size", args.shard_size)):
        if value is not None and value < 1:
            raise InputError(f"{flag} must be >= 1", field=flag)
    check_ray_flags(args)
    from humaneval.conversations import metadata_path_for

    check_outputs([args.out, metadata_path_for(args.out)], inputs=[args.contexts], field="--out")
    episodes = read_episodes(args.contexts)

    from humaneval.conversations import Conversation, Metadata, write_conversations
    from humaneval.models.client import ModelServerError
    from humaneval.models.registry import load_registry, with_device

    registry = load_registry(args.registry)
    spec = with_device(registry.get(args.model), args.device, args.dtype)
    model_id = args.model_id or spec.name
    total = sum(len(e.teacher_acts) for e in episodes)
    try:  # a remote model's failure: one line, nothing written
        if args.ray:
            from humaneval.models.ray_generate import RayGenerateOptions, generate_on_ray

            options = RayGenerateOptions(args.registry, args.batch_size or spec.max_batch_size, args.seed,
                                         args.split_lines, args.shard_size, args.ray_workers, args.ray_address)
            recipe, load_seconds, gen_seconds = generate_on_ray(args.contexts, args.out, spec, episodes, options)
        else:
            recipe, load_seconds, gen_seconds = _generate_here(spec, episodes, args, total)
    except ModelServerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1

    conversations = []
    for episode in episodes:
        pairs = []
        for teacher, reply in zip(episode.teacher_acts, episode.replies, strict=True):
            teacher_act = {"id": teacher.get("id", "teacher"), **teacher}
            teacher_act.setdefault("episode_done", True)
            pairs.append((teacher_act, model_act(model_id, reply, teacher_act["episode_done"], spec.control)))
        conversations.append(Conversation.from_pairs(pairs, context=episode.context_acts, **episode.extra))
    teacher_ids = list(dict.fromkeys(c.dialog[0][0].speaker for c in conversations))
    metadata = Metadata.new(
        opt={
            "model": spec.name,
            **spec.provenance(),  # model_path, or the server's URL, model and sampling; control if any
            "recipe": recipe,
            "dtype": spec.dtype,
            "device": spec.device,
            "split_lines": args.split_lines,
            "source": str(args.contexts),
            "tool": "humaneval.models generate",
        },
        self_chat=False,
        speakers=[teacher_ids[0] if len(teacher_ids) == 1 else "teacher", model_id],
    )
    write_conversations(args.out, conversations, metadata=metadata)
    print(
        f"wrote {total} replies of {spec.name} to {args.out} "
        f"(load {load_seconds:.1f} s, generate {gen_seconds:.1f} s = {gen_seconds / max(total, 1):.2f} s/reply)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
