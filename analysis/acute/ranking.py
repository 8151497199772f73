"""Bradley–Terry ranking with two kinds of bootstrap interval, and rank sets.

Chatbot Arena resamples votes as if each were independent. Votes of one worker are not: a worker
with a taste for long answers casts all their votes that way. Resampling **workers** (each worker
with all of their votes) keeps that dependence and gives honest, usually wider, intervals; the
plain vote bootstrap is reported next to it so the difference is visible. Both resample aggregated
counts, never individual rows: per worker × (winner, loser) cell counts are built once, a bootstrap
round is a weighted sum of them (multinomial weights), and all rounds are fitted in one batch.

Ties ride along as a second block of cells (per worker, the ties of each unordered model pair), so a
resampled worker brings their ties too. The tie model decides what a fit makes of them: `half` counts a
tie as half a win each way (`with_ties_as_half_wins`), `davidson` fits Davidson's tie parameter ν
(`analysis.stats.davidson`). Without ties both are plain Bradley–Terry and the tie block is left out, so
every number is what it was before ties existed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from analysis.acute.connectivity import comparison_groups, separations
from analysis.acute.records import AcuteJudgements, index_dtype
from analysis.acute.grids import pair_cells, tie_matrix
from analysis.stats.bradley_terry import DEFAULT_RIDGE, elo_scale, fit_bradley_terry, with_ties_as_half_wins
from analysis.stats.davidson import fit_davidson
from analysis.stats.intervals import bca_interval

log = logging.getLogger(__name__)

#: rounds fitted per batch: bounds memory at (batch × K × K) floats
_BATCH = 256
#: bootstrap rounds whose worker weights are drawn at a time: bounds memory at (batch × workers) counts
_WEIGHT_BATCH = 25
#: the `--tie-model` choices: ties as half wins (Chatbot Arena), or Davidson's model
TIE_MODELS = ("half", "davidson")


@dataclass
class ModelRank:
    model: str
    strength: float
    ci_workers: tuple[float, float] | None  # None: not enough workers (Comparison.worker_bootstrap says why)
    ci_plain: tuple[float, float] | None  # None: no bootstrap rounds (--bootstrap-rounds 0)
    rank: int  # within its comparison group (`Ranking.groups`): the data give no order across groups
    rank_set: tuple[int, int] | None  # from the worker intervals: None with them
    n: int  # judgements, ties included
    wins: int  # decisive wins
    ties: int = 0  # both kinds

    @property
    def elo(self) -> float:
        """`strength` on Chatbot Arena's Elo scale (1000 + 400·θ/ln 10)."""
        return float(elo_scale(self.strength))


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
    #: how ties enter the fit: "half" or "davidson" (TIE_MODELS)
    tie_model: str = "half"
    #: Davidson's tie parameter ν (NaN with the half-win model)
    tie_parameter: float = float("nan")
    #: models in groups never compared with each other (`connectivity.comparison_groups`), best first within
    groups: list[list[str]] = field(default_factory=list)
    #: perfect separation: 'm1 won all 50 comparisons with m2' (`connectivity.separations`); empty when none
    separations: list[str] = field(default_factory=list)
    #: fewest distinct resampled strengths of any model, worker and plain bootstrap (1: the interval cannot vary)
    distinct_workers: int = 0
    distinct_plain: int = 0


def fit_strengths(tables: np.ndarray, k: int, ridge: float, tie_model: str) -> tuple[np.ndarray, np.ndarray]:
    """Strengths (B, K) and ν (B,; NaN for `half`) of (B, K² or 2K²) cell tables: K² decisive (winner, loser)
    cells, then, when the data have ties, K² cells of ties (lower model, higher model)."""
    b = tables.shape[0]
    wins = tables[:, : k * k].reshape(b, k, k)
    if tables.shape[1] == k * k:
        ties = np.zeros_like(wins)
    else:
        upper = tables[:, k * k :].reshape(b, k, k)
        ties = upper + upper.transpose(0, 2, 1)
    if tie_model == "davidson":
        theta, nu = fit_davidson(wins, ties, ridge)
        return theta, np.asarray(nu)
    return fit_bradley_terry(with_ties_as_half_wins(wins, ties), ridge), np.full(b, np.nan)


