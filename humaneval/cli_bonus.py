"""`python -m humaneval.crowd review bonus`: pay a bonus by hand or by the study's rule, each exactly once.

It lives above the crowd runtime (which knows no study) because a rule's events are counted by each
study (`humaneval/<study>/bonus_events.py`); `humaneval.crowd.cli_review` routes its `bonus` verb here, as
`humaneval.crowd` routes `export` to `humaneval.cli_export`. See docs/mturk.md, "Bonuses".
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import uuid
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from humaneval.crowd.bonus_ledger import BonusLedger
from humaneval.crowd.bonus_payers import BonusOutcome
from humaneval.crowd.bonus_rules import rule_requests, runs_without_rules
from humaneval.crowd.bonuses import (DEFAULT_MAX_AMOUNT, DEFAULT_MAX_TOTAL, as_review_action, check_total, confirm,
                                     manual_request, parse_amount, pay, preview)
from humaneval.crowd.data_dir import DATA_DIR_ENV, data_faults_reported, open_existing_database
from humaneval.crowd.launcher import console_logging
from humaneval.crowd.mephisto_api import MephistoDB
from humaneval.crowd.review import TaskReview
from humaneval.crowd.review_audit import ReviewAudit
from humaneval.input_errors import InputError, exit_on_input_error
from humaneval.studies import bonus_event_counters

EXIT_UNSETTLED = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m humaneval.crowd review bonus",
        description="Pay bonuses to a task's workers on MTurk or Prolific, each at most once: by hand (--worker, "
        "--amount, --reason), or by the rule in the study's YAML (--rules: humaneval.bonus, as the run was launched "
        "with; approved units only). Every bonus is recorded in <data dir>/humaneval_payments.db before it is sent, "
        "so running the same command again pays nothing twice, even after a crash; a command whose bonuses add up "
        "to more than --max-total pays none. A payment whose outcome is unknown (no answer, or an error that does "
        "not say it was refused) is reported 'unconfirmed': run again (MTurk's request token makes the retry "
        "safe), or settle it with --confirm KEY paid|unpaid after checking the provider's site. Exit 0 when every bonus is paid, 1 when one failed or is unconfirmed, 2 on bad input. "
        "See docs/mturk.md, \"Bonuses\".",
    )
    parser.add_argument("--task-name", required=True, help="the task name the run was launched with")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help=f"Mephisto data directory (default: ${DATA_DIR_ENV} or ./data/mephisto)")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--worker", metavar="NAME", help="pay this worker (as `review list --reviewed` shows them), "
                      "against their newest APPROVED unit in the task; refused when they have none (approve first)")
    what.add_argument("--rules", action="store_true", help="pay what the task's humaneval.bonus rule gives each "
                      "approved unit (units already paid are skipped)")
    what.add_argument("--confirm", nargs=2, metavar=("KEY", "paid|unpaid"),
                      help="settle an unconfirmed bonus after checking it on the provider's site: paid records it; "
                      "unpaid lets the next run pay it")
    parser.add_argument("--amount", help="with --worker: the bonus, e.g. 1.50 (MTurk: USD; Prolific: your account's "
                        "currency)")
    parser.add_argument("--reason", help="with --worker: why (MTurk shows it to the worker; Prolific takes no message, it stays in the ledger)")
    parser.add_argument("--unit", metavar="ID", help="with --worker: pay against this unit of theirs (refused unless "
                        "it is the worker's and approved)")
    parser.add_argument("--key", help="with --worker: the bonus's idempotency key (default: task, worker, amount and "
                        "reason, so the same bonus asked twice is paid once; give a new key to pay the same again)")
    parser.add_argument("--max-amount", default=str(DEFAULT_MAX_AMOUNT),
                        help=f"refuse any single bonus above this (default {DEFAULT_MAX_AMOUNT}: a typed 500 must not go out)")
    parser.add_argument("--max-total", default=str(DEFAULT_MAX_TOTAL),
                        help=f"refuse the whole command, before paying anything, when the bonuses it would pay "
                        f"(those not already paid) add up to more than this (default {DEFAULT_MAX_TOTAL})")
    parser.add_argument("--dry-run", action="store_true", help="print every bonus that would be paid and the total; "
                        "record and send nothing (not with --confirm, which sends nothing anyway)")
    return parser


def _totals(outcomes: list[BonusOutcome]) -> str:
    by_result: dict[str, list[Decimal]] = defaultdict(list)
    for outcome in outcomes:
        by_result[outcome.result].append(outcome.row.amount)
    return "; ".join(f"{result}: {len(amounts)}, total {sum(amounts, Decimal('0.00'))}"
                     for result, amounts in sorted(by_result.items()))


def _print(outcomes: Iterable[BonusOutcome], dry_run: bool, audit: ReviewAudit | None = None,
           task_name: str = "") -> int:
    """One line per bonus as it is settled (and, unless a dry run, in the audit log), then the totals; the exit
    code says whether all are paid."""
    shown = []
    request = uuid.uuid4().hex
    for outcome in outcomes:
        print(outcome.describe(), flush=True)
        if audit is not None:  # each as it happens: a later failure cannot lose the line of a payment made
            audit.record([as_review_action(outcome)], who=getpass.getuser(), via="cli", request=request,
                         task_name=task_name)
        shown.append(outcome)
    if not shown:
        print("no bonus to pay")
        return 0
    print(_totals(shown) + ("  (dry run: nothing recorded or sent)" if dry_run else ""))
    return 0 if all(o.settled for o in shown) else EXIT_UNSETTLED


@exit_on_input_error
def main(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    max_amount = parse_amount(args.max_amount, Decimal("1e9"), field="--max-amount")
    max_total = parse_amount(args.max_total, Decimal("1e9"), field="--max-total")
    if args.confirm and args.dry_run:
        parser.error("--dry-run does not go with --confirm: --confirm sends nothing, it records what you checked on "
                     "the provider's site")
    if args.worker is not None and (args.amount is None or args.reason is None):
        parser.error("--worker needs --amount and --reason")
    if args.worker is None and any(v is not None for v in (args.amount, args.reason, args.key, args.unit)):
        parser.error("--amount, --reason, --key and --unit go with --worker")
    amount = parse_amount(args.amount, max_amount) if args.worker is not None else None
    db = open_existing_database(args.data_dir)
    with console_logging(), data_faults_reported(db):
        return _run(args, db, amount, max_amount, max_total)


def _run(args: argparse.Namespace, db: MephistoDB, amount: Decimal | None, max_amount: Decimal,
         max_total: Decimal) -> int:
    review = TaskReview(db, args.task_name)  # an unknown task name is refused before the ledger is opened
    if args.confirm:
        key, verdict = args.confirm
        if verdict not in ("paid", "unpaid"):
            raise InputError(f"say paid or unpaid, got {verdict!r}", field="--confirm")
        outcome = confirm(BonusLedger.in_data_dir(db.db_root), args.task_name, key, verdict == "paid")
        checked = dataclasses.replace(as_review_action(outcome), ok=True, skipped=False,
                                      detail=f"confirmed {verdict} by hand: {outcome.describe()}")
        ReviewAudit.in_data_dir(db.db_root).record([checked], who=getpass.getuser(), via="cli",
                                                   request=uuid.uuid4().hex, task_name=args.task_name)
        print(outcome.describe())
        return 0
    if args.rules:
        counter = bonus_event_counters().get(db.find_tasks(task_name=args.task_name)[0].task_type)
        if counter is None:
            raise InputError(f"task '{args.task_name}' is not one of humaneval's studies: no bonus rule applies",
                             field="--rules")
        requests = rule_requests(db, args.task_name, counter, max_amount)
        unruled = runs_without_rules(db, args.task_name, max_amount)
        if unruled:
            print(f"note: run(s) {', '.join(unruled)} of '{args.task_name}' were launched without a bonus rule "
                  "(humaneval.bonus amounts all 0): their units earn no rule bonus")
    else:
        assert amount is not None
        requests = [manual_request(review, args.worker, amount, args.reason, args.key, args.unit)]
    if args.dry_run:  # reads the ledger if there is one; creates nothing
        ledger = BonusLedger.existing(db.db_root)
        shown = _print(preview(ledger, requests), dry_run=True)
        check_total(ledger, requests, max_total)  # the real run would be refused: say so after the list
        return shown
    # opened only now: a bad request has been refused before anything is written
    return _print(pay(db, BonusLedger.in_data_dir(db.db_root), requests, max_total), dry_run=False,
                  audit=ReviewAudit.in_data_dir(db.db_root), task_name=args.task_name)
