"""Review the finished units of a task: approve (pay), reject, soft-block or block their workers.

Everything goes through Mephisto's own `Agent` / `Worker` methods, so the same code reviews a local
sandbox run (mock provider: statuses and qualifications in the local database) and an MTurk or MTurk
sandbox run (the same, plus the MTurk API calls: `ApproveAssignment`, `RejectAssignment`,
`AssociateQualificationWithWorker`, `CreateWorkerBlock`).

Two Mephisto habits this module guards against:

* Mephisto's MTurk approve/reject helpers swallow API errors (they only log them) and then mark the
  agent approved/rejected locally anyway. We capture what its MTurk helpers log during each action
  and report the action as failed, so a reviewer never reads "approved" for a payment MTurk refused.
* `Unit.get_status()` asks MTurk about every live HIT. Listing only reads local statuses, and only
  finished units are ever synced, so reviewing makes no API call except the actions themselves.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from humaneval.crowd.prolific.api import REJECTION_CATEGORIES, REJECTION_MESSAGE_MIN_CHARS
from humaneval.crowd.prolific.credentials import client_for_requester
from humaneval.crowd.prolific.provider_type import PROVIDER_TYPE as PROLIFIC
from humaneval.crowd.prolific.records import datastore_of, study_of_run, submission_owner
from humaneval.input_errors import InputError
from mephisto.abstractions.blueprint import AgentState
from mephisto.abstractions.database import MephistoDB
from mephisto.data_model.agent import Agent
from mephisto.data_model.constants.assignment_state import AssignmentState
from mephisto.data_model.task_run import TaskRun
from mephisto.data_model.unit import Unit
from mephisto.data_model.worker import Worker
from mephisto.utils.qualifications import find_or_create_qualification

logger = logging.getLogger(__name__)

SOFT_BLOCK_SUFFIX = "_soft_block"
_DONE = {"approve": "approved", "reject": "rejected", "soft-block": "soft-blocked", "block": "blocked"}
SANDBOX_SUFFIX = "_sandbox"
# Loggers of Mephisto's MTurk helpers and of Worker.grant_qualification, which log API failures
# instead of raising them.
_SWALLOWING_LOGGERS = (
    "mephisto.abstractions.providers.mturk.mturk_utils",
    "mephisto.data_model.worker",
)


@dataclass(frozen=True)
class ReviewUnit:
    """One submitted unit as a reviewer sees it."""

    task_run_id: str
    unit_id: str
    provider_type: str
    worker_name: str  # Mephisto's worker name (sandbox providers append `_sandbox`)
    worker_id: str  # Mephisto's worker db id
    agent_id: str
    unit_status: str  # completed / accepted / rejected / soft_rejected
    agent_status: str  # completed (awaiting review) / approved / rejected / soft_rejected

    @property
    def awaiting_review(self) -> bool:
        return self.agent_status == AgentState.STATUS_COMPLETED


@dataclass(frozen=True)
class ReviewAction:
    """What one review step did (or why it did not), for the CLI to print."""

    action: str  # approve / reject / soft-block / block
    target: str
    ok: bool  # False only when something was refused or broke; a skip is fine
    detail: str = ""
    skipped: bool = False  # nothing to do (e.g. the unit was already reviewed)

    def describe(self) -> str:
        if self.skipped:
            head = f"skipped {self.target}"
        elif self.ok:
            head = f"{_DONE.get(self.action, self.action)} {self.target}"
        else:
            head = f"FAILED to {self.action} {self.target}"
        return f"{head}: {self.detail}" if self.detail else head


@dataclass(frozen=True)
class SubmissionWithoutWork:
    """A Prolific submission awaiting review with no work of ours behind it (the code typed in without working,
    or a unit left open when the run stopped): Prolific pays it by itself unless it is rejected."""

    study_id: str
    submission_id: str
    participant_id: str


def check_rejection(units: Sequence[ReviewUnit], reason: str, category: str | None) -> None:
    """What a rejection of `units` needs, or an `InputError`: a reason (the worker is shown it) and, when any unit
    is on Prolific, one of its categories and a message of at least 100 characters."""
    if not reason.strip():
        raise InputError("a rejection needs a reason: the worker is shown it", field="reason")
    if any(u.provider_type == PROLIFIC for u in units):
        if len(reason.strip()) < REJECTION_MESSAGE_MIN_CHARS:
            raise InputError(f"Prolific wants a rejection message of at least {REJECTION_MESSAGE_MIN_CHARS} "
                             f"characters (this one has {len(reason.strip())}): say what was wrong and why",
                             field="reason")
        if category not in REJECTION_CATEGORIES:
            raise InputError(f"Prolific wants a rejection category: one of {', '.join(REJECTION_CATEGORIES)}",
                             field="category")


class _ErrorCapture(logging.Handler):
    """Collects ERROR records that Mephisto logs instead of raising."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        lines = record.getMessage().splitlines()
        message = lines[0] if lines else record.levelname
        if record.exc_info and record.exc_info[1] is not None:
            cause = str(record.exc_info[1]).splitlines()[0] if str(record.exc_info[1]) else ""
            if cause and cause not in message:
                message = f"{message} ({cause})"
        self.messages.append(message)


