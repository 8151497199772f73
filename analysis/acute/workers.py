"""Per-worker quality: volume, onboarding, agreement with the crowd, side bias, speed, and flags.

Flags are a list for a person to review, so each criterion is a test with a family-wise guarantee
rather than a bare cut-off: with Holm's correction across workers at `alpha`, the chance that even
one careful worker is flagged by that test is at most `alpha`. A worker with few judgements cannot
be told apart from chance and is therefore not flagged for agreement or side bias.

- agreement: on pairs that others judged too, how often the worker chose what the plurality of the
  *other* judgements of that pair chose, a tie (either kind) being a choice of its own (no single
  most-chosen answer among the others: skipped). Flagged when it is
  significantly below the agreement rate of all other workers (one-sided exact binomial test).
- side bias: left-choice rate against 0.5 (two-sided exact binomial test) among decisive judgements, on
  the model pairs shown in both orders only (a model always shown first would otherwise look like a side bias).
- speed: median seconds per comparison below `min_seconds`, over the comparisons whose time is known
  (a worker with no known time is not flagged).
- onboarding: a failed onboarding (those workers are excluded from every statistic anyway).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.acute.agreement import N_ANSWERS, answer_category
from analysis.acute.grids import pair_cells
from analysis.acute.records import AcuteJudgements, index_dtype
from analysis.stats.corrections import holm
from analysis.stats.distributions import binom_cdf
from analysis.stats.exact_tests import two_sided_half_p
from analysis.stats.grouped import group_median


@dataclass(frozen=True)
class FlagThresholds:
    """When a worker is flagged; every field is a CLI option of `python -m analysis acute`."""

    min_seconds: float = 10.0  # flag a median below this many seconds per comparison
    agreement_alpha: float = 0.05  # Holm-adjusted one-sided p of "agrees less than the others"
    min_shared: int = 10  # judgements on shared pairs needed before agreement is tested
    position_alpha: float = 0.05  # Holm-adjusted two-sided p of "left-choice rate ≠ 0.5"


def loo_majority_agreement(
    judgements: AcuteJudgements, pool: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each record in `rows`: 1 agrees / 0 disagrees with the plurality of the other pool votes, -1 none.

    `pool` marks the judgements that form pluralities (workers who passed onboarding); a record's own
    vote is removed from its pair's tally before comparing. The answers are the categories of
    `agreement.answer_category` (first model, second model, tie); with two answers the plurality is the
    strict majority. Returns that verdict and how many other pool votes the pair has, per record of `rows`.

    A record's verdict depends only on its pair, whether it is in the pool and its answer, so it is worked out
    once per pair for each of those six cases and then looked up per record: the per-record arithmetic on a
    (records × answers) table took ~90 MB at a million judgements.
    """
    answer = answer_category(judgements)
    n_pairs = len(judgements.pair_keys)
    tally = [np.bincount(judgements.pair[pool & (answer == c)], minlength=n_pairs) for c in range(N_ANSWERS)]
    total = sum(tally)
    cases = 2 * N_ANSWERS  # (own vote in the pool or not) × own answer
    verdict = np.empty((n_pairs, cases), dtype=np.int8)
    others_n = np.empty((n_pairs, cases), dtype=index_dtype(len(judgements)))
    for in_pool in (0, 1):
        for own in range(N_ANSWERS):
            others = [tally[c] - in_pool * (c == own) for c in range(N_ANSWERS)]
            top = np.maximum.reduce(others)
            at_top = sum((o == top).astype(np.int8) for o in others)
            plurality = np.argmax(np.stack(others), axis=0)
            case = in_pool * N_ANSWERS + own
            others_n[:, case] = total - in_pool
            verdict[:, case] = np.where((at_top == 1) & (others_n[:, case] > 0), plurality == own, -1)
    # one flat index into the (pair, case) tables: indexing them by two arrays made an intp copy of each
    index = judgements.pair[rows].astype(np.intp)
    index *= cases
    index += pool[rows].astype(np.int8) * N_ANSWERS + answer[rows]
    return verdict.ravel()[index], others_n.ravel()[index]


def sides_randomised(judgements: AcuteJudgements, pool: np.ndarray) -> np.ndarray:
    """Per record: does its model pair appear in both left/right orders among the `pool` records?"""
    k = max(len(judgements.models) + len(judgements.onboarding_models), 1)
    lo, hi, cell = pair_cells(judgements.model_a, judgements.model_b, k)
    lo_left = np.bincount(cell[pool & (judgements.left == lo)], minlength=k * k) > 0
    hi_left = np.bincount(cell[pool & (judgements.left == hi)], minlength=k * k) > 0
    return (lo_left & hi_left)[cell]


