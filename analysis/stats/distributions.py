"""The binomial distribution's tails and upper quantile, from `scipy.special` alone.

Every report needs a handful of distribution values (binomial tails for the sign test, worker agreement
and power; a normal quantile; a chi-square tail), and `scipy.stats` costs 35 MB of resident memory and
0.8 s to import, against 15 MB for `scipy.special`: a sixth of the ACUTE report's peak at a million
judgements. The values come from the same Boost routines `scipy.stats.binom` calls (the regularised
incomplete beta function), so they agree with it to the last bit or two; `tests/analysis/test_distributions.py`
checks them against `scipy.stats` over wide grids. The normal quantile and the chi-square tail are
`scipy.special.ndtri` and `chdtrc` themselves, called where they are used.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import betainc, betaincc


def _tail(k: np.ndarray | float, n: np.ndarray | float, p: np.ndarray | float,
          incomplete_beta: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
          below_0: float, from_n: float) -> np.ndarray:
    """One binomial tail, element-wise: `incomplete_beta(k+1, n-k, p)` for 0 ≤ k < n (k floored: the tails of a
    discrete distribution step at whole counts), `below_0` for k < 0 and `from_n` for k ≥ n; NaN where k, n and
    p make no binomial (k NaN, n not a whole number from 0, p outside [0, 1]), as `scipy.stats.binom` gives."""
    k, n, p = np.broadcast_arrays(np.floor(np.asarray(k, dtype=float)), np.asarray(n, dtype=float),
                                  np.asarray(p, dtype=float))
    inside = (k >= 0) & (k < n)
    with np.errstate(invalid="ignore"):
        valid = ~np.isnan(k) & np.isfinite(n) & (n >= 0) & (n == np.floor(n)) & (p >= 0) & (p <= 1)
        tail = incomplete_beta(np.where(inside, k + 1, 1.0), np.where(inside, n - k, 1.0), p)
    return np.where(valid, np.where(inside, tail, np.where(k < 0, below_0, from_n)), np.nan)


def binom_cdf(k: np.ndarray | float, n: np.ndarray | float, p: np.ndarray | float) -> np.ndarray:
    """P(X ≤ k) for X ~ Binomial(n, p), element-wise: I_{1-p}(n-k, k+1), 0 below 0, 1 from n on (`_tail`)."""
    return _tail(k, n, p, betaincc, 0.0, 1.0)


def binom_sf(k: np.ndarray | float, n: np.ndarray | float, p: np.ndarray | float) -> np.ndarray:
    """P(X > k) for X ~ Binomial(n, p), element-wise: I_p(k+1, n-k), 1 below 0, 0 from n on (`_tail`)."""
    return _tail(k, n, p, betainc, 1.0, 0.0)


def binom_isf(q: float, n: np.ndarray | int, p: float) -> np.ndarray:
    """The smallest count k (from -1 up) with P(X > k) ≤ q, for each n (0 < q < 1): the upper critical count of a
    binomial test is k + 1. Bisection on the falling tail, every n at once: about log2(n) steps."""
    n = np.atleast_1d(np.asarray(n, dtype=float))
    low, high = np.full(n.shape, -1.0), n.copy()  # P(X > -1) = 1 > q; P(X > n) = 0 ≤ q
    while (high - low > 1).any():
        mid = np.floor((low + high) / 2)
        at_most_q = binom_sf(mid, n, p) <= q
        low, high = np.where(at_most_q, low, mid), np.where(at_most_q, mid, high)
    return high
