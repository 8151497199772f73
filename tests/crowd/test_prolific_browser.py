"""Headless Chromium opens the ACUTE page the way Prolific opens it (PROLIFIC_PID, STUDY_ID, SESSION_ID in
the URL), the participant works through the unit, submits, and the browser lands on the completion URL
with the run's code; the unit is completed in Mephisto's database under the participant's Prolific id."""

from __future__ import annotations

from pathlib import Path

import pytest

from humaneval.acute.task import build_task
from humaneval.crowd.data_dir import open_database
from humaneval.crowd.export import export_records
from humaneval.crowd.launcher import LaunchSettings
from humaneval.crowd.prolific.records import study_of_run
from humaneval.jsonl import write_jsonl
from humaneval.studies import all_exports
from tests.acute.test_work_queue import study_pairings
from tests.crowd.conftest import BackgroundRun, completed_units, wait_for
from tests.prolific_fake import FakeProlific

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PID = "5f3c9a0b1d2e4f6a7b8c9d0e"  # a Prolific participant id: 24 hex characters




def test_participant_from_prolific_submits_and_lands_on_the_completion_url(page, tmp_path: Path,
                                                                           prolific: FakeProlific) -> None:
    pairings = tmp_path / "pairings.jsonl"
    write_jsonl(pairings, study_pairings(tmp_path, pairs_per_model_pair=1))
    data_dir = tmp_path / "mephisto"
    cfg, state = build_task([
        f"humaneval.data_dir={data_dir}", "provider=prolific", "mephisto.provider.requester_name=lab",
        f"mephisto.blueprint.pairings_file={pairings}", "mephisto.blueprint.onboarding_qualification=null",
        "mephisto.blueprint.subtasks_per_unit=2", "mephisto.task.task_name=acute-prolific",
        "mephisto.task.task_reward=0.5", "humaneval.pay.estimated_minutes=3",
        f"mephisto.provider.completion_url={prolific.completion_url}",
    ])
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        assert wait_for(lambda: getattr(study_of_run(run.db, run.run_id), "published", False), timeout=30)
        study = study_of_run(run.db, run.run_id)
        session = prolific.participant_starts(study.study_id, PID)
        page.goto(f"{run.base_url}/?PROLIFIC_PID={PID}&STUDY_ID={study.study_id}&SESSION_ID={session}")
        for i in range(2):
            page.get_by_text(f"Comparison {i + 1} of 2").wait_for(timeout=30_000)
            page.get_by_test_id("choose-left").click()
            page.get_by_label("Why?").click()
            page.keyboard.type(f"reason {i}: more engaging")
            page.get_by_test_id("next").click()
        page.wait_for_url(f"{prolific.completion_url}?cc={study.completion_code}", timeout=30_000)
        assert prolific.completions == [study.completion_code]
        assert wait_for(lambda: completed_units(run) == 1, timeout=30), run.task_run.get_assignment_statuses()
    records = list(export_records(open_database(data_dir), "acute-prolific", all_exports()))
    assert {r["worker_id"] for r in records} == {PID} and len(records) == 2
    assert page.errors == []
