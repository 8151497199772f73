"""The page's review actions: checked, previewed, then done once, through the same code as the CLI.

A request names an action, the workers it applies to (one, or all the reviewer selected) and what the action
needs (a reason, a Prolific category, a bonus amount). `preview` says what would happen — which units would be
approved or rejected and what that pays, which bonuses would go out — without doing anything; `perform` does
it through `TaskReview` and `crowd.bonuses` (the code behind `review approve|reject|soft-block|block|bonus`)
inside `ReviewAudit.once`, so the page's request id makes a double click or a retried request do nothing
more, and every outcome is a line of the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from humaneval.crowd.bonus_ledger import BonusLedger
from humaneval.crowd.bonuses import (DEFAULT_MAX_AMOUNT, DEFAULT_MAX_TOTAL, as_review_action, check_total, manual_request,
                                     parse_amount, pay, preview as bonus_preview)
from humaneval.crowd.mephisto_api import Unit
from humaneval.crowd.review import ReviewAction, check_rejection, work_was_submitted
from humaneval.crowd.review_audit import AuditLine, ReviewAudit
from humaneval.input_errors import InputError
from humaneval.review_page.study_data import StudyData

ACTIONS = ("approve", "reject", "bonus", "soft-block", "block")
MAX_WORKERS_PER_REQUEST = 5000
_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
_KEYS = {"request", "action", "workers", "reason", "category", "amount"}


@dataclass(frozen=True)
class ActionRequest:
    """One reviewer's request, checked field by field (`parse`)."""

    request: str  # the page's id for this confirmation: the same id is never acted on twice
    action: str
    workers: tuple[str, ...]
    reason: str = ""
    category: str | None = None
    amount: Decimal | None = None

    @classmethod
    def parse(cls, body: Any, *, preview: bool = False) -> "ActionRequest":
        """The request in a JSON body, or an `InputError` naming the field; a preview needs no request id."""
        if not isinstance(body, dict):
            raise InputError("the body must be a JSON object", field="body")
        unknown = sorted(set(body) - _KEYS)
        if unknown:
            raise InputError(f"unknown field(s): {', '.join(unknown)}", field=unknown[0])
        request = body.get("request", "")
        if not preview and not (isinstance(request, str) and _REQUEST_ID.match(request)):
            raise InputError("a request id of 8 to 64 letters, digits or dashes is needed", field="request")
        action = body.get("action")
        if action not in ACTIONS:
            raise InputError(f"one of {', '.join(ACTIONS)}", field="action")
        workers = body.get("workers")
        if (not isinstance(workers, list) or not workers or len(workers) > MAX_WORKERS_PER_REQUEST
                or not all(isinstance(w, str) and w.strip() for w in workers)):
            raise InputError(f"a list of 1 to {MAX_WORKERS_PER_REQUEST} worker names", field="workers")
        reason, category = body.get("reason", ""), body.get("category")
        if not isinstance(reason, str):
            raise InputError("a string", field="reason")
        if category is not None and not isinstance(category, str):
            raise InputError("a string or null", field="category")
        if action in ("reject", "block", "bonus") and not reason.strip():
            raise InputError(f"{action} needs a reason" + (": the worker reads it" if action != "block" else ""),
                             field="reason")
        amount = None
        if action == "bonus":
            amount = parse_amount(str(body.get("amount", "")), DEFAULT_MAX_AMOUNT, field="amount")
        return cls(str(request), action, tuple(dict.fromkeys(w.strip() for w in workers)), reason.strip(),
                   category or None, amount)


