"""The function registry Mephisto's remote-procedure runner calls: each page request goes to the
live run's blueprint, which owns the model client and the rules (`BadChatBlueprint.handle_procedure`).

Mephisto wants the registry in the shared state before the blueprint exists, so these are thin
forwarders that find the blueprint through the agent's live run. Besides the chat's procedures, the
onboarding quiz asks `check_practice_answer` (crowd/practice_checks.py) about each label."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from humaneval.bad_collection.session import PROCEDURES
from humaneval.crowd.practice_checks import PRACTICE_CHECK


def _forwarder(target: str) -> Callable[[str, dict[str, Any], Any], dict[str, Any]]:
    def call(request_id: str, args: dict[str, Any], state: Any) -> dict[str, Any]:
        blueprint = state.agent.get_live_run().blueprint
        return blueprint.handle_procedure(state, target, args)

    call.__name__ = target
    return call


def check_practice_answer(request_id: str, args: Any, state: Any) -> dict[str, Any]:
    return state.agent.get_live_run().blueprint.check_practice_answer(state, args)


FUNCTION_REGISTRY: dict[str, Callable[[str, Any, Any], dict[str, Any]]] = {
    **{target: _forwarder(target) for target in PROCEDURES},
    PRACTICE_CHECK: check_practice_answer,
}
