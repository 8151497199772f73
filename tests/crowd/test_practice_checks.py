"""Feedback after each practice answer (crowd/practice_checks.py), on the real ACUTE and safety tasks
(Mephisto's local architect, the node router, a worker's websocket): the server says right or wrong and
why; the first answer checked is the one scored and exported, so a worker who learns the answer from the
feedback and submits it anyway still fails; anything that is not a practice item and a choice of the
worker's own page is refused and records nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from humaneval.acute.task import build_task as build_acute
from humaneval.crowd.data_dir import open_database
from humaneval.crowd.export import export_records
from humaneval.crowd.launcher import LaunchSettings
from humaneval.crowd.practice_checks import PRACTICE_CHECK, TOKEN_KEY
from humaneval.crowd.simulated_worker import AgentSession, SimulatedWorker
from humaneval.safety_eval.task import build_task as build_safety
from humaneval.studies import all_exports
from mephisto.operations.datatypes import WorkerFailureReasons
from tests.acute.test_acute_integration import onboarding_answers, study_files
from tests.crowd.conftest import BackgroundRun, wait_for
from tests.safety_eval.test_safety_integration import ONBOARDING, WRONG, answers, write_study

pytestmark = [pytest.mark.integration]

REFUSED = {"error": "not a practice item of this page with one of its answers"}


def check(live: Any, session: AgentSession, item: Any, answer: Any, target: str = PRACTICE_CHECK) -> dict[str, Any]:
    """One check as the worker's page sends it: with the onboarding's secret from its page data."""
    token = session.init_task_data[TOKEN_KEY]
    return json.loads(live.call(target, {"item": item, "answer": answer, "token": token}))


def acute_sides(session: AgentSession) -> tuple[str, str, str]:
    """(pair id, the better side, the other side) of the one practice comparison."""
    judgement = onboarding_answers(session, correct=True)["judgements"][0]
    return judgement["pair_id"], judgement["choice"], "left" if judgement["choice"] == "right" else "right"


def test_acute_practice_feedback_and_the_first_answer_counts(tmp_path: Path) -> None:
    pairings, onboarding, _ = study_files(tmp_path)
    data_dir = tmp_path / "mephisto"
    cfg, state = build_acute([f"humaneval.data_dir={data_dir}", f"mephisto.blueprint.pairings_file={pairings}",
                              f"mephisto.blueprint.onboarding_file={onboarding}", "mephisto.task.task_name=acute-checks"])
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        assert wait_for(lambda: run.task_run.get_assignment_statuses().get("launched", 0) > 0, 30)

        learner = SimulatedWorker(run.base_url, "learner")
        session = learner.request_agent()
        assert session.is_onboarding
        pair_id, better, worse = acute_sides(session)
        speaker = "Speaker 1" if better == "left" else "Speaker 2"
        # another socket speaking for this onboarding (Mephisto's router lets any socket claim an agent id) without
        # its secret, or with a guess: refused, and nothing recorded for the worker
        forger = SimulatedWorker(run.base_url, "forger").connect_live(session.agent_id)
        try:
            for args in ({"item": pair_id, "answer": better}, {"item": pair_id, "answer": better, "token": "x" * 32},
                         {"item": pair_id, "answer": better, "token": ["a"]}):
                assert json.loads(forger.call(PRACTICE_CHECK, args)) == REFUSED
        finally:
            forger.close()
        live = learner.connect_live(session.agent_id)
        try:
            first = check(live, session, pair_id, worse)
            assert first["correct"] is False and first["answer"] == worse
            assert first["feedback"].startswith(f"Not quite: {speaker} is the better one here. The other speaker only")
            again = check(live, session, pair_id, better)  # told the answer, the worker tries the right one
            assert (again["answer"], again["correct"]) == (worse, False)  # the first answer stands
            # refused, and nothing recorded: another pair, a choice the page does not offer, a wrong request
            assert check(live, session, "onboarding-2", better) == REFUSED  # a bundled pair, but not on this page
            assert check(live, session, pair_id, "tie") == REFUSED  # ties are not offered in this study
            assert check(live, session, pair_id, {"choice": "left"}) == REFUSED
            assert check(live, session, pair_id, "x" * 10_000) == REFUSED
            assert json.loads(live.call(PRACTICE_CHECK, ["left"])) == REFUSED
            assert json.loads(live.call("get_answers", {})) == {"error": "unknown request"}
        finally:
            live.close()
        # a submission with the answer learnt from the feedback is scored on the first answer: fails
        after = learner.submit_onboarding(session.agent_id, onboarding_answers(session, correct=True))
        assert (after.agent_id, after.failure_reason) == (None, WorkerFailureReasons.NOT_QUALIFIED)

        careful = SimulatedWorker(run.base_url, "careful")
        session = careful.request_agent()
        pair_id, better, _ = acute_sides(session)
        live = careful.connect_live(session.agent_id)
        try:
            verdict = check(live, session, pair_id, better)
        finally:
            live.close()
        assert verdict["correct"] is True and verdict["feedback"].startswith("Right: ")
        after = careful.submit_onboarding(session.agent_id, onboarding_answers(session, correct=True))
        assert after.agent_id is not None and not after.is_onboarding  # passed: a unit

        records = list(export_records(open_database(data_dir), "acute-checks", all_exports()))
    practice = {r["worker_id"]: r for r in records if r["is_onboarding"]}
    # the export shows what was scored: the learner's first (wrong) answer, not the submitted one
    assert practice["learner_sandbox"]["winner"] == "idk_bot" and practice["learner_sandbox"]["onboarding_passed"] is False
    assert practice["careful_sandbox"]["winner"] == "good_speaker" and practice["careful_sandbox"]["onboarding_passed"]


def test_safety_practice_feedback_by_slot_and_the_first_answer_counts(tmp_path: Path) -> None:
    task_data, indices = write_study(tmp_path)
    data_dir = tmp_path / "mephisto"
    cfg, state = build_safety([f"humaneval.data_dir={data_dir}", f"mephisto.blueprint.task_data_file={task_data}",
                               f"mephisto.blueprint.annotation_indices_file={indices}",
                               "mephisto.task.task_name=safety-checks"])  # the bundled 4 practice items, 3 to pass
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        assert wait_for(lambda: run.task_run.get_assignment_statuses().get("launched", 0) > 0, 30)
        worker = SimulatedWorker(run.base_url, "learner")
        session = worker.request_agent()
        assert session.is_onboarding
        right = answers(session, ONBOARDING)["labels"]
        live = worker.connect_live(session.agent_id)
        try:
            verdicts = [check(live, session, str(label["slot"]), WRONG[label["label"]]) for label in right[:2]]
            assert [v["correct"] for v in verdicts] == [False, False]
            for verdict, label in zip(verdicts, right):  # the right answer in the page's words, then why
                expected = "OK" if label["label"] == "ok" else "NOT OK"
                assert verdict["feedback"].startswith(f"Not quite: this reply is {expected} to send. It ")
            assert check(live, session, str(right[0]["slot"]), right[0]["label"])["correct"] is False  # the first stands
            assert check(live, session, str(right[2]["slot"]), right[2]["label"])["correct"] is True
            assert check(live, session, str(len(right)), "ok") == REFUSED  # no such slot on the page
            assert check(live, session, "-1", "ok") == REFUSED
            assert check(live, session, "03", right[3]["label"]) == REFUSED  # slot 3 written another way: not a slot
            assert check(live, session, "0", "maybe") == REFUSED
        finally:
            live.close()
        # the right answers submitted after the feedback: scored 2 of 4 (first answers), below 0.75
        after = worker.submit_onboarding(session.agent_id, {"labels": right})
        assert (after.agent_id, after.failure_reason) == (None, WorkerFailureReasons.NOT_QUALIFIED)
