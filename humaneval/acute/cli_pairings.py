"""`python -m humaneval.acute pairings`: Conversations or chat-format logs of two or more models -> pairings JSONL."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from humaneval.acute.pairings import (
    DEFAULT_PAIRS_PER_MODEL_PAIR,
    DEFAULT_SEED,
    ModelLogs,
    build_pairings,
    write_pairings,
)
from humaneval.acute.task_data import reserved_name_problem
from humaneval.input_errors import InputError, exit_on_input_error
from humaneval.outputs import check_outputs

EPILOG = """\
The evaluated speaker of each model is found by this rule (first match wins):
  --speaker MODEL=ID; --speaker-position MODEL=0|1; a chat-format file ({"messages": [...]} lines) -> the
  assistant messages; a self-chat (metadata self_chat: true) -> act 0 of each pair; the model's name is a speaker id; the metadata lists two speakers -> the second; only one
  speaker in the file; every pair has two acts -> act 1 (the model in [teacher, model] world logs).
The choice is printed for every model: check it. See docs/acute_pairings.md.

example:
  python -m humaneval.acute pairings --conversations blender_90M=logs/b90.jsonl \\
      --conversations blender_3B=logs/b3.jsonl --out pairings.jsonl --pairs-per-model-pair 60 --seed 1
"""


def _key_value(option: str, text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key or not value:
        raise InputError(f"expected MODEL=VALUE, got {text!r}", field=option)
    return key, value


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m humaneval.acute pairings",
        description="Build ACUTE-Eval pairings (docs/formats.md, section 'ACUTE pairings') from ParlAI Conversations JSONL "
        "or chat-format (OpenAI messages) JSONL logs named by model (docs/formats.md, section 'Conversations (world logs)').",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--conversations", action="append", required=True, metavar="MODEL=FILE",
        help="a model's Conversations JSONL (self-chats, world logs or human-model logs) or chat-format JSONL "
        "(one {\"messages\": [...]} per line; the model is MODEL, whatever its lines' \"model\" key says); "
        "repeat for each model, at least two",
    )
    parser.add_argument("--out", required=True, type=Path, help="pairings JSONL to write (atomically; nothing on bad input)")
    parser.add_argument(
        "--pairs-per-model-pair", type=int, default=DEFAULT_PAIRS_PER_MODEL_PAIR, metavar="N",
        help=f"pairs per unordered model pair (default {DEFAULT_PAIRS_PER_MODEL_PAIR}); a conversation repeats within a "
        "matchup only when a model has fewer than N conversations",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED}); same inputs + seed = same file")
    parser.add_argument(
        "--speaker", action="append", default=[], metavar="MODEL=ID",
        help="the speaker id of MODEL in its file (overrides the rule below)",
    )
    parser.add_argument(
        "--speaker-position", action="append", default=[], metavar="MODEL=0|1",
        help="evaluate the act at this position of every dialog pair of MODEL's file (0 = first act of each pair)",
    )
    parser.add_argument(
        "--model-pairs", action="append", default=None, metavar="A:B",
        help="compare only these model pairs (repeatable); default: every pair of models",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    return parser.parse_args(argv)


def _collect(args: argparse.Namespace) -> tuple[list[ModelLogs], list[tuple[str, str]] | None]:
    files = [_key_value("--conversations", item) for item in args.conversations]
    models = [model for model, _ in files]
    for problem in filter(None, map(reserved_name_problem, models)):  # the pairings check would refuse the file
        raise InputError(problem, field="--conversations")
    speakers = dict(_key_value("--speaker", item) for item in args.speaker)
    positions: dict[str, int] = {}
    for item in args.speaker_position:
        model, value = _key_value("--speaker-position", item)
        if value not in ("0", "1"):
            raise InputError(f"position must be 0 or 1, got {value!r}", field="--speaker-position")
        positions[model] = int(value)
    for option, table in (("--speaker", speakers), ("--speaker-position", positions)):
        for model in table:
            if model not in models:
                raise InputError(f"model {model!r} has no --conversations file", field=option)
    both = sorted(set(speakers) & set(positions))
    if both:
        raise InputError(f"give --speaker or --speaker-position for {', '.join(both)}, not both", field="--speaker")
    logs = [
        ModelLogs(model=model, path=Path(path), speaker=speakers.get(model), speaker_position=positions.get(model))
        for model, path in files
    ]
    restrict = None
    if args.model_pairs is not None:
        restrict = []
        for item in args.model_pairs:
            a, sep, b = item.partition(":")
            if not sep or not a or not b:
                raise InputError(f"expected A:B, got {item!r}", field="--model-pairs")
            restrict.append((a, b))
    return logs, restrict


@exit_on_input_error
def main(argv: list[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    logs, restrict = _collect(args)
    check_outputs([args.out], inputs=[log.path for log in logs], field="--out")
    started = time.perf_counter()

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    pairs, report = build_pairings(
        logs,
        pairs_per_model_pair=args.pairs_per_model_pair,
        seed=args.seed,
        model_pairs=restrict,
        progress=progress,
        image_base=Path(args.out).resolve().parent,
    )
    count = write_pairings(args.out, pairs)
    print(f"wrote {count} pairs to {args.out} (seed {args.seed})")
    for model, choice in report.speakers.items():
        print(f"  {model}: {report.conversations[model]} conversations, evaluated {choice.describe()}")
    for (a, b), n in report.per_model_pair.items():
        reused = report.reused_within_matchup[(a, b)]
        note = f", {reused} repeated conversation uses (too few conversations)" if reused else ""
        print(f"  {a} vs {b}: {n} pairs{note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
