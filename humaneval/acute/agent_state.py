"""Agent state of ACUTE units and onboardings: Mephisto's static state plus one explicit way to
replace the stored inputs.

Mephisto stores, as an onboarding's inputs, exactly the data it sent to the page. For ACUTE that page
view must not name the models (see `task_data`), yet the export and the onboarding check need them.
After checking an onboarding, the blueprint therefore swaps in the full inputs (models, correct
answers, outcome) through `store_inputs`, instead of reaching into the state's internals.
"""

from __future__ import annotations

from typing import Any

import humaneval.crowd  # noqa: F401  (Mephisto through the compat layer)
from mephisto.abstractions.blueprints.abstract.static_task.static_agent_state import StaticAgentState


class AcuteAgentState(StaticAgentState):
    """Static agent state whose inputs the server may replace with a fuller copy."""

    def store_inputs(self, inputs: dict[str, Any]) -> None:
        """Replace the stored inputs (keeping outputs and times) and save to disk."""
        self.state["inputs"] = inputs
        self.save_data()
