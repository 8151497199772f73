"""Exact tests of counts: the binomial test of a share against one half.

`binomial_summary` gives one count's p-value with its two intervals (a pair's win rate, the left-choice
rate); `two_sided_half_p` is the same test for whole arrays of counts at once (one per worker).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom, binomtest


def binomial_summary(wins: int, n: int) -> tuple[float, tuple[float, float], tuple[float, float]]:
    """Exact two-sided p against 0.5, and 95% Wilson and Clopper–Pearson intervals of wins / n."""
    result = binomtest(wins, n, 0.5, alternative="two-sided")
    wilson = result.proportion_ci(confidence_level=0.95, method="wilson")
    exact = result.proportion_ci(confidence_level=0.95, method="exact")
    return float(result.pvalue), (float(wilson.low), float(wilson.high)), (float(exact.low), float(exact.high))


def two_sided_half_p(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Exact two-sided binomial p against 0.5, vectorised (equals `scipy.stats.binomtest` for p0 = 0.5)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    tail = np.minimum(binom.cdf(k, n, 0.5), binom.sf(k - 1, n, 0.5))
    return np.where(n > 0, np.minimum(1.0, 2 * tail), np.nan)
