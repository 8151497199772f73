"""The `prolific` crowd provider for Mephisto 1.1.1 (Mephisto's own came only in releases that never
reached PyPI): `provider=prolific` in any task's launch.

Importing `humaneval.crowd` registers it, so Mephisto can rebuild Prolific rows in any process (review,
export, bonuses). The pieces: `study` (one study per run), `unit` / `agent` / `worker` / `requester`
(Mephisto's classes), `datastore` (Mephisto ids ↔ Prolific ids), `watcher` (returned and timed-out
submissions give their work back), `wrap_crowd_source.js` (the page side: Prolific's URL parameters in,
the completion redirect out).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any, ClassVar, Optional

from omegaconf import MISSING, DictConfig, ListConfig, open_dict

from humaneval.crowd.prolific.agent import ProlificAgent
from humaneval.crowd.prolific.credentials import client_for_requester
from humaneval.crowd.prolific.datastore import ProlificDatastore
from humaneval.crowd.prolific.provider_type import DEFAULT_BLOCK_GROUP, PROVIDER_TYPE
from humaneval.crowd.prolific.requester import ProlificRequester
from humaneval.crowd.prolific.study import StudyKeeper, completion_url, new_completion_code
from humaneval.crowd.prolific.unit import ProlificUnit
from humaneval.crowd.prolific.watcher import SubmissionWatcher
from humaneval.crowd.prolific.worker import ProlificWorker
from mephisto.abstractions.blueprint import SharedTaskState
from mephisto.abstractions.crowd_provider import CrowdProvider, ProviderArgs
from mephisto.data_model.task_run import TaskRun
from mephisto.operations.registry import register_mephisto_abstraction

logger = logging.getLogger(__name__)

PROLIFIC_COMPLETION_URL = "https://app.prolific.com/submissions/complete"
DEVICES = ("desktop", "tablet", "mobile")
CURRENCIES = ("GBP", "USD")


@dataclass
class ProlificProviderArgs(ProviderArgs):
    """`mephisto.provider.*` with `provider=prolific` (docs/prolific.md explains each)."""

    _provider_type: str = PROVIDER_TYPE
    requester_name: str = field(default=MISSING, metadata={"help": "a name registered with `register-requester --provider prolific`"})
    workspace: Optional[str] = field(default=None, metadata={"help": "workspace title or id; null = your first workspace"})
    project: str = field(default="humaneval", metadata={"help": "project (title or id) in the workspace; created if missing"})
    currency: str = field(default="GBP", metadata={"help": "your Prolific account's currency (GBP or USD): task_reward is in it"})
    estimated_minutes: Optional[int] = field(default=None, metadata={"help": "set at launch from humaneval.pay (the study's estimated completion time)"})
    device_compatibility: list[str] = field(default_factory=lambda: ["desktop"], metadata={"help": "desktop, tablet, mobile"})
    filters: list[Any] = field(default_factory=list, metadata={"help": "Prolific filter objects, passed to the study as they are"})
    allowlist_groups: list[str] = field(default_factory=list, metadata={"help": "participant group ids: only their members see the study"})
    block_group: str = field(default=DEFAULT_BLOCK_GROUP, metadata={"help": "participant group every study excludes (review block)"})
    completion_code: Optional[str] = field(default=None, metadata={"help": "null = a new random code for each run"})
    completion_url: str = field(default=PROLIFIC_COMPLETION_URL, metadata={"help": "where the page sends the participant after submitting"})
    poll_seconds: float = field(default=30.0, metadata={"help": "how often returned / timed-out submissions are looked for"})


@register_mephisto_abstraction()
class ProlificProvider(CrowdProvider):
    PROVIDER_TYPE = PROVIDER_TYPE
    UnitClass: ClassVar[type] = ProlificUnit
    RequesterClass: ClassVar[type] = ProlificRequester
    WorkerClass: ClassVar[type] = ProlificWorker
    AgentClass: ClassVar[type] = ProlificAgent
    ArgsClass = ProlificProviderArgs

    def initialize_provider_datastore(self, storage_path: str) -> ProlificDatastore:
        return ProlificDatastore(storage_path)

    @classmethod
    def assert_task_args(cls, args: DictConfig, shared_state: SharedTaskState) -> None:
        """Check the study settings, and fix the run's completion code before the page is built.

        Mephisto calls this before it stores the run's arguments and before the architect writes the
        page's `task_config.json`, which is the one moment both can learn the code: the arguments (the
        study is created with it) and the page (which redirects to Prolific with it)."""
        provider = args.provider
        if provider.get("estimated_minutes") is None or int(provider.estimated_minutes) < 1:
            raise ValueError("Prolific needs the study's estimated completion time: set humaneval.pay.estimated_minutes")
        if str(provider.currency) not in CURRENCIES:
            raise ValueError(f"mephisto.provider.currency must be one of {', '.join(CURRENCIES)}")
        unknown = [d for d in provider.device_compatibility if d not in DEVICES]
        if unknown or not provider.device_compatibility:
            raise ValueError(f"mephisto.provider.device_compatibility takes {', '.join(DEVICES)}")
        for i, item in enumerate(provider.filters):
            if not (isinstance(item, DictConfig) and isinstance(item.get("filter_id"), str)
                    and (isinstance(item.get("selected_values"), ListConfig)
                         or isinstance(item.get("selected_range"), DictConfig))):
                raise ValueError(f"mephisto.provider.filters[{i}] must be a Prolific filter: "
                                 "{filter_id: ID, selected_values: [...]} or {filter_id: ID, selected_range: {lower: .., upper: ..}}")
        url = str(provider.completion_url)
        if not (url.startswith("https://") or url.startswith(("http://127.0.0.1", "http://localhost"))):
            raise ValueError("mephisto.provider.completion_url must be an https URL")
        with open_dict(args):
            if not provider.get("completion_code"):
                provider.completion_code = new_completion_code()
        shared_state.task_config["completion_url"] = completion_url(url, str(provider.completion_code))

    def setup_resources_for_task_run(self, task_run: TaskRun, args: DictConfig, shared_state: SharedTaskState,
                                     server_url: str) -> None:
        """Create the run's study (unpublished until the first unit is offered) and start watching it."""
        requester_name = task_run.get_requester().requester_name
        client = client_for_requester(self.db, requester_name)
        keeper = StudyKeeper(self.db, self.datastore)
        keeper.stop_leftovers(str(task_run.task_id), str(task_run.db_id))
        keeper.create(client, str(task_run.db_id), requester_name, args, server_url)
        watcher = SubmissionWatcher(self.db, self.datastore, client, str(task_run.db_id), float(args.provider.poll_seconds))
        _WATCHERS[str(task_run.db_id)] = watcher
        watcher.start()

    def cleanup_resources_from_task_run(self, task_run: TaskRun, server_url: str) -> None:
        """Stop watching and stop the study. Mephisto 1.1.1 never calls this; our launcher does, at the
        end of every run."""
        watcher = _WATCHERS.pop(str(task_run.db_id), None)
        if watcher is not None:
            watcher.stop()
        client = client_for_requester(self.db, task_run.get_requester().requester_name)
        StudyKeeper(self.db, self.datastore).stop(client, str(task_run.db_id))

    @classmethod
    def get_wrapper_js_path(cls) -> str:
        return os.path.join(os.path.dirname(__file__), "wrap_crowd_source.js")


_WATCHERS: dict[str, SubmissionWatcher] = {}
