"""How a ledger row becomes money on each provider, paid once even when a run crashes mid-payment.

* MTurk (`SendBonus`): every attempt carries the row's `UniqueRequestToken`, written to the ledger before
  the call. A retry of a row left in `paying` sends the same token, and MTurk answers a token it already
  honoured with a `RequestError` saying so ("The idempotency token ... has already been processed"): that
  answer is recorded as paid. MTurk forgets tokens after 24 hours, so an older `paying` row is not retried
  but reported unconfirmed. Only a `RequestError` (HTTP 4xx) proves nothing was paid: that row is recorded
  `failed` and the next run sends a new token. Any other error (a `ServiceFault`, HTTP 5xx, no answer)
  may come after the grant, so the row stays `paying` and the next run resends the same token.
* Prolific: a bulk bonus is set up (`created`, its id kept), the row moves to `paying`, then the bulk is
  paid with one call that is never repeated — Prolific's pay endpoint pays again if called again. A row
  found in `paying` is settled from the submission's `bonus_payments` when Prolific lists the payment
  there; otherwise it stays unconfirmed until a person checks the study's bonus page and says
  `review bonus --confirm KEY paid|unpaid`. A `created` row is paid with its recorded bulk; a `requested`
  one sets up a new bulk (an unpaid draft costs nothing).
* The local sandbox (`mock`): nothing to pay; the row is recorded paid so the flow reads the same.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from humaneval.crowd.bonus_ledger import CREATED, FAILED, PAID, PAYING, REQUESTED, BonusLedger, BonusRow, new_token
from humaneval.crowd.mturk import MTURK_PROVIDERS, profile_name
from humaneval.crowd.prolific.api import ProlificError
from humaneval.crowd.prolific.credentials import client_for_requester
from humaneval.crowd.prolific.provider_type import PROVIDER_TYPE as PROLIFIC
from humaneval.crowd.prolific.records import submission_for_unit
from mephisto.abstractions.database import MephistoDB
from mephisto.data_model.unit import Unit

logger = logging.getLogger(__name__)

MTURK_TOKEN_LIFETIME_S = 24 * 3600
MTURK_TOKEN_MARGIN_S = 3600  # retry a `paying` row only while its token is at least an hour from expiring
# MTurk's two error types: `RequestError` (HTTP 400, the request was refused, nothing done) and `ServiceFault`
# (HTTP 500, the service failed somewhere, possibly after granting). Only the first proves nothing moved;
# every other answer (ServiceFault, 503, throttling, a missing status) leaves the outcome unknown.
MTURK_REFUSAL = "RequestError"
_MTURK_DUPLICATE = re.compile(r"idempotency token .* has already been processed|UniqueRequestToken .* already", re.I | re.S)
PROLIFIC_UNCONFIRMED = "check the study's bonus page on Prolific, then settle it with `review bonus --confirm KEY paid|unpaid`"


@dataclass(frozen=True)
class BonusOutcome:
    """What happened to one bonus, for the CLI's line."""

    row: BonusRow
    result: str  # paid / already paid / failed / unconfirmed / would pay
    detail: str = ""

    @property
    def settled(self) -> bool:
        return self.result in ("paid", "already paid", "would pay")

    def describe(self) -> str:
        row = self.row
        head = f"{self.result}: {row.amount} to {row.worker} (unit {row.unit_id}, {row.provider}) key {row.key}"
        return f"{head}: {self.detail}" if self.detail else head


class Payer(Protocol):
    def pay(self, ledger: BonusLedger, row: BonusRow) -> BonusOutcome: ...


def report_state(row: BonusRow) -> BonusOutcome:
    """A row another attempt left where it is, described without calling anyone."""
    if row.state == PAID:
        return BonusOutcome(row, "already paid", row.detail)
    if row.state == PAYING:
        where = PROLIFIC_UNCONFIRMED if row.provider == PROLIFIC else "payment sent, no answer recorded"
        return BonusOutcome(row, "unconfirmed", where)
    if row.state == FAILED:
        return BonusOutcome(row, "failed", row.detail)
    return BonusOutcome(row, "unconfirmed", f"left {row.state} by another attempt; run again")


class MockPayer:
    """The local sandbox pays nothing; the row is recorded so reruns say "already paid"."""

    def pay(self, ledger: BonusLedger, row: BonusRow) -> BonusOutcome:
        done = ledger.move(row.key, (REQUESTED, FAILED, PAYING), PAID, detail="local sandbox: recorded, no money moves")
        return BonusOutcome(done, "paid", done.detail) if done else report_state(_reread(ledger, row))


