"""`python -m humaneval.crowd review` on a local sandbox run (mock provider, real router, simulated
workers): list, approve, reject, soft-block (and its effect: the worker gets no more work), block."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

import humaneval.crowd  # noqa: F401  (Mephisto through the compat layer)
from humaneval.crowd.cli_review import main as review_main
from humaneval.crowd.data_dir import open_database
from humaneval.crowd.launcher import LaunchSettings, LocalLaunch
from humaneval.crowd.review import TaskReview, default_block_qualification
from humaneval.crowd.review_audit import ReviewAudit
from humaneval.crowd.simulated_worker import SimulatedWorker
from humaneval.crowd.smoke_task import build_task
from mephisto.abstractions.providers.mock.mock_worker import MockWorker
from tests.crowd.conftest import BackgroundRun, completed_units, wait_for

TASK = "humaneval-smoke"
QUALIFICATION = default_block_qualification(TASK)
T = TypeVar("T")


@pytest.fixture()
def three_unit_run(tmp_path: Path) -> Iterator[LocalLaunch]:
    """The smoke task with three prompts, keeping out holders of its own soft-block qualification."""
    data_dir = tmp_path / "mephisto"
    cfg, state = build_task(
        [
            f"humaneval.data_dir={data_dir}",
            "humaneval.prompts=[one,two,three]",
            f"mephisto.blueprint.block_qualification={QUALIFICATION}",
        ]
    )
    with LocalLaunch(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        yield run


def unit_statuses(run: LocalLaunch) -> dict[str, str]:
    """Local statuses only (never `get_status()`), read fresh from the database."""
    return {str(u.db_id): u.db_status for u in run.db.find_units(task_run_id=run.run_id)}


def as_worker(run: LocalLaunch, action: Callable[[], T], timeout: float = 30) -> T:
    """Run a simulated worker's step on its own thread while this thread drives Mephisto's loop."""
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(action())
        except BaseException as err:  # re-raised below, on the test's thread
            errors.append(err)

    thread = threading.Thread(target=target)
    thread.start()
    run.wait_until(lambda: not thread.is_alive(), timeout)
    thread.join(5)
    if errors:
        raise errors[0]
    assert result, "the worker step did not finish"
    return result[0]


def do_one_unit(run: LocalLaunch, name: str) -> str:
    """A simulated worker takes a unit and submits it; returns the unit id once Mephisto has it."""
    worker = SimulatedWorker(run.base_url, name)
    session = as_worker(run, worker.request_agent)
    assert session.agent_id is not None, session.failure_reason
    as_worker(run, lambda: worker.submit_task(session.agent_id, {"answer": f"{name}'s answer"}))
    unit_id = str(run.db.get_agent(session.agent_id)["unit_id"])
    assert run.wait_until(lambda: unit_statuses(run)[unit_id] == "completed", timeout=20), unit_statuses(run)
    return unit_id


@pytest.mark.integration
def test_review_cli_lists_approves_rejects_soft_blocks_and_blocks_sandbox_work(
    three_unit_run: LocalLaunch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = three_unit_run
    common = ["--task-name", TASK, "--data-dir", str(run.settings.data_dir)]
    alice_unit = do_one_unit(run, "alice")
    bob_unit = do_one_unit(run, "bob")
    capsys.readouterr()

    assert review_main(["list", *common]) == 0
    out = capsys.readouterr().out
    for unit_id, worker in ((alice_unit, "alice_sandbox"), (bob_unit, "bob_sandbox")):
        assert re.search(rf"^\s*{unit_id}\s+{run.run_id}\s+mock\s+{worker}\s+completed\s+completed$", out, re.M), out
    assert "2 unit(s)" in out
    assert f"note: run(s) {run.run_id} not marked finished" in out  # approve/reject must wait

    # A soft block may be given while the run is live, and works at once: bob gets no more work,
    # alice gets the third unit. (--task-name may also come before the verb.)
    assert review_main([*common, "soft-block", "--worker", "bob_sandbox"]) == 0
    out = capsys.readouterr().out
    assert (
        f"soft-blocked worker bob_sandbox (mock): qualification '{QUALIFICATION}' granted; "
        f"runs {run.run_id} of '{TASK}' check it"
    ) in out
    refused = as_worker(run, SimulatedWorker(run.base_url, "bob").request_agent)
    assert refused.agent_id is None and refused.failure_reason, refused
    third_unit = do_one_unit(run, "alice")
    assert run.wait_until(run.is_done, timeout=30), "the run should end once every unit is submitted"

    # Approve and reject after the run has ended. A worker may be named without Mephisto's suffix.
    assert review_main(["approve", *common, "--worker", "alice"]) == 0
    out = capsys.readouterr().out
    for unit_id in (alice_unit, third_unit):
        assert f"approved unit {unit_id} (worker alice_sandbox, mock): unit now accepted" in out
    assert review_main(["reject", *common, "--unit", bob_unit, "--reason", "off topic"]) == 0
    assert f"rejected unit {bob_unit} (worker bob_sandbox, mock): unit now rejected; reason: 'off topic'" in capsys.readouterr().out
    assert review_main(["approve", *common, "--unit", bob_unit]) == 0  # already reviewed: said, not redone
    assert f"skipped unit {bob_unit} (worker bob_sandbox, mock): already rejected, not approved again" in capsys.readouterr().out
    assert review_main(["approve", *common, "--all"]) == 0
    assert "nothing to do: no matching unit awaits review" in capsys.readouterr().out

    assert review_main(["list", *common]) == 0
    out = capsys.readouterr().out
    assert f"no unit of task '{TASK}' awaits review" in out and "note:" not in out  # the run is finished
    assert review_main(["list", *common, "--reviewed"]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"^\s*{bob_unit}\s+{run.run_id}\s+mock\s+bob_sandbox\s+rejected\s+rejected$", out, re.M), out
    assert "3 unit(s)" in out

    assert review_main(["block", *common, "--worker", "bob", "--reason", "spam"]) == 0
    assert "blocked worker bob_sandbox (mock): blocked in the mock provider with reason 'spam'" in capsys.readouterr().out

    # What the database now says.
    db = open_database(run.settings.data_dir)
    assert {u: db.get_unit(u)["status"] for u in (alice_unit, bob_unit, third_unit)} == {
        alice_unit: "accepted", bob_unit: "rejected", third_unit: "accepted",
    }
    agents = {str(a["unit_id"]): a["status"] for a in (db.get_agent(u.agent_id) for u in TaskReview(db, TASK).units(True))}
    assert agents == {alice_unit: "approved", bob_unit: "rejected", third_unit: "approved"}
    qualification = db.find_qualifications(QUALIFICATION)[0]
    holders = {db.get_worker(g.worker_id)["worker_name"]: g.value for g in db.check_granted_qualifications(qualification.db_id)}
    assert holders == {"bob_sandbox": 1}
    bob = db.find_workers(worker_name="bob_sandbox")[0]
    alice = db.find_workers(worker_name="alice_sandbox")[0]
    assert isinstance(bob, MockWorker) and bob.is_blocked(run.task_run.get_requester())
    assert not alice.is_blocked(run.task_run.get_requester())
    # every command's outcomes are in the audit log, one line each, the skip and the nothing-to-do included
    lines = ReviewAudit.in_data_dir(run.settings.data_dir).lines()
    assert [(line.action, line.skipped) for line in lines] == [
        ("soft-block", False), ("approve", False), ("approve", False), ("reject", False), ("approve", True),
        ("block", False)]
    assert {line.via for line in lines} == {"cli"} and len({line.request for line in lines}) == 5
    assert "reason: 'off topic'" in lines[3].detail


def test_review_refuses_unknown_tasks_workers_units_and_empty_selections(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = open_database(tmp_path)
    db.new_task(TASK, "static_react_task")
    common = ["--task-name", TASK, "--data-dir", str(tmp_path)]
    cases = [
        (["list", "--task-name", "nope", "--data-dir", str(tmp_path)], f"no task named 'nope' in {tmp_path / 'database.db'} (tasks there: {TASK})"),
        (["approve", *common], "choose what to review: --all, --worker NAME or --unit ID"),
        (["approve", *common, "--worker", "ghost"], f"worker 'ghost' has no submitted unit in task '{TASK}'"),
        (["reject", *common, "--unit", "99", "--reason", "x"], f"unit 99 is not a submitted unit of task '{TASK}'"),
        (["reject", *common, "--all", "--reason", "  "], "a rejection needs a reason"),
        (["soft-block", *common, "--worker", "ghost"], f"worker 'ghost' has no submitted unit in task '{TASK}'"),
    ]
    for argv, message in cases:
        with pytest.raises(SystemExit) as exit_info:
            review_main(argv)
        assert exit_info.value.code == 2, argv
        assert message in capsys.readouterr().err, argv
    assert review_main(["list", *common]) == 0
    assert f"no unit of task '{TASK}' awaits review" in capsys.readouterr().out


@pytest.mark.integration
def test_a_unit_left_open_when_the_run_stopped_is_never_approved(tmp_path: Path) -> None:
    """Mephisto marks a unit still in progress at shutdown as completed, with nothing submitted: approving it
    would pay for no work (on Prolific the participant can still enter the visible code)."""
    cfg, state = build_task([f"humaneval.data_dir={tmp_path / 'mephisto'}"])
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=tmp_path / "mephisto")) as run:
        idle = SimulatedWorker(run.base_url, "idle_worker").request_agent()
        assert idle.agent_id is not None, idle.failure_reason
        busy = SimulatedWorker(run.base_url, "busy_worker")
        session = busy.request_agent()
        busy.submit_task(session.agent_id, {"answer": "Lisbon"})
        assert wait_for(lambda: completed_units(run) >= 1, timeout=30)
    review = TaskReview(open_database(tmp_path / "mephisto"), "humaneval-smoke")
    actions = {a.target.split("worker ")[1].split(",")[0]: a for a in review.approve(review.units())}
    assert actions["busy_worker_sandbox"].ok
    # Mephisto stored the open unit as completed; it is refused, and stays awaiting review (to be rejected)
    assert not actions["idle_worker_sandbox"].ok and "no work was submitted" in actions["idle_worker_sandbox"].detail
    assert [u.worker_name for u in review.units()] == ["idle_worker_sandbox"]
