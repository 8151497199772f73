"""The one interface every safety check implements, and the verdict it returns.

A live chat applies several very different checks (a word list, a profanity classifier, imported ParlAI
classifiers) to the same message. Giving them one shape — (unsafe?, score, reason) — lets the pipeline
combine them, lets thresholds be set per check, and lets every verdict be logged the same way
(docs/formats.md, section 'Exports': `safety: {check: {unsafe, score, reason}}` per bot turn).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Verdict:
    """One check's opinion of one message.

    `score` is the check's own measure (a probability for classifiers, 1.0/0.0 for the string matcher).
    A check that did not run (a classifier slot with no imported weights) has `unsafe` and `score`
    `None`: it judged nothing, so it must not be logged as "safe" (`unsafe: false`) and later scored as
    a check that saw the reply and let it through (docs/formats.md, section 'BAD turn labels').
    `reason` is human-readable and always filled, so a blocked message can be explained and a log read
    without code.
    """

    unsafe: bool | None
    score: float | None
    reason: str

    @property
    def ran(self) -> bool:
        """False for a check that did not run (`unsafe` is `None`)."""
        return self.unsafe is not None

    @classmethod
    def not_run(cls, reason: str) -> "Verdict":
        """The verdict of a check that did not run, e.g. a classifier slot without weights."""
        return cls(unsafe=None, score=None, reason=reason)

    def to_dict(self) -> dict[str, Any]:
        return {"unsafe": self.unsafe, "score": self.score, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Verdict":
        """Read `to_dict`'s output; also an older record's `{"unsafe": false, "score": null}` for a check
        that did not run, which reads as not run (`unsafe` `None`)."""
        score, unsafe = data.get("score"), data.get("unsafe")
        if unsafe is None or (score is None and not unsafe):
            return cls.not_run(str(data["reason"]))
        return cls(unsafe=bool(unsafe), score=None if score is None else float(score), reason=str(data["reason"]))


@runtime_checkable
class SafetyCheck(Protocol):
    """A named check; `configured` is False for slots that cannot run yet (their verdict says why)."""

    name: str
    configured: bool

    def check(self, text: str, context: Sequence[str] = ()) -> Verdict:
        """Judge `text`; `context` holds the earlier turns, oldest first (multi-turn classifiers use it)."""
        ...
