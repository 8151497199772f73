"""Dawid–Skene: each item's true class and each worker's confusion matrix, estimated together by EM.

Majority vote trusts every worker equally; a careless worker who answers at random counts as much
as a careful one. Dawid & Skene (1979, "Maximum likelihood estimation of observer error-rates using
the EM algorithm", Applied Statistics 28(1)) model worker w as a confusion matrix
π_w[j, l] = P(w answers l | true class j) and the classes by a prior p_j, and alternate:

- E-step: T[i, j] = P(item i is class j | labels) ∝ p_j · Π_{labels (w, l) of i} π_w[j, l]
- M-step: p_j ∝ α + Σ_i T[i, j];  π_w[j, l] ∝ α + Σ_{labels (w, l) of item i} T[i, j]

Choices, each deterministic (no random restarts, so the same input gives the same report):
- initialisation from the (soft) majority vote: T[i, j] = share of item i's labels that say j, which
  also ties class j to label j (EM alone is indifferent to relabelling the classes);
- α (`smoothing`, default 0.01) is a symmetric Dirichlet pseudo-count added to every prior and
  confusion cell: it keeps a class a worker never used at a small, non-zero probability (no log 0,
  no worker whose single surprising label vetoes an item) while biasing well-observed cells by
  well under a percentage point;
- convergence: stop when no posterior T[i, j] moves by more than `tol` (default 1e-6) in one
  iteration, or after `max_iter` iterations (then `converged` is false and the caller says so).

Works on the labels as flat columns (one entry per label), so memory grows with labels, not with
items × workers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_SMOOTHING = 0.01
DEFAULT_TOL = 1e-6
DEFAULT_MAX_ITER = 1000


@dataclass
class DawidSkene:
    posterior: np.ndarray  # items × K: P(true class | labels)
    prior: np.ndarray  # K: estimated class shares
    confusion: np.ndarray  # workers × K × K: P(answer l | true j), rows sum to 1
    labels_per_worker: np.ndarray  # workers: labels the estimate rests on (0 = confusion is the flat prior)
    iterations: int
    converged: bool
    log_likelihood: float  # marginal log-likelihood of the labels at the final parameters

    def error_rate(self) -> np.ndarray:
        """Per worker: P(answer ≠ true class) = 1 − Σ_j p_j π_w[j, j]; NaN for workers without labels."""
        diag = np.einsum("wjj->wj", self.confusion)
        rate = 1.0 - diag @ self.prior
        return np.where(self.labels_per_worker > 0, rate, np.nan)


def _m_step(post: np.ndarray, item: np.ndarray, worker: np.ndarray, label: np.ndarray,
            n_workers: int, k: int, smoothing: float) -> tuple[np.ndarray, np.ndarray]:
    prior = post.sum(axis=0) + smoothing
    prior /= prior.sum()
    cell = worker * k + label  # (worker, answer) of every label
    counts = np.empty((n_workers, k, k))
    for j in range(k):  # counts[w, j, l] = Σ over labels (w, l) of T[item, j]
        counts[:, j, :] = np.bincount(cell, weights=post[item, j], minlength=n_workers * k).reshape(n_workers, k)
    counts += smoothing
    return prior, counts / counts.sum(axis=2, keepdims=True)


def _e_step(prior: np.ndarray, confusion: np.ndarray, item: np.ndarray, worker: np.ndarray,
            label: np.ndarray, n_items: int) -> tuple[np.ndarray, float]:
    k = prior.size
    log_conf = np.log(confusion[worker, :, label])  # labels × K: log π_w[j, l] for every class j
    joint = np.tile(np.log(prior), (n_items, 1))
    for j in range(k):
        joint[:, j] += np.bincount(item, weights=log_conf[:, j], minlength=n_items)
    top = joint.max(axis=1, keepdims=True)  # log-sum-exp, shifted so the largest term is exp(0)
    shifted = np.exp(joint - top)
    total = shifted.sum(axis=1, keepdims=True)
    return shifted / total, float((top + np.log(total)).sum())


def dawid_skene(
    item: np.ndarray, worker: np.ndarray, label: np.ndarray, n_items: int, n_workers: int, n_classes: int,
    *, smoothing: float = DEFAULT_SMOOTHING, tol: float = DEFAULT_TOL, max_iter: int = DEFAULT_MAX_ITER,
) -> DawidSkene:
    """Fit Dawid–Skene to labels given as parallel arrays of item, worker and class codes.

    Items without labels get the class prior as their posterior.
    """
    item = np.asarray(item, dtype=np.int64)
    worker = np.asarray(worker, dtype=np.int64)
    label = np.asarray(label, dtype=np.int64)
    k = n_classes
    votes = np.bincount(item * k + label, minlength=n_items * k).reshape(n_items, k).astype(float)
    n = votes.sum(axis=1, keepdims=True)
    post = np.divide(votes, n, out=np.full_like(votes, 1.0 / k), where=n > 0)
    converged = False
    iterations = 0
    log_likelihood = float("nan")
    prior, confusion = _m_step(post, item, worker, label, n_workers, k, smoothing)
    while iterations < max_iter:
        iterations += 1
        new_post, log_likelihood = _e_step(prior, confusion, item, worker, label, n_items)
        change = float(np.abs(new_post - post).max()) if n_items else 0.0
        post = new_post
        prior, confusion = _m_step(post, item, worker, label, n_workers, k, smoothing)
        if change < tol:
            converged = True
            break
    # the reported posterior goes with the reported parameters
    post, log_likelihood = _e_step(prior, confusion, item, worker, label, n_items)
    return DawidSkene(
        posterior=post, prior=prior, confusion=confusion,
        labels_per_worker=np.bincount(worker, minlength=n_workers), iterations=iterations,
        converged=converged, log_likelihood=log_likelihood,
    )
