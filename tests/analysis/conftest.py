"""Fixtures for the analysis tests: valid judgement records and small JSONL files built from them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from analysis_record_factory import judgement  # noqa: F401  (re-exported for fixtures)
from tests.conftest import open_chromium


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """One Chromium per analysis test module instead of one per test (~2 s of start-up each on this box);
    every test still gets its own browser context and page from `page`. The root conftest's browser is
    per test because Playwright's loop on this thread stops Mephisto's Operator from starting; the
    analysis never runs Mephisto (test_analysis_independence checks that it never imports it)."""
    with open_chromium() as browser:
        yield browser


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
