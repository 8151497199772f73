"""Bonuses for a task's workers, by hand or by a study's rule, each paid once (docs/mturk.md, "Bonuses").

A bonus is asked for as a `BonusRequest` (who, which unit, how much, why, under which idempotency key);
`pay` writes it to the ledger (`bonus_ledger`) before anything is sent and hands it to the payer of the
unit's provider (`bonus_payers`), which moves it through the ledger's states. Asking again for a bonus
whose key is already in the ledger finds that row: a paid bonus is reported "already paid", one left
mid-payment is finished or reported unconfirmed, never sent blindly a second time.

Amounts are decimals in the provider's currency (MTurk: USD; Prolific: the account's currency), at most
two places, above zero and at most a ceiling (`DEFAULT_MAX_AMOUNT`), so a typed 500 never goes out; a
batch (the rules' bonuses of a task) is refused whole when its total is above `DEFAULT_MAX_TOTAL`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from humaneval.crowd.bonus_ledger import CREATED, FAILED, PAID, PAYING, REQUESTED, BonusLedger, BonusRow, new_token
from humaneval.crowd.bonus_payers import BonusOutcome, payer_for, report_state
from humaneval.crowd.review import SANDBOX_SUFFIX, ReviewAction, ReviewUnit, TaskReview
from humaneval.input_errors import InputError
from mephisto.abstractions.blueprint import AgentState
from mephisto.abstractions.database import MephistoDB

DEFAULT_MAX_AMOUNT = Decimal("20.00")
DEFAULT_MAX_TOTAL = Decimal("200.00")  # per command: a rule that pays far more than meant stops before paying
MAX_REASON_CHARS = 1024  # MTurk's limit on a bonus reason
_PLAIN_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?", re.ASCII)


@dataclass(frozen=True)
class BonusRequest:
    """One bonus to pay: against `unit_id` of `worker` (a submitted unit of the task)."""

    key: str
    task_name: str
    provider: str
    worker: str
    unit_id: str
    amount: Decimal
    reason: str


def parse_amount(text: str, max_amount: Decimal = DEFAULT_MAX_AMOUNT, *, field: str = "--amount") -> Decimal:
    """A positive decimal with at most two places, at most `max_amount`; else an `InputError`.

    Written as plain ASCII digits with an optional point: Python's Decimal also reads "1e1" and other scripts'
    digits ("٣"), which nobody types meaning an amount of money."""
    if not _PLAIN_DECIMAL.fullmatch(str(text).strip()):
        raise InputError(f"not a plain decimal amount such as 1.50: {text!r}", field=field)
    try:
        amount = Decimal(str(text).strip())
    except InvalidOperation:
        raise InputError(f"not a number: {text!r}", field=field) from None
    if not amount.is_finite() or amount <= 0:
        raise InputError(f"must be above 0, got {text!r}", field=field)
    if amount > max_amount:  # before quantize, which cannot hold a 30-digit number
        raise InputError(f"{amount} is above the ceiling of {max_amount}; pass --max-amount to raise it", field=field)
    if amount != amount.quantize(Decimal("0.01")):
        raise InputError(f"at most two decimal places (cents/pence), got {text!r}", field=field)
    return amount.quantize(Decimal("0.01"))


def check_reason(reason: str, *, field: str = "--reason") -> str:
    """The reason for a bonus: not blank, within MTurk's length. MTurk shows it to the worker; Prolific's
    bonus API takes no message, so there it is kept in the ledger only."""
    text = reason.strip()
    if not text:
        raise InputError("a bonus needs a reason: the worker reads it", field=field)
    if len(text) > MAX_REASON_CHARS:
        raise InputError(f"at most {MAX_REASON_CHARS} characters, got {len(text)}", field=field)
    return text


def manual_key(task_name: str, worker: str, amount: Decimal, reason: str) -> str:
    """`manual:<task>:<worker>:<amount>:<sha of reason>`: the same bonus asked for twice is one bonus."""
    digest = hashlib.sha256(reason.encode("utf-8")).hexdigest()[:16]
    return f"manual:{task_name}:{worker}:{amount}:{digest}"


def bonus_unit(review: TaskReview, worker: str, unit_id: str | None = None) -> ReviewUnit:
    """The unit a bonus by hand is paid against (MTurk pays a bonus on an assignment, Prolific on a
    submission): `unit_id` if given, else the worker's newest one, and only ever an APPROVED unit of theirs:
    never rejected work, nor a unit nobody has reviewed (on Prolific that could be a forged session).

    The name is matched exactly when some unit carries it; only otherwise with the `_sandbox` suffix, so
    `W` never reaches another worker's `W_sandbox` units. Anything else is an `InputError` saying why."""
    everything = review.units(include_reviewed=True)
    theirs = ([u for u in everything if u.worker_name == worker]
              or [u for u in everything if u.worker_name == worker + SANDBOX_SUFFIX])
    if not theirs:
        raise InputError(f"worker '{worker}' has no submitted unit in task '{review.task_name}'", field="--worker")
    if unit_id is not None:
        theirs = [u for u in theirs if u.unit_id == unit_id.strip()]
        if not theirs:
            raise InputError(f"unit {unit_id} is not a submitted unit of worker '{worker}' in task "
                             f"'{review.task_name}'", field="--unit")
    approved = [u for u in theirs if u.agent_status == AgentState.STATUS_APPROVED]
    if not approved:
        states = ", ".join(f"unit {u.unit_id} {u.agent_status}" for u in theirs)
        raise InputError(f"worker '{worker}' has no approved unit to pay a bonus against ({states}): a bonus goes "
                         "only with approved work, never a rejected unit; approve first (`review approve --unit ID`)",
                         field="--unit" if unit_id is not None else "--worker")
    return max(approved, key=lambda u: int(u.unit_id))


