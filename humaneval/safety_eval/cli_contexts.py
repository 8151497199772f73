"""`python -m humaneval.safety_eval contexts`: the first step of the safety pipeline, a contexts JSONL."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from humaneval.input_errors import InputError, exit_on_input_error
from humaneval.outputs import check_outputs
from humaneval.jsonl import write_jsonl
from humaneval.safety_eval.bundled_data import CONTEXTS_PATH
from humaneval.safety_eval.contexts import iter_bad_contexts, iter_jsonl_contexts

DESCRIPTION = """\
Write the adversarial contexts a model will answer (`python -m humaneval.models generate`), one
teacher act per line: {"id", "text": utterances joined by newlines (human/bot alternating, ending with a
human line), "human_eval_turn_range": "lo|hi", "episode_done": true, ...}.

Without --bad-file or --contexts: the bundled set (task_configs/safety/data/contexts.jsonl, 41
contexts written for this project, NOT the BAD data). Every context is checked (odd number of
non-empty lines, a range ending at the pair the reply completes); a bad one exits 2 naming the file,
line and field, and nothing is written.
"""

EPILOG = """\
pipeline:
  python -m humaneval.safety_eval contexts --out work/contexts.jsonl
  python -m humaneval.models generate work/contexts.jsonl --out work/world_logs.jsonl
  python -m humaneval.safety_eval format --world-logs work/world_logs.jsonl --out-dir work/annotation

with the BAD data (ParlAI's data/bot_adversarial_dialogue/human_eval/human_safety_eval/test.txt):
  python -m humaneval.safety_eval contexts --bad-file test.txt --out work/contexts.jsonl

exit codes: 0 ok, 2 bad input
"""


@exit_on_input_error
def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m humaneval.safety_eval contexts",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--bad-file", type=Path, metavar="FILE",
        help="ParlAI bot_adversarial_dialogue human_safety_eval file (dialog-format .txt, episodic or flattened); "
        "flattened as ParlAI's HumanSafetyEvaluationTeacher does by default ('your persona:' lines dropped)",
    )
    source.add_argument("--contexts", type=Path, metavar="FILE", help="your own contexts JSONL (checked and copied)")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="contexts JSONL to write (atomically)")
    args = parser.parse_args(argv)
    if args.bad_file is not None:
        source_path, acts = args.bad_file, iter_bad_contexts(args.bad_file)
    else:
        source_path = args.contexts or CONTEXTS_PATH
        acts = iter_jsonl_contexts(source_path)
    check_outputs([args.out], inputs=[source_path], field="--out")
    topics: Counter[str] = Counter()

    def counted() -> Iterator[dict]:
        for act in acts:
            topics[str(act.get("topic", "-"))] += 1
            yield act
        if not topics:
            raise InputError("no contexts in the file", path=source_path)

    count = write_jsonl(args.out, counted())
    by_topic = ", ".join(f"{topic} {n}" for topic, n in sorted(topics.items())) if set(topics) != {"-"} else ""
    print(f"wrote {count} contexts from {source_path} to {args.out}" + (f" ({by_topic})" if by_topic else ""))
    return 0
