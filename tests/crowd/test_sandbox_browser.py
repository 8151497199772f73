"""Headless Chromium opens the sandbox worker page, fills it in by real clicks and typing, submits,
and the unit shows as completed in Mephisto's database."""

from __future__ import annotations

from pathlib import Path

import pytest

from humaneval.crowd.data_dir import open_database
from humaneval.crowd.export import export_records
from humaneval.studies import all_exports
from humaneval.crowd.launcher import LocalLaunch
from tests.crowd.conftest import completed_units, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_worker_page_submits_a_unit(smoke_run_in_background: LocalLaunch, page, tmp_path: Path) -> None:
    run = smoke_run_in_background
    page.on("dialog", lambda dialog: dialog.accept())  # the mock provider alerts on submit
    page.goto(run.worker_url("browser_worker", "browser_assignment_1"))
    prompt = page.get_by_test_id("prompt")
    prompt.wait_for(timeout=30_000)
    assert prompt.inner_text() in ("What is your favourite colour?", "Name a city you would like to visit.")
    submit = page.get_by_role("button", name="Submit")
    assert submit.is_disabled()
    page.get_by_label("Your answer").click()
    page.keyboard.type("<b>blue</b>")
    submit.click()
    page.get_by_test_id("submitted").wait_for(timeout=30_000)
    assert wait_for(lambda: completed_units(run) == 1, timeout=30), run.task_run.get_assignment_statuses()
    records = list(export_records(open_database(tmp_path / "mephisto"), "humaneval-smoke", all_exports()))
    assert [(r["worker_id"], r["outputs"]["answer"]) for r in records] == [("browser_worker_sandbox", "<b>blue</b>")]
    assert page.errors == []
