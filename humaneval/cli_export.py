"""`python -m humaneval.crowd export`: write the records of a task's finished units as JSONL.

It lives above the crowd runtime (which knows no study) because it reads every study's export
(`humaneval.studies`); `humaneval.crowd`'s verb table points here."""

from __future__ import annotations

import argparse
from pathlib import Path

from humaneval.crowd.data_dir import DATA_DIR_ENV, data_faults_reported, open_existing_database
from humaneval.crowd.export import export_to_file
from humaneval.crowd.launcher import console_logging
from humaneval.input_errors import InputError, exit_on_input_error
from humaneval.outputs import check_outputs
from humaneval.studies import all_exports


@exit_on_input_error
def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m humaneval.crowd export",
        description="Export every finished unit of a task (all its runs) to JSONL, one record per decision "
        "(docs/formats.md, \"Exports\"). The file is written atomically: it appears complete or not at all. "
        "A task run with a blueprint type humaneval does not know is refused (exit 2); for ParlAI's crowdsourcing "
        "tasks (acute_eval, fast_acute, model_chat, model_image_chat, turn_annotations_static and its in-flight QA "
        "variant) the message gives the "
        "`python -m analysis import` command that reads their results (docs/migrating_from_parlai.md).",
    )
    parser.add_argument("--task-name", required=True, help="the task name the run was launched with")
    parser.add_argument("--out", required=True, type=Path, help="output JSONL file")
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help=f"Mephisto data directory (default: ${DATA_DIR_ENV} or ./data/mephisto)",
    )
    args = parser.parse_args(argv)
    db = open_existing_database(args.data_dir)
    check_outputs([args.out], inputs=[db.db_path], field="--out")
    with console_logging(), data_faults_reported(db):  # Mephisto's INFO lines would repeat our one line
        try:
            count = export_to_file(db, args.task_name, args.out, all_exports())
        except InputError as err:
            if err.field != "task_name":
                raise
            raise InputError(err.problem, path=err.path, line=err.line, field="--task-name") from None
    print(f"{count} record(s) written to {args.out}")
    return 0

