"""Davidson's (1970) tie model: Bradley–Terry with a tie probability, for many win/tie tables.

P(i ≻ j) = π_i / (π_i + π_j + ν√(π_iπ_j)),  P(tie) = ν√(π_iπ_j) / (π_i + π_j + ν√(π_iπ_j)),  π = e^θ.

Counting a tie as half a win each way (the default, `bradley_terry.with_ties_as_half_wins`) treats a tie
as a coin flip; Davidson's model says how likely ties are (ν, the same for every pair) and keeps P(i ≻ j |
decisive) = σ(θ_i − θ_j), so θ stays on the Bradley–Terry scale. We minimise the negative log-likelihood
plus the same ridge·Σθ² as `fit_bradley_terry` (ν is not penalised), with L-BFGS-B on the exact
gradient, θ centred to mean 0 afterwards. A table without ties has ν = 0 at the optimum: it is fitted as
Bradley–Terry (identical numbers) and ν reported as 0; a table of ties only has no finite ν (ν = inf,
every θ 0).
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

from analysis.stats.bradley_terry import DEFAULT_RIDGE, fit_bradley_terry

log = logging.getLogger(__name__)

#: log ν is kept within ± this (ν from 1e-13 to 4e13): all-tie or tie-free resamples stay finite
_LOG_NU_BOUND = 30.0


def _parts(theta: np.ndarray, log_nu: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log D_ij, P_i of the pair's win by i (e^θi / D) and P_tie, as K×K arrays."""
    ti, tj = theta[:, None], theta[None, :]
    tie_term = log_nu + (ti + tj) / 2
    log_d = logsumexp(np.stack(np.broadcast_arrays(ti, tj, tie_term)), axis=0)
    return log_d, np.exp(ti - log_d), np.exp(tie_term - log_d)


def _objective(params: np.ndarray, wins: np.ndarray, ties: np.ndarray, ridge: float) -> tuple[float, np.ndarray]:
    """Negative log-likelihood + ridge, and its gradient; `ties` symmetric with a zero diagonal."""
    theta, log_nu = params[:-1], params[-1]
    log_d, p_first, p_tie = _parts(theta, log_nu)
    n = wins + ties / 2  # per ordered pair: the unordered pair's judgements split in two, so Σ n·log D counts each once
    tie_term = log_nu + (theta[:, None] + theta[None, :]) / 2
    value = -(wins * (theta[:, None] - log_d)).sum() - (ties / 2 * (tie_term - log_d)).sum() + ridge * (theta**2).sum()
    both = n + n.T
    grad_theta = (-wins - ties / 2 + both * (p_first + p_tie / 2)).sum(axis=1) + 2 * ridge * theta
    grad_nu = (-ties / 2 + n * p_tie).sum()
    return float(value), np.append(grad_theta, grad_nu)


def _fit_one(wins: np.ndarray, ties: np.ndarray, ridge: float) -> tuple[np.ndarray, float]:
    k = wins.shape[0]
    if ties.sum() <= 0:
        return fit_bradley_terry(wins, ridge), 0.0
    if wins.sum() <= 0:  # only ties: every model equal, and ν has no finite estimate
        return np.zeros(k), float("inf")
    start = np.append(fit_bradley_terry(wins + ties / 2, ridge), np.log(max(ties.sum() / max(wins.sum(), 1.0), 1e-3)))
    bounds = [(None, None)] * k + [(-_LOG_NU_BOUND, _LOG_NU_BOUND)]
    res = minimize(_objective, start, args=(wins, ties, ridge), jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 1000})
    # L-BFGS-B often ends "abnormally" when a line search cannot improve in floating point: that is the
    # optimum; only a gradient that is not small relative to the counts means it stopped short
    if np.abs(res.jac).max() > 1e-6 * max(wins.sum() + ties.sum(), 1.0):
        log.warning("Davidson fit did not converge: %s (largest gradient %.2g)", res.message, np.abs(res.jac).max())
    theta = res.x[:-1] - res.x[:-1].mean()
    return theta, float(np.exp(res.x[-1]))


def fit_davidson(
    wins: np.ndarray, ties: np.ndarray, ridge: float = DEFAULT_RIDGE
) -> tuple[np.ndarray, np.ndarray | float]:
    """Strengths θ (centred) and the tie parameter ν, for one K×K table → ((K,), ν) or a batch (B, K, K) → ((B, K), (B,)).

    `wins[..., i, j]` = times i beat j; `ties[..., i, j]` = ties between i and j (symmetric; both kinds of tie).
    """
    w, t = np.asarray(wins, dtype=float), np.asarray(ties, dtype=float)
    single = w.ndim == 2
    w, t = (w[None], t[None]) if single else (w, t)
    k = w.shape[1]
    w, t = w.copy(), t.copy()
    w[:, np.arange(k), np.arange(k)] = 0.0
    t[:, np.arange(k), np.arange(k)] = 0.0
    fits = [_fit_one(w[b], t[b], ridge) for b in range(w.shape[0])]
    theta = np.array([f[0] for f in fits]).reshape(-1, k)
    nu = np.array([f[1] for f in fits])
    return (theta[0], float(nu[0])) if single else (theta, nu)
