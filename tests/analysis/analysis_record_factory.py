"""Valid ACUTE judgement records for the analysis tests (a uniquely named helper module, not conftest)."""

from __future__ import annotations

from typing import Any

QUESTION = "Who would you prefer to talk to for a long conversation?"


def judgement(**overrides: Any) -> dict[str, Any]:
    """One valid ACUTE judgement record (docs/formats.md, section 'Exports'), with fields replaced by `overrides`."""
    rec: dict[str, Any] = {
        "task": "acute", "run_id": "run1", "unit_id": "u1", "worker_id": "w1", "pair_id": "0",
        "model_a": "alpha", "model_b": "beta", "left": "alpha", "winner": "alpha", "reason": "more fun",
        "question": QUESTION, "is_onboarding": False, "onboarding_passed": True, "dialogue_ids": [0, 1],
        "started_at": 1795260000.0, "submitted_at": 1795260040.0,
    }
    rec.update(overrides)
    return rec
