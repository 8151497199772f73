"""`python -m humaneval.crowd review`: list, approve, reject, soft-block and block after a run.

Works for the local sandbox (mock provider), MTurk / the MTurk sandbox and Prolific alike; every action
prints one line saying what it did, or why it did not. The help says what each verb does on each provider,
since the same verb means different calls there (docs/mturk.md section 7, docs/prolific.md section 7).
"""

from __future__ import annotations

import argparse
import getpass
import uuid
from pathlib import Path

from humaneval.crowd.data_dir import DATA_DIR_ENV, data_faults_reported, open_existing_database
from humaneval.crowd.mturk import MTURK_PROVIDERS, requester_balance
from humaneval.crowd.prolific.api import ProlificError
from humaneval.crowd.review import SOFT_BLOCK_SUFFIX, ReviewAction, TaskReview
from humaneval.crowd.review_audit import AUDIT_FILE, ReviewAudit
from humaneval.input_errors import exit_on_input_error
from humaneval.verb_dispatch import VerbTable, dispatch
from mephisto.abstractions.database import MephistoDB

EXIT_FAILED = 1
PROG = "python -m humaneval.crowd review"
# `bonus` counts each study's events for its rules and `serve` shows each study's work (humaneval.studies'
# modules), so both live above the crowd runtime, as `python -m humaneval.crowd export` does.
UPPER_VERBS: VerbTable = {
    "list": ("humaneval.review_page.cli_list", "units awaiting review, and each worker's counts, time and flags"),
    "bonus": ("humaneval.cli_bonus", "pay bonuses by hand or by the study's rule, each once"),
    "serve": ("humaneval.review_page.cli", "a local review page: workers, their work, the analysis's flags, actions"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Review the submitted units of a task (all its runs) on the local sandbox, MTurk or Prolific: "
        "list them, approve (MTurk and Prolific pay the reward), reject (not paid), soft-block workers (a "
        "qualification that keeps them out of runs that check it; on Prolific also a participant group the task's "
        "next studies exclude) or block them (MTurk: CreateWorkerBlock; Prolific: the requester's block group). "
        f"Every action is logged to <data dir>/{AUDIT_FILE}. `serve` opens the same review as a web page. "
        "See docs/review.md, docs/mturk.md and docs/prolific.md.",
    )
    # --task-name / --data-dir may come before the verb (`review --task-name T approve --all`) or after
    # it; the copies on the verbs default to SUPPRESS so they never overwrite the earlier value.
    task_help = "the task name the run was launched with"
    data_help = f"Mephisto data directory (default: ${DATA_DIR_ENV} or ./data/mephisto)"
    parser.add_argument("--task-name", default=None, help=task_help)
    parser.add_argument("--data-dir", type=Path, default=None, help=data_help)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--task-name", default=argparse.SUPPRESS, help=task_help)
    common.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, help=data_help)
    selection = argparse.ArgumentParser(add_help=False)
    selection.add_argument("--all", action="store_true", help="every unit awaiting review")
    selection.add_argument("--worker", action="append", default=[], metavar="NAME",
                           help="units of this worker (repeatable; with or without the _sandbox suffix)")
    selection.add_argument("--unit", action="append", default=[], metavar="ID", help="this unit (repeatable)")
    workers = argparse.ArgumentParser(add_help=False)
    workers.add_argument("--worker", action="append", required=True, metavar="NAME",
                         help="worker name as `review list` shows it (repeatable)")

    verbs = parser.add_subparsers(dest="verb", metavar="VERB", help="default: list")
    def verb(name: str, about: str, parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
        return verbs.add_parser(name, parents=parents, help=about, description=about)

    verbs.add_parser("list", add_help=False, help=UPPER_VERBS["list"][1] + " (`list --help`)")
    verb("approve", "approve units; MTurk and Prolific pay the worker the reward", [common, selection])
    reject = verb("reject", "reject units; the worker is not paid (MTurk, Prolific) and reads the reason",
                  [common, selection])
    reject.add_argument("--reason", required=True,
                        help="shown to the worker (Prolific: at least 100 characters)")
    reject.add_argument("--category", default=None,
                        help="Prolific only, required there: TOO_QUICKLY, TOO_SLOWLY, FAILED_INSTRUCTIONS, "
                        "INCOMP_LONGITUDINAL, FAILED_CHECK, LOW_EFFORT, MALINGERING, NO_CODE, BAD_CODE, NO_DATA, "
                        "UNSUPP_DEVICE or OTHER")
    soft = verb("soft-block", "grant workers the block qualification (on Prolific also a participant group the "
                "task's next studies exclude)", [common, workers])
    soft.add_argument(
        "--qualification", default=None,
        help="qualification name (default: the one the task's newest run checks, its "
        f"mephisto.blueprint.block_qualification; else the task's own, TASK_NAME{SOFT_BLOCK_SUFFIX})",
    )
    block = verb("block", "block workers with the provider: MTurk CreateWorkerBlock (for good); Prolific adds the "
                 "participant to the requester's block group, which all the requester's studies exclude", [common, workers])
    block.add_argument("--reason", required=True, help="why: MTurk records it with the block; Prolific takes none, so "
                       "there it is kept only in our output and log")
    verbs.add_parser("bonus", add_help=False, help=UPPER_VERBS["bonus"][1] + " (MTurk, Prolific; `bonus --help`)")
    verbs.add_parser("serve", add_help=False, help=UPPER_VERBS["serve"][1] + " (`serve --help`)")
    balance = verbs.add_parser("balance", help="MTurk only: the requester's available balance (the sandbox shows "
                               "10000)")
    balance.add_argument("--provider", required=True, choices=MTURK_PROVIDERS)
    balance.add_argument("--name", required=True, help="the registered requester name")
    balance.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, help=data_help)
    return parser