def worker_cell_counts(judgements: AcuteJudgements) -> sparse.csr_matrix:
    """Sparse counts of each worker's outcomes: (workers × K²) (winner, loser) cells, followed by K² cells of
    ties (lower, higher model) when any judgement is a tie (the layout `fit_strengths` reads).

    Built as the canonical CSR matrix directly, from the sorted distinct (worker, cell) codes and their counts:
    a COO matrix of one entry per judgement took several int64 and float64 copies of every judgement (~50 MB at
    a million) to sum its duplicates."""
    k = len(judgements.models)
    tie = judgements.tie
    width = k * k * (2 if tie.any() else 1)
    dtype = index_dtype(len(judgements.workers) * width)
    # built in place, one array of codes at a time (each is 4 MB at a million judgements)
    cell = judgements.winner.astype(dtype)
    cell *= k
    cell += judgements.loser  # a tie's is nonsense here and replaced just below
    if width > k * k:
        cell[tie] = k * k + pair_cells(judgements.model_a[tie], judgements.model_b[tie], k)[2]
    codes = judgements.worker.astype(dtype)
    codes *= width
    codes += cell
    del cell
    codes, counts = np.unique(codes, return_counts=True)
    rows, columns = np.divmod(codes, width)
    indptr = np.zeros(len(judgements.workers) + 1, dtype=dtype)
    np.cumsum(np.bincount(rows, minlength=len(judgements.workers)), out=indptr[1:])
    return sparse.csr_matrix((counts.astype(np.float64), columns, indptr), shape=(len(judgements.workers), width))


def _fit_rounds(tables: np.ndarray, k: int, ridge: float, tie_model: str) -> np.ndarray:
    out = [fit_strengths(tables[s : s + _BATCH], k, ridge, tie_model)[0] for s in range(0, len(tables), _BATCH)]
    return np.concatenate(out) if out else np.zeros((0, k))


