"""A Prolific participant as a Mephisto worker: named by their Prolific id (`PROLIFIC_PID`).

Blocking is Prolific's participant groups: `block_worker` adds the participant to the requester's block
group, which every study of ours excludes; a qualification that has a group (a run's soft-block
qualification) is kept in step with it, so a soft-blocked participant no longer even sees the study.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from humaneval.crowd.prolific.credentials import client_for_requester
from humaneval.crowd.prolific.provider_type import DEFAULT_BLOCK_GROUP, PROLIFIC_ID, PROVIDER_TYPE
from humaneval.crowd.prolific.records import datastore_of
from mephisto.abstractions.database import MephistoDB
from mephisto.data_model.requester import Requester
from mephisto.data_model.task_run import TaskRun
from mephisto.data_model.unit import Unit
from mephisto.data_model.worker import Worker

logger = logging.getLogger(__name__)

BLOCK_GROUP_KEY = "block_group"  # the provider argument naming the requester-wide block group


class ProlificWorker(Worker):
    # --- qualifications mirrored into participant groups ----------------------------------------

    def grant_crowd_qualification(self, qualification_name: str, value: int = 1) -> None:
        for requester_name, group_id in datastore_of(self.db).groups_named(qualification_name):
            client_for_requester(self.db, requester_name).add_to_participant_group(group_id, [self.worker_name])
            logger.info("participant %s added to Prolific group '%s'", self.worker_name, qualification_name)

    def revoke_crowd_qualification(self, qualification_name: str) -> None:
        for requester_name, group_id in datastore_of(self.db).groups_named(qualification_name):
            client_for_requester(self.db, requester_name).remove_from_participant_group(group_id, [self.worker_name])

    # --- blocks ----------------------------------------------------------------------------------

    def block_worker(self, reason: str, unit: Optional[Unit] = None, requester: Optional[Requester] = None) -> tuple[bool, str]:
        """Add the participant to the block group of the requester of `unit`'s run (or `requester`)."""
        requester = requester or (unit.get_requester() if unit is not None else None)
        if requester is None:
            return False, "a Prolific block needs the requester: name a unit of the task"
        group_name = _block_group_name(unit)
        group_id = datastore_of(self.db).group_id(requester.requester_name, group_name)
        if group_id is None:
            return False, f"requester '{requester.requester_name}' has no Prolific block group '{group_name}' yet (launch a study first)"
        client_for_requester(self.db, requester.requester_name).add_to_participant_group(group_id, [self.worker_name])
        logger.info("participant %s blocked (group '%s'): %s", self.worker_name, group_name, reason)
        return True, ""

    def unblock_worker(self, reason: str, requester: Requester) -> bool:
        group_id = datastore_of(self.db).group_id(requester.requester_name, DEFAULT_BLOCK_GROUP)
        if group_id is None:
            return False
        client_for_requester(self.db, requester.requester_name).remove_from_participant_group(group_id, [self.worker_name])
        return True

    def is_blocked(self, requester: Requester) -> bool:
        group_id = datastore_of(self.db).group_id(requester.requester_name, DEFAULT_BLOCK_GROUP)
        if group_id is None:
            return False
        members = client_for_requester(self.db, requester.requester_name).list_participant_group_members(group_id)
        return self.worker_name in members

    def is_eligible(self, task_run: TaskRun) -> bool:
        return True  # Prolific's filters decide who sees the study; Mephisto's qualifications do the rest

    @staticmethod
    def new(db: MephistoDB, worker_name: str) -> Worker:
        return ProlificWorker._register_worker(db, worker_name, PROVIDER_TYPE)

    @classmethod
    def new_from_provider_data(cls, db: MephistoDB, creation_data: dict[str, Any]) -> Worker:
        """Named by `PROLIFIC_PID` from the page's URL, which anyone can type: only id-like names are taken."""
        name = str(creation_data.get("worker_name") or "")
        if not PROLIFIC_ID.match(name):
            raise ValueError("a Prolific page must carry PROLIFIC_PID (letters, digits, '_', '-')")
        return cls.new(db, name)


def _block_group_name(unit: Optional[Unit]) -> str:
    if unit is not None:
        name = unit.get_task_run().args.get("provider", {}).get(BLOCK_GROUP_KEY)
        if name:
            return str(name)
    return DEFAULT_BLOCK_GROUP