def _print_actions(actions: list[ReviewAction]) -> int:
    if not actions:
        print("nothing to do: no matching unit awaits review")
    for action in actions:
        print(action.describe())
    failed = sum(not a.ok for a in actions)
    if failed:
        print(f"{failed} of {len(actions)} action(s) failed")
    return EXIT_FAILED if failed else 0


def note_unfinished(review: TaskReview) -> None:
    """Say which runs have not ended (for every listing and before any action)."""
    unfinished = review.unfinished_runs()
    if unfinished:
        print(f"note: run(s) {', '.join(unfinished)} not marked finished (live or interrupted); approve or reject "
              "only after a run has ended: Mephisto expires a run's units when it shuts down")


def _upper_argv(argv: list[str]) -> list[str] | None:
    """`list ...` / `bonus ...` / `serve ...` with any --task-name / --data-dir given before the verb moved after
    it (no verb at all is `list`), or None for the other verbs (they take those options on either side)."""
    i = 0
    while i < len(argv) and argv[i].split("=")[0] in ("--task-name", "--data-dir"):
        i += 1 if "=" in argv[i] else 2
    if i == len(argv) and argv:
        return ["list", *argv]
    return [argv[i], *argv[i + 1:], *argv[:i]] if argv[i:i + 1] and argv[i] in UPPER_VERBS else None


@exit_on_input_error
def main(argv: list[str]) -> int:
    upper = _upper_argv(argv)
    if upper is not None:
        return dispatch(PROG, UPPER_VERBS, upper)
    parser = _parser()
    args = parser.parse_args(argv)
    db = open_existing_database(args.data_dir)
    with data_faults_reported(db):
        return _run(parser, args, db)


def note_prolific_without_work(review: TaskReview) -> None:
    """Prolific submissions with the completion code and no work here: not units, but Prolific pays them."""
    try:
        orphans = review.prolific_submissions_without_work()
    except ProlificError as err:
        print(f"note: could not read the study's submissions on Prolific ({err}); check them on Prolific's site")
        return
    if not orphans:
        return
    print(f"Prolific: {len(orphans)} submission(s) reached the completion URL with no work here. Prolific approves "
          "(pays) unreviewed submissions by itself after 21 days: reject these on Prolific's site (category NO_DATA).")
    for orphan in orphans:
        print(f"  participant {orphan.participant_id}  submission {orphan.submission_id}  study {orphan.study_id}")


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace, db: MephistoDB) -> int:
    if args.verb == "balance":
        print(f"{args.provider} requester '{args.name}': available balance ${requester_balance(db, args.provider, args.name):,.2f}")
        return 0
    if not args.task_name:
        parser.error("--task-name is required")
    review = TaskReview(db, args.task_name)
    note_unfinished(review)
    actions = _act(review, args)
    ReviewAudit.in_data_dir(db.db_root).record(actions, who=getpass.getuser(), via="cli", request=uuid.uuid4().hex,
                                               task_name=args.task_name)
    return _print_actions(actions)


def _act(review: TaskReview, args: argparse.Namespace) -> list[ReviewAction]:
    if args.verb == "approve":
        return review.approve(review.select(all_units=args.all, workers=args.worker, unit_ids=args.unit))
    if args.verb == "reject":
        return review.reject(review.select(all_units=args.all, workers=args.worker, unit_ids=args.unit), args.reason,
                             args.category)
    if args.verb == "soft-block":
        return review.soft_block(args.worker, args.qualification)
    if args.verb == "block":
        return review.block(args.worker, args.reason)
    raise AssertionError(args.verb)
