"""Fixtures for the analysis tests: valid judgement records and small JSONL files built from them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

QUESTION = "Who would you prefer to talk to for a long conversation?"


def judgement(**overrides: Any) -> dict[str, Any]:
    """One valid ACUTE judgement record (FORMATS.md §5), with fields replaced by `overrides`."""
    rec: dict[str, Any] = {
        "task": "acute", "run_id": "run1", "unit_id": "u1", "worker_id": "w1", "pair_id": "0",
        "model_a": "alpha", "model_b": "beta", "left": "alpha", "winner": "alpha", "reason": "more fun",
        "question": QUESTION, "is_onboarding": False, "onboarding_passed": True, "dialogue_ids": [0, 1],
        "started_at": 1795260000.0, "submitted_at": 1795260040.0,
    }
    rec.update(overrides)
    return rec


@pytest.fixture()
def write_records(tmp_path: Path) -> Callable[..., Path]:
    """Write records (dicts, or raw strings for broken lines) to a JSONL file in tmp_path."""
    counter = iter(range(10_000))

    def write(records: Iterable[dict[str, Any] | str], name: str | None = None) -> Path:
        path = tmp_path / (name or f"judgements_{next(counter)}.jsonl")
        with path.open("w", encoding="utf-8") as fh:
            for rec in records:
                fh.write((rec if isinstance(rec, str) else json.dumps(rec)) + "\n")
        return path

    return write
