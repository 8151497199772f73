"""The machine-readable part of an `analysis auto` report: CSV tables and `summary.json` (docs/analysis_auto.md).

Only builds tables and dicts; `analysis.report.writer` puts them on disk atomically (and makes NaN null).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.auto.statistics import MIN_EVENTS_FOR_RATE_RATIO, AutoResults
from analysis.auto.word_lists import GENDERED_LISTS
from analysis.stats.corrections import STAR_CORRECTION


def reply_table(results: AutoResults) -> pd.DataFrame:
    """replies.csv: every reply with its model, where it is, the gendered words found and the checks that flagged it."""
    r = results.replies.replies
    out = r[["model", "control", "source", "where", "format", "text"]].copy()
    for name in GENDERED_LISTS:
        out[name.replace(" ", "_")] = results.matched[name]
    out["flagged_by"] = results.matched["flagged_by"]
    return out


def model_controls(results: AutoResults) -> dict[str, list[str]]:
    """model -> the control strings its replies were generated with (empty: none recorded)."""
    r = results.replies.replies
    return {m: sorted(c for c in r.loc[r["model"] == m, "control"].unique() if c) for m in results.replies.models}


def csv_tables(results: AutoResults) -> dict[str, pd.DataFrame]:
    """File name -> table; reductions.csv has only its header without a baseline, so every report folder holds the
    same files and one run can replace another's."""
    return {
        "rates.csv": results.rates,
        "reductions.csv": results.reductions,
        "replies.csv": reply_table(results),
    }


def summary(results: AutoResults) -> dict[str, Any]:
    """summary.json: what was read, the measures and their definitions, every rate and every reduction."""
    replies = results.replies
    return {
        "task": "auto",
        "n_replies": len(replies.replies),
        "models": replies.models,
        "controls": model_controls(results),
        "files": replies.files,
        "measures": [{"name": name, "kind": kind} for name, kind in results.measures.items()],
        "word_lists": {name: sorted(words) for name, words in GENDERED_LISTS.items()},
        "word_matching": "whole words, case-insensitive (no letter, digit or _ on either side)",
        "checks_run": results.checks_run,
        "recorded_checks": replies.recorded_checks,
        "interval": "95% Wilson score interval of each share",
        "rates": results.rates.to_dict(orient="records"),
        "baseline": results.options.baseline,
        "reduction_factor": "baseline share / model share, 95% log-scale (Katz) interval",
        "reduction_min_events": MIN_EVENTS_FOR_RATE_RATIO.minimum,
        "reductions_test": "Fisher's exact test (two-sided) of each model against the baseline, per measure",
        "reductions_correction": STAR_CORRECTION,
        "reductions": [{**row, "not_enough_data": row["not_enough_data"] or None}
                       for row in results.reductions.to_dict(orient="records")],
    }
