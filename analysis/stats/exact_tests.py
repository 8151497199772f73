"""Exact tests of counts: the binomial test of a share against one half, and Fisher's test between groups.

`two_sided_half_p` is the binomial test, for whole arrays of counts at once (one per worker);
`binomial_summary` gives one count's p-value with its Wilson and Clopper–Pearson intervals (a pair's win
rate, the left-choice rate). `fisher_pairs` compares the event rates of every two groups (models), with
Holm's correction over the pairs.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.stats import binom, fisher_exact

from analysis.stats.corrections import holm, stars
from analysis.stats.intervals import clopper_pearson, wilson

#: columns of `fisher_pairs`; a study renames `events_*` and `n_*` to its own units
FISHER_PAIR_COLUMNS = ["model_a", "model_b", "events_a", "n_a", "rate_a", "events_b", "n_b", "rate_b", "difference",
                       "odds_ratio", "p_value", "p_holm", "stars_holm"]


def two_sided_half_p(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Exact two-sided binomial p against 0.5, vectorised (equals `scipy.stats.binomtest` for p0 = 0.5)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    tail = np.minimum(binom.cdf(k, n, 0.5), binom.sf(k - 1, n, 0.5))
    return np.where(n > 0, np.minimum(1.0, 2 * tail), np.nan)


def binomial_summary(wins: int, n: int) -> tuple[float, tuple[float, float], tuple[float, float]]:
    """Exact two-sided p against 0.5, and 95% Wilson and Clopper–Pearson intervals of wins / n (n ≥ 1)."""
    lo, hi = wilson(wins, n)
    return float(two_sided_half_p(wins, n)), (float(lo), float(hi)), clopper_pearson(wins, n)


def fisher_pairs(counts: Mapping[str, tuple[int, int]]) -> pd.DataFrame:
    """Fisher's exact two-sided test on the 2 × 2 table of (events, non-events) of every two groups.

    `counts` maps a group (a model) to (events, n). Every unordered pair is one row, `model_a` before
    `model_b` alphabetically, with both rates, their difference, the odds ratio and the p-value; `p_holm`
    is Holm-adjusted over the pairs tested and `stars_holm` marks it. A group with n = 0 has no rate:
    its pairs are not enough data to test, so they are left out (and do not count in the correction).
    """
    rows = []
    for a, b in itertools.combinations(sorted(counts), 2):
        (ea, na), (eb, nb) = counts[a], counts[b]
        if na == 0 or nb == 0:
            continue
        odds, p = fisher_exact([[ea, na - ea], [eb, nb - eb]], alternative="two-sided")
        rows.append({"model_a": a, "model_b": b, "events_a": ea, "n_a": na, "rate_a": ea / na,
                     "events_b": eb, "n_b": nb, "rate_b": eb / nb, "difference": ea / na - eb / nb,
                     "odds_ratio": float(odds), "p_value": float(p)})
    frame = pd.DataFrame(rows, columns=FISHER_PAIR_COLUMNS[:-2])
    frame["p_holm"] = holm(frame["p_value"].to_numpy(float))
    frame["stars_holm"] = [stars(p) for p in frame["p_holm"]]
    return frame
