"""Exact tests of counts: the binomial test of a share against one half, and Fisher's test between groups.

`two_sided_half_p` is the binomial test, for whole arrays of counts at once (one per worker);
`binomial_summary` gives one count's p-value with its Wilson and Clopper–Pearson intervals (a pair's win
rate, the left-choice rate). `fisher_exact` is Fisher's two-sided test of one 2 × 2 table, and
`fisher_pairs` compares the event rates of every two groups (models) with it, Holm-corrected over the pairs.
Built on `scipy.special` (`analysis.stats.distributions` says why not `scipy.stats`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.stats.corrections import holm, stars
from analysis.stats.distributions import binom_cdf, binom_sf
from analysis.stats.intervals import clopper_pearson, wilson

#: columns of `fisher_pairs`; a study renames `events_*` and `n_*` to its own units
FISHER_PAIR_COLUMNS = ["model_a", "model_b", "events_a", "n_a", "rate_a", "events_b", "n_b", "rate_b", "difference",
                       "odds_ratio", "p_value", "p_holm", "stars_holm"]


def two_sided_half_p(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Exact two-sided binomial p against 0.5, vectorised (equals `scipy.stats.binomtest` for p0 = 0.5)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    tail = np.minimum(binom_cdf(k, n, 0.5), binom_sf(k - 1, n, 0.5))
    return np.where(n > 0, np.minimum(1.0, 2 * tail), np.nan)


def binomial_summary(wins: int, n: int) -> tuple[float, tuple[float, float], tuple[float, float]]:
    """Exact two-sided p against 0.5, and 95% Wilson and Clopper–Pearson intervals of wins / n (n ≥ 1)."""
    lo, hi = wilson(wins, n)
    return float(two_sided_half_p(wins, n)), (float(lo), float(hi)), clopper_pearson(wins, n)


#: tables whose probability is within this factor of the observed one's count as equally likely: equal
#: probabilities reached by different sums differ in the last bits (`fisher_exact` keeps them to ~1e-14), while
#: distinct tables of a large study can differ by less than R's 1e-7 (5e-8 apart at margins of a few thousand,
#: which moved a p-value by 14%). scipy uses 1e-14.
FISHER_RELATIVE_TOLERANCE = 1e-12


def fisher_exact(table: np.ndarray | list[list[int]]) -> tuple[float, float]:
    """Fisher's exact two-sided test of a 2 × 2 table of counts: (odds ratio, p-value).

    With the margins fixed, the top-left count x is hypergeometric; the p-value sums the probability of every
    x at most as likely as the observed one (Agresti 2002, 3.5.1). Each probability is taken relative to the
    observed one as a sum of the logs of the exact ratios P(x+1)/P(x) = (r1-x)(c1-x) / ((x+1)(r2-c1+x+1)),
    walking out from the observed x: the tables near it in probability sit across the mode, where those logs
    are small, so the comparison keeps ~1e-14 of precision at a million judgements (log-gamma differences of
    numbers near 1e7 kept only ~1e-9). The odds ratio is a·d / (b·c), infinite when b·c = 0; a table with an
    empty row or column says nothing: (NaN, 1), as `scipy.stats.fisher_exact` gives."""
    (a, b), (c, d) = np.asarray(table, dtype=np.int64).tolist()
    if min(a, b, c, d) < 0:
        raise ValueError(f"counts must be non-negative, got {[[a, b], [c, d]]}")
    row1, row2, col1 = a + b, c + d, a + c
    if 0 in (row1, row2, col1, b + d):
        return float("nan"), 1.0
    odds = a * d / (b * c) if b > 0 and c > 0 else float("inf")
    x = np.arange(max(0, col1 - row2), min(row1, col1) + 1, dtype=np.float64)  # the support of x
    step = np.log((row1 - x[:-1]) * (col1 - x[:-1])) - np.log((x[:-1] + 1) * (row2 - col1 + x[:-1] + 1))
    at = a - int(x[0])  # the observed table's place in the support
    log_p = np.empty(x.size)  # log P(x) - log P(observed)
    log_p[at] = 0.0
    log_p[at + 1:] = np.cumsum(step[at:])
    log_p[:at] = -np.cumsum(step[:at][::-1])[::-1]
    relative = np.exp(log_p - log_p.max())
    p = relative[log_p <= np.log1p(FISHER_RELATIVE_TOLERANCE)].sum() / relative.sum()
    return float(odds), float(min(p, 1.0))


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
        odds, p = fisher_exact([[ea, na - ea], [eb, nb - eb]])
        rows.append({"model_a": a, "model_b": b, "events_a": ea, "n_a": na, "rate_a": ea / na,
                     "events_b": eb, "n_b": nb, "rate_b": eb / nb, "difference": ea / na - eb / nb,
                     "odds_ratio": float(odds), "p_value": float(p)})
    frame = pd.DataFrame(rows, columns=FISHER_PAIR_COLUMNS[:-2])
    frame["p_holm"] = holm(frame["p_value"].to_numpy(float))
    frame["stars_holm"] = [stars(p) for p in frame["p_holm"]]
    return frame
