"""Seconds an ACUTE worker spent per comparison.

Exporters record times per unit: when a unit holds several comparisons, its records share one
(started_at, submitted_at) and the unit's time is split evenly over them. Records with their own
times (other tools) keep them.
"""

from __future__ import annotations

import numpy as np

from analysis.acute.records import AcuteJudgements


def seconds_per_comparison(judgements: AcuteJudgements) -> np.ndarray:
    """One duration per record, in seconds."""
    unit = judgements.unit
    n_units = int(unit.max()) + 1 if unit.size else 0
    start = np.full(n_units, np.inf)
    end = np.full(n_units, -np.inf)
    np.minimum.at(start, unit, judgements.started_at)
    np.maximum.at(end, unit, judgements.submitted_at)
    count = np.bincount(unit, minlength=n_units)
    own = judgements.submitted_at - judgements.started_at
    shares_unit_times = (judgements.started_at == start[unit]) & (judgements.submitted_at == end[unit])
    unit_shared = np.bincount(unit, weights=~shares_unit_times, minlength=n_units) == 0
    return np.where(unit_shared[unit], (end - start)[unit] / count[unit], own)