@contextlib.contextmanager
def _swallowed_errors() -> Iterator[_ErrorCapture]:
    capture = _ErrorCapture()
    loggers = [logging.getLogger(name) for name in _SWALLOWING_LOGGERS]
    for each in loggers:
        each.addHandler(capture)
    try:
        yield capture
    finally:
        for each in loggers:
            each.removeHandler(capture)


def work_was_submitted(agent: Agent) -> bool:
    """Whether the agent's page submitted anything. Mephisto marks a unit still open when its run stops
    as completed, with no data: approving it would pay for nothing. Static pages store `outputs`, live
    (remote procedure) ones a `final_submission`."""
    data = agent.state.get_data() or {}
    return any(data.get(key) is not None for key in ("outputs", "final_submission"))


def default_block_qualification(task_name: str) -> str:
    """A task's own soft-block qualification, `<task_name>_soft_block`: what the task YAMLs set
    (`${mephisto.task.task_name}_soft_block`) and what review falls back to for a task none of whose
    runs names one. One per task, so a worker soft-blocked from one study may still take another."""
    return f"{task_name}{SOFT_BLOCK_SUFFIX}"


def _names_match(worker_name: str, wanted: str) -> bool:
    """A worker may be named as Mephisto stores it or as the provider knows it (without `_sandbox`)."""
    return worker_name == wanted or worker_name == wanted + SANDBOX_SUFFIX