def preview(study: StudyData, req: ActionRequest) -> dict[str, Any]:
    """What `perform` would do, doing nothing: one line per unit or worker, and the money it moves per currency."""
    review = study.review
    lines: list[str] = []
    totals: dict[str, Decimal] = {}
    rows = {u.unit_id: u for w in study.workers() for u in w.units}

    def pays(amount: Decimal, currency: str) -> None:
        totals[currency] = totals.get(currency, Decimal("0.00")) + amount

    if req.action in ("approve", "reject"):
        chosen = review.select(workers=req.workers)
        for unit in chosen:
            row = rows[unit.unit_id]
            reward = Decimal(str(row.reward)).quantize(Decimal("0.01"))
            if not unit.awaiting_review:
                lines.append(f"unit {unit.unit_id} of {unit.worker_name}: already {unit.agent_status}, left as it is")
            elif req.action == "reject":
                lines.append(f"reject unit {unit.unit_id} of {unit.worker_name}: {reward} {row.currency} not paid")
            elif not work_was_submitted(Unit.get(review.db, unit.unit_id).get_assigned_agent()):
                lines.append(f"unit {unit.unit_id} of {unit.worker_name}: no work was submitted with it, so it will "
                             "not be approved (reject it instead)")
            else:
                pays(reward, row.currency)
                lines.append(f"approve unit {unit.unit_id} of {unit.worker_name}: pays {reward} {row.currency}")
        if req.action == "reject":
            check_rejection(chosen, req.reason, req.category)  # what `TaskReview.reject` refuses, said before
    elif req.action == "bonus":
        assert req.amount is not None
        requests = [manual_request(review, w, req.amount, req.reason) for w in req.workers]
        ledger = BonusLedger.existing(study.db.db_root)  # a preview creates no ledger file
        check_total(ledger, requests, DEFAULT_MAX_TOTAL)
        for r, outcome in zip(requests, bonus_preview(ledger, requests)):
            currency = rows[r.unit_id].currency
            if outcome.result == "would pay":
                pays(r.amount, currency)
                lines.append(f"bonus {r.amount} {currency} to {r.worker} against unit {r.unit_id}: {r.reason}")
            else:
                lines.append(f"bonus to {r.worker}: {outcome.result} ({outcome.row.amount} {currency}, the same "
                             "amount and reason): nothing is sent again")
            earlier = [b for b in study.bonuses_of(r.worker) if b.key != r.key]
            if earlier:
                lines.append(f"note: {r.worker} already has {len(earlier)} other bonus(es): " + "; ".join(
                    f"{b.amount} {currency} '{b.reason}' ({b.state})" for b in earlier))
    else:
        review.select(workers=req.workers)  # every name must be a worker of this task
        verb = "soft-block (no more work in runs that check the qualification)" if req.action == "soft-block" else \
            "block with the provider"
        lines.extend(f"{verb}: {w}" for w in req.workers)
    paid = " + ".join(f"{amount} {currency}" for currency, amount in sorted(totals.items()) if amount)
    return {"action": req.action, "lines": lines, "pays": paid or "nothing"}


def perform(study: StudyData, audit: ReviewAudit, req: ActionRequest, *, who: str) -> tuple[list[AuditLine], bool]:
    """Do the request once (see the module docstring); the second value is False for a repeat. An id already
    used for another action or task is refused: only a repeat of the same request is answered from the log."""
    lines, acted = audit.once(req.request, lambda: _act(study, req), who=who, via="page", task_name=study.task_name)
    if not acted and any(line.action != req.action or line.task_name != study.task_name for line in lines):
        raise InputError(f"request id {req.request} was already used for {lines[0].action} in task "
                         f"'{lines[0].task_name}': send a new id", field="request")
    return lines, acted


def _act(study: StudyData, req: ActionRequest) -> Sequence[ReviewAction]:
    review = study.review
    if req.action == "approve":
        return review.approve(review.select(workers=req.workers))
    if req.action == "reject":
        return review.reject(review.select(workers=req.workers), req.reason, req.category)
    if req.action == "soft-block":
        return review.soft_block(list(req.workers))
    if req.action == "block":
        return review.block(list(req.workers), req.reason)
    assert req.amount is not None
    # the CLI's key (task, worker, amount, reason): the same bonus confirmed twice, even in two dialogs, is one bonus
    requests = [manual_request(review, w, req.amount, req.reason) for w in req.workers]
    outcomes = pay(review.db, BonusLedger.in_data_dir(review.db.db_root), requests, DEFAULT_MAX_TOTAL)
    return [as_review_action(o) for o in outcomes]

