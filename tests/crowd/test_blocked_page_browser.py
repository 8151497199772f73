"""Headless Chromium: a worker who failed a task's practice and opens its page again reads, in plain
words, that this task is closed to them (not Mephisto's bare "not currently qualified"), on a wide
and on a narrow screen. The shared TaskShell does this for every task; ACUTE stands in for them."""

from __future__ import annotations

from pathlib import Path

import pytest

from humaneval.acute.task import build_task
from humaneval.crowd.launcher import LaunchSettings
from humaneval.crowd.simulated_worker import SimulatedWorker
from mephisto.operations.datatypes import WorkerFailureReasons
from tests.acute.test_acute_integration import onboarding_answers, study_files
from tests.crowd.conftest import BackgroundRun, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CLOSED = "You did not pass this task's qualification, so this task is closed to you. Thank you for your time."


def test_a_blocked_worker_reads_that_the_task_is_closed_to_them(page, tmp_path: Path) -> None:
    pairings, onboarding, _ = study_files(tmp_path)
    data_dir = tmp_path / "mephisto"
    cfg, state = build_task([f"humaneval.data_dir={data_dir}", f"mephisto.blueprint.pairings_file={pairings}",
                             f"mephisto.blueprint.onboarding_file={onboarding}", "mephisto.task.task_name=acute-closed"])
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        assert wait_for(lambda: run.task_run.get_assignment_statuses().get("launched", 0) > 0, 30)
        worker = SimulatedWorker(run.base_url, "careless")
        session = worker.request_agent()
        after = worker.submit_onboarding(session.agent_id, onboarding_answers(session, correct=False))
        assert after.failure_reason == WorkerFailureReasons.NOT_QUALIFIED

        page.goto(run.worker_url("careless", "careless_assignment_2"))
        blocked = page.get_by_test_id("blocked")
        blocked.wait_for(timeout=30_000)
        assert blocked.inner_text() == CLOSED
        assert "not currently qualified" not in page.content()
        page.screenshot(path=str(tmp_path / "blocked-1280.png"), full_page=True)
        page.set_viewport_size({"width": 420, "height": 800})
        box = blocked.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 420  # wraps, no sideways scroll
        assert page.evaluate("document.documentElement.scrollWidth") <= 420
        page.screenshot(path=str(tmp_path / "blocked-420.png"), full_page=True)
    assert page.errors == [], page.errors