class MTurkPayer:
    """`SendBonus` through the boto3 client of the run's requester (what Mephisto's MTurk calls use)."""

    def __init__(self, db: MephistoDB) -> None:
        self.db = db

    def pay(self, ledger: BonusLedger, row: BonusRow) -> BonusOutcome:
        if row.state == PAYING and time.time() - row.updated_at > MTURK_TOKEN_LIFETIME_S - MTURK_TOKEN_MARGIN_S:
            return BonusOutcome(row, "unconfirmed", "sent over 23 hours ago with no answer recorded; MTurk forgets its "
                                "request token after 24 hours, so a retry could pay twice: check the worker's bonuses "
                                "on MTurk, then `review bonus --confirm KEY paid|unpaid`")
        try:
            client, worker_id, assignment_id = self._target(row)
        except LookupError as err:
            return _cannot_reach(ledger, row, str(err))
        if row.state in (REQUESTED, FAILED):
            # a refused attempt moved nothing; its token is not reused, MTurk may remember it as processed
            claimed = ledger.move(row.key, (row.state,), PAYING, token=new_token() if row.state == FAILED else None)
            if claimed is None:
                return report_state(_reread(ledger, row))
            row = claimed
        try:
            client.send_bonus(WorkerId=worker_id, BonusAmount=str(row.amount), AssignmentId=assignment_id,
                              Reason=row.reason, UniqueRequestToken=row.token)
        except ClientError as err:
            error = err.response.get("Error", {})
            message = error.get("Message", str(err))
            if _MTURK_DUPLICATE.search(message):
                done = ledger.move(row.key, (PAYING,), PAID, detail="MTurk had already granted it (same request token)")
                return BonusOutcome(done or _reread(ledger, row), "already paid", "MTurk had already granted it")
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if error.get("Code") == MTURK_REFUSAL and isinstance(status, int) and 400 <= status < 500:
                return _failed(ledger, row, f"MTurk refused: {message}")
            return _unanswered(row, f"MTurk answered {error.get('Code', 'an error')} (HTTP {status}): {message}")
        except ParamValidationError as err:  # refused before sending
            return _failed(ledger, row, f"not sent: {err}")
        except BotoCoreError as err:  # no answer at all
            return _unanswered(row, f"no answer from MTurk ({err.__class__.__name__})")
        done = ledger.move(row.key, (PAYING,), PAID, detail=f"MTurk assignment {assignment_id}")
        return BonusOutcome(done or _reread(ledger, row), "paid", f"MTurk assignment {assignment_id}")

    def _target(self, row: BonusRow) -> tuple[Any, str, str]:
        """(client, MTurk worker id, MTurk assignment id) for the row's unit."""
        unit = Unit.get(self.db, row.unit_id)
        requester = unit.get_requester()
        provider = row.provider
        datastore = requester.datastore
        name = profile_name(provider, requester.requester_name)
        client = (datastore.get_sandbox_client_for_requester(name) if provider == "mturk_sandbox"
                  else datastore.get_client_for_requester(name))
        agent = unit.get_assigned_agent()
        assignment_id = unit.get_mturk_assignment_id()
        if agent is None or not assignment_id:
            raise LookupError(f"unit {row.unit_id} has no MTurk assignment recorded")
        return client, agent.get_worker().get_mturk_worker_id(), assignment_id


