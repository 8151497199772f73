"""Confidence intervals: of a proportion (the Wilson score interval and the Clopper–Pearson exact one), BCa
bootstrap intervals, and a distribution-free interval of a median.

One Wilson interval serves every report (ACUTE win rates, safety unsafe rates, BAD fooled rates and the
safety layer's precision and recall). It is Newcombe's (1998) formula as `scipy.stats.binomtest(...)
.proportion_ci(method="wilson")` computes it — the same operations, so the same bits — but element-wise
over arrays, and with scipy's exact ends: 0 when the count is 0 and 1 when it is n. (statsmodels'
`proportion_confint` leaves rounding error there: a lower end of 3e-17 above a rate of 0, an upper end of
1 + 2e-16.)
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaincinv, ndtr, ndtri

from analysis.stats.distributions import binom_cdf

#: the normal quantile of a two-sided 95% interval, computed as scipy does
Z_95 = float(ndtri(0.5 + 0.5 * 0.95))


def wilson(count: np.ndarray | int, n: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson score interval of count / n, element-wise; NaN where n = 0."""
    count = np.asarray(count, dtype=float)
    n = np.asarray(n, dtype=float)
    has = n > 0
    safe_n = np.where(has, n, 1.0)
    p = count / safe_n
    denom = 2 * (safe_n + Z_95**2)
    center = (2 * safe_n * p + Z_95**2) / denom
    delta = Z_95 / denom * np.sqrt(4 * safe_n * p * (1 - p) + Z_95**2)
    lo = np.where(count == 0, 0.0, center - delta)
    hi = np.where(count == n, 1.0, center + delta)
    return np.where(has, lo, np.nan), np.where(has, hi, np.nan)


def clopper_pearson(count: int, n: int) -> tuple[float, float]:
    """95% Clopper–Pearson (exact binomial) interval of count / n; n must be at least 1.

    Its ends are the p at which the count's tails reach 2.5%, which are quantiles of beta distributions
    (Clopper & Pearson 1934): Beta(count, n - count + 1) at 0.025 and Beta(count + 1, n - count) at 0.975;
    0 for a count of 0 and 1 for a count of n. (`scipy.stats.binomtest` finds the same p by root-finding on the
    tails, to about 1e-12.)"""
    tail = (1 - 0.95) / 2
    low = 0.0 if count == 0 else float(betaincinv(count, n - count + 1, tail))
    high = 1.0 if count == n else float(betaincinv(count + 1, n - count, 1 - tail))
    return low, high


def bca_interval(samples: np.ndarray, estimate: np.ndarray, jackknife: np.ndarray,
                 level: float = 0.95) -> np.ndarray:
    """(K × 2) bias-corrected and accelerated (BCa) bootstrap intervals, column by column.

    `samples` (rounds × K) are the bootstrap replicates, `estimate` (K) the statistic on the data and
    `jackknife` (n × K) the statistic with each of the n clusters left out in turn (Efron & Tibshirani 1993,
    ch. 14: z0 from the share of replicates below the estimate, the acceleration from the jackknife's
    skewness). The percentile interval under-covers when few clusters make the bootstrap distribution skewed
    or biased; BCa corrects both. A column whose correction is undefined (every replicate on one side of the
    estimate, or no spread in the jackknife) falls back to its percentile interval."""
    samples, estimate, jackknife = np.asarray(samples, float), np.asarray(estimate, float), np.asarray(jackknife, float)
    rounds = samples.shape[0]
    below = (samples < estimate).sum(axis=0) + 0.5 * (samples == estimate).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z0 = ndtri(below / rounds)
        spread = jackknife.mean(axis=0) - jackknife
        acceleration = (spread**3).sum(axis=0) / (6.0 * ((spread**2).sum(axis=0)) ** 1.5)
        z = ndtri(np.array([(1 - level) / 2, 1 - (1 - level) / 2]))[:, None]
        adjusted = ndtr(z0 + (z0 + z) / (1 - acceleration * (z0 + z)))
    tail = (1 - level) / 2
    usable = np.isfinite(adjusted).all(axis=0)
    quantiles = np.where(usable, adjusted, np.array([[tail], [1 - tail]]))
    return np.array([np.quantile(samples[:, j], quantiles[:, j]) for j in range(samples.shape[1])])


def median_interval(values: list[float], level: float = 0.95) -> tuple[float, float] | None:
    """An interval for the median of what `values` sample, assuming only that they are independent: the k-th
    smallest and k-th largest value, k as large as `level` allows. They cover the median with probability
    1 - 2 P(B <= k - 1), B ~ Binomial(n, 1/2) (the quantile test's interval; Conover 1999). None when even
    the smallest and largest cannot reach `level` (fewer than 6 values at 95%): too few for an interval.

    Why order statistics: repeats of a benchmark on a shared machine have long tails (one repeat slowed
    2-4x), which a standard deviation turns into a wide symmetric interval around a mean the tail moved."""
    ordered = sorted(values)
    n, k = len(ordered), 0
    while k < n // 2 and 2 * float(binom_cdf(k, n, 0.5)) <= 1 - level:
        k += 1
    return (ordered[k - 1], ordered[n - k]) if k else None
