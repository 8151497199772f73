"""Reading the answers a task page submitted: whatever a worker's browser sends is JSON of any shape.

Reasons are counted in words as the pages count them as the worker types (`reason_words`), so that a study's
minimum (`min_reason_words`) means the same on the page and on the server.

Studies read a submission as a list of answers, each keyed by what it answers (ACUTE: the pair id, safety: the
item's slot), with the page's own times. A key that is a list or an object would crash a dict lookup in the
live run, the export and the review page alike, and a time of `1e308` or a boolean would pass a plain
`> 0` check; these two readers are the one place that says what counts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


def answers_by(submitted: Iterable[Any], key: str) -> dict[str | int, dict[str, Any]]:
    """Each answer (a JSON object) by its `key`, kept only when that is a string or an integer (not a boolean):
    the kinds of id a page is given. The last answer for a key wins, as the page's own state would."""
    found: dict[str | int, dict[str, Any]] = {}
    for answer in submitted:
        if not isinstance(answer, dict):
            continue
        value = answer.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            found[value] = answer
    return found


# Unix seconds after which a page time is not believed: the year 2100
LATEST_PAGE_TIME = 4_102_444_800.0


def page_time(value: Any) -> float | None:
    """A page's Unix time in seconds, or None (unknown) unless it is a finite number after 1970 and before
    2100: a broken clock or a forged value is an unknown time, never a duration of centuries."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    seconds = float(value)
    return seconds if math.isfinite(seconds) and 0 < seconds < LATEST_PAGE_TIME else None


MAX_REASON_WORDS = 50
"""A study's minimum above this is a typo: no worker writes an essay per answer."""


def reason_words(reason: str) -> int:
    """Words in a reason, counted as the pages count them (runs of non-space characters)."""
    return len(reason.split())