def _agreement_counts(judgements: AcuteJudgements, pool: np.ndarray, comparisons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per worker: their `comparisons` on which the others' plurality is decided (`loo_majority_agreement`), and
    how many of those agree with it (as float)."""
    agree = loo_majority_agreement(judgements, pool, comparisons)[0]
    w = judgements.worker[comparisons]
    n_workers = len(judgements.workers)
    return np.bincount(w[agree >= 0], minlength=n_workers), np.bincount(w[agree == 1], minlength=n_workers).astype(np.float64)


#: rows `_median_per_worker` sorts at a time
_MEDIAN_ROWS = 250_000


def _median_per_worker(worker: np.ndarray, seconds: np.ndarray, rows: np.ndarray, n_workers: int) -> np.ndarray:
    """Each worker's median of `seconds` over the `rows` (a mask); NaN for a worker without any. Workers are
    taken a range of codes at a time, about `_MEDIAN_ROWS` rows each: a worker's median needs only their own
    values, and sorting all of a million rows at once took ~35 MB of copies."""
    counts = np.bincount(worker[rows], minlength=n_workers)
    parts = np.searchsorted(np.cumsum(counts), np.arange(_MEDIAN_ROWS, int(counts.sum()), _MEDIAN_ROWS), side="right")
    out = np.full(n_workers, np.nan)
    for lo, hi in zip([0, *parts.tolist()], [*parts.tolist(), n_workers]):
        if hi > lo:
            part = rows & (worker >= lo) & (worker < hi)
            out[lo:hi] = group_median(worker[part] - lo, seconds[part], hi - lo)
    return out


def worker_table(
    judgements: AcuteJudgements,
    seconds: np.ndarray,
    included: np.ndarray,
    thresholds: FlagThresholds,
) -> pd.DataFrame:
    """One row per worker (workers.csv); `included` marks judgements of workers that passed onboarding.

    Every per-record array here is a mask or a column picked by a mask, none kept longer than the count per
    worker it is for: a million judgements make an int64 or float64 array 8 MB."""
    w_all = len(judgements.workers)
    comparisons = ~judgements.is_onboarding
    n = np.bincount(judgements.worker[comparisons], minlength=w_all)
    n_onboarding = np.bincount(judgements.worker[judgements.is_onboarding], minlength=w_all)
    failed = np.bincount(judgements.worker[judgements.onboarding_passed == 0], minlength=w_all) > 0
    reported = np.bincount(judgements.worker[judgements.onboarding_passed >= 0], minlength=w_all) > 0
    onboarding = np.where(failed, "failed", np.where(reported, "passed", "not reported"))

    n_shared, n_agree = _agreement_counts(judgements, included & comparisons, comparisons)
    total_agree, total_shared = n_agree.sum(), n_shared.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = np.where(n_shared > 0, n_agree / np.maximum(n_shared, 1), np.nan)
        others_rate = (total_agree - n_agree) / (total_shared - n_shared)
    testable = (n_shared >= thresholds.min_shared) & np.isfinite(others_rate)
    p_agree = np.where(testable, binom_cdf(n_agree, n_shared, np.nan_to_num(others_rate, nan=0.5)), np.nan)

    # side bias only on model pairs the study showed in both orders: where one model was always on the
    # left, "chose left" is "chose that model" and says nothing about the side (position_bias.py)
    both = (sides_randomised(judgements, included & comparisons) & judgements.decisive & judgements.left_known
            & comparisons)
    n_side = np.bincount(judgements.worker[both], minlength=w_all)
    left = np.bincount(judgements.worker[both & (judgements.winner == judgements.left)], minlength=w_all).astype(np.float64)
    p_left = two_sided_half_p(left, n_side)
    known = comparisons & np.isfinite(seconds)  # unknown times (null, or a 0-second placeholder) are skipped
    median_s = _median_per_worker(judgements.worker, seconds, known, w_all)

    def adjusted(p: np.ndarray) -> np.ndarray:
        out = np.full(p.shape, np.nan)
        ok = np.isfinite(p)
        out[ok] = holm(p[ok])
        return out

    p_agree_holm, p_left_holm = adjusted(p_agree), adjusted(p_left)
    flags: list[str] = []
    for i in range(w_all):
        f = []
        if failed[i]:
            f.append("failed onboarding")
        if p_agree_holm[i] < thresholds.agreement_alpha:
            f.append("low agreement")
        if p_left_holm[i] < thresholds.position_alpha:
            f.append("side bias")
        if median_s[i] < thresholds.min_seconds:
            f.append("too fast")
        flags.append("; ".join(f))
    table = pd.DataFrame(
        {
            "worker_id": judgements.workers,
            "judgements": n,
            "onboarding_judgements": n_onboarding,
            "onboarding": onboarding,
            "shared_judgements": n_shared,
            "agreement": agreement,
            "agreement_others": others_rate,
            "agreement_p_holm": p_agree_holm,
            "left_chosen": left.astype(np.int64),
            "left_rate": np.where(n_side > 0, left / np.maximum(n_side, 1), np.nan),
            "left_p": p_left,
            "left_p_holm": p_left_holm,
            "median_seconds": median_s,
            "flags": flags,
        }
    )
    flagged_first = np.lexsort((-n, table["flags"].eq("").to_numpy()))
    return table.iloc[flagged_first].reset_index(drop=True)


def ratings_per_worker(judgements: AcuteJudgements) -> pd.DataFrame:
    """ParlAI's ratings per worker: for each worker and model, comparisons, wins, ties and win rate (a tie
    counting half, as everywhere)."""
    k = len(judgements.models)
    size = len(judgements.workers) * k
    w = judgements.worker.astype(index_dtype(size))
    w *= k  # in place (4 MB an array at a million judgements); + a model code: the (worker, model) cell
    n = np.bincount(w + judgements.model_a, minlength=size)
    n += np.bincount(w + judgements.model_b, minlength=size)
    decisive, tie = judgements.decisive, judgements.tie
    wins = np.bincount(w[decisive] + judgements.winner[decisive], minlength=size)
    ties = (np.bincount(w[tie] + judgements.model_a[tie], minlength=size)
            + np.bincount(w[tie] + judgements.model_b[tie], minlength=size))
    idx = np.flatnonzero(n)
    return pd.DataFrame(
        {
            "worker_id": [judgements.workers[i // k] for i in idx],
            "model": [judgements.models[i % k] for i in idx],
            "comparisons": n[idx],
            "wins": wins[idx],
            "ties": ties[idx],
            "win_rate": (wins[idx] + ties[idx] / 2) / n[idx],
        }
    )
