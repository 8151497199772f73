"""The BAD unit's thread blocks on the agent's update event: it wakes when the page calls, and only a
few times a second otherwise (no sleep before reading a request, no busy polling).

Bounds are on loop passes and on waits far longer than any test takes (a request is answered while
the loop would still be inside a 60 s wait), never on measured latency."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from queue import Queue
from typing import Any

from humaneval.crowd.live_requests import WakeOnRequestRunner, next_live_update, serve_live_requests
from mephisto.abstractions.blueprint import AgentState
from mephisto.data_model.agent import Agent

LONG_WAIT_S = 60.0
"""A wait the loop must never sit out when a request is there: the tests finish well before it."""
GUARD_S = 10.0


class PageAgent:
    """What the runner touches of a Mephisto agent, with Mephisto's own `get_live_update` and
    `await_submit` on top."""

    get_live_update = Agent.get_live_update
    await_submit = Agent.await_submit

    def __init__(self) -> None:
        self.pending_actions: Queue[dict[str, Any]] = Queue()
        self.has_live_update = threading.Event()
        self.did_submit = threading.Event()
        self.is_shutdown = False
        self.state = self
        self.observed: list[dict[str, Any]] = []
        self.answered = threading.Event()

    def page_calls(self, target: str, args: dict[str, Any], request_id: str = "r1") -> None:
        """What Mephisto's IO handler does with a live update (`ClientIOHandler._on_live_update`)."""
        self.pending_actions.put({"request_id": request_id, "target": target, "args": json.dumps(args)})
        self.has_live_update.set()

    def update_data(self, update: dict[str, Any]) -> None:  # the agent state's record of updates
        pass

    def observe(self, update: dict[str, Any]) -> None:
        self.observed.append(update)
        self.answered.set()

    def get_status(self) -> str:
        return AgentState.STATUS_IN_TASK

    def get_agent_id(self) -> str:
        return "agent-1"


def passes_while_idle(agent: PageAgent, seconds: float, wait_s: float) -> int:
    """How many times the loop checks whether to go on, serving an agent that never calls."""
    passes = 0
    ends = time.monotonic() + seconds

    def serving() -> bool:
        nonlocal passes
        passes += 1
        return time.monotonic() < ends

    serve_live_requests(agent, lambda update: None, serving, wait_s)
    return passes


def in_thread(target: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_an_idle_unit_checks_a_few_times_a_second_not_hundreds() -> None:
    passes = passes_while_idle(PageAgent(), seconds=1.0, wait_s=0.3)
    assert 2 <= passes <= 8, passes


def test_an_event_set_with_nothing_queued_does_not_turn_into_a_busy_poll() -> None:
    agent = PageAgent()
    agent.has_live_update.set()  # as a disconnect read from the database does (agent.py:570)
    assert passes_while_idle(agent, seconds=1.0, wait_s=0.3) <= 8


def test_a_request_is_answered_without_sitting_out_the_wait() -> None:
    agent = PageAgent()
    answers: list[dict[str, Any]] = []
    served = threading.Event()
    loop = in_thread(lambda: serve_live_requests(agent, lambda update: (answers.append(update), served.set()),
                                                 lambda: not served.is_set(), wait_s=LONG_WAIT_S))
    time.sleep(0.2)  # the loop is inside its wait now
    agent.page_calls("send_message", {"text": "hi"})
    loop.join(GUARD_S)
    assert not loop.is_alive(), "the request waited for the loop's timeout"
    assert [json.loads(a["args"]) for a in answers] == [{"text": "hi"}]


def test_a_queued_request_whose_event_was_cleared_is_still_read_at_once() -> None:
    # Mephisto's get_live_update clears the event after finding its queue empty, which can come after
    # a new update's put and set: the update is queued but the event is clear.
    agent = PageAgent()
    agent.page_calls("send_message", {"text": "hi"})
    agent.has_live_update.clear()
    found: list[dict[str, Any] | None] = []
    reader = in_thread(lambda: found.append(next_live_update(agent, LONG_WAIT_S)))
    reader.join(GUARD_S)
    assert not reader.is_alive() and found and found[0] is not None and found[0]["target"] == "send_message"


def test_a_shut_down_agent_keeps_its_event_set() -> None:
    agent = PageAgent()
    agent.is_shutdown = True
    agent.has_live_update.set()  # Agent.shutdown
    assert next_live_update(agent, 0.01) is None
    assert agent.has_live_update.is_set()


def test_updates_that_are_not_requests_are_not_answered() -> None:
    agent = PageAgent()
    agent.pending_actions.put({"text": "not a request"})
    agent.has_live_update.set()
    answers: list[dict[str, Any]] = []
    passes = iter([True, False])
    serve_live_requests(agent, answers.append, lambda: next(passes), wait_s=0.01)
    assert answers == []


def runner(registry: dict[str, Callable[..., Any]], running_units: set[str]) -> WakeOnRequestRunner:
    """The runner without a task run: only what its loop reads."""
    built = object.__new__(WakeOnRequestRunner)  # TaskRunner.__new__ wants a task run
    built.function_registry = registry
    built.running_units = running_units  # type: ignore[assignment]  (Mephisto's is a dict by unit id)
    built.assignment_duration_in_seconds = 600
    return built


class FakeUnit:
    db_id = "unit-1"


def test_the_runner_answers_a_request_through_its_procedure_and_ends_on_submit() -> None:
    calls: list[tuple[str, Any]] = []

    def echo(request_id: str, args: Any, state: Any) -> dict[str, Any]:
        calls.append((request_id, args))
        return {"echo": args["text"]}

    agent = PageAgent()
    run = in_thread(lambda: runner({"echo": echo}, {"unit-1"}).run_unit(FakeUnit(), agent))  # type: ignore[arg-type]
    agent.page_calls("echo", {"text": "hello"}, request_id="r7")
    assert agent.answered.wait(GUARD_S)
    assert calls == [("r7", {"text": "hello"})]
    assert agent.observed == [{"handles": "r7", "response": json.dumps({"echo": "hello"})}]
    agent.did_submit.set()
    run.join(GUARD_S)
    assert not run.is_alive(), "the unit's loop went on after the submission"
