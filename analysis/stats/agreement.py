"""Agreement between raters on nominal categories, from a (units × categories) count table.

Fleiss' kappa (statsmodels when every unit has the same number of ratings; otherwise the standard
generalisation to unequal numbers of raters, which reduces to Fleiss' formula when they are equal —
statsmodels only implements the equal case) and Krippendorff's alpha (nominal), which handles unequal
numbers natively (`krippendorff`). Units with fewer than two ratings carry no agreement and are dropped.
"""

from __future__ import annotations

import krippendorff
import numpy as np
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa


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
    if np.all(raters == raters[0]):
        return float(statsmodels_fleiss_kappa(t, method="fleiss"))
    p_i = ((t**2).sum(axis=1) - raters) / (raters * (raters - 1))
    p_j = t.sum(axis=0) / t.sum()
    p_e = float((p_j**2).sum())
    if p_e >= 1.0:
        return float("nan")
    return float((p_i.mean() - p_e) / (1 - p_e))


def krippendorff_alpha_nominal(table: np.ndarray) -> float:
    """Krippendorff's alpha (nominal) from a (units × values) count table."""
    t = np.asarray(table, dtype=float)
    t = t[t.sum(axis=1) >= 2]
    if t.shape[0] == 0 or np.count_nonzero(t.sum(axis=0)) < 2:
        return float("nan")  # no pairable values, or one value only: agreement undefined
    return float(krippendorff.alpha(value_counts=t, level_of_measurement="nominal"))
