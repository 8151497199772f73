"""`python -m humaneval.safety_eval format`: world logs -> the annotation task's input files."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from humaneval.input_errors import InputError, exit_on_input_error
from humaneval.outputs import check_outputs
from humaneval.safety_eval.formatter import (
    ANNOTATE_ALL_BOT,
    ANNOTATE_LAST,
    INDICES_NAME,
    TASK_DATA_NAME,
    format_world_logs,
)

DESCRIPTION = f"""\
Turn world logs (`python -m humaneval.models generate`, or ParlAI's `eval_model --world-logs` on
bot_adversarial_dialogue:HumanSafetyEvaluation) into the annotation task's inputs:

  OUT_DIR/{TASK_DATA_NAME}          one conversation per line: {{"dialog": [[human act, bot act], ...],
                                    "item_id", "model", "context_id"?, "topic"?}}
  OUT_DIR/{INDICES_NAME}  one JSON list per line: the utterance indices to annotate (0 = first)

Each world-log line's teacher text (one utterance per line, human/bot alternating, ending with a human
line) plus the model's reply is cut into (human, bot) pairs; `human_eval_turn_range` "lo|hi" on the
teacher act keeps pairs lo..hi (0-based, inclusive; hi must be the last pair). Lines may be
{{"dialog": [...]}} objects or bare lists of pairs (ParlAI's own task data; their texts are not split).
Chat-format lines ({{"messages": [{{"role", "content"}}, ...]}}, the OpenAI shape, from any LLM stack) are read
as whole conversations: the last message must be the assistant's reply, which is the one annotated; system
messages are left out. A file holds one shape; --only-with-range skips chat lines (they carry no range).

The model name on each line: --model, else the line's own "model" key, else the sidecar's
opt.model_file (ParlAI logs), else the model act's id (generate writes the registry name there).

Streaming, bounded memory; the outputs are written to temp files renamed at the end. A bad line exits 2
naming the file, line and field, and leaves no output (existing files are kept as they were).
"""

EPILOG = """\
examples:
  python -m humaneval.safety_eval format --world-logs work/world_logs.jsonl --out-dir work/annotation
  python -m humaneval.safety_eval format --world-logs b90.jsonl --world-logs b3B.jsonl --out-dir work/both
  python -m humaneval.safety_eval format --world-logs logs.jsonl --out-dir out --annotate all-bot
  python -m humaneval.safety_eval format --world-logs logs.jsonl --out-dir out --indices 1,3,5
  python -m humaneval.safety_eval format --world-logs parlai_world_logs.jsonl --model blender_90M --out-dir out

exit codes: 0 ok, 2 bad input
"""


def _indices(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise InputError(f"expected comma-separated integers like 1,3,5, got {text!r}", field="--indices") from None
    if any(value < 0 for value in values):
        raise InputError("indices are 0-based utterance positions, so not negative", field="--indices")
    return values


@exit_on_input_error
def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m humaneval.safety_eval format",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--world-logs", action="append", required=True, type=Path, metavar="FILE",
        help="world-log (or task-data) JSONL; repeat to put several models' logs into one task",
    )
    parser.add_argument("--out-dir", required=True, type=Path, metavar="DIR", help="where to write the two files")
    parser.add_argument(
        "--prefix", default="", metavar="TEXT",
        help=f"prepended to both file names (e.g. demo_bot_ -> demo_bot_{TASK_DATA_NAME})",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--annotate", choices=(ANNOTATE_LAST, ANNOTATE_ALL_BOT), default=ANNOTATE_LAST,
        help="last: only the model's reply, index 2*n_pairs-1 (default, BAD's evaluation); "
        "all-bot: every kept bot utterance (1, 3, 5, ...)",
    )
    which.add_argument(
        "--indices", type=str, default=None, metavar="I,J,...",
        help="annotate exactly these 0-based utterance indices of every kept conversation (each must exist)",
    )
    parser.add_argument("--model", default=None, metavar="NAME", help="model name for every line (overrides the files)")
    parser.add_argument(
        "--only-with-range", action="store_true",
        help="skip lines whose teacher act has no human_eval_turn_range (ParlAI's formatter does); "
        "by default such lines keep all their pairs",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    indices = _indices(args.indices) if args.indices is not None else None

    from tqdm import tqdm

    started = time.perf_counter()
    task_data = args.out_dir / f"{args.prefix}{TASK_DATA_NAME}"
    indices_out = args.out_dir / f"{args.prefix}{INDICES_NAME}"
    check_outputs([task_data, indices_out], inputs=args.world_logs, folders=[args.out_dir], field="--out-dir")
    with tqdm(desc="format", unit=" conv", disable=True if args.quiet else None, file=sys.stderr) as bar:
        report = format_world_logs(
            args.world_logs,
            task_data,
            indices_out,
            annotate=args.annotate,
            indices=indices,
            model=args.model,
            only_with_range=args.only_with_range,
            progress=bar.update,
        )
    seconds = time.perf_counter() - started
    models = ", ".join(f"{model} {n}" for model, n in sorted(report.per_model.items()))
    print(
        f"read {report.lines_read} lines, wrote {report.written} conversations, "
        f"skipped {report.skipped_without_range} without human_eval_turn_range ({seconds:.1f} s)\n"
        f"per model: {models or '-'}\n"
        f"  {task_data}\n  {indices_out}"
    )
    return 0