class TaskReview:
    """The review of every run of one task name in one Mephisto database."""

    def __init__(self, db: MephistoDB, task_name: str) -> None:
        tasks = db.find_tasks(task_name=task_name)
        if not tasks:
            known = ", ".join(sorted(t.task_name for t in db.find_tasks())) or "none"
            raise InputError(f"no task named '{task_name}' in {db.db_path} (tasks there: {known})", field="task_name")
        self.db = db
        self.task_name = task_name
        self.task_runs: list[TaskRun] = list(db.find_task_runs(task_id=tasks[0].db_id))
        self._workers: dict[str, Worker] = {}

    # --- reading ---------------------------------------------------------------------------------

    def units(self, include_reviewed: bool = False) -> list[ReviewUnit]:
        """Submitted units, oldest first; only those awaiting review unless `include_reviewed`."""
        found = []
        for unit, agent in self._finished():
            item = self._describe(unit, agent)
            if include_reviewed or item.awaiting_review:
                found.append(item)
        return found

    def select(
        self, *, all_units: bool = False, workers: Sequence[str] = (), unit_ids: Sequence[str] = ()
    ) -> list[ReviewUnit]:
        """Units chosen by worker name and/or unit id, or every unit awaiting review (`all_units`).

        Named units that were already reviewed are kept so the actions can say so. Naming a worker or
        unit that has no submitted unit in this task is an input error: a typo never reviews nothing.
        """
        if not (all_units or workers or unit_ids):
            raise InputError("choose what to review: --all, --worker NAME or --unit ID", field="selection")
        everything = self.units(include_reviewed=True)
        for name in workers:
            if not any(_names_match(u.worker_name, name) for u in everything):
                raise InputError(f"worker '{name}' has no submitted unit in task '{self.task_name}'", field="worker")
        for unit_id in unit_ids:
            if not any(u.unit_id == str(unit_id) for u in everything):
                raise InputError(f"unit {unit_id} is not a submitted unit of task '{self.task_name}'", field="unit")
        wanted_units = {str(i) for i in unit_ids}
        return [
            u
            for u in everything
            if (all_units and u.awaiting_review)
            or any(_names_match(u.worker_name, name) for name in workers)
            or u.unit_id in wanted_units
        ]

    def prolific_submissions_without_work(self) -> list[SubmissionWithoutWork]:
        """Submissions of this task's Prolific studies that reached the completion URL (AWAITING REVIEW) with no
        submitted unit here. They are not units, so `units()` cannot show them, yet Prolific approves
        unreviewed submissions by itself after 21 days: the reviewer must see them to reject them. One
        listing call per study; none for a task without Prolific runs."""
        found = []
        for run in self.task_runs:
            study = study_of_run(self.db, str(run.db_id)) if run.provider_type == PROLIFIC else None
            if study is None or not study.published:
                continue
            ours = {r.submission_id: r.agent_id for r in datastore_of(self.db).submissions_of_run(str(run.db_id))}
            for submission in client_for_requester(self.db, study.requester_name).list_submissions(study.study_id):
                if submission.get("status") not in ("AWAITING REVIEW", "PROCESSING"):  # PROCESSING: on its way there
                    continue
                agent_id = ours.get(str(submission.get("id")))
                if agent_id is not None and work_was_submitted(Agent.get(self.db, agent_id)):
                    continue
                found.append(SubmissionWithoutWork(study.study_id, str(submission.get("id")), submission_owner(submission)[0]))
        return found

    def unfinished_runs(self) -> list[str]:
        """Ids of runs not marked complete: still being served, or interrupted (Ctrl-C, crash).

        Approve and reject only after a run has ended: at shutdown Mephisto expires the run's units,
        and its mock provider turns already-reviewed units into "expired" (MockUnit.expire only
        spares completed ones); on MTurk it expires their HITs again.
        """
        return [str(run.db_id) for run in self.task_runs if not self.db.get_task_run(run.db_id)["is_completed"]]

    def soft_block_qualification(self) -> str:
        """The qualification the task's newest run keeps workers out with, else the task's own default."""
        for run in reversed(self.task_runs):
            name = run.args.get("blueprint", {}).get("block_qualification", None)
            if name:
                return str(name)
        return default_block_qualification(self.task_name)

    def runs_checking(self, qualification: str) -> list[str]:
        """Ids of this task's runs whose blueprint keeps out workers holding `qualification`."""
        return [
            str(run.db_id)
            for run in self.task_runs
            if run.args.get("blueprint", {}).get("block_qualification", None) == qualification
        ]

    # --- acting ----------------------------------------------------------------------------------

    def approve(self, units: Iterable[ReviewUnit]) -> list[ReviewAction]:
        """Approve (on MTurk and Prolific: pay) each unit still awaiting review whose page submitted work."""
        return [self._review_unit(u, "approve", lambda agent: agent.approve_work()) for u in units]

    def reject(self, units: Iterable[ReviewUnit], reason: str, category: str | None = None) -> list[ReviewAction]:
        """Reject each unit still awaiting review; the worker sees `reason` and is not paid.

        Prolific also wants a rejection category and a message of at least 100 characters; both are
        checked for every Prolific unit before anything is sent, so a batch never stops half-way."""
        units = list(units)
        check_rejection(units, reason, category)

        def reject(agent: Agent) -> None:
            if agent.provider_type == PROLIFIC:
                agent.reject_work(reason, category)  # type: ignore[call-arg]
            else:
                agent.reject_work(reason)

        return [self._review_unit(u, "reject", reject, reason) for u in units]

    def soft_block(self, worker_names: Sequence[str], qualification: str | None = None) -> list[ReviewAction]:
        """Grant each worker the block qualification, which keeps them out of runs that check it.

        Nothing is rejected and nothing shows on the worker's record: the worker simply no longer
        qualifies (locally for the sandbox; on MTurk through the matching MTurk qualification).
        """
        qualification = qualification or self.soft_block_qualification()
        find_or_create_qualification(self.db, qualification)
        checking = self.runs_checking(qualification)
        note = (
            f"runs {', '.join(checking)} of '{self.task_name}' check it"
            if checking
            else f"note: no run of '{self.task_name}' checks it yet; launch with "
            f"mephisto.blueprint.block_qualification={qualification} to keep this worker out"
        )
        actions = []
        for worker in self._workers_named(worker_names):
            target = f"worker {worker.worker_name} ({worker.provider_type})"
            with _swallowed_errors() as errors:
                granted = worker.grant_qualification(qualification, 1)
            if granted is False or errors.messages:
                detail = f"qualification '{qualification}' granted locally, but the provider refused: " + "; ".join(
                    errors.messages or ["see the log"]
                )
                actions.append(ReviewAction("soft-block", target, False, detail))
            else:
                actions.append(ReviewAction("soft-block", target, True, f"qualification '{qualification}' granted; {note}"))
            logger.info("%s", actions[-1].describe())
        return actions

    def block(self, worker_names: Sequence[str], reason: str) -> list[ReviewAction]:
        """Block each worker with the provider (on MTurk: a requester-wide `CreateWorkerBlock`).

        MTurk needs to know which requester blocks: we pass the worker's newest unit in this task,
        whose run names the requester.
        """
        if not reason.strip():
            raise InputError("a block needs a reason: MTurk records it with the block (on Prolific it is kept in our log)", field="reason")
        actions = []
        for worker in self._workers_named(worker_names):
            target = f"worker {worker.worker_name} ({worker.provider_type})"
            unit = self._newest_unit_of(worker)
            try:
                with _swallowed_errors() as errors:
                    ok, message = worker.block_worker(reason, unit=unit)
            except Exception as err:  # the provider's API error, reported rather than a traceback
                ok, message = False, f"{err.__class__.__name__}: {err}"
            else:
                if errors.messages:
                    ok, message = False, "; ".join(errors.messages)
            where = ("on MTurk" if worker.provider_type.startswith("mturk") else "on Prolific (the requester's block group)"
                     if worker.provider_type == PROLIFIC else f"in the {worker.provider_type} provider")
            detail = f"blocked {where} with reason '{reason}'" if ok else message or "the provider refused"
            actions.append(ReviewAction("block", target, bool(ok), detail))
            logger.info("%s", actions[-1].describe())
        return actions

    # --- helpers ---------------------------------------------------------------------------------

    def _finished(self) -> Iterator[tuple[Unit, Agent]]:
        for run in self.task_runs:
            for unit in self.db.find_units(task_run_id=run.db_id):
                # db_status, not get_status(): the latter asks MTurk about every live HIT.
                if unit.db_status not in AssignmentState.completed():
                    continue
                agent = unit.get_assigned_agent()
                if agent is None:
                    logger.warning("finished unit %s has no agent; skipped", unit.db_id)
                    continue
                yield unit, agent

    def _worker(self, worker_id: str) -> Worker:
        if worker_id not in self._workers:
            self._workers[worker_id] = Worker.get(self.db, worker_id)
        return self._workers[worker_id]

    def _describe(self, unit: Unit, agent: Agent) -> ReviewUnit:
        worker = self._worker(str(agent.worker_id))
        return ReviewUnit(
            task_run_id=str(unit.task_run_id),
            unit_id=str(unit.db_id),
            provider_type=unit.provider_type,
            worker_name=worker.worker_name,
            worker_id=str(worker.db_id),
            agent_id=str(agent.db_id),
            unit_status=unit.get_status(),  # finished units: local sync only, no API call
            agent_status=agent.get_status(),
        )

    def _review_unit(
        self, item: ReviewUnit, action: str, act: Callable[[Agent], None], reason: str = ""
    ) -> ReviewAction:
        target = f"unit {item.unit_id} (worker {item.worker_name}, {item.provider_type})"
        unit = Unit.get(self.db, item.unit_id)
        agent = unit.get_assigned_agent()
        assert agent is not None
        status = agent.get_status()
        if status != AgentState.STATUS_COMPLETED:
            result = ReviewAction(action, target, True, f"already {status}, not {_DONE.get(action, action)} again", skipped=True)
        elif action == "approve" and not work_was_submitted(agent):
            result = ReviewAction(action, target, False, "no work was submitted with this unit (the run stopped "
                                  "while it was open): not approved, nothing paid; reject it (on Prolific: NO_DATA)")
        else:
            with _swallowed_errors() as errors:
                try:
                    act(agent)
                except Exception as err:  # a provider that raises (Prolific) instead of logging (MTurk)
                    errors.messages.append(f"{type(err).__name__}: {' '.join(str(err).split())[:300]}")
            unit_status = Unit.get(self.db, item.unit_id).get_status()
            if errors.messages:
                detail = "the provider refused: " + "; ".join(errors.messages)
                detail += f" (Mephisto marked the agent {agent.get_status()} locally anyway)"
                result = ReviewAction(action, target, False, detail)
            else:
                detail = f"unit now {unit_status}" + (f"; reason: '{reason}'" if reason else "")
                if item.provider_type.startswith("mturk"):
                    assignment = getattr(unit, "get_mturk_assignment_id", lambda: None)()
                    detail += f"; MTurk assignment {assignment}"
                result = ReviewAction(action, target, True, detail)
        logger.info("%s", result.describe())
        return result

    def _workers_named(self, names: Sequence[str]) -> list[Worker]:
        if not names:
            raise InputError("name at least one worker with --worker", field="worker")
        everything = self.units(include_reviewed=True)
        chosen: list[str] = []
        for name in names:
            matches = sorted({u.worker_id for u in everything if _names_match(u.worker_name, name)})
            if not matches:
                raise InputError(f"worker '{name}' has no submitted unit in task '{self.task_name}'", field="worker")
            chosen.extend(w for w in matches if w not in chosen)
        return [self._worker(w) for w in chosen]

    def _newest_unit_of(self, worker: Worker) -> Unit:
        newest: Unit | None = None
        for unit, agent in self._finished():
            if str(agent.worker_id) == str(worker.db_id):
                newest = unit
        assert newest is not None, f"worker {worker.worker_name} has no unit in this task"
        return newest
