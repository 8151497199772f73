"""The machine-readable part of an ACUTE report: CSV tables and `summary.json` (docs/formats.md, section 'Analysis reports').

Only builds tables and dicts; `analysis.report.writer` puts them on disk atomically.
"""

from __future__ import annotations

import math

from typing import Any

import numpy as np
import pandas as pd

from analysis.acute.grids import count_grid, win_rate_grid
from analysis.acute.records import BOTH_BAD, TIE
from analysis.acute.statistics import AcuteResults, Comparison
from analysis.acute.verdict import verdict
from analysis.report.writer import json_ready
from analysis.stats.corrections import STAR_CORRECTION


#: `win_rate_a` counts a tie as half a win; the test (`p_value`), `ci_wilson_*`, `ci_cp_*`, `cohens_h` and
#: `n_for_80_power` are of the decisive judgements (`win_rate_a_decisive`, the sign test)
SIGNIFICANCE_COLUMNS = [
    "model_a", "model_b", "wins_a", "wins_b", "n", "win_rate_a", "ci_wilson_low", "ci_wilson_high", "ci_cp_low",
    "ci_cp_high", "p_value", "p_holm", "p_bh", "stars_holm", "cohens_h", "n_for_80_power",
    "ties", "both_bad", "tie_rate", "n_decisive", "win_rate_a_decisive", "ci_win_rate_low", "ci_win_rate_high",
]
RANKING_COLUMNS = [
    "rank", "model", "strength", "ci_workers_low", "ci_workers_high", "ci_plain_low", "ci_plain_high",
    "rank_best", "rank_worst", "n", "wins", "ties", "elo",
]
#: judgements.csv: one row per record read (onboarding and excluded workers included), every field
JUDGEMENT_COLUMNS = [
    "run_id", "unit_id", "pair_id", "worker_id", "model_a", "model_b", "left", "winner", "reason", "question",
    "is_onboarding", "onboarding_passed", "started_at", "submitted_at", "seconds", "counted", "flagged_worker",
]


def significance_table(comparison: Comparison) -> pd.DataFrame:
    """significance.csv: one row per compared unordered pair, model_a < model_b."""
    rows = [
        {
            "model_a": t.model_a, "model_b": t.model_b, "wins_a": t.wins_a, "wins_b": t.wins_b, "n": t.n,
            "win_rate_a": t.win_rate_a, "ci_wilson_low": t.ci_wilson[0], "ci_wilson_high": t.ci_wilson[1],
            "ci_cp_low": t.ci_cp[0], "ci_cp_high": t.ci_cp[1], "p_value": t.p_value, "p_holm": t.p_holm,
            "p_bh": t.p_bh, "stars_holm": t.stars, "cohens_h": t.cohens_h, "n_for_80_power": t.n_for_80_power,
            "ties": t.ties, "both_bad": t.both_bad, "tie_rate": t.tie_rate, "n_decisive": t.n_decisive,
            "win_rate_a_decisive": t.win_rate_a_decisive, "ci_win_rate_low": t.ci_win_rate[0],
            "ci_win_rate_high": t.ci_win_rate[1],
        }
        for t in comparison.pairs
    ]
    return pd.DataFrame(rows, columns=SIGNIFICANCE_COLUMNS)


def ranking_table(comparison: Comparison) -> pd.DataFrame:
    """ranking.csv: best first; strengths are centred log-odds (P(i beats j) = σ(s_i − s_j)), `elo` the same on
    Chatbot Arena's Elo scale."""
    if comparison.empty is not None:
        return pd.DataFrame(columns=RANKING_COLUMNS)
    none = (None, None)
    rows = [
        {
            "rank": m.rank, "model": m.model, "strength": m.strength,
            "ci_workers_low": (m.ci_workers or none)[0], "ci_workers_high": (m.ci_workers or none)[1],
            "ci_plain_low": (m.ci_plain or none)[0], "ci_plain_high": (m.ci_plain or none)[1],
            "rank_best": (m.rank_set or none)[0], "rank_worst": (m.rank_set or none)[1], "n": m.n, "wins": m.wins,
            "ties": m.ties, "elo": m.elo,
        }
        for m in comparison.ranking.models
    ]
    return pd.DataFrame(rows, columns=RANKING_COLUMNS)


