"""Feedback on each label of BAD's onboarding quiz, on the real task (Mephisto's local architect, the node
router, a worker's websocket, the remote procedure `check_practice_answer`): the server says right or wrong
and why; the first label checked per message is the one scored and stored, so a worker who learns the
answers from the feedback and submits them anyway still fails; anything that is not a quiz message and a
label of the worker's own page is refused and records nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from humaneval.bad_collection.chat_record import NOT_OK, OK
from humaneval.bad_collection.task import build_task
from humaneval.crowd.data_dir import open_database
from humaneval.crowd.launcher import LaunchSettings
from humaneval.crowd.practice_checks import CHECKS_KEY, PRACTICE_CHECK, TOKEN_KEY
from humaneval.crowd.simulated_worker import LiveConnection, SimulatedWorker
from mephisto.operations.datatypes import WorkerFailureReasons
from tests.bad_collection.support import QUIZ, quiz_answers
from tests.crowd.conftest import BackgroundRun, wait_for

pytestmark = [pytest.mark.integration]

REFUSED = {"error": "not a practice item of this page with one of its answers"}
FLIP = {OK: NOT_OK, NOT_OK: OK}


def check(live: LiveConnection, args: Any) -> dict[str, Any]:
    response = live.call(PRACTICE_CHECK, args, timeout=30)
    return json.loads(response) if isinstance(response, str) else response


def token_of(session: Any) -> str:
    """The onboarding's secret, from its page data (what the real page sends with each check)."""
    data = session.init_task_data
    return (data.get("task_data") or data)[TOKEN_KEY]


def onboarding_states(data_dir: Path, task_name: str) -> dict[str, dict[str, Any]]:
    """Each worker's stored onboarding state (state.json), by worker name."""
    db = open_database(data_dir)
    states = {}
    for task in db.find_tasks(task_name=task_name):
        for agent in db.find_onboarding_agents(task_id=task.db_id):
            states[agent.get_worker().worker_name] = db.read_dict(str(Path(agent.get_data_dir()) / "state.json"))
    return states


def test_quiz_feedback_per_label_and_the_first_label_counts(tmp_path: Path) -> None:
    data_dir = tmp_path / "mephisto"
    cfg, state = build_task([f"humaneval.data_dir={data_dir}", "mephisto.blueprint.models={echo: 1}",
                             "mephisto.task.task_name=bad-checks"])  # the bundled quiz: 6 messages, 0.8 to pass
    insult, weekend, harm = (QUIZ[i] for i in ("insult", "weekend", "harm"))
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        assert wait_for(lambda: run.task_run.get_assignment_statuses().get("launched", 0) > 0, 30)

        learner = SimulatedWorker(run.base_url, "learner")
        session = learner.request_agent()
        assert session.is_onboarding
        token = token_of(session)
        # another socket speaking for the learner's onboarding (the router lets it) without its secret: nothing counts
        forger = SimulatedWorker(run.base_url, "forger").connect_live(session.agent_id)
        try:
            assert check(forger, {"item": "insult", "answer": insult}) == REFUSED
            assert check(forger, {"item": "insult", "answer": insult, "token": "guess"}) == REFUSED
        finally:
            forger.close()
        live = learner.connect_live(session.agent_id)
        try:
            first = check(live, {"item": "insult", "answer": FLIP[insult], "token": token})
            assert (first["item"], first["answer"], first["correct"]) == ("insult", FLIP[insult], False)
            assert first["feedback"].startswith("Not quite: this message is NOT OK to send. It insults")
            again = check(live, {"item": "insult", "answer": insult, "token": token})  # told the answer, the worker tries it
            assert (again["answer"], again["correct"]) == (FLIP[insult], False)  # the first label stands
            assert check(live, {"item": "harm", "answer": FLIP[harm], "token": token})["correct"] is False
            # refused, and nothing recorded: a message the quiz does not have, a label that is not one, bad args
            assert check(live, {"item": "nope", "answer": OK, "token": token}) == REFUSED
            assert check(live, {"item": "weekend", "answer": "__maybe__", "token": token}) == REFUSED
            assert check(live, {"item": "weekend", "answer": {"label": OK}, "token": token}) == REFUSED
            assert check(live, {"item": "weekend", "answer": "x" * 10_000, "token": token}) == REFUSED
            assert check(live, ["weekend", OK]) == REFUSED
        finally:
            live.close()
        # the right labels submitted after the feedback: scored 4 of 6 (first labels), below 0.8
        after = learner.submit_onboarding(session.agent_id, quiz_answers(correct=True))
        assert (after.agent_id, after.failure_reason) == (None, WorkerFailureReasons.NOT_QUALIFIED)

        careful = SimulatedWorker(run.base_url, "careful")
        session = careful.request_agent()
        live = careful.connect_live(session.agent_id)
        try:
            verdict = check(live, {"item": "weekend", "answer": weekend, "token": token_of(session)})
        finally:
            live.close()
        assert verdict["correct"] is True and verdict["feedback"].startswith("Right: this message is OK to send. It ")
        unit = careful.submit_onboarding(session.agent_id, quiz_answers(correct=True))
        assert unit.agent_id is not None and not unit.is_onboarding  # passed: a chat
        live = careful.connect_live(unit.agent_id)
        try:  # a chat page has no quiz to check
            assert check(live, {"item": "weekend", "answer": weekend, "token": token_of(session)}) == REFUSED
        finally:
            live.close()

    states = onboarding_states(data_dir, "bad-checks")
    learnt = states["learner_sandbox"]
    assert learnt[CHECKS_KEY] == {"insult": FLIP[insult], "harm": FLIP[harm]}  # the refused requests left no trace
    result = learnt["onboarding_result"]  # what the review reads: the labels as scored, beside what was sent
    assert (result["correct"], result["total"], result["passed"]) == (4, 6, False)
    assert result["answers"] == {**QUIZ, "insult": FLIP[insult], "harm": FLIP[harm]}
    assert result["submitted_answers"] == QUIZ == learnt["final_submission"]["onboarding_answers"]
    passed = states["careful_sandbox"]["onboarding_result"]
    assert (passed["correct"], passed["passed"], passed["answers"]) == (6, True, QUIZ)
    assert "submitted_answers" not in passed
