"""Davidson's (1970) tie model: Bradley–Terry with a tie probability, for many win/tie tables at once.

P(i ≻ j) = π_i / (π_i + π_j + ν√(π_iπ_j)),  P(tie) = ν√(π_iπ_j) / (π_i + π_j + ν√(π_iπ_j)),  π = e^θ.

Counting a tie as half a win each way (the default, `bradley_terry.with_ties_as_half_wins`) treats a tie
as a coin flip; Davidson's model says how likely ties are (ν, the same for every pair) and keeps P(i ≻ j |
decisive) = σ(θ_i − θ_j), so θ stays on the Bradley–Terry scale. We minimise the negative log-likelihood
plus the same ridge·Σθ² as `fit_bradley_terry` (ν is not penalised), θ centred to mean 0 afterwards.

As `fit_bradley_terry`, it runs Newton's method with backtracking on a whole batch of tables (the
bootstrap fits hundreds): log D_ij is a log-sum-exp of three linear functions of (θ, log ν), so the
Hessian is the counts times the covariance of those three directions under (P(i ≻ j), P(j ≻ i), P(tie)).
A table without ties has ν = 0 at the optimum: it is fitted as Bradley–Terry (identical numbers) and ν
reported as 0; a table of ties only has no finite ν (ν = inf, every θ 0).
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.special import logsumexp

from analysis.stats.bradley_terry import DEFAULT_RIDGE, fit_bradley_terry, with_ties_as_half_wins

log = logging.getLogger(__name__)


def _log_d(theta: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(B, K, K) log D_ij and the tie term's exponent η + (θ_i + θ_j)/2."""
    ti, tj = theta[:, :, None], theta[:, None, :]
    tie = eta[:, None, None] + (ti + tj) / 2
    return logsumexp(np.stack(np.broadcast_arrays(ti, tj, tie)), axis=0), tie


def _objective(theta: np.ndarray, eta: np.ndarray, wins: np.ndarray, ties: np.ndarray, ridge: float) -> np.ndarray:
    """(B,) negative log-likelihood + ridge; `ties` symmetric with a zero diagonal, so each tie is halved."""
    log_d, tie = _log_d(theta, eta)
    own = theta[:, :, None] - log_d
    return (-(wins * own).sum(axis=(1, 2)) - (ties / 2 * (tie - log_d)).sum(axis=(1, 2))
            + ridge * (theta**2).sum(axis=1))


def _newton(wins: np.ndarray, ties: np.ndarray, ridge: float, tol: float = 1e-10,
            max_iter: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Newton's method on (θ, η = log ν) for tables that have both decisive judgements and ties."""
    b, k, _ = wins.shape
    n = wins + wins.transpose(0, 2, 1) + ties  # judgements of the unordered pair, in both cells
    tau = ties.sum(axis=(1, 2)) / np.maximum(n.sum(axis=(1, 2)), 1)
    theta = fit_bradley_terry(with_ties_as_half_wins(wins, ties), ridge)
    eta = np.log(2 * tau / (1 - tau))  # P(tie) = ν/(2 + ν) between equal models
    ones = np.zeros((k + 1, k + 1))
    ones[:k, :k] = 1.0 / k  # the likelihood is flat along θ + c; this fixes that direction
    eye = np.eye(k)
    obj = _objective(theta, eta, wins, ties, ridge)
    for _ in range(max_iter):
        log_d, tie = _log_d(theta, eta)
        p_first = np.exp(theta[:, :, None] - log_d)
        p_tie = np.exp(tie - log_d)
        a = p_first + p_tie / 2  # the mean coefficient of θ_i in log D_ij
        grad = np.empty((b, k + 1))
        grad[:, :k] = (-wins - ties / 2 + n * a).sum(axis=2) + 2 * ridge * theta
        grad[:, k] = 0.5 * (-ties + n * p_tie).sum(axis=(1, 2))
        hess = np.empty((b, k + 1, k + 1))
        off = n * (p_tie / 4 - a * a.transpose(0, 2, 1))
        diag = (n * (p_first + p_tie / 4 - a * a)).sum(axis=2) + 2 * ridge
        hess[:, :k, :k] = off * (1 - eye) + eye * diag[:, :, None]
        cross = (n * (p_tie / 2 - a * p_tie)).sum(axis=2)
        hess[:, :k, k] = hess[:, k, :k] = cross
        hess[:, k, k] = 0.5 * (n * (p_tie - p_tie**2)).sum(axis=(1, 2))
        step = np.linalg.solve(hess + ones, grad[:, :, None])[:, :, 0]
        scale = np.ones(b)
        new_theta, new_eta = theta - step[:, :k], eta - step[:, k]
        new_obj = _objective(new_theta, new_eta, wins, ties, ridge)
        for _ in range(30):
            worse = ~(new_obj <= obj + 1e-12 * np.abs(obj))
            if not worse.any():
                break
            scale = np.where(worse, scale / 2, scale)
            new_theta, new_eta = theta - scale[:, None] * step[:, :k], eta - scale * step[:, k]
            new_obj = _objective(new_theta, new_eta, wins, ties, ridge)
        moved = max(np.abs(new_theta - theta).max(), np.abs(new_eta - eta).max())
        theta, eta, obj = new_theta, new_eta, new_obj
        if moved < tol:
            break
    else:
        log.warning("Davidson fit did not converge in %d iterations (last step %.2g)", max_iter, moved)
    return theta, eta


def fit_davidson(
    wins: np.ndarray, ties: np.ndarray, ridge: float = DEFAULT_RIDGE
) -> tuple[np.ndarray, np.ndarray | float]:
    """Strengths θ (centred) and the tie parameter ν, for one K×K table → ((K,), ν) or a batch (B, K, K) → ((B, K), (B,)).

    `wins[..., i, j]` = times i beat j; `ties[..., i, j]` = ties between i and j (symmetric; both kinds of tie).
    """
    w, t = np.asarray(wins, dtype=float), np.asarray(ties, dtype=float)
    single = w.ndim == 2
    w, t = (w[None], t[None]) if single else (w, t)
    b, k, _ = w.shape
    w, t = w.copy(), t.copy()
    w[:, np.arange(k), np.arange(k)] = 0.0
    t[:, np.arange(k), np.arange(k)] = 0.0
    theta, nu = np.zeros((b, k)), np.full(b, np.inf)  # only ties: every model equal, ν without a finite estimate
    has_ties, has_wins = t.sum(axis=(1, 2)) > 0, w.sum(axis=(1, 2)) > 0
    plain = ~has_ties
    if plain.any():
        theta[plain], nu[plain] = fit_bradley_terry(w[plain], ridge), 0.0
    both = has_ties & has_wins
    if both.any():
        theta[both], eta = _newton(w[both], t[both], ridge)
        nu[both] = np.exp(eta)
    theta -= theta.mean(axis=1, keepdims=True)
    return (theta[0], float(nu[0])) if single else (theta, nu)
