"""A run that is done ends: a worker who walked away (during onboarding, from an ACUTE unit, from a BAD
chat) leaves no Mephisto thread waiting for them and no router behind, so the launcher's process can exit
after "run complete" instead of hanging for the assignment duration (Mephisto never shuts down the
TaskRunner of a run that completes by itself)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from humaneval.acute.task import build_task
from humaneval.crowd.launcher import LaunchSettings, LocalLaunch
from humaneval.crowd.simulated_worker import SimulatedWorker
from tests.acute.test_acute_integration import Crowd, study_files
from tests.bad_collection.test_bad_integration import Scenario
from tests.crowd.test_launch_signals import _alive

pytestmark = pytest.mark.integration

MEPHISTO_AGENT_THREADS = ("Onboard-thread-", "Unit-thread-", "Assignment-thread-")


def _gone(pid: int | None) -> bool:
    deadline = time.monotonic() + 15
    while pid is not None and _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    return pid is not None and not _alive(pid)


def _agent_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(MEPHISTO_AGENT_THREADS) and t.is_alive()]


def _acute_study(tmp_path: Path, task_name: str, assignment_seconds: int) -> tuple[Any, Any, dict[str, Any], Path]:
    """A small ACUTE study (one pair per model pair, one judgement each) and its data folder."""
    pairings, onboarding, pairs = study_files(tmp_path, pairs_per_model_pair=1, conversations_per_model=2)
    data_dir = tmp_path / "mephisto"
    cfg, state = build_task([
        f"humaneval.data_dir={data_dir}",
        f"mephisto.blueprint.pairings_file={pairings}",
        f"mephisto.blueprint.onboarding_file={onboarding}",
        "mephisto.blueprint.annotations_per_pair=1",
        "mephisto.blueprint.subtasks_per_unit=3",
        f"mephisto.task.task_name={task_name}",
        f"mephisto.task.assignment_duration_in_seconds={assignment_seconds}",
    ])
    return cfg, state, pairs, data_dir


def _others_finish(run: LocalLaunch, crowd: Crowd) -> None:
    """Finishers do all the work (a worker never sees a conversation twice, so one alone cannot)."""
    names = [f"finisher{i}" for i in range(8)]
    while not run.is_done():
        if not any([crowd.work(name) for name in names]):
            time.sleep(0.3)


def _served_until_done(run: LocalLaunch, crowd_script: Callable[[dict[str, Any]], None]) -> Scenario:
    scenario = Scenario(crowd_script)
    finished = run.wait_until(lambda: run.is_done() or bool(scenario.errors), timeout=180)
    assert not scenario.errors, scenario.errors
    assert finished, run.task_run.get_assignment_statuses()
    return scenario


def _nothing_left(scenario: Scenario, run: LocalLaunch) -> None:
    scenario.thread.join(30)
    assert _agent_threads() == [], "a Mephisto thread still waits for a worker who left"
    assert _gone(run.router_pid), "the node router outlived the run"


def test_a_worker_who_abandons_onboarding_does_not_keep_the_run_alive(tmp_path: Path) -> None:
    # the assignment duration is what an abandoned onboarding thread would wait
    cfg, state, _, data_dir = _acute_study(tmp_path, "acute-ends", assignment_seconds=900)
    with LocalLaunch(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        crowd = Crowd(run.base_url)

        def script(facts: dict[str, Any]) -> None:
            deadline = time.monotonic() + 20
            session = None
            while session is None and time.monotonic() < deadline:  # units are offered within a second or two
                session = SimulatedWorker(run.base_url, "dropout").request_agent()
                if not session.is_onboarding:
                    session = None
                    time.sleep(0.2)
            assert session is not None, "the dropout never got the onboarding page"
            _others_finish(run, crowd)  # ... while the dropout's tab stays closed

        scenario = _served_until_done(run, script)
        assert any(t.name.startswith("Onboard-thread-") for t in _agent_threads()), \
            "the abandoned onboarding should still be waiting when the run completes (else this test shows nothing)"
    _nothing_left(scenario, run)


def test_a_bad_study_whose_conversations_are_done_ends_although_a_worker_left_mid_chat(tmp_path: Path) -> None:
    """A worker takes a chat, says one thing and leaves; two others complete the two wanted
    conversations. With a 15-minute assignment duration, the run still ends within seconds of the
    last submission: the idle chat is ended (`idle_unit_seconds`), its unit expired, its words kept."""
    from humaneval.bad_collection.export import all_conversations
    from humaneval.bad_collection.task import build_task as build_bad_task
    from humaneval.crowd.data_dir import open_database
    from tests.bad_collection.support import call, chat_until_finishable
    from tests.bad_collection.test_bad_integration import wait_for_unit

    data_dir = tmp_path / "mephisto"
    cfg, state = build_bad_task([
        f"humaneval.data_dir={data_dir}",
        "mephisto.blueprint.models={echo: 2}",
        "mephisto.blueprint.min_turns=1",
        "mephisto.blueprint.idle_unit_seconds=3",
        "mephisto.task.task_name=bad-ends",
        "mephisto.task.assignment_duration_in_seconds=900",
    ])
    with LocalLaunch(cfg, state, LaunchSettings(data_dir=data_dir)) as run:

        def crowd(facts: dict[str, str]) -> None:
            leaver = SimulatedWorker(run.base_url, "leaver")
            session, _ = wait_for_unit(leaver)
            assert session.agent_id, session.failure_reason
            live = leaver.connect_live(session.agent_id)
            assert call(live, "send_message", text="hello, and goodbye")["ok"]
            facts["conversation"] = session.init_task_data["task_data"]["conversation_id"]
            live.close()  # ... and the tab stays closed
            for name in ("stayer1", "stayer2"):
                worker = SimulatedWorker(run.base_url, name)
                session, _ = wait_for_unit(worker)
                assert session.agent_id, session.failure_reason
                live = worker.connect_live(session.agent_id)
                chat_until_finishable(live, name)
                worker.submit_task(session.agent_id, {"rating": 4, "comment": ""})
                live.close()
            facts["last_submit"] = str(time.monotonic())

        scenario = _served_until_done(run, crowd)
        assert time.monotonic() - float(scenario.facts["last_submit"]) < 60, "the run waited for the abandoned chat"
    _nothing_left(scenario, run)
    left = scenario.facts
    stored = {s.conversation.conversation_id: s.conversation for s in all_conversations(open_database(data_dir), "bad-ends")}
    assert stored[left["conversation"]].status == "incomplete"
    assert stored[left["conversation"]].turns[0].text == "hello, and goodbye"
    assert sum(c.status == "complete" for c in stored.values()) == 2


def test_a_worker_who_abandons_an_acute_unit_does_not_keep_the_run_alive(tmp_path: Path) -> None:
    """A static page says nothing to the server until it submits, so an abandoned ACUTE unit comes back
    when `assignment_duration_in_seconds` runs out (set it to what a unit needs): its comparisons go to
    others, the run ends by itself with every pair judged, and no Mephisto thread is left waiting."""
    cfg, state, pairs, data_dir = _acute_study(tmp_path, "acute-unit-left", assignment_seconds=8)
    with LocalLaunch(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        crowd = Crowd(run.base_url)

        def script(facts: dict[str, Any]) -> None:
            deadline = time.monotonic() + 20
            while crowd.take_unit("leaver") is None and time.monotonic() < deadline:
                time.sleep(0.2)  # takes a unit (after onboarding) and never submits it
            assert crowd.sessions["leaver"], "the leaver never got a unit"
            _others_finish(run, crowd)

        scenario = _served_until_done(run, script)
        queue = run.blueprint.queue
        assert queue.is_done() and sorted(queue.answers_by_item()) == sorted(pairs)
        leaver = str(run.db.find_workers(worker_name="leaver_sandbox")[0].db_id)
        assert all(leaver not in workers for workers in queue.answers_by_item().values())  # the unit came back
    _nothing_left(scenario, run)
