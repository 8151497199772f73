"""How many judgements a pairwise comparison needs: exact binomial and normal approximation.

Used twice: by `python -m analysis plan` before a study, and per model pair in a report ("n for 80%
power at the observed effect"), so a reader can tell "no difference" from "too few judgements".
Worker clustering is handled with the design effect 1 + (m - 1)·ICC (Kish): m judgements from one
worker are worth fewer than m independent ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from analysis.stats.distributions import binom_cdf, binom_isf, binom_sf

#: beyond this the exact search is pointless (and slow); the normal approximation is used instead
EXACT_SEARCH_LIMIT = 2_000_000


def n_for_power(win_rate: float, alpha: float = 0.05, power: float = 0.8, exact_limit: int = 100_000) -> int | None:
    """Exact n where it is cheap (normal approximation ≤ `exact_limit`), else the normal approximation.

    Used per pair in reports; beyond 100,000 judgements the two differ by well under 1%, and the
    exact search would cost seconds per pair.
    """
    if win_rate == 0.5:
        return None
    return n_exact(win_rate, alpha, power, limit=exact_limit) or n_normal(win_rate, alpha, power)


def cohens_h(win_rate: float, null: float = 0.5) -> float:
    """Cohen's h effect size between two proportions (arcsine transform)."""
    return 2 * math.asin(math.sqrt(win_rate)) - 2 * math.asin(math.sqrt(null))


def n_normal(win_rate: float, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Normal-approximation n for a two-sided one-sample test of p = 0.5, variance under each hypothesis.

    n = ((z_{1-α/2}·0.5 + z_{power}·sqrt(p(1-p))) / (p - 0.5))², rounded up. None when p = 0.5.
    """
    if not 0 <= win_rate <= 1:
        raise ValueError(f"win rate must be in [0, 1], got {win_rate}")
    if win_rate == 0.5:
        return None
    z_a = -ndtri(alpha / 2)  # the normal's upper alpha/2 quantile
    z_b = ndtri(power)
    n = ((z_a * 0.5 + z_b * math.sqrt(win_rate * (1 - win_rate))) / (win_rate - 0.5)) ** 2
    return max(1, math.ceil(n - 1e-9))


def exact_power(n: np.ndarray | int, win_rate: float, alpha: float = 0.05) -> np.ndarray:
    """Power of the exact two-sided binomial test of p = 0.5 at level `alpha`, for each n.

    For p0 = 0.5 the two-sided p-value (scipy's `binomtest`) is 2·P(X ≥ k) for k above n/2, so the
    test rejects for k ≥ c with c the smallest count whose upper tail is ≤ α/2, and symmetrically
    for k ≤ n - c.
    """
    n = np.atleast_1d(np.asarray(n, dtype=np.int64))
    c = binom_isf(alpha / 2, n, 0.5) + 1
    # the tails are floating point: step c so that P(X >= c) <= alpha/2 < P(X >= c - 1) exactly
    c = np.where(binom_sf(c - 1, n, 0.5) > alpha / 2 * (1 + 1e-12), c + 1, c)
    c = np.where(binom_sf(c - 2, n, 0.5) <= alpha / 2 * (1 + 1e-12), c - 1, c)
    return binom_sf(c - 1, n, win_rate) + binom_cdf(n - c, n, win_rate)


def n_exact(win_rate: float, alpha: float = 0.05, power: float = 0.8, limit: int = EXACT_SEARCH_LIMIT) -> int | None:
    """Smallest n at which the exact binomial test reaches `power` (None when p = 0.5 or out of reach).

    Exact power is a saw-tooth in n (the rejection count moves in whole steps), so a slightly larger
    n can have less power; `n_exact_stable` gives the n from which power never drops below target.
    """
    if not 0 <= win_rate <= 1:
        raise ValueError(f"win rate must be in [0, 1], got {win_rate}")
    if win_rate == 0.5:
        return None
    approx = n_normal(win_rate, alpha, power) or 1
    if approx > limit:
        return None
    # for large n the exact answer lies within a fraction of a percent of the normal one: search a
    # narrow window around it first and widen only if the answer sits on the window's edge
    lo = max(1, int(approx * 0.99) - 100)
    hi = int(approx * 1.01) + 200
    while True:
        ns = np.arange(lo, hi + 1)
        ok = exact_power(ns, win_rate, alpha) >= power
        if ok.any():
            first = int(ns[np.argmax(ok)])
            if lo == 1 or first > lo:
                return first
            hi, lo = lo, max(1, lo - (hi - lo))
        else:
            lo, hi = hi + 1, hi + (hi - lo) + 1
            if lo > limit:
                return None


def n_exact_stable(win_rate: float, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Smallest n from which exact power stays ≥ target for every larger n (checked 10% + 200 beyond)."""
    first = n_exact(win_rate, alpha, power)
    if first is None:
        return None
    ns = np.arange(first, int(first * 1.1) + 200)
    below = np.flatnonzero(exact_power(ns, win_rate, alpha) < power)
    return int(ns[below[-1] + 1]) if below.size else first


def design_effect(judgements_per_worker: float, icc: float) -> float:
    """Kish's design effect for clustered samples: 1 + (m - 1)·ICC."""
    return 1.0 + max(judgements_per_worker - 1.0, 0.0) * icc


@dataclass
class SampleSizePlan:
    """What `plan` prints: judgements needed, and workers when judgements are clustered by worker."""

    win_rate: float
    alpha: float
    power: float
    cohens_h: float
    n_exact: int | None
    n_exact_stable: int | None
    n_normal: int | None
    judgements_per_worker: float
    icc: float
    design_effect: float
    n_clustered: int | None
    workers_needed: int | None


def plan_sample_size(
    win_rate: float,
    alpha: float = 0.05,
    power: float = 0.8,
    judgements_per_worker: float = 1.0,
    icc: float = 0.0,
) -> SampleSizePlan:
    """Sample size for detecting `win_rate` against 0.5, inflated by the worker design effect."""
    exact = n_exact(win_rate, alpha, power)
    deff = design_effect(judgements_per_worker, icc)
    clustered = math.ceil(exact * deff - 1e-9) if exact is not None else None
    return SampleSizePlan(
        win_rate=win_rate,
        alpha=alpha,
        power=power,
        cohens_h=cohens_h(win_rate),
        n_exact=exact,
        n_exact_stable=n_exact_stable(win_rate, alpha, power),
        n_normal=n_normal(win_rate, alpha, power),
        judgements_per_worker=judgements_per_worker,
        icc=icc,
        design_effect=deff,
        n_clustered=clustered,
        workers_needed=math.ceil(clustered / judgements_per_worker) if clustered is not None else None,
    )


def n_per_group_two_proportions(p1: float, p2: float, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Per-group n for a two-sided test of p1 = p2 with equal groups (normal approximation, Fleiss 1981,
    without continuity correction):

    n = (z_{1-α/2}·√(2·p̄(1−p̄)) + z_{power}·√(p1(1−p1) + p2(1−p2)))² / (p1 − p2)², rounded up, p̄ = (p1 + p2)/2.

    None when p1 = p2 (no n reaches the power). Fisher's exact test, which the reports run, is somewhat
    more conservative, so read the result as "about this many".
    """
    for p in (p1, p2):
        if not 0 <= p <= 1:
            raise ValueError(f"proportions must be in [0, 1], got {p}")
    if p1 == p2:
        return None
    pbar = (p1 + p2) / 2
    za, zb = ndtri(1 - alpha / 2), ndtri(power)
    n = (za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (p1 - p2) ** 2
    return max(1, math.ceil(n - 1e-9))
