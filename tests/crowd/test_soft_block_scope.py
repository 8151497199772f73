"""A soft block closes the task that gave it, not the others (real router, simulated workers, one data
folder): a worker who fails ACUTE's practice is refused by ACUTE, said once on the console, and can
still take a safety unit; with both tasks launched on one shared block qualification, safety refuses
them too."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from humaneval.acute.task import build_task as build_acute
from humaneval.crowd.launcher import LaunchSettings
from humaneval.crowd.simulated_worker import SimulatedWorker
from humaneval.safety_eval.task import build_task as build_safety
from mephisto.operations.datatypes import WorkerFailureReasons
from tests.acute.test_acute_integration import onboarding_answers, study_files
from tests.crowd.conftest import BackgroundRun, wait_for
from tests.safety_eval.test_safety_integration import write_study

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SHARED = "humaneval_soft_block"


def fail_acute_practice(tmp_path: Path, data_dir: Path, names: list[str], extra: list[str]) -> None:
    """Launch ACUTE (one practice pair) and have each named worker answer it wrong, then come back."""
    pairings, onboarding, _ = study_files(tmp_path)
    cfg, state = build_acute([f"humaneval.data_dir={data_dir}", f"mephisto.blueprint.pairings_file={pairings}",
                              f"mephisto.blueprint.onboarding_file={onboarding}", "mephisto.task.task_name=acute-scope",
                              *extra])
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        assert wait_for(lambda: run.task_run.get_assignment_statuses().get("launched", 0) > 0, 30)
        for name in names:
            worker = SimulatedWorker(run.base_url, name)
            session = worker.request_agent()
            assert session.is_onboarding, session.failure_reason
            after = worker.submit_onboarding(session.agent_id, onboarding_answers(session, correct=False))
            assert (after.agent_id, after.failure_reason) == (None, WorkerFailureReasons.NOT_QUALIFIED)
            again = worker.request_agent()  # refused on arrival now, with no second console line
            assert (again.agent_id, again.failure_reason) == (None, WorkerFailureReasons.NOT_QUALIFIED)


def safety_answer(tmp_path: Path, data_dir: Path, name: str, extra: list[str]) -> tuple[str | None, str | None]:
    """Launch safety (no practice) in the same data folder; what the router tells the worker."""
    task_data, indices = write_study(tmp_path)
    cfg, state = build_safety([f"humaneval.data_dir={data_dir}", f"mephisto.blueprint.task_data_file={task_data}",
                               f"mephisto.blueprint.annotation_indices_file={indices}",
                               "mephisto.blueprint.onboarding_qualification=null", "mephisto.task.task_name=safety-scope",
                               *extra])
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        assert wait_for(lambda: run.task_run.get_assignment_statuses().get("launched", 0) > 0, 30)
        session = SimulatedWorker(run.base_url, name).request_agent()
        return session.agent_id, session.failure_reason


def soft_block_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if " soft-blocked from task " in r.getMessage()]


def test_failing_acute_practice_leaves_the_safety_task_open(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data_dir = tmp_path / "mephisto"
    with caplog.at_level(logging.WARNING, logger="humaneval"):
        fail_acute_practice(tmp_path, data_dir, ["careless", "sloppy"], [])
        agent_id, failure = safety_answer(tmp_path, data_dir, "careless", [])
    assert agent_id is not None, failure
    assert soft_block_lines(caplog) == [
        "worker careless_sandbox soft-blocked from task acute-scope: failed onboarding (0/1 right)",
        "worker sloppy_sandbox soft-blocked from task acute-scope: failed onboarding (0/1 right)",
    ]
    assert all(r.levelno == logging.WARNING for r in caplog.records if " soft-blocked " in r.getMessage())


def test_a_shared_block_qualification_closes_both_tasks(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """What every task did before, now by choice; the console still names the task that blocked."""
    data_dir = tmp_path / "mephisto"
    shared = [f"mephisto.blueprint.block_qualification={SHARED}"]
    with caplog.at_level(logging.WARNING, logger="humaneval"):
        fail_acute_practice(tmp_path, data_dir, ["careless"], shared)
        assert safety_answer(tmp_path, data_dir, "careless", shared) == (None, WorkerFailureReasons.NOT_QUALIFIED)
    assert soft_block_lines(caplog) == [
        "worker careless_sandbox soft-blocked from task acute-scope: failed onboarding (0/1 right)"]
