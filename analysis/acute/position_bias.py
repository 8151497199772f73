"""Position bias: is the conversation shown on the left chosen more often than chance?

ACUTE randomises which side each model is shown on, so without bias the left one wins half the
time. A significant overall deviation means the interface or the workers favour a side; by pair, it
shows whether one comparison is affected more (e.g. when both conversations look alike).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.acute.records import AcuteJudgements
from analysis.stats.exact_tests import binomial_summary


@dataclass
class PositionBias:
    left_chosen: int
    n: int
    left_rate: float
    p_value: float
    ci_wilson: tuple[float, float]
    by_pair: pd.DataFrame  # model_a, model_b, left_chosen, n, left_rate, p_value, ci_low, ci_high


def position_bias(judgements: AcuteJudgements) -> PositionBias:
    """Left-chosen rate against 0.5, overall and per unordered model pair (exact binomial tests)."""
    k = len(judgements.models)
    chose_left = judgements.winner == judgements.left
    n_all = int(chose_left.size)
    left = int(chose_left.sum())
    p, wilson, _ = binomial_summary(left, n_all) if n_all else (float("nan"), (float("nan"),) * 2, None)
    lo = np.minimum(judgements.model_a, judgements.model_b).astype(np.int64)
    hi = np.maximum(judgements.model_a, judgements.model_b).astype(np.int64)
    cell = lo * k + hi
    n_pair = np.bincount(cell, minlength=k * k)
    left_pair = np.bincount(cell, weights=chose_left, minlength=k * k).astype(np.int64)
    rows = []
    for c in np.flatnonzero(n_pair):
        pp, (wl, wh), _ = binomial_summary(int(left_pair[c]), int(n_pair[c]))
        rows.append(
            {"model_a": judgements.models[c // k], "model_b": judgements.models[c % k],
             "left_chosen": int(left_pair[c]), "n": int(n_pair[c]), "left_rate": left_pair[c] / n_pair[c],
             "p_value": pp, "ci_low": wl, "ci_high": wh}
        )
    by_pair = pd.DataFrame(rows, columns=["model_a", "model_b", "left_chosen", "n", "left_rate", "p_value", "ci_low", "ci_high"])
    return PositionBias(left, n_all, left / n_all if n_all else float("nan"), p, wilson, by_pair)