def bootstrap_strengths(
    judgements: AcuteJudgements, rounds: int, rng: np.random.Generator, ridge: float = DEFAULT_RIDGE,
    tie_model: str = "half",
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
    # the workers' weights drawn and applied _WEIGHT_BATCH rounds at a time (the same draws, in the same order, as
    # all at once): 200 rounds of 5,000 workers' weights were 8 MB as int64 and as many again as float64
    share = np.full(n_workers, 1.0 / n_workers)
    by_worker = np.concatenate([
        np.asarray((per_worker.T @ rng.multinomial(n_workers, share, size=min(_WEIGHT_BATCH, rounds - s)).astype(np.float64).T).T)
        for s in range(0, rounds, _WEIGHT_BATCH)])
    by_vote = rng.multinomial(n_total, totals / n_total, size=rounds).astype(np.float64)
    return _fit_rounds(by_worker, k, ridge, tie_model), _fit_rounds(by_vote, k, ridge, tie_model)


def jackknife_strengths(judgements: AcuteJudgements, ridge: float = DEFAULT_RIDGE,
                        below_workers: int | None = None, tie_model: str = "half") -> np.ndarray:
    """(workers × K) strengths with each worker's judgements left out in turn (BCa's acceleration); empty
    when there are `below_workers` workers or more (one fit per worker is then not worth it)."""
    k = len(judgements.models)
    per_worker = worker_cell_counts(judgements)
    per_worker = per_worker[np.flatnonzero(np.asarray(per_worker.sum(axis=1)).ravel() > 0)]
    if below_workers is not None and per_worker.shape[0] >= below_workers:
        return np.zeros((0, k))
    totals = np.asarray(per_worker.sum(axis=0)).ravel()
    return _fit_rounds(totals[None, :] - per_worker.toarray(), k, ridge, tie_model)


def percentile_interval(samples: np.ndarray, level: float = 0.95) -> np.ndarray:
    """(K × 2) percentile intervals of bootstrap samples (rounds × K)."""
    tail = (1 - level) / 2 * 100
    return np.percentile(samples, [tail, 100 - tail], axis=0).T


#: resampled strengths closer than this are one value: an interval narrower than it is a point
RESAMPLE_TOLERANCE = 1e-9


def distinct_resampled(samples: np.ndarray, intervals: np.ndarray) -> int:
    """Fewest distinct values (at `RESAMPLE_TOLERANCE`) any model took in the resamples (rounds × K), and 1
    when an interval is narrower than the tolerance: an interval whose resamples cannot vary says nothing."""
    if not samples.size:
        return 0
    distinct = min(np.unique(np.round(samples[:, i] / RESAMPLE_TOLERANCE)).size for i in range(samples.shape[1]))
    narrow = bool(((intervals[:, 1] - intervals[:, 0]) < RESAMPLE_TOLERANCE).any())
    return min(distinct, 1) if narrow else distinct


def rank_sets(intervals: np.ndarray) -> list[tuple[int, int]]:
    """Ranks each model could hold given interval overlap (1 = best).

    A model is certainly below every model whose interval lies wholly above its own, and certainly
    above every model whose interval lies wholly below; the rest could fall either way.
    """
    lo, hi = intervals[:, 0], intervals[:, 1]
    k = len(lo)
    return [(1 + int((lo > hi[i]).sum()), k - int((hi < lo[i]).sum())) for i in range(k)]


def rank_models(
    judgements: AcuteJudgements, wins: np.ndarray, rounds: int, seed: int, ridge: float = DEFAULT_RIDGE,
    tie_model: str = "half",
) -> Ranking:
    """Point strengths, worker and plain bootstrap intervals, ranks and rank sets (from worker CIs)."""
    k = len(judgements.models)
    ties = tie_matrix(judgements)
    cells = np.concatenate([wins.ravel(), np.triu(ties, 1).ravel()]) if ties.any() else wins.ravel()
    strengths, nu = fit_strengths(cells[None, :].astype(float), k, ridge, tie_model)
    strength = strengths[0]
    boot_w, boot_p = bootstrap_strengths(judgements, rounds, np.random.default_rng(seed), ridge, tie_model)
    method = "percentile"
    if len(boot_w):
        ci_w, ci_p = percentile_interval(boot_w), percentile_interval(boot_p)
        jackknife = jackknife_strengths(judgements, ridge, below_workers=BCA_BELOW_WORKERS, tie_model=tie_model)
        if len(jackknife) >= 2:  # few clusters: a skewed, biased bootstrap distribution
            ci_w, method = bca_interval(boot_w, strength, jackknife), "BCa"
        var_p = boot_p.var(axis=0)
        ok = var_p > 1e-12
        ratio = float(np.mean(boot_w.var(axis=0)[ok] / var_p[ok])) if ok.any() else float("nan")
    else:
        ci_w = ci_p = np.column_stack([strength, strength])
        ratio = float("nan")
    sets = rank_sets(ci_w)
    n = (wins + wins.T + ties).sum(axis=1)
    groups = comparison_groups(wins, ties)
    group_of = np.empty(k, dtype=int)
    for g, members in enumerate(groups):
        group_of[members] = g
    entries = [
        ModelRank(
            model=judgements.models[i], strength=float(strength[i]),
            ci_workers=(float(ci_w[i, 0]), float(ci_w[i, 1])), ci_plain=(float(ci_p[i, 0]), float(ci_p[i, 1])),
            rank=1 + int(((strength > strength[i] + 1e-12) & (group_of == group_of[i])).sum()), rank_set=sets[i],
            n=int(n[i]), wins=int(wins[i].sum()), ties=int(ties[i].sum()),
        )
        for i in range(k)
    ]
    index = {m: i for i, m in enumerate(judgements.models)}
    entries.sort(key=lambda e: (group_of[index[e.model]], e.rank, e.model))
    return Ranking(models=entries, rounds=rounds, ridge=ridge, variance_ratio=ratio, interval_method=method,
                   tie_model=tie_model, tie_parameter=float(nu[0]),
                   groups=[[e.model for e in entries if group_of[index[e.model]] == g] for g in range(len(groups))],
                   separations=[s.sentence(list(judgements.models))
                                for s in separations(wins, ties, ties_bound=tie_model == "half")],
                   distinct_workers=distinct_resampled(boot_w, ci_w), distinct_plain=distinct_resampled(boot_p, ci_p))
