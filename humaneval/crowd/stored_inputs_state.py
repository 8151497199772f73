"""Agent state of static units and onboardings whose stored inputs are fuller than the page's.

Mephisto stores, as an onboarding's inputs, exactly the data it sent to the page. A queue-fed study's
page view hides what the worker must not see (ACUTE's models, safety's gold answers), yet the export
and the onboarding check need it. After checking an onboarding, the blueprint therefore swaps in the
full inputs (models, correct answers, outcome) through `store_inputs`, instead of reaching into the
state's internals.
"""

from __future__ import annotations

from typing import Any

from humaneval.crowd.mephisto_api import StaticAgentState


class StoredInputsAgentState(StaticAgentState):
    """Static agent state whose inputs the server may replace with a fuller copy."""

    def store_inputs(self, inputs: dict[str, Any]) -> None:
        """Replace the stored inputs (keeping outputs and times) and save to disk."""
        self.state["inputs"] = inputs
        self.save_data()
