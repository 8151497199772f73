"""What a worker is told after a practice answer: the verdict, and the optional `feedback` of an
onboarding item (ACUTE onboarding pairs, safety onboarding items) saying why the right answer is right.

Shared by every study's onboarding and kept apart from the crowd runtime that sends it to the page
(`crowd/practice_checks.py`), so that validating a file or judging an answer never needs Mephisto.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_FEEDBACK_CHARS = 500
"""A practice explanation is a sentence or two; anything longer is a pasted document."""


def feedback_problem(value: Any) -> str | None:
    """Why `value` cannot be an item's `feedback` (None: it can; absent is fine too)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_FEEDBACK_CHARS:
        return (f"must be a non-empty string of at most {MAX_FEEDBACK_CHARS} characters (shown to the worker after "
                f"their practice answer), got {value!r:.60}")
    return None


@dataclass(frozen=True)
class PracticeVerdict:
    """Whether an answer to a practice item is right, and the sentence the worker reads about it."""

    correct: bool
    feedback: str

    @classmethod
    def of(cls, correct: bool, right_answer: str, why: str | None) -> "PracticeVerdict":
        """The verdict in the pages' words: "Right: <right answer>." or "Not quite: ...", then `why`."""
        verdict = f"{'Right' if correct else 'Not quite'}: {right_answer}."
        return cls(correct=correct, feedback=f"{verdict} {why.strip()}" if why else verdict)


def onboarding_page(init_state: Any) -> dict[str, Any]:
    """The page data in an onboarding's init state (what its page was sent): Mephisto keeps a remote-procedure
    page's under `task_data`, a static page's as it is; {} for anything that is not a mapping."""
    if not isinstance(init_state, dict):
        return {}
    inner = init_state.get("task_data")
    return inner if isinstance(inner, dict) else init_state
