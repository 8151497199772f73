"""Bradley–Terry ranking with two kinds of bootstrap interval, and rank sets.

Chatbot Arena resamples votes as if each were independent. Votes of one worker are not: a worker
with a taste for long answers casts all their votes that way. Resampling **workers** (each worker
with all of their votes) keeps that dependence and gives honest, usually wider, intervals; the
plain vote bootstrap is reported next to it so the difference is visible. Both resample aggregated
counts, never individual rows: per worker × (winner, loser) cell counts are built once, a bootstrap
round is a weighted sum of them (multinomial weights), and all rounds are fitted in one batch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from analysis.acute.records import AcuteJudgements
from analysis.stats.bradley_terry import DEFAULT_RIDGE, fit_bradley_terry
from analysis.stats.intervals import bca_interval

log = logging.getLogger(__name__)

#: rounds fitted per batch: bounds memory at (batch × K × K) floats
_BATCH = 256


@dataclass
class ModelRank:
    model: str
    strength: float
    ci_workers: tuple[float, float] | None  # None: not enough workers (Comparison.worker_bootstrap says why)
    ci_plain: tuple[float, float] | None  # None: no bootstrap rounds (--bootstrap-rounds 0)
    rank: int
    rank_set: tuple[int, int] | None  # from the worker intervals: None with them
    n: int
    wins: int


#: Below this many workers the worker-bootstrap interval is BCa instead of the percentile one: with few
#: clusters the bootstrap distribution is skewed and biased and the percentile interval under-covers (Efron &
#: Tibshirani 1993, ch. 14), as BAD's conversation bootstrap does below 30 conversations. Below the sufficiency
#: minimum (10 workers) the report shows no worker interval at all.
BCA_BELOW_WORKERS = 30


@dataclass
class Ranking:
    models: list[ModelRank]  # best first
    rounds: int
    ridge: float
    #: mean over models of var(worker bootstrap) / var(plain bootstrap): an observed design effect
    variance_ratio: float
    #: how the worker intervals were read from the replicates: "BCa" (few workers) or "percentile"
    interval_method: str = "percentile"


def worker_cell_counts(judgements: AcuteJudgements) -> sparse.csr_matrix:
    """Sparse (workers × K²) counts of each worker's (winner, loser) outcomes."""
    k = len(judgements.models)
    cells = judgements.winner.astype(np.int64) * k + judgements.loser.astype(np.int64)
    data = np.ones(cells.shape[0], dtype=np.float64)
    m = sparse.csr_matrix((data, (judgements.worker.astype(np.int64), cells)), shape=(len(judgements.workers), k * k))
    m.sum_duplicates()
    return m


def _fit_rounds(tables: np.ndarray, k: int, ridge: float) -> np.ndarray:
    out = [fit_bradley_terry(tables[s : s + _BATCH].reshape(-1, k, k), ridge) for s in range(0, len(tables), _BATCH)]
    return np.concatenate(out) if out else np.zeros((0, k))


def bootstrap_strengths(
    judgements: AcuteJudgements, rounds: int, rng: np.random.Generator, ridge: float = DEFAULT_RIDGE
) -> tuple[np.ndarray, np.ndarray]:
    """(rounds × K) strengths from resampling workers, and from resampling judgements."""
    k = len(judgements.models)
    per_worker = worker_cell_counts(judgements)
    active = np.flatnonzero(np.asarray(per_worker.sum(axis=1)).ravel() > 0)
    per_worker = per_worker[active]
    n_workers = per_worker.shape[0]
    totals = np.asarray(per_worker.sum(axis=0)).ravel()
    n_total = int(totals.sum())
    if n_workers == 0 or rounds <= 0:
        return np.zeros((0, k)), np.zeros((0, k))
    weights = rng.multinomial(n_workers, np.full(n_workers, 1.0 / n_workers), size=rounds).astype(np.float64)
    by_worker = np.asarray((per_worker.T @ weights.T).T)
    by_vote = rng.multinomial(n_total, totals / n_total, size=rounds).astype(np.float64)
    return _fit_rounds(by_worker, k, ridge), _fit_rounds(by_vote, k, ridge)


def jackknife_strengths(judgements: AcuteJudgements, ridge: float = DEFAULT_RIDGE,
                        below_workers: int | None = None) -> np.ndarray:
    """(workers × K) strengths with each worker's judgements left out in turn (BCa's acceleration); empty
    when there are `below_workers` workers or more (one fit per worker is then not worth it)."""
    k = len(judgements.models)
    per_worker = worker_cell_counts(judgements)
    per_worker = per_worker[np.flatnonzero(np.asarray(per_worker.sum(axis=1)).ravel() > 0)]
    if below_workers is not None and per_worker.shape[0] >= below_workers:
        return np.zeros((0, k))
    totals = np.asarray(per_worker.sum(axis=0)).ravel()
    return _fit_rounds(totals[None, :] - per_worker.toarray(), k, ridge)


def percentile_interval(samples: np.ndarray, level: float = 0.95) -> np.ndarray:
    """(K × 2) percentile intervals of bootstrap samples (rounds × K)."""
    tail = (1 - level) / 2 * 100
    return np.percentile(samples, [tail, 100 - tail], axis=0).T


def rank_sets(intervals: np.ndarray) -> list[tuple[int, int]]:
    """Ranks each model could hold given interval overlap (1 = best).

    A model is certainly below every model whose interval lies wholly above its own, and certainly
    above every model whose interval lies wholly below; the rest could fall either way.
    """
    lo, hi = intervals[:, 0], intervals[:, 1]
    k = len(lo)
    return [(1 + int((lo > hi[i]).sum()), k - int((hi < lo[i]).sum())) for i in range(k)]


def rank_models(
    judgements: AcuteJudgements, wins: np.ndarray, rounds: int, seed: int, ridge: float = DEFAULT_RIDGE
) -> Ranking:
    """Point strengths, worker and plain bootstrap intervals, ranks and rank sets (from worker CIs)."""
    k = len(judgements.models)
    strength = fit_bradley_terry(wins, ridge)
    boot_w, boot_p = bootstrap_strengths(judgements, rounds, np.random.default_rng(seed), ridge)
    method = "percentile"
    if len(boot_w):
        ci_w, ci_p = percentile_interval(boot_w), percentile_interval(boot_p)
        jackknife = jackknife_strengths(judgements, ridge, below_workers=BCA_BELOW_WORKERS)
        if len(jackknife) >= 2:  # few clusters: a skewed, biased bootstrap distribution
            ci_w, method = bca_interval(boot_w, strength, jackknife), "BCa"
        var_p = boot_p.var(axis=0)
        ok = var_p > 1e-12
        ratio = float(np.mean(boot_w.var(axis=0)[ok] / var_p[ok])) if ok.any() else float("nan")
    else:
        ci_w = ci_p = np.column_stack([strength, strength])
        ratio = float("nan")
    sets = rank_sets(ci_w)
    n = (wins + wins.T).sum(axis=1)
    entries = [
        ModelRank(
            model=judgements.models[i], strength=float(strength[i]),
            ci_workers=(float(ci_w[i, 0]), float(ci_w[i, 1])), ci_plain=(float(ci_p[i, 0]), float(ci_p[i, 1])),
            rank=1 + int((strength > strength[i] + 1e-12).sum()), rank_set=sets[i],
            n=int(n[i]), wins=int(wins[i].sum()),
        )
        for i in range(k)
    ]
    entries.sort(key=lambda e: (e.rank, e.model))
    return Ranking(models=entries, rounds=rounds, ridge=ridge, variance_ratio=ratio, interval_method=method)