class ProlificPayer:
    """Bulk bonus set-up, then one pay call, through the requester's `ProlificClient`."""

    def __init__(self, db: MephistoDB) -> None:
        self.db = db

    def pay(self, ledger: BonusLedger, row: BonusRow) -> BonusOutcome:
        try:
            ref = submission_for_unit(self.db, row.unit_id)
        except LookupError as err:
            return _cannot_reach(ledger, row, str(err))
        client = client_for_requester(self.db, _requester_name(self.db, row.unit_id))
        if row.state == PAYING:
            try:
                return self._settle(ledger, row, client, ref.submission_id)
            except ProlificError as err:
                return BonusOutcome(row, "unconfirmed", f"cannot read submission {ref.submission_id} ({err.detail}); "
                                    f"{PROLIFIC_UNCONFIRMED}")
        if row.state == REQUESTED or (row.state == FAILED and not row.bulk_id):
            try:
                bulk = client.create_bonus_payments(ref.study_id, [(ref.participant_id, f"{row.amount:.2f}")])
            except ProlificError as err:  # a set-up moves no money, whatever the answer
                return _failed(ledger, row, f"Prolific refused the bonus set-up: {err.detail}", from_state=row.state)
            created = ledger.move(row.key, (row.state,), CREATED, bulk_id=str(bulk["id"]))
            if created is None:  # another CLI set up its own draft first; ours is left unpaid
                row = _reread(ledger, row)
                if row.state != CREATED:
                    return report_state(row)
            else:
                row = created
        claimed = ledger.move(row.key, (CREATED, FAILED), PAYING)
        if claimed is None:
            return report_state(_reread(ledger, row))
        try:
            client.pay_bonus_payments(str(claimed.bulk_id))
        except ProlificError as err:
            if err.status is not None and 400 <= err.status < 500:
                return _failed(ledger, claimed, f"Prolific refused to pay bulk {claimed.bulk_id}: {err.detail}")
            logger.warning("bonus %s: paying bulk %s got no clear answer (%s)", row.key, claimed.bulk_id, err)
            return BonusOutcome(claimed, "unconfirmed", f"bulk {claimed.bulk_id}: {err.detail}; {PROLIFIC_UNCONFIRMED}")
        done = ledger.move(row.key, (PAYING,), PAID, detail=f"Prolific bulk {claimed.bulk_id}")
        return BonusOutcome(done or _reread(ledger, row), "paid", f"Prolific bulk {claimed.bulk_id}")

    def _settle(self, ledger: BonusLedger, row: BonusRow, client: Any, submission_id: str) -> BonusOutcome:
        """A `paying` row is never paid again; it is settled when the submission lists the payment.

        Prolific lists the bonuses paid on a submission (`bonus_payments`, in pence/cents). The payment is
        ours if the submission shows more payments of this amount than the ledger has already settled as
        paid on this unit. Paying is asynchronous, so an absent payment proves nothing: unconfirmed."""
        listed = client.get_submission(submission_id).get("bonus_payments") or []
        cents = int(row.amount * 100)
        shown = sum(1 for paid in listed if isinstance(paid, (int, float)) and round(paid) == cents)
        settled = sum(1 for other in ledger.rows_of_unit(row.unit_id)
                      if other.key != row.key and other.state == PAID and other.amount == row.amount)
        if shown > settled:
            done = ledger.move(row.key, (PAYING,), PAID,
                               detail=f"Prolific bulk {row.bulk_id}: listed on submission {submission_id}")
            return BonusOutcome(done or _reread(ledger, row), "already paid",
                                f"Prolific lists it on submission {submission_id}")
        return BonusOutcome(row, "unconfirmed", f"bulk {row.bulk_id} not listed on submission {submission_id} yet; "
                            f"{PROLIFIC_UNCONFIRMED}")


def _unanswered(row: BonusRow, what: str) -> BonusOutcome:
    """An MTurk answer that does not say the bonus was refused: it may have been granted. The row stays
    `paying` with its token, so the next run resends the SAME token and MTurk pays at most once."""
    logger.warning("bonus %s: %s; outcome unknown, run again within 24 h", row.key, what)
    return BonusOutcome(row, "unconfirmed", f"{what}; it may have been granted: run again within 24 hours, the "
                        "same request token makes the retry safe")


def payer_for(db: MephistoDB, provider: str) -> Payer:
    if provider in MTURK_PROVIDERS:
        return MTurkPayer(db)
    if provider == PROLIFIC:
        return ProlificPayer(db)
    if provider == "mock":
        return MockPayer()
    raise ValueError(f"no bonus payer for provider '{provider}'")


def _requester_name(db: MephistoDB, unit_id: str) -> str:
    run = db.get_task_run(str(db.get_unit(unit_id)["task_run_id"]))
    return str(db.get_requester(run["requester_id"])["requester_name"])


def _cannot_reach(ledger: BonusLedger, row: BonusRow, why: str) -> BonusOutcome:
    """The unit's provider record is missing: nothing can be sent. A row already `paying` keeps its state
    (what was sent before is still unknown); any other is recorded failed."""
    if row.state == PAYING:
        return BonusOutcome(row, "unconfirmed", why)
    return _failed(ledger, row, f"not sent: {why}", from_state=row.state)


def _failed(ledger: BonusLedger, row: BonusRow, detail: str, *, from_state: str = PAYING) -> BonusOutcome:
    done = ledger.move(row.key, (from_state,), FAILED, detail=detail)
    return BonusOutcome(done or _reread(ledger, row), "failed", detail)


def _reread(ledger: BonusLedger, row: BonusRow) -> BonusRow:
    current = ledger.get(row.key)
    assert current is not None, f"bonus {row.key} vanished from the ledger"
    return current