def judgements_table(results: AcuteResults) -> pd.DataFrame:
    """judgements.csv: the tidy table, one row per record read, all its fields, plus what the analysis made
    of it: `seconds` (empty = unknown), `counted` (behind the main statistics) and `flagged_worker`.

    Text columns are categorical (the reader's codes over its tables of distinct values): a million rows of
    Python strings took hundreds of MB and made the writer handle every cell on its own.
    """
    j = results.judgements
    flagged_ids = set(results.flagged_workers)
    flagged = np.array([w in flagged_ids for w in j.workers], dtype=bool)
    models = [*j.models, *j.onboarding_models]
    run_code = {run: i for i, run in enumerate(j.runs)}
    pair_run = np.array([run_code[run] for run in j.pair_keys.runs], dtype=np.int32)[j.pair_keys.run]
    return pd.DataFrame(
        {
            "run_id": _categorical(pair_run[j.pair], j.runs),
            "unit_id": _by_key(j.unit, j.unit_keys.ids),
            "pair_id": _by_key(j.pair, j.pair_keys.ids),
            "worker_id": _categorical(j.worker, j.workers),
            "model_a": _categorical(j.model_a, models),
            "model_b": _categorical(j.model_b, models),
            "left": _categorical(np.where(j.left >= 0, j.left, -1), models),  # unknown side: empty
            # a tie (code -1) and "both bad" (-2) come after the models
            "winner": _categorical(np.where(j.winner >= 0, j.winner, len(models) - 1 - j.winner), [*models, TIE, BOTH_BAD]),
            "reason": _categorical(j.reason, j.reason_texts),
            "question": _categorical(j.question, j.questions),
            "is_onboarding": j.is_onboarding,
            "onboarding_passed": pd.arrays.BooleanArray(j.onboarding_passed == 1, j.onboarding_passed < 0),
            "started_at": j.started_at,
            "submitted_at": j.submitted_at,
            "seconds": results.seconds,
            "counted": results.counted,
            "flagged_worker": flagged[j.worker],
        },
        columns=JUDGEMENT_COLUMNS,
        copy=False,  # the reader's and the analysis' columns as they are: copies were ~40 MB at a million records
    )


def _categorical(codes: np.ndarray, values: list[str]) -> pd.Categorical:
    """Codes into a list of distinct values as a categorical column; code -1 is missing (an empty cell)."""
    return pd.Categorical.from_codes(codes, categories=pd.Index(values, dtype=object))


def _codes(values: list[str]) -> np.ndarray:
    """Each value's index among the distinct values in first-seen order."""
    index: dict[str, int] = {}
    return np.array([index.setdefault(v, len(index)) for v in values], dtype=np.int32)


def _by_key(codes: np.ndarray, key_values: list[str]) -> pd.Categorical:
    """A column whose records hold codes into keys (unit, pair) that share values across runs: the
    values, each once, as the categories."""
    distinct = list(dict.fromkeys(key_values))
    return _categorical(_codes(key_values)[codes] if key_values else codes, distinct)


def csv_tables(results: AcuteResults) -> dict[str, pd.DataFrame]:
    """File name -> table, for every CSV of an ACUTE report."""
    models = results.judgements.models
    return {
        "significance.csv": significance_table(results.main),
        "grid.csv": win_rate_grid(models, results.main.wins, results.main.ties).rename_axis("row_beats_column"),
        "grid_counts.csv": count_grid(models, results.main.wins, results.main.ties).rename_axis("judgements"),
        "ranking.csv": ranking_table(results.main),
        "ratings_per_worker.csv": results.ratings_per_worker,
        "workers.csv": results.workers,
        "agreement_pairs.csv": results.agreement.per_pair.drop(columns=["pair"]),
        "position_bias.csv": results.position.by_pair,
        "significance_without_flagged.csv": significance_table(results.without_flagged),
        "ranking_without_flagged.csv": ranking_table(results.without_flagged),
        "judgements.csv": judgements_table(results),
    }


