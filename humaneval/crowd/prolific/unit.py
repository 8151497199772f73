"""A unit on Prolific: one place of the run's study.

Statuses live in Mephisto's database as for the local sandbox; what Prolific adds is the study's
places (`StudyKeeper.offer_unit` on launch). Expiring a unit takes nothing away on Prolific — places
never shrink there — so a run ends by stopping its study (`ProlificProvider.cleanup_resources_from_task_run`).
"""

from __future__ import annotations


from humaneval.crowd.prolific.credentials import client_for_requester
from humaneval.crowd.prolific.provider_type import PROVIDER_TYPE
from humaneval.crowd.prolific.records import datastore_of
from humaneval.crowd.prolific.study import StudyKeeper
from mephisto.abstractions.database import MephistoDB
from mephisto.data_model.assignment import Assignment
from mephisto.data_model.constants.assignment_state import AssignmentState
from mephisto.data_model.unit import Unit


class ProlificUnit(Unit):
    def launch(self, task_url: str) -> None:
        """Offer the unit: the study is published (first unit) or gets one more place (a new unit).

        The unit is marked launched before Prolific hears of it: a place opens the moment the study is
        published or grown (by this call or by the run's watcher, on its own thread), and a participant who
        takes it at once must find the unit here, not "no available work"."""
        client = client_for_requester(self.db, self.get_requester().requester_name)
        self.set_db_status(AssignmentState.LAUNCHED)
        StudyKeeper(self.db, datastore_of(self.db)).offer_unit(client, str(self.task_run_id), str(self.db_id))

    def expire(self) -> float:
        """Local only (Prolific cannot take a place back); a finished unit keeps its status."""
        if self.get_status() not in (AssignmentState.EXPIRED, *AssignmentState.completed()):
            self.set_db_status(AssignmentState.EXPIRED)
        datastore_of(self.db).set_unit_expired(str(self.db_id))
        return 0.0

    def is_expired(self) -> bool:
        return datastore_of(self.db).unit_expired(str(self.db_id))

    @staticmethod
    def new(db: MephistoDB, assignment: Assignment, index: int, pay_amount: float) -> Unit:
        return ProlificUnit._register_unit(db, assignment, index, pay_amount, PROVIDER_TYPE)