def manual_request(review: TaskReview, worker: str, amount: Decimal, reason: str, key: str | None = None,
                   unit_id: str | None = None) -> BonusRequest:
    """A bonus by hand to `worker`, against the unit `bonus_unit` chooses."""
    reason = check_reason(reason)
    if key is not None and not key.strip():
        raise InputError("an empty --key", field="--key")
    unit = bonus_unit(review, worker, unit_id)
    return BonusRequest(key=key.strip() if key else manual_key(review.task_name, unit.worker_name, amount, reason),
                        task_name=review.task_name, provider=unit.provider_type, worker=unit.worker_name,
                        unit_id=unit.unit_id, amount=amount, reason=reason)


def _recorded(ledger: BonusLedger, request: BonusRequest) -> tuple[BonusRow, bool]:
    row, created = ledger.request(key=request.key, task_name=request.task_name, provider=request.provider,
                                  worker=request.worker, unit_id=request.unit_id, amount=request.amount,
                                  reason=request.reason)
    asked = (request.task_name, request.worker, request.unit_id, request.amount)
    if (row.task_name, row.worker, row.unit_id, row.amount) != asked:
        raise InputError(f"key '{request.key}' already names another bonus ({row.amount} to {row.worker}, unit "
                         f"{row.unit_id}, {row.state}); choose another --key", field="--key")
    return row, created


def check_total(ledger: BonusLedger | None, requests: Sequence[BonusRequest], max_total: Decimal) -> Decimal:
    """The money a batch may still send: every bonus the ledger (None: no ledger file yet) does not hold as
    paid, so a rerun of the rules counts only what is new. Above `max_total` the whole batch is an
    `InputError` saying the total: a wrong rule is stopped before its first payment, not half-way."""
    paid = {r.key for r in requests if ledger is not None and (row := ledger.get(r.key)) is not None
            and row.state == PAID}
    unpaid = [r for r in requests if r.key not in paid]
    total = sum((r.amount for r in unpaid), Decimal("0.00"))
    if total > max_total:
        raise InputError(f"these {len(unpaid)} bonus(es) would pay {total} in all, above the total ceiling of "
                         f"{max_total}; nothing was paid: check them with --dry-run, then pass --max-total to allow "
                         "it", field="--max-total")
    return total


def pay(db: MephistoDB, ledger: BonusLedger, requests: Sequence[BonusRequest],
        max_total: Decimal = DEFAULT_MAX_TOTAL) -> Iterator[BonusOutcome]:
    """Pay each bonus once. Before the first is sent, the batch's total is checked (`check_total`) and every
    bonus recorded (its key checked); then each is sent by its provider's payer, or reported as it stands.
    Outcomes come one by one, so a caller shows each payment as it happens even if a later one stops the run."""
    check_total(ledger, requests, max_total)
    return _settle_each(db, ledger, [_recorded(ledger, r)[0] for r in requests])


def _settle_each(db: MephistoDB, ledger: BonusLedger, rows: list[BonusRow]) -> Iterator[BonusOutcome]:
    for row in rows:
        current = ledger.get(row.key) or row
        yield report_state(current) if current.state == PAID else payer_for(db, current.provider).pay(ledger, current)


def preview(ledger: BonusLedger | None, requests: Iterable[BonusRequest]) -> list[BonusOutcome]:
    """What `pay` would do, writing nothing: "would pay" for each bonus not yet in the ledger (None: no
    ledger file yet) or left unpaid, and the standing of the others."""
    outcomes = []
    for request in requests:
        row = ledger.get(request.key) if ledger is not None else None
        if row is None or row.state in (REQUESTED, CREATED, FAILED):
            shown = row or BonusRow(request.key, request.task_name, request.provider, request.worker, request.unit_id,
                                    request.amount, request.reason, "", REQUESTED, None, "", 0.0, 0.0)
            outcomes.append(BonusOutcome(shown, "would pay", f"reason: {request.reason}"))
        else:
            outcomes.append(report_state(row))
    return outcomes


def confirm(ledger: BonusLedger, task_name: str, key: str, paid: bool) -> BonusOutcome:
    """Settle by hand a bonus left `paying` (sent, answer unknown), after checking it on the provider's site.

    `paid` records it paid. Not paid puts it back where the next run pays it without repeating what is known
    to have happened: a Prolific bulk that was set up is paid with its recorded id; an MTurk bonus is sent
    with a new request token (the old one is forgotten after 24 hours, or was never used)."""
    row = ledger.get(key)
    if row is None or row.task_name != task_name:
        raise InputError(f"no bonus with key '{key}' in task '{task_name}'", field="--confirm")
    if row.state != PAYING:
        raise InputError(f"bonus '{key}' is {row.state}, not awaiting confirmation (only `paying` ones are)",
                         field="--confirm")
    if paid:
        done = ledger.move(key, (PAYING,), PAID, detail="confirmed paid by hand")
        return BonusOutcome(done or row, "paid", "confirmed by hand")
    back = CREATED if row.bulk_id else REQUESTED
    done = ledger.move(key, (PAYING,), back, detail="confirmed unpaid by hand", token=new_token())
    return BonusOutcome(done or row, "unpaid", f"confirmed unpaid by hand; back to {back}, paid by the next run")



def as_review_action(outcome: BonusOutcome) -> ReviewAction:
    """A bonus's outcome as a review action, for the audit log: a bonus the ledger already holds as paid is a
    skip (nothing was sent), so adding up the log's bonuses never counts one payment twice."""
    row = outcome.row
    return ReviewAction("bonus", f"worker {row.worker} (unit {row.unit_id}, {row.provider})", outcome.settled,
                        outcome.describe(), skipped=outcome.result == "already paid")
