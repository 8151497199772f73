"""Headless Chromium works through the real ACUTE page: onboarding, then a full unit, by clicks and
typing; markup in a chat turn stays text; the layout stacks on a narrow screen; the export matches.
With `allow_tie` the worker picks "About the same" by keyboard and the export, read by
`python -m analysis acute`, counts a tie."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from humaneval.acute.task import build_task
from humaneval.crowd.data_dir import open_database
from humaneval.crowd.export import export_records
from humaneval.studies import all_exports
from humaneval.crowd.launcher import LaunchSettings
from humaneval.jsonl import write_jsonl
from tests.acute.test_acute_integration import study_files
from tests.acute.test_work_queue import study_pairings
from tests.axe import axe_violations
from tests.instructions import open_and_close_instructions
from tests.crowd.conftest import BackgroundRun, completed_units, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.browser]

XSS = "<img src=x onerror=alert(1)>"


def pass_onboarding(page) -> None:
    """Onboarding: the same view, one practice comparison; the right answer is the speaker who talks."""
    progress = page.get_by_test_id("progress")
    progress.wait_for(timeout=30_000)
    assert progress.inner_text() == "Practice comparison 1 of 1"
    assert axe_violations(page) == []
    left_text = page.get_by_test_id("conversation-left").inner_text()
    good = "right" if left_text.count("I don't know") >= 2 else "left"
    page.get_by_test_id(f"choose-{good}").click()
    page.get_by_label("Why?").click()
    page.keyboard.type("the other one only says it does not know")
    page.get_by_role("button", name="Check my answer").click()
    feedback = page.get_by_test_id("practice-feedback")  # the server's verdict, with the pair's explanation
    feedback.wait_for(timeout=30_000)  # a server round trip, as the other waits here
    assert feedback.get_attribute("data-correct") == "true"
    assert feedback.inner_text().startswith(f"Right: Speaker {1 if good == 'left' else 2} is the better one here.")
    assert axe_violations(page) == []
    page.keyboard.press("Enter")  # the focus is on "Finish the practice"


def test_worker_does_onboarding_and_a_unit_in_the_browser(page, tmp_path: Path) -> None:
    _, onboarding, _ = study_files(tmp_path)
    pairs = study_pairings(tmp_path, pairs_per_model_pair=1)
    for pair in pairs:  # whatever the worker gets, the first turn on one side is markup
        pair["dialogue_dicts"][0]["dialogue"][0]["text"] = XSS
    pairings = tmp_path / "xss_pairings.jsonl"
    write_jsonl(pairings, pairs)
    data_dir = tmp_path / "mephisto"
    cfg, state = build_task([
        f"humaneval.data_dir={data_dir}",
        f"mephisto.blueprint.pairings_file={pairings}",
        f"mephisto.blueprint.onboarding_file={onboarding}",
        "mephisto.blueprint.subtasks_per_unit=3",
        "mephisto.blueprint.min_reason_words=5",
        "mephisto.task.task_name=acute-browser",
    ])
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        assert wait_for(lambda: run.task_run.get_assignment_statuses().get("launched", 0) > 0, timeout=30)
        page.goto(run.worker_url("browser_worker", "browser_assignment_1"))

        pass_onboarding(page)

        # The unit: 3 comparisons, both conversations side by side at 1280x800.
        page.get_by_text("Comparison 1 of 3").wait_for(timeout=30_000)
        assert page.title() == "Compare two conversations"
        assert axe_violations(page) == []
        left_box = page.get_by_test_id("conversation-left").bounding_box()
        right_box = page.get_by_test_id("conversation-right").bounding_box()
        assert right_box["x"] > left_box["x"] + left_box["width"] - 1 and abs(right_box["y"] - left_box["y"]) < 2
        assert page.get_by_test_id("question").inner_text() == "Who would you prefer to talk to for a long conversation?"
        assert page.get_by_text("I would prefer to talk to Speaker 1").is_visible()
        assert page.locator("[data-testid^=context-]").count() == 2  # personas shown

        reasons = []
        for i in range(3):
            page.get_by_text(f"Comparison {i + 1} of 3").wait_for(timeout=10_000)
            # Markup in a turn is shown as the literal text, and never becomes an element.
            xss = page.get_by_text(XSS, exact=True)
            assert xss.count() == 1 and xss.is_visible()
            assert page.locator("[data-testid^=conversation-] img").count() == 0
            # Keyboard: Tab to the first choice, pick it with Space; Enter without a reason does nothing.
            next_button = page.get_by_test_id("next")
            assert next_button.is_disabled()
            page.get_by_test_id("choose-left").focus()
            page.keyboard.press("Space")
            assert page.get_by_test_id("choose-left").is_checked()
            page.keyboard.press("Enter")
            assert page.get_by_text(f"Comparison {i + 1} of 3").is_visible() and next_button.is_disabled()
            page.keyboard.press("Tab")  # the radio group is one tab stop; next comes the reason
            assert page.evaluate("document.activeElement.id") == f"reason-{i}"
            page.keyboard.type("better")  # one word, under the study's 5: said live, and Next stays off
            assert page.get_by_test_id("reason-hint").inner_text() == "1 of 5 words" and next_button.is_disabled()
            page.keyboard.press("Control+A")
            reasons.append(f"reason {i}: speaker one <b>asks</b> questions")
            page.keyboard.type(reasons[-1])
            assert page.get_by_test_id("reason-hint").inner_text() == "6 words" and next_button.is_enabled()
            if i == 0:  # the instructions, any time: the choice and reason typed so far are kept
                open_and_close_instructions(page, "Speaker 1 asks about my pet")
                assert page.get_by_test_id("reason").input_value() == reasons[-1] and next_button.is_enabled()
            if i == 0:  # a narrow screen stacks the two conversations
                page.set_viewport_size({"width": 420, "height": 800})
                left_box = page.get_by_test_id("conversation-left").bounding_box()
                right_box = page.get_by_test_id("conversation-right").bounding_box()
                assert right_box["y"] >= left_box["y"] + left_box["height"] - 1
                assert left_box["width"] <= 420
                page.set_viewport_size({"width": 1280, "height": 800})
            next_button.click()
            if i == 0:  # a reload mid-unit goes on from the second comparison, the first one kept
                page.get_by_text("Comparison 2 of 3").wait_for(timeout=10_000)
                page.reload()
                page.get_by_text("Comparison 2 of 3").wait_for(timeout=30_000)

        page.get_by_test_id("submitted").wait_for(timeout=30_000)
        assert wait_for(lambda: completed_units(run) == 1, timeout=30), run.task_run.get_assignment_statuses()
        records = list(export_records(open_database(data_dir), "acute-browser", all_exports()))

    onboarding_records = [r for r in records if r["is_onboarding"]]
    judged = [r for r in records if not r["is_onboarding"]]
    assert [(r["worker_id"], r["winner"], r["onboarding_passed"]) for r in onboarding_records] == [
        ("browser_worker_sandbox", "good_speaker", True)]
    by_id = {p["pair_id"]: p for p in pairs}
    assert len(judged) == 3 and [r["reason"] for r in judged] == reasons
    for r in judged:
        pair = by_id[r["pair_id"]]
        assert [r["model_a"], r["model_b"]] == pair["speakers_to_eval"] and r["dialogue_ids"] == pair["dialogue_ids"]
        assert r["winner"] == r["left"]  # the worker always chose the left conversation
        assert r["worker_id"] == "browser_worker_sandbox" and r["onboarding_passed"] is True
        assert r["submitted_at"] >= r["started_at"] > 0
    assert all(message != "1" for message in dialogs), dialogs  # the markup never ran
    assert page.errors == [], page.errors
    json.dumps(records)  # JSON-ready


def test_worker_picks_about_the_same_by_keyboard_and_the_analysis_counts_the_tie(page, tmp_path: Path) -> None:
    pairings, onboarding, pairs = study_files(tmp_path, pairs_per_model_pair=1)
    data_dir = tmp_path / "mephisto"
    cfg, state = build_task([
        f"humaneval.data_dir={data_dir}",
        f"mephisto.blueprint.pairings_file={pairings}",
        f"mephisto.blueprint.onboarding_file={onboarding}",
        "mephisto.blueprint.subtasks_per_unit=1",
        "mephisto.blueprint.allow_tie=true",
        "mephisto.task.task_name=acute-browser-ties",
    ])
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        assert wait_for(lambda: run.task_run.get_assignment_statuses().get("launched", 0) > 0, timeout=30)
        page.goto(run.worker_url("tie_worker", "tie_assignment_1"))
        page.get_by_test_id("progress").wait_for(timeout=30_000)
        assert page.get_by_test_id("choose-tie").is_visible()  # onboarding practises the real page
        pass_onboarding(page)

        page.get_by_text("Comparison 1 of 1").wait_for(timeout=30_000)
        labels = [page.locator(f"label:has([data-testid=choose-{v}])").inner_text() for v in ("left", "right", "tie")]
        # (a no-break space keeps "Speaker 1" together on a narrow screen)
        assert labels == ["I would prefer to talk to Speaker\u00a01", "I would prefer to talk to Speaker\u00a02",
                          "About the same"]
        assert page.get_by_test_id("choose-both_bad").count() == 0  # allow_both_bad is off
        # Keyboard: into the radio group, arrows down to the third choice; still one tab stop before the reason.
        page.get_by_test_id("choose-left").focus()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        assert page.get_by_test_id("choose-tie").is_checked() and not page.get_by_test_id("choose-left").is_checked()
        next_button = page.get_by_test_id("next")
        page.keyboard.press("Enter")  # no reason yet: a tie needs one too
        assert page.get_by_text("Comparison 1 of 1").is_visible() and next_button.is_disabled()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "reason-0"
        page.keyboard.type("both just trade pleasantries")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.get_by_test_id("submitted").wait_for(timeout=30_000)
        assert wait_for(lambda: completed_units(run) == 1, timeout=30), run.task_run.get_assignment_statuses()
        records = list(export_records(open_database(data_dir), "acute-browser-ties", all_exports()))

    judged = [r for r in records if not r["is_onboarding"]]
    assert [(r["winner"], r["reason"], r["worker_id"]) for r in judged] == [
        ("tie", "both just trade pleasantries", "tie_worker_sandbox")]
    assert pairs[judged[0]["pair_id"]]["speakers_to_eval"] == [judged[0]["model_a"], judged[0]["model_b"]]
    assert page.errors == [], page.errors

    judgements = tmp_path / "judgements.jsonl"
    write_jsonl(judgements, records)
    report = tmp_path / "report"
    result = subprocess.run([sys.executable, "-m", "analysis", "acute", "--judgements", str(judgements),
                             "--pairings", str(pairings), "--out", str(report)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    ties = json.loads((report / "summary.json").read_text())["ties"]
    assert (ties["ties"], ties["both_bad"], ties["tie_rate"]) == (1, 0, 1.0), ties
    with (report / "significance.csv").open() as f:
        rows = [row for row in csv.DictReader(f) if row["n"] != "0"]
    assert [(row["ties"], row["both_bad"], row["n_decisive"]) for row in rows] == [("1", "0", "0")]


def test_a_reload_mid_practice_resumes_where_the_worker_was(page, tmp_path: Path) -> None:
    pairings = tmp_path / "pairings.jsonl"
    write_jsonl(pairings, study_pairings(tmp_path, pairs_per_model_pair=1))
    data_dir = tmp_path / "mephisto"
    cfg, state = build_task([f"humaneval.data_dir={data_dir}", f"mephisto.blueprint.pairings_file={pairings}",
                             "mephisto.task.task_name=acute-practice-reload"])  # the bundled 4 practice pairs
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        assert wait_for(lambda: run.task_run.get_assignment_statuses().get("launched", 0) > 0, timeout=30)
        page.goto(run.worker_url("reloading_worker", "reload_assignment_1"))
        progress = page.get_by_test_id("progress")
        progress.wait_for(timeout=30_000)
        assert progress.inner_text() == "Practice comparison 1 of 4"
        left_text = page.get_by_test_id("conversation-left").inner_text()
        wrong, better = ("left", "Speaker 2") if left_text.count("I don't know") >= 2 else ("right", "Speaker 1")
        page.get_by_test_id(f"choose-{wrong}").click()
        page.get_by_label("Why?").fill("this speaker answers my questions")
        page.get_by_test_id("next").click()
        feedback = page.get_by_test_id("practice-feedback")
        feedback.wait_for(timeout=30_000)  # a server round trip, as the other waits here
        assert feedback.get_attribute("data-correct") == "false"
        # the verdict names the better side as this worker saw it, then the onboarding file's explanation
        assert feedback.inner_text().startswith(f"Not quite: {better} is the better one here. The other speaker only")
        assert page.get_by_test_id(f"choose-{wrong}").is_disabled()  # the answer stands once checked
        page.get_by_test_id("practice-continue").click()
        page.get_by_text("Practice comparison 2 of 4").wait_for(timeout=10_000)
        page.reload()
        progress.wait_for(timeout=30_000)
        assert progress.inner_text() == "Practice comparison 2 of 4"  # not back to 1
        # the practice still talks to the server after the reload
        good = "right" if page.get_by_test_id("conversation-left").inner_text().count("I don't know") >= 2 else "left"
        page.get_by_test_id(f"choose-{good}").click()
        page.get_by_label("Why?").fill("this speaker answers my questions")
        page.get_by_test_id("next").click()
        feedback.wait_for(timeout=30_000)  # a server round trip, as the other waits here
        assert feedback.get_attribute("data-correct") == "true"
    assert page.errors == []
