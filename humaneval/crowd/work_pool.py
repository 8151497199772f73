"""The work a study still wants, as the crowd runtime sees it: one protocol for every study.

ACUTE and safety annotation keep a queue of items (`work_queue.WorkQueue`); BAD collection keeps target
conversation counts per model (`bad_collection.model_quota.ModelQuota`). The unit generator
(`work_driven_units`) and the task runner (`work_runner`) need only the questions below, so one
generator and one runner serve all three studies, whatever a piece of work is.

A *holder* is the Mephisto agent id of a unit that took work; a *worker* is the worker's id.
"""

from __future__ import annotations

from typing import Protocol


class WorkPool(Protocol):
    """What the crowd runtime asks of a study's work (implemented by `WorkQueue` and `ModelQuota`)."""

    def available_for(self, worker: str) -> int | bool:
        """Whether (truthy) this worker could be given work right now."""
        ...

    def release(self, holder: str) -> object:
        """The holder's unit ended without a submission: its work goes back to the pool."""
        ...

    def unreserved(self) -> int:
        """Pieces of work still needed that no unit holds (what new units must make room for)."""
        ...

    def is_done(self) -> bool:
        """Everything the study needs is collected."""
        ...
