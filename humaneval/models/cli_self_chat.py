"""`python -m humaneval.models self-chat --out FILE`: a model talks to itself, for ACUTE-Eval.

ACUTE-Eval (Li et al. 2019) showed self-chats rank models like human-model chats at a fraction of the
cost, so this is the cheap input for `humaneval.acute pairings`. All N chats advance in lockstep so every
utterance index is one batched generate call across chats.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from humaneval.input_errors import InputError, exit_on_input_error
from humaneval.models.ray_session import check_ray_flags
from humaneval.outputs import check_outputs

if TYPE_CHECKING:
    from humaneval.models.registry import ModelSpec
    from humaneval.models.reply_model import ReplyModel

log = logging.getLogger(__name__)

# Used when no --seeds file is given: short persona pairs in ParlAI's "your persona:" form.
DEFAULT_SEEDS: list[dict[str, object]] = [
    {"persona_a": ["your persona: i love hiking in the mountains."], "persona_b": ["your persona: i work as a chef."]},
    {"persona_a": ["your persona: i have two dogs."], "persona_b": ["your persona: i play the guitar in a band."]},
    {"persona_a": ["your persona: i am a student of history."], "persona_b": ["your persona: i like to cook italian food."]},
    {"persona_a": ["your persona: i enjoy reading science fiction."], "persona_b": ["your persona: i go swimming every morning."]},
    {"persona_a": ["your persona: i grew up on a farm."], "persona_b": ["your persona: i am learning to paint."]},
]
DEFAULT_OPENING = "Hello, how are you?"

DESCRIPTION = """\
Run N self-chats of M turns (a turn = one act pair: side A speaks, then side B) with a registry model
and write them as ParlAI Conversations JSONL for ACUTE-Eval, with a .metadata sidecar that says
self_chat: true and names the two speakers (side A, the side ACUTE evaluates, then side B); a registry
entry's `control` string, appended to every context both sides see, is recorded there as opt.control.

Seeds give each chat its context: a JSONL file (--seeds) whose lines are objects with any of
  persona_a  [str]  lines shown only to side A (e.g. "your persona: i like to ski.")
  persona_b  [str]  lines shown only to side B
  topic      str    a line shown to both (e.g. a conversation topic)
  opening    str    side A's first utterance, used verbatim instead of being generated
Chat i uses seed i modulo the number of seeds. Without --seeds a few built-in persona pairs are used.
When a seed has no opening, side A generates its first utterance from its persona/topic; with neither,
the opening is --opening. Personas and topic are written as `context` acts (ACUTE shows them).
"""

EPILOG = """\
example:
  python -m humaneval.models self-chat --out out/selfchat_demo.jsonl --num-chats 20 --turns 6
  python -m humaneval.acute pairings --conversations demo_bot=out/selfchat_demo.jsonl --conversations other=... --out pairings.jsonl

