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
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from omegaconf import DictConfig, OmegaConf

from humaneval.crowd.prolific.api import ProlificClient
from humaneval.crowd.prolific.credentials import client_for_requester
from humaneval.crowd.prolific.datastore import ProlificDatastore
from humaneval.crowd.prolific.provider_type import PROVIDER_TYPE
from mephisto.abstractions.database import MephistoDB
from mephisto.data_model.worker import Worker

logger = logging.getLogger(__name__)

URL_PARAMETERS = "PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
BLOCKLIST_FILTER = "participant_group_blocklist"
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
        """A unit is offered: publish the study on the first, else raise its places to the units offered."""
        study = self.datastore.study(task_run_id)
        if study is None or study.stopped:
            return
        wanted = self.datastore.note_launched(unit_id, task_run_id)
        if not study.published:
            if wanted > study.places:
                client.update_study(study.study_id, {"total_available_places": wanted})
            client.transition_study(study.study_id, "PUBLISH")
            self.datastore.set_study_places(task_run_id, max(wanted, study.places), published=True)
            logger.info("Prolific study %s published with %d place(s)", study.study_id, max(wanted, study.places))
        elif wanted > study.places:
            client.update_study(study.study_id, {"total_available_places": wanted})
            self.datastore.set_study_places(task_run_id, wanted, published=True)
            logger.info("Prolific study %s now has %d places", study.study_id, wanted)

    def stop(self, client: ProlificClient, task_run_id: str) -> None:
        """The run ended: stop the study so nobody else starts it (a study never published is left as a draft)."""
        study = self.datastore.study(task_run_id)
        if study is None or study.stopped:
            return
        if study.published:
            client.transition_study(study.study_id, "STOP")
            logger.info("Prolific study %s stopped", study.study_id)
        self.datastore.set_study_stopped(task_run_id)

    def stop_leftovers(self, task_id: str, current_run_id: str) -> list[str]:
        """Stop the still-running studies of this task's earlier runs: a launcher killed outright (kill -9,
        a lost machine) never stopped its study, which would keep recruiting for work nobody serves."""
        stopped = []
        for run in self.db.find_task_runs(task_id=task_id):
            study = self.datastore.study(str(run.db_id))
            if str(run.db_id) == current_run_id or study is None or study.stopped:
                continue
            if study.published:
                client = client_for_requester(self.db, study.requester_name)
                client.transition_study(study.study_id, "STOP")
                logger.warning("Prolific study %s of an earlier run (%s) was still running: stopped", study.study_id, run.db_id)
                stopped.append(study.study_id)
            self.datastore.set_study_stopped(str(run.db_id))
        return stopped

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
