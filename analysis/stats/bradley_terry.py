"""Bradley–Terry strengths by penalised maximum likelihood, for many win matrices at once.

P(i beats j) = σ(θ_i − θ_j). We minimise  Σ_ij W_ij·log(1 + e^{−(θ_i−θ_j)}) + ridge·Σ_i θ_i²,
the objective `choix.opt_pairwise(alpha=ridge)` minimises, so the two can be cross-checked. The
small ridge keeps a model that never loses finite and centres the solution (Σθ = 0 at the optimum).

Ties count as half a win for each side (`with_ties_as_half_wins`: W_ij += t_ij/2, W_ji += t_ij/2,
Chatbot Arena's convention); `analysis.stats.davidson` models them instead. `elo_scale` puts strengths
on the Elo scale Chatbot Arena reports.

Written by hand because the bootstrap needs hundreds of fits per report: the fit works on
aggregated K×K win counts (never on individual votes) and runs Newton's method on a whole batch of
win matrices with one `numpy.linalg.solve` per iteration, with backtracking so every step descends.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.special import expit, log_expit

log = logging.getLogger(__name__)

DEFAULT_RIDGE = 0.01
#: the Elo scale of Chatbot Arena: R = ELO_BASE + ELO_SCALE · θ / ln 10, so P(i beats j) = 1 / (1 + 10^((R_j − R_i)/400))
ELO_BASE, ELO_SCALE = 1000.0, 400.0


def with_ties_as_half_wins(wins: np.ndarray, ties: np.ndarray) -> np.ndarray:
    """The win table a tie-aware fit uses: `ties[..., i, j]` (symmetric) adds half a win to each side."""
    return np.asarray(wins, dtype=float) + np.asarray(ties, dtype=float) / 2


def elo_scale(theta: np.ndarray | float) -> np.ndarray | float:
    """Strengths (natural log-odds) as Elo ratings: 1000 + 400·θ/ln 10 (a difference of 400 = 10:1 odds)."""
    return ELO_BASE + ELO_SCALE * np.asarray(theta, dtype=float) / np.log(10.0)


def _objective(theta: np.ndarray, wins: np.ndarray, ridge: float) -> np.ndarray:
    diff = theta[:, :, None] - theta[:, None, :]
    return -(wins * log_expit(diff)).sum(axis=(1, 2)) + ridge * (theta**2).sum(axis=1)


def fit_bradley_terry(
    wins: np.ndarray, ridge: float = DEFAULT_RIDGE, tol: float = 1e-10, max_iter: int = 100
) -> np.ndarray:
    """Strengths θ for one K×K win matrix (K,) or a batch (B, K, K) → (B, K); centred to mean 0.

    `wins[..., i, j]` = times i beat j (diagonal ignored). With ridge = 0 the plain MLE is returned,
    which exists only when the comparison graph is strongly connected.
    """
    w = np.asarray(wins, dtype=float)
    single = w.ndim == 2
    if single:
        w = w[None]
    w = w.copy()
    b, k, _ = w.shape
    w[:, np.arange(k), np.arange(k)] = 0.0
    n = w + w.transpose(0, 2, 1)
    theta = np.zeros((b, k))
    ones = np.ones((k, k)) / k
    eye = np.eye(k)
    obj = _objective(theta, w, ridge)
    for iteration in range(max_iter):
        p = expit(theta[:, :, None] - theta[:, None, :])
        grad = (n * p - w).sum(axis=2) + 2 * ridge * theta
        curv = n * p * (1 - p)
        hess = -curv + eye * (curv.sum(axis=2)[:, :, None] + 2 * ridge)
        # the likelihood is flat along θ + c; adding 11ᵀ/K fixes that direction without changing the step
        step = np.linalg.solve(hess + ones, grad[:, :, None])[:, :, 0]
        scale = np.ones(b)
        new = theta - step
        new_obj = _objective(new, w, ridge)
        for _ in range(30):
            worse = new_obj > obj + 1e-12 * np.abs(obj)
            if not worse.any():
                break
            scale = np.where(worse, scale / 2, scale)
            new = theta - scale[:, None] * step
            new_obj = _objective(new, w, ridge)
        moved = np.abs(new - theta).max()
        theta, obj = new, new_obj
        if moved < tol:
            break
    else:
        log.warning("Bradley–Terry did not converge in %d iterations (last step %.2g)", max_iter, moved)
    theta -= theta.mean(axis=1, keepdims=True)
    return theta[0] if single else theta
