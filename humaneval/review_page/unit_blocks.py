"""What the review page shows of a unit's work: a list of plain JSON blocks, never HTML.

Each study turns one finished unit into blocks with its `review_view` (`humaneval.studies`); the page draws
them with `textContent` only, so a worker's `<script>` is shown as the text it is. The kinds:

    {"kind": "heading", "text": "Comparison 2 of 5"}
    {"kind": "conversation", "title": "Left: model_a", "chosen": true,
     "turns": [{"speaker": "You", "text": "...", "note": "NOT OK"}]}
    {"kind": "fields", "rows": [["Reason", "the other one repeats itself"], ...]}

A heading or a turn may also carry `"alert": true`: what the reviewer should look at first (a gold item
answered wrong, a reply the safety layer flagged); the page marks it.

A task without a view of its own (e.g. `smoke`) gets `raw_view`: what the page submitted, as indented JSON.
"""

from __future__ import annotations

import json
import math
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


# --- reading what a worker's browser sent: leniently, capped, never raising ------------------------------------
MAX_TEXT = 2000  # characters of one text shown (then "…"); the export has all of it
MAX_ITEMS = 200  # turns, comparisons or items of one unit shown (then a "Left out" row)
NOT_RECORDED = "(not recorded)"


def shown_text(value: Any) -> str:
    """A string as given, capped; anything else (missing, None, a list where text belongs) as not recorded."""
    if not isinstance(value, str):
        return NOT_RECORDED
    return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"


def capped(value: Any) -> tuple[list[Any], int]:
    """The first `MAX_ITEMS` entries of a list (anything else: none) and how many were left out."""
    items = value if isinstance(value, list) else []
    return items[:MAX_ITEMS], max(0, len(items) - MAX_ITEMS)


def left_out(count: int, what: str) -> dict[str, Any]:
    """The row that says how many entries `capped` left out."""
    return {"kind": "fields", "rows": [["Left out", f"{count} more {what} not shown"]]}


def seconds_between(started: Any, submitted: Any) -> str:
    """How long the worker took, from the page's times; "(not recorded)" unless both are sane."""
    times = [t for t in (started, submitted) if isinstance(t, (int, float)) and not isinstance(t, bool)]
    if len(times) != 2 or not all(math.isfinite(t) for t in times) or times[1] < times[0]:
        return NOT_RECORDED
    return f"{times[1] - times[0]:.1f} s"
