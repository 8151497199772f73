"""The bundled ACUTE pairs give nothing away by their shape: on the page, either both conversations of a pair
show their speaker's persona lines or neither does (in the old practice pairs only the good speaker had them,
so the answer could be read off without reading the conversations)."""

from __future__ import annotations

import pytest

from humaneval.acute.bundled_data import DEFAULT_ONBOARDING_PATH, EXAMPLE_PAIRINGS_PATH
from humaneval.acute.onboarding import load_onboarding
from humaneval.acute.pairings_validation import load_pairings
from humaneval.acute.task_data import comparison_inputs, page_view, unit_inputs
from humaneval.acute.questions import resolve_question


@pytest.mark.parametrize("pairs", [pytest.param(lambda: load_onboarding(DEFAULT_ONBOARDING_PATH), id="practice"),
                                   pytest.param(lambda: load_pairings(EXAMPLE_PAIRINGS_PATH), id="example pairings")])
def test_both_sides_or_neither_show_a_persona(pairs) -> None:  # type: ignore[no-untyped-def]
    question = resolve_question("engaging")
    for pair in pairs():
        shown = page_view(unit_inputs([comparison_inputs(pair, 0)], question, is_onboarding=True,
                                      onboarding_required=True))["comparisons"][0]["conversations"]
        with_context = [bool(conversation.get("context")) for conversation in shown]
        assert with_context in ([True, True], [False, False]), (pair["pair_id"], with_context)
