"""Feedback after each practice answer, without handing the answers to the page.

A qualification's right answers must stay on the server: with two choices, any check the page could
run by itself would give the answer away. So the practice page asks the server about one answer at a
time, over the onboarding agent's live connection (request `check_practice_answer` with `{item,
answer}`); the server says right or wrong, with the explanation from the onboarding file, and records
the worker's *first* answer to each practice item in the onboarding's state. The onboarding check then
scores those first answers, whatever the final submission says: a worker who learns the right answer
from the feedback cannot change theirs afterwards (nor can a forged page that asks about every answer).

Mephisto's router lets any websocket speak for any agent id, and ids are guessable (`onboarding_1`, ...), so
a request counts only with the onboarding's own secret (`practice_token`), which is in the page data Mephisto
gave that onboarding's page and nowhere else (`with_practice_token`): another worker cannot record answers
in someone else's practice.

The units of a static study stay static: only its onboarding page opens a live connection
(`frontend/src/shared/usePracticeChecks.js`), and only its onboarding thread answers requests
(`PracticeCheckRunner.run_onboarding`). A study says what is right through `practice_verdict`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from typing import Any, Protocol

from humaneval.crowd.live_requests import serve_until_submitted
from humaneval.crowd.mephisto_api import OnboardingAgent
from humaneval.crowd.stored_inputs_state import StoredInputsAgentState
from humaneval.practice_feedback import PracticeVerdict, onboarding_page

logger = logging.getLogger(__name__)

TOKEN_KEY = "practice_token"
"""The onboarding page's secret, sent back with each check."""
PRACTICE_CHECK = "check_practice_answer"
"""The one request a practice page may send; anything else is answered with an error."""
CHECKS_KEY = "practice_checks"
"""Where an onboarding's state keeps the first answer per practice item."""
MAX_ITEM_CHARS = 200
MAX_ANSWER_CHARS = 50


class PracticeStudy(Protocol):
    """What a study with practice feedback implements (its blueprint)."""

    def practice_verdict(self, worker_id: str, shown: dict[str, Any], item: str, answer: str) -> PracticeVerdict | None:
        """The verdict on `answer` to practice `item` of the onboarding page `shown` to worker `worker_id`;
        None when the page has no such item or `answer` is not one of its choices."""
        ...


class PracticeAgentState(StoredInputsAgentState):
    """An onboarding's static state that also keeps the first checked answer to each practice item."""

    def update_data(self, live_update: dict[str, Any]) -> None:
        """Mephisto passes every request and every response through here (a static state refuses them);
        what counts is recorded by `first_answer`, so nothing else is kept."""

    def first_answer(self, item: str, answer: str) -> str:
        """The first answer checked for `item`: `answer` if this is the first check (saved at once)."""
        checks = self.state.setdefault(CHECKS_KEY, {})
        if item not in checks:
            checks[item] = answer
            self.save_data()
        return str(checks[item])

    def store_scored_outputs(self, outputs: Any) -> None:
        """Outputs as the onboarding check scored them (first checked answers in place of later ones),
        saved by `onboarding_outcome` so that the export shows what counted; the submission as the page
        sent it stays under `submitted_outputs` when it differs."""
        if outputs != self.state.get("outputs"):
            self.state["submitted_outputs"] = self.state.get("outputs")
            self.state["outputs"] = outputs
            self.save_data()

    def checked_answers(self) -> dict[str, str]:
        checks = self.state.get(CHECKS_KEY)
        return {str(k): str(v) for k, v in checks.items()} if isinstance(checks, dict) else {}


_TOKEN_KEY_BYTES = secrets.token_bytes(32)
"""This launcher's secret the tokens are derived from (a new one per process, so per run)."""


def with_practice_token(page_data: dict[str, Any], worker_id: str) -> dict[str, Any]:
    """An onboarding page's data with the secret its checks must carry (the blueprint's
    `get_onboarding_data` returns this). Derived from the worker and this launcher's own random key, not
    drawn afresh: Mephisto keeps the first page data as the onboarding's init state but sends a reloading
    page a second call's, and both must hold the same token."""
    token = hmac.new(_TOKEN_KEY_BYTES, str(worker_id).encode("utf-8"), hashlib.sha256).hexdigest()[:32]
    return {**page_data, TOKEN_KEY: token}


def _has_the_token(shown: dict[str, Any], args: Any) -> bool:
    """Whether the request carries the token of the page `shown` (an onboarding's init state)."""
    expected, given = onboarding_page(shown).get(TOKEN_KEY), args.get("token") if isinstance(args, dict) else None
    if not isinstance(expected, str) or not isinstance(given, str):
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def _request(args: Any) -> tuple[str, str] | None:
    """The `(item, answer)` of a request's arguments, or None when they are not two short strings."""
    if not isinstance(args, dict):
        return None
    item, answer = args.get("item"), args.get("answer")
    if not isinstance(item, str) or not isinstance(answer, str):
        return None
    if not item or len(item) > MAX_ITEM_CHARS or not answer or len(answer) > MAX_ANSWER_CHARS:
        return None
    return item, answer


def answer_practice_check(study: PracticeStudy, worker_id: str, state: PracticeAgentState, args: Any) -> dict[str, Any]:
    """The response to one check: the verdict on the worker's first answer to the item (an error for
    anything that is not an item and a choice of this page, which records nothing)."""
    request = _request(args)
    shown = state.get_init_state() or {}
    if request is None or not _has_the_token(shown, args) or study.practice_verdict(worker_id, shown, *request) is None:
        return {"error": "not a practice item of this page with one of its answers"}
    item, answer = request
    first = state.first_answer(item, answer)
    verdict = study.practice_verdict(worker_id, shown, item, first)
    assert verdict is not None  # `first` was checked like `answer` when it was recorded
    return {"item": item, "answer": first, "correct": verdict.correct, "feedback": verdict.feedback}


def with_checked_answers(submitted: Any, checks: dict[str, str], key_field: str, answer_field: str) -> Any:
    """A submission's list of answers with each checked item's answer replaced by the first one checked
    (items are matched on `str(answer[key_field])`); anything else is returned as it is."""
    if not checks or not isinstance(submitted, list):
        return submitted
    return [
        {**answer, answer_field: checks[str(answer.get(key_field))]}
        if isinstance(answer, dict) and str(answer.get(key_field)) in checks else answer
        for answer in submitted
    ]


class PracticeCheckRunner:
    """Mixin over Mephisto's `StaticTaskRunner`: the onboarding thread answers practice checks until the
    onboarding is submitted, instead of only waiting for the submission."""

    running_onboardings: dict[str, Any]
    assignment_duration_in_seconds: int
    blueprint: Any  # a PracticeStudy (WorkRunner's property)

    def run_onboarding(self, agent: OnboardingAgent) -> None:
        serve_until_submitted(agent, lambda update: self._answer_practice(agent, update),
                              lambda: agent.get_agent_id() in self.running_onboardings,
                              self.assignment_duration_in_seconds)

    def _answer_practice(self, agent: OnboardingAgent, update: dict[str, Any]) -> None:
        state = agent.state
        if update.get("target") != PRACTICE_CHECK or not isinstance(state, PracticeAgentState):
            result: dict[str, Any] = {"error": "unknown request"}
        else:
            try:
                args = json.loads(update.get("args"))
            except (TypeError, ValueError, RecursionError):
                args = None
            result = answer_practice_check(self.blueprint, str(agent.worker_id), state, args)
        if "error" in result:
            logger.info("onboarding %s: practice check refused (%s)", agent.get_agent_id(), result["error"])
        agent.observe({"handles": update["request_id"], "response": json.dumps(result)})