def _pairs(comparison: Comparison) -> list[dict[str, Any]]:
    return [
        {
            "model_a": t.model_a, "model_b": t.model_b, "wins_a": t.wins_a, "wins_b": t.wins_b, "n": t.n,
            "win_rate_a": t.win_rate_a, "p_value": t.p_value, "p_holm": t.p_holm, "p_bh": t.p_bh,
            "ci_wilson": list(t.ci_wilson), "ci_cp": list(t.ci_cp), "stars": t.stars, "cohens_h": t.cohens_h,
            "n_for_80_power": t.n_for_80_power, "ties": t.ties, "both_bad": t.both_bad, "tie_rate": t.tie_rate,
            "n_decisive": t.n_decisive, "win_rate_a_decisive": t.win_rate_a_decisive, "ci_win_rate": list(t.ci_win_rate),
        }
        for t in comparison.pairs
    ]


def _ranking(comparison: Comparison) -> list[dict[str, Any]] | None:
    """Ranking entries; `ci` and `rank_set` are null when the worker bootstrap had too few workers (the
    reason is in `worker_bootstrap`) or the data give no full order (`ranking_groups`, `separation`); `rank`
    is within the model's comparison group; None when no judgement is left."""
    if comparison.empty is not None:
        return None
    return [
        {
            "model": m.model, "strength": m.strength, "ci": list(m.ci_workers) if m.ci_workers else None,
            "rank": m.rank, "ci_plain": list(m.ci_plain) if m.ci_plain else None, "rank_set": list(m.rank_set) if m.rank_set else None,
            "n": m.n, "wins": m.wins, "ties": m.ties, "elo": m.elo,
        }
        for m in comparison.ranking.models
    ]


def _worker_bootstrap(comparison: Comparison) -> dict[str, Any]:
    """{"workers": N} or {"not_enough_data": "needs at least 10 workers (have 3)"}."""
    if comparison.worker_bootstrap is not None:
        return comparison.worker_bootstrap.as_json()
    out: dict[str, Any] = {"workers": comparison.n_workers, "rounds": comparison.ranking.rounds,
                           "method": comparison.ranking.interval_method}
    if comparison.plain_bootstrap is not None:
        out["plain"] = comparison.plain_bootstrap.as_json()
    return out


def _without_flagged(results: AcuteResults) -> dict[str, Any]:
    alt = results.without_flagged
    out: dict[str, Any] = {
        "n_judgements": alt.n_judgements,
        "n_workers": alt.n_workers,
        "pairs": _pairs(alt),
        "ranking": _ranking(alt),
    }
    if alt.empty is not None:
        out.update(alt.empty.as_json())
    else:
        out["worker_bootstrap"] = _worker_bootstrap(alt)
        out["ranking_groups"], out["separation"] = alt.ranking.groups, alt.ranking.separations
    return out


def _agreement(results: AcuteResults) -> dict[str, Any]:
    a = results.agreement
    out: dict[str, Any] = {
        "pairs_with_2_or_more": a.n_pairs_multi, "mean_majority_share": a.mean_majority_share,
        "fleiss_kappa": a.fleiss_kappa, "krippendorff_alpha_nominal": a.krippendorff_alpha,
        "krippendorff_alpha_ci": list(a.alpha_ci) if all(math.isfinite(x) for x in a.alpha_ci) else None,
    }
    if a.insufficient is not None:
        out.update({"mean_majority_share": None, "fleiss_kappa": None, "krippendorff_alpha_nominal": None,
                    "krippendorff_alpha_ci": None})
        out.update(a.insufficient.as_json())
    return out


