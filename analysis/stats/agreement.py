"""Agreement between raters on nominal categories, from a (units × categories) count table.

Fleiss' kappa (the standard generalisation to unequal numbers of raters, which reduces to Fleiss' formula
when they are equal; statsmodels' `fleiss_kappa`, which the tests compare it with, only implements the equal
case) and Krippendorff's alpha (nominal), which handles unequal
numbers natively (`krippendorff`). Units with fewer than two ratings carry no agreement and are dropped.
"""

from __future__ import annotations

import krippendorff
import numpy as np


def fleiss_kappa(table: np.ndarray) -> float:
    """Fleiss' kappa for a (subjects × categories) count table; subjects may have unequal rater counts.

    P_i = (Σ_j n_ij² − n_i) / (n_i (n_i − 1)), P̄ = mean P_i, p_j = Σ_i n_ij / Σ n_i, P_e = Σ p_j²,
    κ = (P̄ − P_e) / (1 − P_e). Subjects with fewer than 2 ratings carry no agreement and are dropped.
    """
    t = np.asarray(table, dtype=float)
    t = t[t.sum(axis=1) >= 2]
    if t.shape[0] == 0:
        return float("nan")
    raters = t.sum(axis=1)
    p_j = t.sum(axis=0) / t.sum()
    p_e = float((p_j**2).sum())
    if p_e >= 1.0:  # every answer in one category: κ is 0/0 (statsmodels would divide by zero and warn)
        return float("nan")
    p_i = ((t**2).sum(axis=1) - raters) / (raters * (raters - 1))
    return float((p_i.mean() - p_e) / (1 - p_e))


def krippendorff_alpha_nominal(table: np.ndarray) -> float:
    """Krippendorff's alpha (nominal) from a (units × values) count table."""
    t = np.asarray(table, dtype=float)
    t = t[t.sum(axis=1) >= 2]
    if t.shape[0] == 0 or np.count_nonzero(t.sum(axis=0)) < 2:
        return float("nan")  # no pairable values, or one value only: agreement undefined
    return float(krippendorff.alpha(value_counts=t, level_of_measurement="nominal"))


def raw_agreement(table: np.ndarray) -> float:
    """Observed agreement: the share of agreeing pairs of labels within a unit, averaged over units with ≥ 2 ratings
    (Fleiss' P̄, before any chance correction). NaN when no unit has two ratings."""
    t = np.asarray(table, dtype=float)
    t = t[t.sum(axis=1) >= 2]
    if t.shape[0] == 0:
        return float("nan")
    raters = t.sum(axis=1)
    return float((((t**2).sum(axis=1) - raters) / (raters * (raters - 1))).mean())


def krippendorff_alpha_bootstrap(table: np.ndarray, n_boot: int = 1000, seed: int = 0,
                                 level: float = 0.95) -> tuple[float, float, int]:
    """Percentile bootstrap interval for Krippendorff's alpha (nominal), resampling units (items) with replacement.

    Units with fewer than two ratings carry no pairable values and are dropped first. Replicate b draws
    `rng.integers(0, U, size=U)` from `numpy.random.default_rng(seed)` (one call per replicate, in order) and
    computes alpha from the coincidence matrix of the drawn units:
    α = 1 − (n − 1)(n − A) / (n² − Σ_c n_c²), with n pairable values, n_c those of value c and
    A = Σ_u Σ_c n_uc(n_uc − 1)/(m_u − 1) (the agreeing coincidences). A replicate with one value only has no
    alpha and is skipped. Returns (low, high, replicates with an alpha); (NaN, NaN, 0) when no replicate has one.
    """
    t = np.asarray(table, dtype=float)
    t = t[t.sum(axis=1) >= 2]
    units = t.shape[0]
    if units == 0:
        return float("nan"), float("nan"), 0
    m = t.sum(axis=1)
    agree = ((t * (t - 1)).sum(axis=1)) / (m - 1)
    rng = np.random.default_rng(seed)
    alphas = np.full(n_boot, np.nan)
    for b in range(n_boot):
        weight = np.bincount(rng.integers(0, units, size=units), minlength=units).astype(float)
        n = weight @ m
        n_c = weight @ t
        expected = n * n - float((n_c**2).sum())
        if expected > 0:
            alphas[b] = 1.0 - (n - 1.0) * (n - weight @ agree) / expected
    ok = alphas[np.isfinite(alphas)]
    if ok.size == 0:
        return float("nan"), float("nan"), 0
    tail = (1.0 - level) / 2 * 100
    lo, hi = np.percentile(ok, [tail, 100 - tail])
    return float(lo), float(hi), int(ok.size)
