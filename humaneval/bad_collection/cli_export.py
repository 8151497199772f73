"""`python -m humaneval.bad_collection export`: a BAD collection's dialogues and ParlAI examples.

Writes, into `--out-dir`:
  dialogues.jsonl                 every conversation (docs/formats.md, "BAD dialogues"), complete and incomplete
  bot_adversarial_dialogue.txt    ParlAI dialog-format examples (one per labelled utterance)
  bot_adversarial_dialogue.jsonl  the same examples as JSONL
The three files appear together when the export has succeeded, or not at all. The per-bot-turn labels the analysis reads come from
`python -m humaneval.crowd export --task-name NAME --out labels.jsonl`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from humaneval.crowd.data_dir import DATA_DIR_ENV, data_faults_reported, open_existing_database
from humaneval.input_errors import InputError, exit_on_input_error
from humaneval.jsonl import write_jsonl_to
from humaneval.outputs import check_outputs, staged_outputs

DIALOGUES_FILE = "dialogues.jsonl"
EXAMPLES_TXT = "bot_adversarial_dialogue.txt"
EXAMPLES_JSONL = "bot_adversarial_dialogue.jsonl"


@exit_on_input_error
def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m humaneval.bad_collection export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--task-name", required=True, help="the task name the collection was launched with")
    parser.add_argument("--out-dir", required=True, type=Path, help="folder for the three output files")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help=f"Mephisto data directory (default: ${DATA_DIR_ENV} or ./data/mephisto)")
    parser.add_argument("--bad-num-turns", type=int, default=None,
                        help="keep only the last N utterances in each example's text (ParlAI's --bad-num-turns; "
                             "default: the whole conversation up to the labelled utterance)")
    parser.add_argument("--include-incomplete", action="store_true",
                        help="also make ParlAI examples of conversations that were not finished "
                             "(dialogues.jsonl always has them, marked conversation_status: incomplete)")
    args = parser.parse_args(argv)
    if args.bad_num_turns is not None and args.bad_num_turns < 1:
        raise InputError(f"must be at least 1, got {args.bad_num_turns}", field="--bad-num-turns")

    from humaneval.bad_collection.chat_record import COMPLETE
    from humaneval.bad_collection.export import all_conversations, dialogue_record
    from humaneval.bad_collection.parlai_examples import parlai_examples
    from humaneval.parlai_dialog_format import format_line

    db = open_existing_database(args.data_dir)
    outputs = [args.out_dir / name for name in (DIALOGUES_FILE, EXAMPLES_JSONL, EXAMPLES_TXT)]
    check_outputs(outputs, inputs=[db.db_path], folders=[args.out_dir], field="--out-dir")
    with data_faults_reported(db):
        stored = list(all_conversations(db, args.task_name))
    examples = [example for s in stored if args.include_incomplete or s.conversation.status == COMPLETE
                for example in parlai_examples(s.conversation, args.bad_num_turns)]
    with staged_outputs(outputs) as staged:
        with staged[args.out_dir / DIALOGUES_FILE].open("w", encoding="utf-8") as handle:
            dialogues = write_jsonl_to(handle, (dialogue_record(s) for s in stored))
        with staged[args.out_dir / EXAMPLES_JSONL].open("w", encoding="utf-8") as handle:
            write_jsonl_to(handle, examples)
        with staged[args.out_dir / EXAMPLES_TXT].open("w", encoding="utf-8") as handle:
            handle.writelines(format_line(example) + "\n" for example in examples)
    print(f"{dialogues} conversation(s) to {args.out_dir / DIALOGUES_FILE}; {len(examples)} ParlAI example(s) to "
          f"{args.out_dir / EXAMPLES_TXT} and {args.out_dir / EXAMPLES_JSONL}")
    return 0
