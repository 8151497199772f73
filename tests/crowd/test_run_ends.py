"""A run that is done ends: a worker who walked away during onboarding leaves no Mephisto thread waiting
for them, so the launcher's process can exit after "run complete" instead of hanging for the assignment
duration (Mephisto never shuts down the TaskRunner of a run that completes by itself)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import requests

from humaneval.acute.task import build_task
from humaneval.crowd.launcher import LaunchSettings, LocalLaunch
from humaneval.crowd.simulated_worker import SimulatedWorker
from tests.acute.test_acute_integration import Crowd, study_files
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


def test_a_worker_who_abandons_onboarding_does_not_keep_the_run_alive(tmp_path: Path) -> None:
    pairings, onboarding, _ = study_files(tmp_path, pairs_per_model_pair=1, conversations_per_model=2)
    data_dir = tmp_path / "mephisto"
    cfg, state = build_task([
        f"humaneval.data_dir={data_dir}",
        f"mephisto.blueprint.pairings_file={pairings}",
        f"mephisto.blueprint.onboarding_file={onboarding}",
        "mephisto.blueprint.annotations_per_pair=1",
        "mephisto.blueprint.subtasks_per_unit=3",
        "mephisto.task.task_name=acute-ends",
        "mephisto.task.assignment_duration_in_seconds=900",  # what an abandoned onboarding thread would wait
    ])
    errors: list[BaseException] = []
    with LocalLaunch(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        crowd = Crowd(run.base_url)

        def scenario() -> None:
            try:
                deadline = time.monotonic() + 20
                session = None
                while session is None and time.monotonic() < deadline:  # units are offered within a second or two
                    session = SimulatedWorker(run.base_url, "dropout").request_agent()
                    if not session.is_onboarding:
                        session = None
                        time.sleep(0.2)
                assert session is not None, "the dropout never got the onboarding page"
                # ... and closes the tab. Others do all the work (a worker never sees a conversation twice,
                # so one worker alone cannot finish the study).
                names = [f"finisher{i}" for i in range(8)]
                while not run.is_done():
                    if not any([crowd.work(name) for name in names]):
                        time.sleep(0.3)
            except requests.ConnectionError:
                pass  # the run ended and its router is gone
            except BaseException as err:
                errors.append(err)

        worker = threading.Thread(target=scenario, daemon=True)
        worker.start()
        finished = run.wait_until(lambda: run.is_done() or bool(errors), timeout=180)
        assert not errors, errors
        assert finished, run.task_run.get_assignment_statuses()
        assert any(t.name.startswith("Onboard-thread-") for t in _agent_threads()), \
            "the abandoned onboarding should still be waiting when the run completes (else this test shows nothing)"
    worker.join(30)
    assert _agent_threads() == [], "a Mephisto thread still waits for a worker who left"
    assert _gone(run.router_pid), "the node router outlived the run"


def test_a_bad_study_whose_conversations_are_done_ends_although_a_worker_left_mid_chat(tmp_path: Path) -> None:
    """A worker takes a chat, says one thing and leaves; two others complete the two wanted
    conversations. With a 15-minute assignment duration, the run still ends within seconds of the
    last submission: the idle chat is ended (`idle_unit_seconds`), its unit expired, its words kept."""
    from humaneval.bad_collection.export import all_conversations
    from humaneval.bad_collection.task import build_task as build_bad_task
    from humaneval.crowd.data_dir import open_database
    from tests.bad_collection.support import call, chat_until_finishable
    from tests.bad_collection.test_bad_integration import Scenario, wait_for_unit

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

        scenario = Scenario(crowd)
        finished = run.wait_until(lambda: run.is_done() or bool(scenario.errors), timeout=120)
        assert not scenario.errors, scenario.errors
        assert finished, run.task_run.get_assignment_statuses()
        assert time.monotonic() - float(scenario.facts["last_submit"]) < 60, "the run waited for the abandoned chat"
    scenario.thread.join(30)
    assert _agent_threads() == [], "a Mephisto thread still waits for a worker who left"
    assert _gone(run.router_pid), "the node router outlived the run"
    left = scenario.facts
    stored = {s.conversation.conversation_id: s.conversation for s in all_conversations(open_database(data_dir), "bad-ends")}
    assert stored[left["conversation"]].status == "incomplete"
    assert stored[left["conversation"]].turns[0].text == "hello, and goodbye"
    assert sum(c.status == "complete" for c in stored.values()) == 2


def test_a_worker_who_abandons_an_acute_unit_does_not_keep_the_run_alive(tmp_path: Path) -> None:
    """A static page says nothing to the server until it submits, so an abandoned ACUTE unit comes back
    when `assignment_duration_in_seconds` runs out (set it to what a unit needs): its comparisons go to
    others, the run ends by itself with every pair judged, and no Mephisto thread is left waiting."""
    pairings, onboarding, pairs = study_files(tmp_path, pairs_per_model_pair=1, conversations_per_model=2)
    data_dir = tmp_path / "mephisto"
    cfg, state = build_task([
        f"humaneval.data_dir={data_dir}",
        f"mephisto.blueprint.pairings_file={pairings}",
        f"mephisto.blueprint.onboarding_file={onboarding}",
        "mephisto.blueprint.annotations_per_pair=1",
        "mephisto.blueprint.subtasks_per_unit=3",
        "mephisto.task.task_name=acute-unit-left",
        "mephisto.task.assignment_duration_in_seconds=8",
    ])
    errors: list[BaseException] = []
    with LocalLaunch(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        crowd = Crowd(run.base_url)

        def scenario() -> None:
            try:
                deadline = time.monotonic() + 20
                while crowd.take_unit("leaver") is None and time.monotonic() < deadline:
                    time.sleep(0.2)  # takes a unit (after onboarding) and never submits it
                assert crowd.sessions["leaver"], "the leaver never got a unit"
                names = [f"finisher{i}" for i in range(8)]
                while not run.is_done():
                    if not any([crowd.work(name) for name in names]):
                        time.sleep(0.3)
            except requests.ConnectionError:
                pass  # the run ended and its router is gone
            except BaseException as err:
                errors.append(err)

        worker = threading.Thread(target=scenario, daemon=True)
        worker.start()
        finished = run.wait_until(lambda: run.is_done() or bool(errors), timeout=120)
        assert not errors, errors
        assert finished, run.task_run.get_assignment_statuses()
        queue = run.blueprint.queue
        assert queue.is_done() and sorted(queue.answers_by_item()) == sorted(pairs)
        leaver = str(run.db.find_workers(worker_name="leaver_sandbox")[0].db_id)
        assert all(leaver not in workers for workers in queue.answers_by_item().values())  # the unit came back
    worker.join(30)
    assert _agent_threads() == [], "a Mephisto thread still waits for a worker who left"
    assert _gone(run.router_pid), "the node router outlived the run"
