"""Position bias: is the conversation shown on the left chosen more often than its model deserves?

ACUTE randomises which side each model is shown on, so without bias the left one wins half the
time — *if* the randomisation held. When a model is always (or mostly) shown on one side, the raw
left-choice rate mixes side and model: a strong model always shown first makes "left" win often
without any side bias. So the test is **stratified by model pair**: for each unordered pair (A, B) a
2×2 table of which model was on the left × which model was chosen. Side bias means A is chosen more
often when A is on the left than when B is; the model's own strength cancels within the table.

- per pair: Fisher's exact test of that 2×2 table (the exact conditional test; two-sided), and the
  odds ratio (> 1 = the left model is favoured);
- pooled: the Cochran–Mantel–Haenszel test (chi-square, 1 df, no continuity correction) over all
  pairs, with the Mantel–Haenszel common odds ratio.

A pair shown in only one order says nothing about side bias (one row of its table is empty): it
contributes nothing to the pooled test, and with no pair shown both ways the report says "not enough
data". The raw left-choice rate against 0.5 (exact binomial) is kept as a description.

Every number here is among the **decisive** judgements: a tie chose no side, so it is left out (and
counted in `ties_left_out`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import chdtrc

from analysis.acute.grids import pair_cells
from analysis.acute.records import AcuteJudgements, index_dtype
from analysis.stats.exact_tests import binomial_summary, fisher_exact
from analysis.stats.sufficiency import MIN_PAIRS_SHOWN_BOTH_WAYS, Insufficient, check

BY_PAIR_COLUMNS = [
    "model_a", "model_b", "left_chosen", "n", "left_rate", "p_value", "ci_low", "ci_high",
    "a_left_a_chosen", "a_left_b_chosen", "b_left_a_chosen", "b_left_b_chosen", "odds_ratio_left", "p_fisher",
]


@dataclass
class PositionBias:
    left_chosen: int
    n: int
    left_rate: float
    p_value: float  # raw left rate against 0.5: descriptive, confounded when sides were not randomised
    ci_wilson: tuple[float, float]
    by_pair: pd.DataFrame  # BY_PAIR_COLUMNS
    pairs_both_ways: int  # model pairs shown in both orders (the informative strata)
    cmh_statistic: float  # NaN when not enough data
    cmh_p: float
    mh_odds_ratio: float  # > 1: the left model is favoured
    stratified: Insufficient | None  # not None when no pair was shown both ways
    ties_left_out: int = 0  # ties (both kinds): no side was chosen


def cmh_test(tables: np.ndarray) -> tuple[float, float, float]:
    """Cochran–Mantel–Haenszel test over (strata × 2 × 2) tables: (statistic, p, Mantel–Haenszel odds ratio).

    statistic = (Σ (n11 − E[n11]))² / Σ Var[n11] with hypergeometric E = r1·c1/n and
    Var = r1·r2·c1·c2 / (n²(n − 1)), chi-square with 1 df, no continuity correction. Strata with
    n < 2 or an empty row or column carry no information (Var = 0). NaN when no stratum does.
    """
    t = np.asarray(tables, dtype=np.float64).reshape(-1, 2, 2)
    n = t.sum(axis=(1, 2))
    r1, r2 = t[:, 0].sum(axis=1), t[:, 1].sum(axis=1)
    c1, c2 = t[:, :, 0].sum(axis=1), t[:, :, 1].sum(axis=1)
    ok = n >= 2
    e = np.where(ok, r1 * c1 / np.maximum(n, 1), 0.0)
    var = np.where(ok, r1 * r2 * c1 * c2 / np.maximum(n * n * (n - 1), 1), 0.0)
    total_var = var.sum()
    num = np.where(ok, t[:, 0, 0] * t[:, 1, 1] / np.maximum(n, 1), 0.0).sum()
    den = np.where(ok, t[:, 0, 1] * t[:, 1, 0] / np.maximum(n, 1), 0.0).sum()
    odds = num / den if den > 0 else (np.inf if num > 0 else np.nan)
    if total_var <= 0:
        return float("nan"), float("nan"), float("nan")
    stat = float((t[:, 0, 0] - e)[ok].sum() ** 2 / total_var)
    return stat, float(chdtrc(1, stat)), float(odds)


def position_bias(judgements: AcuteJudgements) -> PositionBias:
    """Left-chosen rate (descriptive) and the side-bias test stratified by model pair, among decisive judgements."""
    ties = int(judgements.tie.sum())
    counted = judgements.decisive & judgements.left_known  # a tie chose no side; an unknown side cannot be counted
    columns = (judgements.model_a, judgements.model_b, judgements.left, judgements.winner)
    # the four columns read here, not a subset of every column (~40 MB at a million judgements)
    model_a, model_b, left_side, winner = columns if counted.all() else (column[counted] for column in columns)
    k = len(judgements.models)
    chose_left = winner == left_side
    n_all = int(chose_left.size)
    left = int(chose_left.sum())
    p, wilson, _ = binomial_summary(left, n_all) if n_all else (float("nan"), (float("nan"),) * 2, None)
    lo, _, cell = pair_cells(model_a, model_b, k)
    # (pair cell, row: 0 = A left / 1 = B left, column: 0 = A chosen / 1 = B chosen)
    flat = cell.astype(index_dtype(k * k * 4), copy=False)
    flat *= 4  # in place, as the two terms below: 4 MB an array at a million judgements
    flat += (left_side != lo).astype(np.int8) * 2
    flat += winner != lo
    counts = np.bincount(flat, minlength=k * k * 4).reshape(k * k, 2, 2)
    n_pair = counts.sum(axis=(1, 2))
    rows, tables = [], []
    for c in np.flatnonzero(n_pair):
        t = counts[c]
        left_c = int(t[0, 0] + t[1, 1])
        pp, (wl, wh), _ = binomial_summary(left_c, int(n_pair[c]))
        both = t[0].sum() > 0 and t[1].sum() > 0
        odds, p_fisher = fisher_exact(t) if both else (float("nan"), float("nan"))
        tables.append(t)
        rows.append(
            {"model_a": judgements.models[c // k], "model_b": judgements.models[c % k],
             "left_chosen": left_c, "n": int(n_pair[c]), "left_rate": left_c / n_pair[c],
             "p_value": pp, "ci_low": wl, "ci_high": wh,
             "a_left_a_chosen": int(t[0, 0]), "a_left_b_chosen": int(t[0, 1]),
             "b_left_a_chosen": int(t[1, 0]), "b_left_b_chosen": int(t[1, 1]),
             "odds_ratio_left": float(odds), "p_fisher": float(p_fisher)}
        )
    by_pair = pd.DataFrame(rows, columns=BY_PAIR_COLUMNS)
    both_ways = int(sum(1 for t in tables if t[0].sum() > 0 and t[1].sum() > 0))
    stratified = check(MIN_PAIRS_SHOWN_BOTH_WAYS, both_ways)
    stat, p_cmh, odds = cmh_test(np.array(tables)) if tables and stratified is None else (float("nan"),) * 3
    if stratified is None and not np.isfinite(stat):
        # shown both ways, but within every such pair one model was always chosen: the conditional
        # distribution is a single point, so there is no evidence of side bias at all (Fisher p = 1)
        stat, p_cmh = 0.0, 1.0
    return PositionBias(left, n_all, left / n_all if n_all else float("nan"), p, wilson, by_pair,
                        both_ways, stat, p_cmh, odds, stratified, ties)
