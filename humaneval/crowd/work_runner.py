"""The TaskRunner of every study: a unit's work is taken when a worker takes the unit, and given back
when the unit ends without a submission.

Mephisto assigns a unit to a worker first and only then asks the runner for its data, so this is the
one moment that knows both the worker and what is still missing: the blueprint takes the unit's work
from its `WorkPool` here (`agent_init_data`: ACUTE comparisons or safety items reserved from the queue,
a BAD model slot and conversation) and stores it with the agent. A unit that comes back unfinished
(returned, expired, disconnected) gives its work back; a submitted one is handed to the blueprint,
which decides what counts (`count_submission`).

`WorkRunner` is a mixin over Mephisto's runner of the study's kind: `StaticWorkRunner` (ACUTE, safety; its onboarding answers practice checks, `practice_checks`)
and `RemoteProcedureWorkRunner` (BAD) are the two combinations the studies use; the latter's unit thread
wakes when the page calls (`live_requests.WakeOnRequestRunner`) rather than on Mephisto's 0.3 s timer.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from humaneval.crowd.mephisto_api import (
    Agent,
    AgentDisconnectedError,
    AgentState,
    StaticTaskRunner,
    Unit,
    Worker,
)
from humaneval.crowd.live_requests import WakeOnRequestRunner
from humaneval.crowd.practice_checks import PracticeCheckRunner
from humaneval.crowd.work_pool import WorkPool

logger = logging.getLogger(__name__)

ENDED_WITHOUT_SUBMIT = (AgentState.STATUS_DISCONNECT, AgentState.STATUS_RETURNED, AgentState.STATUS_TIMEOUT,
                        AgentState.STATUS_EXPIRED)


class WorkFedBlueprint(Protocol):
    """What the runner asks of its blueprint (every study's blueprint implements it)."""

    @property
    def work(self) -> WorkPool: ...

    def accepts_worker(self, worker: Worker) -> bool: ...

    def agent_init_data(self, agent: Agent) -> dict[str, Any]: ...

    def count_submission(self, holder: str, agent: Agent) -> None: ...

    def stop_generating(self) -> None: ...

    def release_run_resources(self) -> None: ...

    def attach_runner(self, runner: Any) -> None: ...


class WorkRunner:
    """Mixin for a Mephisto TaskRunner whose units' work comes from the blueprint's `WorkPool`."""

    task_run: Any  # set by Mephisto's TaskRunner

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.blueprint.attach_runner(self)  # its unit generator ends idle units through our running_units

    @property
    def blueprint(self) -> WorkFedBlueprint:
        # The operator creates (and caches on the task run) the blueprint before this runner.
        return self.task_run.get_blueprint()  # type: ignore[no-any-return]

    def get_init_data_for_agent(self, agent: Agent) -> dict[str, Any]:
        """New agent: take its work. Reconnecting agent: the same work again (the blueprint stores it)."""
        return self.blueprint.agent_init_data(agent)

    def filter_units_for_worker(self, units: list[Unit], worker: Worker) -> list[Unit]:
        """No unit for workers the blueprint turns away, nor for those the work has nothing left for."""
        units = super().filter_units_for_worker(units, worker)  # type: ignore[misc]
        if not self.blueprint.accepts_worker(worker) or not self.blueprint.work.available_for(str(worker.db_id)):
            return []
        return units

    def run_unit(self, unit: Unit, agent: Agent) -> None:
        """Serve the unit until its submission and hand that to the blueprint; if none comes, give the
        unit's work back."""
        holder = str(agent.db_id)
        try:
            super().run_unit(unit, agent)  # type: ignore[misc]
            if agent.get_status() in ENDED_WITHOUT_SUBMIT:
                # The mock provider's `await_submit` answers "submitted" for an agent marked disconnected
                # (`providers/mock/mock_agent.py:98-109` returns before the base class's status check),
                # so run_unit returns normally; raise what every other provider raises.
                raise AgentDisconnectedError(agent.db_id)
        except BaseException:
            self.blueprint.work.release(holder)
            logger.info("unit %s ended without a submission: its work goes back", unit.db_id)
            raise
        self.blueprint.count_submission(holder, agent)

    def shutdown(self) -> None:
        self.blueprint.stop_generating()
        super().shutdown()  # type: ignore[misc]
        self.blueprint.release_run_resources()


class StaticWorkRunner(WorkRunner, PracticeCheckRunner, StaticTaskRunner):
    """For static (one page, one submit) studies: ACUTE, safety annotation; their onboarding thread
    answers the practice page's checks (`practice_checks`)."""


class RemoteProcedureWorkRunner(WorkRunner, WakeOnRequestRunner):
    """For studies whose page calls the server while the worker works: BAD collection."""
