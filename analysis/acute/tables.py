"""The machine-readable part of an ACUTE report: CSV tables and `summary.json` (docs/formats.md, section 'Analysis reports').

Only builds tables and dicts; `analysis.report.writer` puts them on disk atomically.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.acute.grids import count_grid, win_rate_grid
from analysis.acute.statistics import AcuteResults, Comparison
from analysis.report.writer import json_ready
from analysis.stats.corrections import STAR_CORRECTION


def significance_table(comparison: Comparison) -> pd.DataFrame:
    """significance.csv: one row per compared unordered pair, model_a < model_b."""
    rows = [
        {
            "model_a": t.model_a, "model_b": t.model_b, "wins_a": t.wins_a, "wins_b": t.wins_b, "n": t.n,
            "win_rate_a": t.win_rate_a, "ci_wilson_low": t.ci_wilson[0], "ci_wilson_high": t.ci_wilson[1],
            "ci_cp_low": t.ci_cp[0], "ci_cp_high": t.ci_cp[1], "p_value": t.p_value, "p_holm": t.p_holm,
            "p_bh": t.p_bh, "stars_holm": t.stars, "cohens_h": t.cohens_h, "n_for_80_power": t.n_for_80_power,
        }
        for t in comparison.pairs
    ]
    return pd.DataFrame(rows)


def ranking_table(comparison: Comparison) -> pd.DataFrame:
    """ranking.csv: best first; strengths are centred log-odds (P(i beats j) = σ(s_i − s_j))."""
    rows = [
        {
            "rank": m.rank, "model": m.model, "strength": m.strength,
            "ci_workers_low": m.ci_workers[0], "ci_workers_high": m.ci_workers[1],
            "ci_plain_low": m.ci_plain[0], "ci_plain_high": m.ci_plain[1],
            "rank_best": m.rank_set[0], "rank_worst": m.rank_set[1], "n": m.n, "wins": m.wins,
        }
        for m in comparison.ranking.models
    ]
    return pd.DataFrame(rows)


def csv_tables(results: AcuteResults) -> dict[str, pd.DataFrame]:
    """File name -> table, for every CSV of an ACUTE report."""
    models = results.judgements.models
    return {
        "significance.csv": significance_table(results.main),
        "grid.csv": win_rate_grid(models, results.main.wins).rename_axis("row_beats_column"),
        "grid_counts.csv": count_grid(models, results.main.wins).rename_axis("judgements"),
        "ranking.csv": ranking_table(results.main),
        "ratings_per_worker.csv": results.ratings_per_worker,
        "workers.csv": results.workers,
        "agreement_pairs.csv": results.agreement.per_pair.drop(columns=["pair"]),
        "position_bias.csv": results.position.by_pair,
        "significance_without_flagged.csv": significance_table(results.without_flagged),
        "ranking_without_flagged.csv": ranking_table(results.without_flagged),
    }


def _pairs(comparison: Comparison) -> list[dict[str, Any]]:
    return [
        {
            "model_a": t.model_a, "model_b": t.model_b, "wins_a": t.wins_a, "wins_b": t.wins_b, "n": t.n,
            "win_rate_a": t.win_rate_a, "p_value": t.p_value, "p_holm": t.p_holm, "p_bh": t.p_bh,
            "ci_wilson": list(t.ci_wilson), "ci_cp": list(t.ci_cp), "stars": t.stars, "cohens_h": t.cohens_h,
            "n_for_80_power": t.n_for_80_power,
        }
        for t in comparison.pairs
    ]


def _ranking(comparison: Comparison) -> list[dict[str, Any]]:
    return [
        {
            "model": m.model, "strength": m.strength, "ci": list(m.ci_workers), "rank": m.rank,
            "ci_plain": list(m.ci_plain), "rank_set": list(m.rank_set), "n": m.n, "wins": m.wins,
        }
        for m in comparison.ranking.models
    ]


def summary(results: AcuteResults) -> dict[str, Any]:
    """summary.json: docs/formats.md, section 'Analysis reports' keys first, then extras (allowed by the format); NaN becomes null."""
    j = results.judgements
    questions = j.questions
    a, p = results.agreement, results.position
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
            "ranking_method": {
                "model": "Bradley-Terry, penalised maximum likelihood",
                "ridge": results.main.ranking.ridge,
                "strength_scale": "centred log-odds: P(i beats j) = 1 / (1 + exp(s_j - s_i))",
                "ci": "95% percentile bootstrap resampling workers",
                "ci_plain": "95% percentile bootstrap resampling judgements",
                "bootstrap_rounds": results.main.ranking.rounds,
                "seed": results.options.seed,
                "variance_ratio_workers_vs_plain": results.main.ranking.variance_ratio,
            },
            "flagged_workers": results.flagged_workers,
            "flag_thresholds": vars(results.options.thresholds),
            "agreement": {
                "pairs_with_2_or_more": a.n_pairs_multi, "mean_majority_share": a.mean_majority_share,
                "fleiss_kappa": a.fleiss_kappa, "krippendorff_alpha_nominal": a.krippendorff_alpha,
            },
            "position_bias": {
                "left_chosen": p.left_chosen, "n": p.n, "left_rate": p.left_rate, "p_value": p.p_value,
                "ci_wilson": list(p.ci_wilson),
            },
            "without_flagged": {
                "n_judgements": results.without_flagged.n_judgements,
                "n_workers": results.without_flagged.n_workers,
                "pairs": _pairs(results.without_flagged),
                "ranking": _ranking(results.without_flagged),
            },
        }
    )