exit codes: 0 ok, 1 failure, 2 bad input
"""


@dataclass(frozen=True)
class Seed:
    persona_a: tuple[str, ...] = ()
    persona_b: tuple[str, ...] = ()
    topic: str | None = None
    opening: str | None = None


def parse_seed(obj: object, path: Path | None = None, line: int | None = None) -> Seed:
    if not isinstance(obj, dict):
        raise InputError(f"a seed must be a JSON object, got {type(obj).__name__}", path=path, line=line)
    unknown = sorted(set(obj) - {"persona_a", "persona_b", "topic", "opening"})
    if unknown:
        raise InputError(f"unknown seed keys: {', '.join(unknown)}", path=path, line=line, field=unknown[0])
    personas = {}
    for key in ("persona_a", "persona_b"):
        value = obj.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise InputError("must be a list of non-empty strings", path=path, line=line, field=key)
        personas[key] = tuple(value)
    for key in ("topic", "opening"):
        value = obj.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise InputError("must be a non-empty string", path=path, line=line, field=key)
    return Seed(personas["persona_a"], personas["persona_b"], obj.get("topic"), obj.get("opening"))  # type: ignore[arg-type]


def read_seeds(path: Path | None) -> list[Seed]:
    if path is None:
        return [parse_seed(s) for s in DEFAULT_SEEDS]
    from humaneval.jsonl import iter_jsonl

    seeds = [parse_seed(obj, path, lineno) for lineno, obj in iter_jsonl(path)]
    if not seeds:
        raise InputError("no seeds in the file", path=path)
    return seeds


def side_context(seed: Seed, side: int) -> tuple[str, ...]:
    """What side 0 (A) or 1 (B) of a chat sees besides the utterances: its persona, then the topic."""
    persona = seed.persona_a if side == 0 else seed.persona_b
    return (*persona, seed.topic) if seed.topic else persona


def run_self_chats(model: ReplyModel, chats: list[Seed], turns: int, opening: str,
                   progress: Callable[[int], Any]) -> list[list[str]]:
    """Every chat's 2 x `turns` utterances, all chats in lockstep: each utterance index is batched across
    the chats in order, so batch composition depends only on the chat list (what lets `self-chat --ray`
    reproduce this run shard by shard)."""
    from humaneval.models.reply_model import DialogueContext

    utterances: list[list[str]] = [[] for _ in chats]
    for index in range(turns * 2):
        side = index % 2
        pending = []
        for chat, seed in enumerate(chats):
            if index == 0 and (seed.opening or not side_context(seed, 0)):
                utterances[chat].append(seed.opening or opening)
                progress(1)
            else:
                pending.append(chat)
        for start in range(0, len(pending), model.max_batch_size):
            chunk = pending[start : start + model.max_batch_size]
            contexts = [DialogueContext(turns=tuple(utterances[c]), persona=side_context(chats[c], side)) for c in chunk]
            for chat, reply in zip(chunk, model.generate_batch(contexts), strict=True):
                utterances[chat].append(reply)
            progress(len(chunk))
    return utterances


def _self_chat_here(spec: ModelSpec, chats: list[Seed], args: argparse.Namespace) -> tuple[dict[str, Any], list[list[str]]]:
    """The single-process run: (recipe, utterances per chat)."""
    import torch
    from tqdm import tqdm

    from humaneval.models.cli_generate import recipe_of
    from humaneval.models.registry import load_generator

    model = load_generator(spec)
    if args.batch_size:
        model.max_batch_size = args.batch_size
    torch.manual_seed(args.seed)
    total = len(chats) * args.turns * 2
    with tqdm(total=total, desc=f"self-chat ({spec.name})", unit="utt", disable=True if args.no_progress else None, file=sys.stderr) as bar:
        return recipe_of(model), run_self_chats(model, chats, args.turns, args.opening, bar.update)


@exit_on_input_error
def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m humaneval.models self-chat",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="Conversations JSONL to write (+ FILE minus extension .metadata)")
    parser.add_argument("--model", default=None, metavar="NAME", help="registry model name: a local generator or an openai_compatible server (default: the registry's default, the demo bot)")
    parser.add_argument("--registry", default=None, metavar="FILE", help="registry YAML (default: $HUMANEVAL_MODELS or task_configs/models.yaml)")
    parser.add_argument("--num-chats", type=int, default=10, metavar="N", help="number of self-chats (default 10)")
    parser.add_argument("--turns", type=int, default=6, metavar="M", help="act pairs per chat, as ParlAI's --selfchat-max-turns (default 6)")
    parser.add_argument("--seeds", type=Path, default=None, metavar="FILE", help="JSONL of persona/topic/opening seeds (see above)")
    parser.add_argument("--opening", default=DEFAULT_OPENING, help=f"side A's first utterance when a seed has no opening, persona or topic (default {DEFAULT_OPENING!r})")
    parser.add_argument("--speaker-ids", default=None, metavar="A,B", help="speaker ids of the two sides (default: MODEL,MODEL_partner)")
    parser.add_argument("--device", default=None, help="override the registry device (cpu, cuda, cuda:N; ignored for openai_compatible models)")
    parser.add_argument("--dtype", default=None, help="override the registry dtype (float32, bfloat16; ignored for openai_compatible models)")
    parser.add_argument("--batch-size", type=int, default=None, metavar="N", help="chats per generate call (default: the model's max_batch_size)")
    parser.add_argument("--seed", type=int, default=0, help="torch seed, for sampling recipes (default 0; an openai_compatible model uses its sampling.seed)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--ray", action="store_true", help="shard the chats across Ray workers (needs humaneval[scale]; docs/scaling.md): same output, resumable")
    parser.add_argument("--ray-address", default=None, metavar="ADDR", help="with --ray: an existing Ray cluster, its head node's HOST:PORT (e.g. 10.0.0.5:6379) or auto (RAY_ADDRESS, or the last `ray start` on this machine); default: a local Ray instance on 127.0.0.1")
    parser.add_argument("--ray-workers", type=int, default=None, metavar="N", help="with --ray: model copies working at once (default: the cluster's CPUs)")
    parser.add_argument("--shard-size", type=int, default=None, metavar="N", help="with --ray: chats per shard, rounded up to whole batches (default 4 batches)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    for flag, value in (("--num-chats", args.num_chats), ("--turns", args.turns)):
        if value < 1:
            raise InputError(f"{flag} must be >= 1", field=flag)
    for flag, value in (("--batch-size", args.batch_size), ("--ray-workers", args.ray_workers), ("--shard-size", args.shard_size)):
        if value is not None and value < 1:
            raise InputError(f"{flag} must be >= 1", field=flag)
    check_ray_flags(args)
    from humaneval.conversations import metadata_path_for

    check_outputs([args.out, metadata_path_for(args.out)], inputs=[args.seeds], field="--out")
    seeds = read_seeds(args.seeds)

    from humaneval.conversations import Conversation, Metadata, write_conversations
    from humaneval.models.client import ModelServerError
    from humaneval.models.registry import load_registry, with_device

    registry = load_registry(args.registry)
    spec = with_device(registry.get(args.model), args.device, args.dtype)
    if args.speaker_ids:
        ids = [s.strip() for s in args.speaker_ids.split(",")]
        if len(ids) != 2 or not all(ids) or ids[0] == ids[1]:
            raise InputError("--speaker-ids needs two different ids, e.g. bot_a,bot_b", field="--speaker-ids")
        id_a, id_b = ids
    else:
        id_a, id_b = spec.name, f"{spec.name}_partner"
    started = time.time()
    chats = [seeds[i % len(seeds)] for i in range(args.num_chats)]
    try:  # a remote model's failure: one line, nothing written
        if args.ray:
            from humaneval.models.ray_generate import RayGenerateOptions, self_chat_on_ray

            options = RayGenerateOptions(args.registry, args.batch_size or spec.max_batch_size, args.seed, False,
                                         args.shard_size, args.ray_workers, args.ray_address)
            recipe, utterances = self_chat_on_ray(args.out, spec, chats, args.turns, args.opening, options)
        else:
            recipe, utterances = _self_chat_here(spec, chats, args)
    except ModelServerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1

    conversations = []
    for chat, seed in enumerate(chats):
        said = utterances[chat]
        pairs = []
        for t in range(args.turns):
            done = t == args.turns - 1
            pairs.append(
                (
                    {"id": id_a, "text": said[2 * t], "episode_done": done},
                    {"id": id_b, "text": said[2 * t + 1], "episode_done": done},
                )
            )
        context = [*(seed.persona_a), *(seed.persona_b), *([seed.topic] if seed.topic else [])]
        conversations.append(Conversation.from_pairs(pairs, context=context))
    metadata = Metadata.new(
        opt={
            "model": spec.name,
            **spec.provenance(),  # model_path, or the server's URL, model and sampling; control if any
            "recipe": recipe,
            "num_chats": args.num_chats,
            "turns": args.turns,
            "seeds": str(args.seeds) if args.seeds else "built-in",
            "tool": "humaneval.models self-chat",
        },
        self_chat=True,
        speakers=[id_a, id_b],
    )
    write_conversations(args.out, conversations, metadata=metadata)
    seconds = time.time() - started
    print(f"wrote {args.num_chats} self-chats of {args.turns} turns by {spec.name} to {args.out} ({seconds:.1f} s)")
    log.debug("seeds: %s", json.dumps([vars(s) for s in seeds]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
