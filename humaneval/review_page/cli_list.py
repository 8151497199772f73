"""`python -m humaneval.crowd review list`: the units awaiting review, then the review page's worker table in the
terminal (units, counts, median time, onboarding, gold, the analysis's flags with their reasons)."""

from __future__ import annotations

import argparse
from pathlib import Path

from humaneval.crowd.cli_review import note_prolific_without_work, note_unfinished
from humaneval.crowd.data_dir import DATA_DIR_ENV, data_faults_reported, open_existing_database
from humaneval.crowd.launcher import console_logging
from humaneval.input_errors import InputError, exit_on_input_error
from humaneval.review_page.study_data import StudyData, WorkerRow

PROG = "python -m humaneval.crowd review list"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="List a task's units awaiting review (unit, run, provider, worker, statuses), then one "
        "line per worker: units awaiting / approved / rejected, median time per unit, onboarding, gold and the "
        "analysis's flags with their reasons (`python -m analysis` with its default thresholds; its package is the "
        "`analysis` extra). `serve` shows the same on a page.")
    parser.add_argument("--task-name", required=True, help="the task name the run was launched with")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help=f"Mephisto data directory (default: ${DATA_DIR_ENV} or ./data/mephisto)")
    parser.add_argument("--reviewed", action="store_true", help="also show units already approved or rejected")
    return parser


def _duration(seconds: float | None) -> str:
    """As the page shows it: seconds below 90 s, else minutes."""
    if seconds is None:
        return "—"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


# The worker table: (heading, width, value); onboarding and gold only when some worker has one (as on the page).
_COLUMNS = [
    ("worker", -28, lambda w: w["name"]), ("units", 5, lambda w: len(w["units"])),
    ("awaiting", 8, lambda w: w["awaiting"]), ("approved", 8, lambda w: w["approved"]),
    ("rejected", 8, lambda w: w["rejected"]), ("median", 9, lambda w: _duration(w["median_seconds"])),
    ("onboarding", -12, lambda w: w["onboarding"] or "—"), ("gold", -18, lambda w: w["gold"] or "—"),
    ("flags", 0, lambda w: ", ".join(w["flags"]) or "—"),
]
_OPTIONAL = {"onboarding", "gold"}


def _worker_table(rows: list[WorkerRow]) -> list[str]:
    shown = [row.to_json() for row in rows]
    columns = [c for c in _COLUMNS if c[0] not in _OPTIONAL
               or any(w[c[0]] and w[c[0]] != "not reported" for w in shown)]

    def line(values: list[object]) -> str:
        return "  ".join(f"{v!s:<{-width}}" if width < 0 else f"{v!s:>{width}}" if width else str(v)
                         for (_, width, _), v in zip(columns, values)).rstrip()

    lines = [line([name for name, _, _ in columns])]
    for w in shown:
        lines.append(line([value(w) for _, _, value in columns]))
        lines.extend(f"    {reason}" for reason in w["reasons"])
    return lines


@exit_on_input_error
def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    db = open_existing_database(args.data_dir)
    with console_logging(), data_faults_reported(db):
        try:
            study = StudyData(db, args.task_name)
        except InputError as err:
            raise InputError(err.problem, path=err.path, line=err.line, field="--task-name") from None
        units = [u for u in study.units() if args.reviewed or u.awaiting_review]
        if units:
            print(f"{'unit':>6}  {'run':>4}  {'provider':<14} {'worker':<28} {'unit status':<14} agent status")
            for u in units:
                print(f"{u.unit_id:>6}  {u.task_run_id:>4}  {u.provider_type:<14} {u.worker_name:<28} "
                      f"{u.unit_status:<14} {u.agent_status}")
            print(f"{len(units)} unit(s)")
        else:
            print(f"no unit of task '{args.task_name}' awaits review (`list --reviewed` shows the others)")
        workers = study.workers()
        if workers:
            print()
            print("\n".join(_worker_table(workers)))
            print(study.flags.note and f"flags: {study.flags.note}" or f"flags: {study.flags.rule}")
        note_unfinished(study.review)
        note_prolific_without_work(study.review)
    return 0
