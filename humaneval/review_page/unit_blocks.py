"""What the review page shows of a unit's work: a list of plain JSON blocks, never HTML.

Each study turns one finished unit into blocks with its `review_view` (`humaneval.studies`); the page draws
them with `textContent` only, so a worker's `<script>` is shown as the text it is. The kinds:

    {"kind": "heading", "text": "Comparison 2 of 5"}
    {"kind": "conversation", "title": "Left: model_a", "chosen": true,
     "turns": [{"speaker": "You", "text": "...", "note": "NOT OK"}]}
    {"kind": "fields", "rows": [["Reason", "the other one repeats itself"], ...]}

A task without a view of its own (e.g. `smoke`) gets `raw_view`: what the page submitted, as indented JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from humaneval.crowd.export import FinishedUnit

UnitView = Callable[[FinishedUnit, list[dict[str, Any]]], list[dict[str, Any]]]
MAX_RAW_CHARS = 20_000  # a unit's raw submission beyond this is cut (the export has all of it)


def raw_view(unit: FinishedUnit, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The unit's submitted data as indented JSON, cut at `MAX_RAW_CHARS`."""
    text = json.dumps(unit.outputs, indent=1, ensure_ascii=False, sort_keys=True, default=str)
    if len(text) > MAX_RAW_CHARS:
        text = text[:MAX_RAW_CHARS] + f"… ({len(text) - MAX_RAW_CHARS:,} more characters in the export)"
    return [{"kind": "fields", "rows": [["Submitted data", text]]}]


def failed_view(error: Exception) -> list[dict[str, Any]]:
    """What the page shows when a study's view cannot read a unit (the page stays usable for the others)."""
    return [{"kind": "fields", "rows": [["Work", f"this unit's data could not be shown ({type(error).__name__})"]]}]
