"""A remote-procedure unit's thread that sleeps until the page calls, instead of polling on a timer.

Mephisto 1.1.1's `RemoteProcedureTaskRunner` serves a unit in a loop that takes at most one request
and then sleeps `THREAD_SHORT_SLEEP = 0.3` s (`remote_procedure_task_runner.py:30` and `:111`), so a
request waits 0.15 s on average before it is even read, and every page call (a BAD bot turn) pays it;
shortening the sleep turns every idle unit into a busy poll. Yet Mephisto already signals arrivals:
its IO handler puts each live update on the agent's `pending_actions` queue and then sets the agent's
`has_live_update` event (`client_io_handler.py:265-266`), and a disconnect or shutdown sets the same
event (`agent.py:335`, `:497`, `:570`). Here the unit's thread blocks on that event, so a request is
answered as soon as it arrives, while the wait's timeout still wakes the loop every `CHECK_EVERY_S`
to notice what no event announces (the deadline, a unit taken off the run).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from humaneval.crowd.mephisto_api import Agent, OnboardingAgent, RemoteProcedureTaskRunner, Unit

CHECK_EVERY_S = 0.3
"""Longest wait for a request before the loop checks again whether the unit is still to be served."""

LiveAgent = Agent | OnboardingAgent


def next_live_update(agent: LiveAgent, wait_s: float) -> dict[str, Any] | None:
    """The agent's next update from the page, waiting at most `wait_s` for one to arrive.

    The queue is read before waiting, so an update is never left behind by Mephisto's own race
    (`Agent.get_live_update` clears the event after finding the queue empty, which can follow an
    arrival's `set`). An event set with nothing queued (a status change, or a `set` after the update
    it announced was taken) is cleared, else every later wait would return at once: a busy poll.
    Clearing before the second read keeps an arrival in between from being missed. A shut-down
    agent's event stays set, as Mephisto wants it."""
    update = agent.get_live_update()
    if update is not None or not agent.has_live_update.wait(wait_s):
        return update
    update = agent.get_live_update()
    if update is None and not agent.is_shutdown:
        agent.has_live_update.clear()
        update = agent.get_live_update()
    return update


def serve_live_requests(agent: LiveAgent, answer: Callable[[dict[str, Any]], None],
                        serving: Callable[[], bool], wait_s: float = CHECK_EVERY_S) -> None:
    """Answer the agent's requests while `serving()`, asked after each request and each idle wait."""
    while serving():
        update = next_live_update(agent, wait_s)
        if update is not None and "request_id" in update:
            answer(update)


def serve_until_submitted(agent: LiveAgent, answer: Callable[[dict[str, Any]], None],
                          still_running: Callable[[], bool], duration_s: float) -> None:
    """Answer requests until the agent submits, the run drops it (`still_running()` false) or
    `duration_s` is up; then wait for the submission for the rest of that time (raising as Mephisto's
    runners do when none comes)."""
    started = time.time()

    def serving() -> bool:
        return not agent.await_submit(timeout=None) and still_running() and time.time() - started < duration_s

    serve_live_requests(agent, answer, serving)
    agent.await_submit(timeout=duration_s - (time.time() - started))


class WakeOnRequestRunner(RemoteProcedureTaskRunner):
    """Mephisto's remote-procedure runner with the loops of `run_unit` and `run_onboarding` replaced:
    same end conditions (submitted, taken off the run, out of time), but the thread wakes on a request."""

    function_registry: dict[str, Callable[[str, Any, Any], Any]]
    assignment_duration_in_seconds: int

    def run_unit(self, unit: Unit, agent: Agent) -> None:
        self._serve(agent, lambda: unit.db_id in self.running_units)

    def run_onboarding(self, agent: OnboardingAgent) -> None:
        self._serve(agent, lambda: agent.get_agent_id() in self.running_onboardings)

    def _serve(self, agent: LiveAgent, still_running: Callable[[], bool]) -> None:
        serve_until_submitted(agent, lambda update: self._answer(agent, update), still_running,
                              self.assignment_duration_in_seconds)

    def _answer(self, agent: LiveAgent, update: dict[str, Any]) -> None:
        """Run the requested procedure on the agent's state and send its result to the page (as
        `_run_server_timestep_for_agent` does)."""
        target = update["target"]
        assert target in self.function_registry, f"procedure {target!r} is not in the registry {self.function_registry}"
        result = self.function_registry[target](update["request_id"], json.loads(update["args"]), agent.state)
        agent.observe({"handles": update["request_id"], "response": json.dumps(result)})