def _position(results: AcuteResults) -> dict[str, Any]:
    p = results.position
    stratified: dict[str, Any] = {
        "test": "Cochran-Mantel-Haenszel over model pairs (2x2: which model was left x which was chosen), "
                "chi-square 1 df, no continuity correction; per pair Fisher's exact test",
        "pairs_shown_both_ways": p.pairs_both_ways,
        "cmh_statistic": p.cmh_statistic, "p_value": p.cmh_p, "mh_odds_ratio_left": p.mh_odds_ratio,
    }
    if p.stratified is not None:
        stratified.update(p.stratified.as_json())
    return {
        "left_chosen": p.left_chosen, "n": p.n, "left_rate": p.left_rate, "p_value": p.p_value,
        "ci_wilson": list(p.ci_wilson), "stratified": stratified, "ties_left_out": p.ties_left_out,
    }


def _times(results: AcuteResults) -> dict[str, Any]:
    out: dict[str, Any] = {
        **results.times,
        "median_seconds": results.median_seconds,
        "unknown_means": "a null started_at/submitted_at, or a duration of exactly 0 seconds (a placeholder)",
    }
    if results.times_insufficient is not None:
        out.update(results.times_insufficient.as_json())
    return out


def _ties(comparison: Comparison) -> dict[str, Any]:
    """How ties were counted: totals, and which win rate each number is of."""
    ties = comparison.ties if comparison.ties is not None else np.zeros((0, 0))
    both_bad = comparison.both_bad if comparison.both_bad is not None else np.zeros((0, 0))
    n_ties = int(np.triu(ties, 1).sum())
    return {
        "ties": n_ties,
        "both_bad": int(np.triu(both_bad, 1).sum()),
        "tie_rate": n_ties / comparison.n_judgements if comparison.n_judgements else None,
        "win_rate": "win_rate_a counts a tie (either kind) as half a win for each model (Chatbot Arena's convention); "
                    "ci_win_rate is its 95% tie-aware score interval",
        "test": "sign test: exact binomial test against 0.5 of the decisive judgements (ties left out); ci_wilson, "
                "ci_cp, cohens_h and n_for_80_power are of win_rate_a_decisive",
    }


def summary(results: AcuteResults) -> dict[str, Any]:
    """summary.json: docs/formats.md, section 'Analysis reports' keys first, then extras (allowed by the format); NaN becomes null."""
    j = results.judgements
    questions = j.questions
    return json_ready(
        {
            "task": "acute",
            "question": questions[0] if len(questions) == 1 else " | ".join(questions),
            "n_judgements": results.main.n_judgements,
            "n_workers": results.main.n_workers,
            "excluded_workers": results.excluded_workers,
            "pairs": _pairs(results.main),
            "ranking": _ranking(results.main),
            # extras
            "questions": questions,
            "runs": j.runs,
            "models": j.models,
            "excluded_reason": "failed onboarding (onboarding_passed: false); all their judgements are excluded",
            "n_onboarding_judgements": int(j.is_onboarding.sum()),
            "stars": {"correction": STAR_CORRECTION, "levels": {"*": 0.05, "**": 0.01, "***": 0.001}},
            "ties": _ties(results.main),
            "ranking_method": {
                "model": "Bradley-Terry, penalised maximum likelihood",
                "ridge": results.main.ranking.ridge,
                "tie_model": results.main.ranking.tie_model,
                "tie_parameter": results.main.ranking.tie_parameter,
                "strength_scale": "centred log-odds: P(i beats j) = 1 / (1 + exp(s_j - s_i))",
                "elo_scale": "elo = 1000 + 400 * strength / ln(10): P(i beats j) = 1 / (1 + 10^((elo_j - elo_i) / 400))",
                "ci": "95% percentile bootstrap resampling workers",
                "ci_plain": "95% percentile bootstrap resampling judgements",
                "bootstrap_rounds": results.main.ranking.rounds,
                "seed": results.options.seed,
                "variance_ratio_workers_vs_plain": results.main.ranking.variance_ratio,
            },
            "verdict": [s.text for s in verdict(results)],
            "ranking_groups": results.main.ranking.groups,
            "separation": results.main.ranking.separations,
            "worker_bootstrap": _worker_bootstrap(results.main),
            "flagged_workers": results.flagged_workers,
            "flag_thresholds": vars(results.options.thresholds),
            "agreement": _agreement(results),
            "position_bias": _position(results),
            "times": _times(results),
            "without_flagged": _without_flagged(results),
        }
    )
