"""One Prolific study per task run: created from the run's arguments, grown as units are offered, stopped
at the end.

How Mephisto's units map onto Prolific:

* **Places follow the work.** Our runs offer units as the work needs them (`work_driven_units`). Each
  distinct unit offered is one place: the study is created unpublished with one place, published when
  the first unit is offered, and `total_available_places` raised to the number of units offered as more
  are. Places can only grow on Prolific, and a returned or timed-out submission frees its place there
  while Mephisto offers the same unit again, so the two counts stay equal. A participant who arrives
  when no unit is open (a unit expired once the work was done) is told there is no work left and
  returns the study, unpaid but unpenalised.
* **Completion by redirect only.** The code is ours (a new random one per run unless configured); the
  page sends the participant to Prolific's completion URL with it after our server has the submission.
  Its action is manual review: nothing is paid until `review approve`, which approves only submissions
  whose unit we hold.
* **Blocks are participant groups.** The study excludes every participant in the requester-wide block
  group (`review block`) and in the group named after the run's soft-block qualification (filled from
  the database at creation, then kept in step by `grant_crowd_qualification`).
"""

from __future__ import annotations

import logging
import secrets
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from omegaconf import DictConfig, OmegaConf

from humaneval.crowd.prolific.agent import WORKING
from humaneval.crowd.prolific.api import ProlificClient, ProlificError
from humaneval.crowd.prolific.credentials import client_for_requester
from humaneval.crowd.prolific.datastore import ProlificDatastore, StudyRecord
from humaneval.crowd.prolific.provider_type import PROVIDER_TYPE
from mephisto.abstractions.blueprint import AgentState
from mephisto.abstractions.database import MephistoDB
from mephisto.data_model.agent import Agent
from mephisto.data_model.worker import Worker

logger = logging.getLogger(__name__)

URL_PARAMETERS = "PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
BLOCKLIST_FILTER = "participant_group_blocklist"
# Prolific submission statuses that keep a study place taken (RETURNED, TIMED-OUT and REJECTED free it).
HOLDS_A_PLACE = ("RESERVED", "ACTIVE", "PROCESSING", "AWAITING REVIEW", "APPROVED", "PARTIALLY APPROVED")
# Our agent statuses for which a submission's place is the unit's own: working on it, or its work is in.
WORKING_OR_DONE = (*WORKING, AgentState.STATUS_COMPLETED, AgentState.STATUS_APPROVED, AgentState.STATUS_REJECTED,
                   AgentState.STATUS_SOFT_REJECTED)
ALLOWLIST_FILTER = "participant_group_allowlist"


def new_completion_code() -> str:
    """Eight upper-case hex characters, new for every run: a code from an old run completes nothing."""
    return secrets.token_hex(4).upper()


def completion_url(base: str, code: str) -> str:
    return f"{base}?cc={code}"


def minor_units(amount: float | str | Decimal) -> int:
    """A reward in the currency's major unit (2.50) as Prolific wants it: an integer of minor units (250)."""
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def external_study_url(task_url: str) -> str:
    """Our page with the three identifiers Prolific substitutes for each participant."""
    base = task_url if "://" in task_url else f"http://{task_url}"
    return f"{base.rstrip('/')}/?{URL_PARAMETERS}"


