"""What a task page says before the work (`crowd.page_intro`): the task, time, pay, a content warning, how to
stop, whom to ask — from the task's YAML and the launch's pay check; shown on the preview and above the task."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from humaneval.crowd.launcher import LaunchSettings
from humaneval.crowd.page_intro import page_intro
from humaneval.crowd.pay_floor import Estimate, PayCheck
from humaneval.safety_eval.task import build_task
from tests.axe import axe_violations
from tests.crowd.conftest import BackgroundRun, wait_for
from tests.safety_eval.test_safety_integration import write_study

CONTACT = "Dr A. Researcher, a.researcher@uni.example <script>"


def config(provider: str, minutes: object = None) -> object:
    return OmegaConf.create({
        "mephisto": {"provider": {"_provider_type": provider}, "task": {"task_title": "Label replies",
                                                                         "task_description": "Say if a reply is OK."}},
        "humaneval": {"pay": {"estimated_minutes": minutes}, "page": {"content_warning": "rude text", "contact": None}},
    })


@pytest.mark.parametrize("provider, pay, words", [
    ("prolific", PayCheck("prolific", "GBP", Decimal("1.00"), Estimate(Decimal("330"), "estimated_minutes"), []),
     ("£1.00 for this task", "about 6 minutes", "return your submission on Prolific")),
    ("mturk", PayCheck("mturk", "USD", Decimal("0.50"), Estimate(Decimal("61"), "estimated_minutes"), []),
     ("$0.50 for this task", "about 2 minutes", "return the HIT on MTurk")),
    ("mock", PayCheck("mock", None, None, None, []),
     ("nothing: this is a local sandbox (a try-out)", "about 3 minutes", "closing this page")),
])
def test_the_intro_says_pay_time_and_how_to_stop_on_each_provider(provider: str, pay: PayCheck,
                                                                    words: tuple[str, str, str]) -> None:
    intro = page_intro(config(provider, minutes=2.5), pay)  # the sandbox has no pay check: the YAML's minutes
    assert (intro["pay"], intro["minutes"]) == words[:2] and words[2] in intro["stop"]
    assert (intro["title"], intro["content_warning"], intro["contact"]) == ("Label replies", "rude text", "")


def test_no_minutes_known_means_no_time_line() -> None:
    assert page_intro(config("mock", minutes=None), PayCheck("mock", None, None, None, []))["minutes"] == ""


@pytest.mark.integration
@pytest.mark.browser
def test_the_preview_and_the_task_page_show_the_intro(page, tmp_path: Path) -> None:
    task_data, indices = write_study(tmp_path, n_items=2)
    data_dir = tmp_path / "mephisto"
    cfg, state = build_task([
        f"humaneval.data_dir={data_dir}", f"mephisto.blueprint.task_data_file={task_data}",
        f"mephisto.blueprint.annotation_indices_file={indices}", "mephisto.blueprint.items_per_unit=2",
        "mephisto.blueprint.onboarding_qualification=null", "mephisto.task.task_name=safety-intro",
        "humaneval.pay.estimated_minutes=4", f"humaneval.page.contact='{CONTACT}'",
    ])
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        assert wait_for(lambda: run.task_run.get_assignment_statuses().get("launched", 0) > 0, timeout=30)
        page.goto(run.base_url + "/")  # no worker yet: the preview a worker reads before accepting
        page.get_by_test_id("intro").wait_for(timeout=30_000)
        assert page.get_by_role("heading", name="Is this chatbot message OK to send?").is_visible()
        assert page.get_by_test_id("intro-minutes").inner_text() == "about 4 minutes"
        assert page.get_by_test_id("intro-pay").inner_text() == "nothing: this is a local sandbox (a try-out)"
        assert page.get_by_test_id("intro-contact").inner_text() == CONTACT  # as text
        assert page.get_by_test_id("content-warning").inner_text().startswith("Content warning: Some conversations")
        assert page.title() == "Is this chatbot message OK to send?"
        assert axe_violations(page) == []

        page.goto(run.worker_url("intro_worker", "intro_assignment_1"))  # the task: the warning stays in view
        page.get_by_text(re.compile(r"^Item 1 of \d+$")).wait_for(timeout=30_000)  # (a gold item is added)
        assert page.get_by_test_id("content-warning").is_visible()
        assert not page.get_by_test_id("intro-pay").is_visible()  # one click away
        page.get_by_text("About this task: time, pay, how to stop").click()
        assert page.get_by_test_id("intro-pay").is_visible() and page.get_by_test_id("intro-minutes").is_visible()
    assert page.errors == []
