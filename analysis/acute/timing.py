"""Seconds an ACUTE worker spent per comparison.

Exporters record times per unit: when a unit holds several comparisons, its records share one
(started_at, submitted_at) and the unit's time is split evenly over them. Records with their own
times (other tools) keep them.

Unknown times are NaN: a `null` `started_at`/`submitted_at` (read as NaN), and a duration of exactly
0 seconds, which is a placeholder of tools that write one timestamp twice, not a real answer time — taken
at face value it would flag every worker as too fast. Time-based flags and plots skip unknown times and
the report says how many there were.
"""

from __future__ import annotations

import numpy as np

from analysis.acute.records import AcuteJudgements


def seconds_per_comparison(judgements: AcuteJudgements) -> np.ndarray:
    """One duration per record, in seconds; NaN when unknown (null time, or a 0-second placeholder)."""
    unit = judgements.unit
    n_units = int(unit.max()) + 1 if unit.size else 0
    start = np.full(n_units, np.inf)
    end = np.full(n_units, -np.inf)
    # NaN (null) times propagate: a unit with an unknown time has an unknown duration
    with np.errstate(invalid="ignore"):
        np.minimum.at(start, unit, judgements.started_at)
        np.maximum.at(end, unit, judgements.submitted_at)
    # per unit first, then one lookup per record, and the result built in place: a million float64 values
    # are 8 MB, and the per-record expression took five such arrays at once
    per_unit = (end - start) / np.maximum(np.bincount(unit, minlength=n_units), 1)
    own_times = judgements.started_at != start[unit]
    own_times |= judgements.submitted_at != end[unit]
    unit_shared = np.bincount(unit[own_times], minlength=n_units) == 0
    seconds = per_unit[unit]
    own = ~unit_shared[unit]
    seconds[own] = judgements.submitted_at[own] - judgements.started_at[own]
    seconds[~(seconds > 0)] = np.nan
    return seconds


def unknown_time_counts(judgements: AcuteJudgements, seconds: np.ndarray, rows: np.ndarray) -> dict[str, int]:
    """Among `rows` (a mask): how many durations are unknown, because a time is null or because it is 0 s."""
    null = np.isnan(judgements.started_at) | np.isnan(judgements.submitted_at)
    unknown = np.isnan(seconds)
    return {
        "known": int((rows & ~unknown).sum()),
        "null_time": int((rows & null).sum()),
        "zero_seconds": int((rows & unknown & ~null).sum()),
    }
