"""A participant working on one unit: the Prolific submission (`SESSION_ID`) behind a Mephisto agent.

Approval and rejection are Prolific's submission transitions. Prolific accepts them only once the
participant has been redirected to the completion URL (status AWAITING REVIEW; it reads PROCESSING for
a moment first, which the client waits out), and checks that the submission is the participant's: we
refuse to act on one whose recorded participant or study differs from what Prolific reports.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

from humaneval.crowd.prolific.api import ProlificError
from humaneval.crowd.prolific.credentials import client_for_requester
from humaneval.crowd.prolific.datastore import SubmissionRecord
from humaneval.crowd.prolific.provider_type import PROLIFIC_ID, PROVIDER_TYPE
from humaneval.crowd.prolific.records import datastore_of, submission_owner
from mephisto.abstractions.blueprint import AgentState
from mephisto.abstractions.database import MephistoDB
from mephisto.data_model.agent import Agent
from mephisto.data_model.unit import Unit
from mephisto.data_model.worker import Worker

logger = logging.getLogger(__name__)

DEFAULT_REJECTION_CATEGORY = "OTHER"
LIVE_SUBMISSION = ("ACTIVE", "RESERVED")  # a participant working on the study (Prolific's statuses)
# Our agent statuses of a participant still working on their unit (a return on Prolific can end these).
WORKING = (AgentState.STATUS_ACCEPTED, AgentState.STATUS_IN_TASK, AgentState.STATUS_ONBOARDING,
           AgentState.STATUS_WAITING)

# The agent objects of the live run, by id: the submission watcher changes their status in place, so
# the runner waiting on one wakes up (a copy loaded from the database would not wake it).
LIVE_AGENTS: "weakref.WeakValueDictionary[str, ProlificAgent]" = weakref.WeakValueDictionary()


class ProlificAgent(Agent):
    def submission(self) -> SubmissionRecord:
        record = datastore_of(self.db).submission_of_agent(str(self.db_id))
        if record is None:
            raise LookupError(f"agent {self.db_id} has no Prolific submission recorded")
        return record

    def _checked_client_and_submission(self) -> tuple[Any, SubmissionRecord]:
        record = self.submission()
        requester_name = self.get_unit().get_requester().requester_name
        client = client_for_requester(self.db, requester_name)
        participant, study = submission_owner(client.get_submission(record.submission_id))
        if participant != record.participant_id or (study and study != record.study_id):
            raise ValueError(f"submission {record.submission_id} belongs to participant {participant or '?'} "
                             f"in study {study or '?'}, not {record.participant_id} in {record.study_id}: not touched")
        return client, record

    def approve_work(self) -> None:
        client, record = self._checked_client_and_submission()
        client.transition_submission(record.submission_id, "APPROVE")
        self.update_status(AgentState.STATUS_APPROVED)

    def reject_work(self, reason: str, category: str = DEFAULT_REJECTION_CATEGORY) -> None:
        client, record = self._checked_client_and_submission()
        client.transition_submission(record.submission_id, "REJECT", message=reason, rejection_category=category)
        self.update_status(AgentState.STATUS_REJECTED)

    def mark_done(self) -> None:
        """Nothing to tell Prolific: the participant's redirect to the completion URL does that."""

    @staticmethod
    def new(db: MephistoDB, worker: Worker, unit: Unit) -> Agent:
        return ProlificAgent._register_agent(db, worker, unit, PROVIDER_TYPE)

    @classmethod
    def new_from_provider_data(cls, db: MephistoDB, worker: Worker, unit: Unit, provider_data: dict[str, Any]) -> Agent:
        """The page registered with the ids Prolific put in its URL: remember the submission they name.

        Anyone can type those ids, so they are checked with Prolific before the unit is handed out: the
        session must be an ACTIVE submission of this run's study by this participant. A page that fails
        gets no agent and its unit goes back at once (Mephisto reserved it before asking us)."""
        session = str(provider_data.get("assignment_id") or "")
        study = str(provider_data.get("study_id") or "")
        refusal = _refusal(db, worker, unit, session, study)
        if refusal is not None:
            unit.get_task_run().clear_reservation(unit)
            logger.warning("a page registering as participant %s was refused: %s", worker.worker_name, refusal)
            raise PermissionError(refusal)
        agent = super().new_from_provider_data(db, worker, unit, provider_data)
        datastore_of(db).add_submission(SubmissionRecord(str(agent.db_id), str(unit.db_id), str(unit.task_run_id),
                                                         study, session, worker.worker_name))
        LIVE_AGENTS[str(agent.db_id)] = agent  # type: ignore[assignment]
        return agent


def _refusal(db: MephistoDB, worker: Worker, unit: Unit, session: str, study: str) -> str | None:
    """Why the page's ids do not name this participant's live submission in this run's study, or None."""
    if not (PROLIFIC_ID.match(session) and PROLIFIC_ID.match(study)):
        return "SESSION_ID and STUDY_ID must be Prolific ids (letters, digits, '_', '-')"
    expected = datastore_of(db).study(str(unit.task_run_id))
    if expected is None or expected.study_id != study:
        return f"study {study} is not this run's study"
    try:
        found = client_for_requester(db, expected.requester_name).get_submission(session)
    except ProlificError as err:
        return f"Prolific does not confirm submission {session} ({err})"
    participant, found_study = submission_owner(found)
    if participant != worker.worker_name or (found_study and found_study != study):
        return f"submission {session} is not participant {worker.worker_name}'s in study {study}"
    if found.get("status") not in LIVE_SUBMISSION:
        return f"submission {session} is {found.get('status')}, not in progress"
    return None


def agent_for_update(db: MephistoDB, agent_id: str) -> Agent:
    """The live object of the agent if this process serves it, else a fresh one from the database."""
    return LIVE_AGENTS.get(str(agent_id)) or Agent.get(db, str(agent_id))


def update_from_submission(db: MephistoDB, agent_id: str, prolific_status: str) -> bool:
    """Mirror a returned or timed-out submission on its agent, if the agent is still working; True if changed."""
    new_status = {"RETURNED": AgentState.STATUS_RETURNED, "TIMED-OUT": AgentState.STATUS_TIMEOUT}.get(prolific_status)
    if new_status is None:
        return False
    agent = agent_for_update(db, agent_id)
    if agent.get_status() not in WORKING:
        return False
    agent.update_status(new_status)
    logger.info("agent %s: Prolific submission %s, its work goes back", agent_id, prolific_status.lower())
    return True