def study_payload(args: DictConfig, task_url: str, code: str, *, project_id: str | None, block_group_ids: list[str]) -> dict[str, Any]:
    """The body of `POST /studies/` for a run with Mephisto arguments `args`."""
    provider, task = args.provider, args.task
    filters: list[dict[str, Any]] = [dict(f) for f in (OmegaConf.to_container(provider.filters) or [])]  # type: ignore[union-attr]
    if block_group_ids:
        filters.append({"filter_id": BLOCKLIST_FILTER, "selected_values": list(block_group_ids)})
    allow = list(provider.get("allowlist_groups") or [])
    if allow:
        filters.append({"filter_id": ALLOWLIST_FILTER, "selected_values": allow})
    payload: dict[str, Any] = {
        "name": str(task.task_title),
        "internal_name": f"{task.task_name} (humaneval)",
        "description": str(task.task_description),
        "external_study_url": external_study_url(task_url),
        "prolific_id_option": "url_parameters",
        "completion_codes": [{"code": code, "code_type": "COMPLETED", "actions": [{"action": "MANUALLY_REVIEW"}]}],
        "total_available_places": 1,
        "estimated_completion_time": int(provider.estimated_minutes),
        "maximum_allowed_time": max(int(provider.estimated_minutes) * 2,
                                    int(task.assignment_duration_in_seconds) // 60),
        "reward": minor_units(task.task_reward),
        "device_compatibility": list(provider.device_compatibility),
        "filters": filters,
    }
    if project_id:
        payload["project"] = project_id
    return payload


class StudyKeeper:
    """The calls that keep a run's study in step with its units (one per provider instance)."""

    def __init__(self, db: MephistoDB, datastore: ProlificDatastore) -> None:
        self.db = db
        self.datastore = datastore

    def create(self, client: ProlificClient, task_run_id: str, requester_name: str, args: DictConfig, task_url: str) -> str:
        """Create (unpublished) the run's study; returns its id. A run that already has one keeps it."""
        existing = self.datastore.study(task_run_id)
        if existing is not None:
            return existing.study_id
        provider = args.provider
        workspace_id, project_id = self._project(client, provider.get("workspace"), str(provider.project))
        groups = [self._block_group(client, requester_name, str(provider.block_group), workspace_id, holders_of=None)]
        qualification = OmegaConf.select(args, "blueprint.block_qualification", default=None)
        if qualification:
            groups.append(self._block_group(client, requester_name, str(qualification), workspace_id,
                                            holders_of=str(qualification)))
        code = str(provider.get("completion_code") or "")
        study = client.create_study(study_payload(args, task_url, code, project_id=project_id, block_group_ids=groups))
        self.datastore.add_study(task_run_id, requester_name, str(study["id"]), code, 1)
        logger.info("Prolific study %s created for task run %s (unpublished, code …%s)", study["id"], task_run_id, code[-2:])
        return str(study["id"])

    def offer_unit(self, client: ProlificClient, task_run_id: str, unit_id: str) -> None:
        """A unit is offered: recorded, then the study is brought in step (`sync`). Prolific being down
        for a moment must not end the run: the unit is offered here anyway, and the run's watcher syncs
        the study again every `poll_seconds` until Prolific answers."""
        self.datastore.note_launched(unit_id, task_run_id)
        try:
            self.sync(client, task_run_id)
        except ProlificError as err:
            logger.warning("Prolific did not take the study's new place(s) yet (%s); trying again shortly", err)

    def sync(self, client: ProlificClient, task_run_id: str, submissions: list[dict] | None = None) -> None:
        """Make the study match the units offered: published, with a place for each distinct unit offered
        plus one for each submission that holds a place on Prolific without being a unit's live or
        finished work here (a code typed in without the work, a page closed without returning the
        study): those places are Prolific's until the submission is reviewed or times out, and the unit
        they left is offered again. A participant who started on Prolific and has not reached our page
        yet holds the place their unit will have. Reads the study first, so a call whose answer was lost
        is not sent twice. `submissions`: the study's submissions when the caller has just listed them."""
        record = self.datastore.study(task_run_id)
        if record is None or record.stopped:
            return
        found = client.get_study(record.study_id)
        status, places = str(found.get("status")), int(found.get("total_available_places") or record.places)
        if status == "COMPLETED":  # stopped on Prolific's site: nobody new can start; we stop asking
            logger.warning("Prolific study %s was stopped on Prolific: no new participants will come", record.study_id)
            self.datastore.set_study_stopped(task_run_id)
            return
        if submissions is None:
            submissions = client.list_submissions(record.study_id)
        wanted = self.datastore.units_offered(task_run_id) + self._places_held_without_work(record, submissions)
        if wanted > places:
            client.update_study(record.study_id, {"total_available_places": wanted})
            logger.info("Prolific study %s now has %d place(s)", record.study_id, wanted)
            places = wanted
        if status == "UNPUBLISHED":
            client.transition_study(record.study_id, "PUBLISH")
            logger.info("Prolific study %s published with %d place(s)", record.study_id, places)
        self.datastore.set_study_places(task_run_id, places, published=True)

    def stop(self, client: ProlificClient, task_run_id: str, attempts: int = 3) -> bool:
        """The run ended: stop the study so nobody else starts it. Returns True once Prolific says it is
        stopped (or it was never published); a study stopped by hand on Prolific counts. An answer lost
        to a network error or a 5xx is retried after reading the study again."""
        record = self.datastore.study(task_run_id)
        if record is None or record.stopped:
            return True
        for attempt in range(attempts):
            try:
                status = str(client.get_study(record.study_id).get("status"))
                if status not in ("UNPUBLISHED", "COMPLETED"):
                    client.transition_study(record.study_id, "STOP")
                    logger.info("Prolific study %s stopped", record.study_id)
                self.datastore.set_study_stopped(task_run_id)
                return True
            except ProlificError as err:
                if err.status is not None and err.status < 500 and err.status != 429 or attempt == attempts - 1:
                    raise
                time.sleep(2 ** attempt)
        return False

    def stop_leftovers(self, task_id: str, current_run_id: str) -> list[str]:
        """Stop the still-running studies of this task's earlier runs: a launcher killed outright (kill -9,
        a lost machine) never stopped its study, which would keep recruiting for work nobody serves. One
        that cannot be stopped now is said and left for the next launch; it never blocks this one."""
        stopped = []
        for run in self.db.find_task_runs(task_id=task_id):
            record = self.datastore.study(str(run.db_id))
            if str(run.db_id) == current_run_id or record is None or record.stopped:
                continue
            try:
                self.stop(client_for_requester(self.db, record.requester_name), str(run.db_id))
            except ProlificError as err:
                logger.error("could not stop Prolific study %s of an earlier run (%s): %s; stop it on Prolific",
                             record.study_id, run.db_id, err)
                continue
            logger.warning("Prolific study %s of an earlier run (%s) was still open: stopped", record.study_id, run.db_id)
            stopped.append(record.study_id)
        return stopped

    def _places_held_without_work(self, record: StudyRecord, submissions: list[dict]) -> int:
        ours = {r.submission_id: r.agent_id for r in self.datastore.submissions_of_run(record.task_run_id)}
        held = 0
        for submission in submissions:
            if submission.get("status") not in HOLDS_A_PLACE:
                continue
            agent_id = ours.get(str(submission.get("id")))
            if agent_id is None:
                # on their way to our page (ACTIVE), or finished without ever coming (a typed-in code)
                held += submission.get("status") not in ("RESERVED", "ACTIVE")
            elif Agent.get(self.db, agent_id).get_status() not in WORKING_OR_DONE:
                held += 1  # their unit came back to us (left, timed out here) while Prolific still counts them
        return held

    # --- helpers ---------------------------------------------------------------------------------

    def _project(self, client: ProlificClient, workspace: str | None, project: str) -> tuple[str, str]:
        """(workspace id, project id): the project (by title, created if missing) in the workspace named
        `workspace` (id or title; None = the account's first workspace, created if there is none)."""
        workspaces = client.list_workspaces()
        if workspace:
            chosen = [w for w in workspaces if workspace in (str(w.get("id")), str(w.get("title")))]
            if not chosen:
                raise ValueError(f"no Prolific workspace '{workspace}' (yours: "
                                 f"{', '.join(str(w.get('title')) for w in workspaces) or 'none'})")
        else:
            chosen = workspaces[:1] or [client.create_workspace("humaneval")]
        workspace_id = str(chosen[0]["id"])
        for found in client.list_projects(workspace_id):
            if project in (str(found.get("id")), str(found.get("title"))):
                return workspace_id, str(found["id"])
        return workspace_id, str(client.create_project(workspace_id, project)["id"])

    def _block_group(self, client: ProlificClient, requester_name: str, name: str, workspace_id: str,
                     holders_of: str | None) -> str:
        """The participant group kept for `name`, created if missing; with `holders_of`, every Prolific
        worker of the database holding that qualification is put in it first."""
        group_id = self.datastore.group_id(requester_name, name)
        if group_id is None:
            group_id = str(client.create_participant_group(name, workspace_id=workspace_id)["id"])
            self.datastore.add_group(requester_name, name, group_id)
        if holders_of:
            holders = sorted(w.worker_name for w in self.db.find_workers(provider_type=PROVIDER_TYPE)
                             if Worker.get(self.db, w.db_id).is_qualified(holders_of))
            present = set(client.list_participant_group_members(group_id))
            missing = [h for h in holders if h not in present]
            if missing:
                client.add_to_participant_group(group_id, missing)
        return group_id
