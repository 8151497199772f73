"""From a Mephisto unit to the Prolific submission behind it: what review and bonuses pay against."""

from __future__ import annotations

from dataclasses import dataclass

from humaneval.crowd.prolific.datastore import ProlificDatastore, StudyRecord, SubmissionRecord
from humaneval.crowd.prolific.provider_type import PROVIDER_TYPE
from mephisto.abstractions.database import MephistoDB
from mephisto.data_model.unit import Unit


@dataclass(frozen=True)
class SubmissionRef:
    study_id: str
    submission_id: str
    participant_id: str


def submission_owner(submission: dict) -> tuple[str, str]:
    """(participant id, study id) of a submission as Prolific returns it ("" where it does not say): the
    reference names the participant `participant`, some answers `participant_id`."""
    participant = submission.get("participant_id") or submission.get("participant") or ""
    return str(participant), str(submission.get("study_id") or "")


def datastore_of(db: MephistoDB) -> ProlificDatastore:
    """The provider's datastore for this database (the one the live provider registered, else opened)."""
    if db.has_datastore_for_provider(PROVIDER_TYPE):
        return db.get_datastore_for_provider(PROVIDER_TYPE)  # type: ignore[no-any-return]
    store = ProlificDatastore(db.get_db_path_for_provider(PROVIDER_TYPE))
    db.set_datastore_for_provider(PROVIDER_TYPE, store)
    return store


def submission_of_agent(db: MephistoDB, agent_id: str) -> SubmissionRecord | None:
    return datastore_of(db).submission_of_agent(str(agent_id))


def submission_for_unit(db: MephistoDB, unit_id: str) -> SubmissionRef:
    """The submission of the unit's assigned agent; `LookupError` when the unit has none on Prolific."""
    agent = Unit.get(db, str(unit_id)).get_assigned_agent()
    record = submission_of_agent(db, str(agent.db_id)) if agent is not None else None
    if record is None:
        raise LookupError(f"unit {unit_id} has no Prolific submission recorded")
    return SubmissionRef(record.study_id, record.submission_id, record.participant_id)


def study_of_run(db: MephistoDB, task_run_id: str) -> StudyRecord | None:
    return datastore_of(db).study(str(task_run_id))
