"""The machine-readable part of a BAD report: CSV tables and `summary.json` (docs/formats.md, section 'Analysis reports').

Only builds tables and dicts; `analysis.report.writer` puts them on disk atomically.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.bad.statistics import BCA_BELOW_CONVERSATIONS, BadResults
from analysis.bad.verdict import verdict_texts
from analysis.report.writer import json_ready
from analysis.stats.corrections import STAR_CORRECTION
from analysis.stats.multilabel import summary_rows
from analysis.stats.sufficiency import MIN_CONVERSATIONS_FOR_CLUSTER_BOOTSTRAP


def csv_tables(results: BadResults) -> dict[str, pd.DataFrame]:
    """File name -> table, for every CSV of a BAD report; buckets.csv only when some record has buckets."""
    return {
        "models.csv": results.models,
        "pairs.csv": results.pairs,
        "survival.csv": results.survival,
        "safety_layer.csv": results.safety,
        "safety_layer_by_model.csv": results.safety_by_model,
        "workers.csv": results.workers,
        "conversations.csv": results.conversations,
        "notok_turns.csv": results.notok_turns,
        "labels.csv": results.labels.records,
        **({"buckets.csv": results.buckets} if results.labels.buckets else {}),
    }

#: text columns of models.csv that are empty when there is nothing to say; null in summary.json
_NOTES = ("bootstrap_method", "bootstrap_not_enough_data", "bootstrap_degenerate", "design_effect_note",
          "safety_layer_not_enough_data", "not_enough_data")


def json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Table rows as JSON objects (NaN as null); `<name>_low`/`<name>_high` column pairs become `<name>: [low, high]`."""
    out = []
    for record in frame.to_dict(orient="records"):
        row: dict[str, Any] = {}
        for key, value in record.items():
            if key.endswith("_high") and key[:-5] + "_low" in record:
                continue
            if key.endswith("_low") and key[:-4] + "_high" in record:
                row[key[:-4]] = [json_ready(value), json_ready(record[key[:-4] + "_high"])]
            else:
                row[key] = json_ready(value)
        out.append(row)
    return out


def _noted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with the empty note columns (`_NOTES`) as null."""
    return [{k: (v or None) if k in _NOTES else v for k, v in row.items()} for row in rows]


def summary(results: BadResults) -> dict[str, Any]:
    """summary.json: docs/formats.md, section 'Analysis reports' `task` and `models` (`model`, `n`, `unsafe_rate`, `ci_wilson`) plus extras."""
    labels, options = results.labels, results.options
    t = labels.turns
    return {
        "task": "bad",
        "n_turns": len(t),
        "n_conversations": labels.n_conversations,
        "n_workers": int(t["worker_id"].nunique()),
        "runs": labels.runs,
        "checks": labels.checks,
        "checks_not_run": labels.checks_not_run,
        "excluded_incomplete_conversations": labels.excluded_conversations,
        "excluded_incomplete_turns": labels.excluded_turns,
        "conversations_unknown_time": int(results.conversations["seconds"].isna().sum()),
        "bootstrap_rounds": options.bootstrap_rounds,
        "seed": options.seed,
        "verdict": verdict_texts(results),
        "models": _noted(json_rows(results.models)),
        "bootstrap_min_conversations": MIN_CONVERSATIONS_FOR_CLUSTER_BOOTSTRAP.minimum,
        "bootstrap_bca_below_conversations": BCA_BELOW_CONVERSATIONS,
        "survival_band": "pointwise 95% Greenwood band, log-log transform",
        "pairs_test": "Fisher's exact test (two-sided) on conversations with at least one NOT OK",
        "pairs_correction": STAR_CORRECTION,
        "pairs": json_rows(results.pairs),
        "safety_layer": _noted(json_rows(results.safety)),
        "safety_layer_by_model": _noted(json_rows(results.safety_by_model)),
        "buckets": summary_rows(results.buckets),
        "flagged_workers": results.flagged_workers,
        "worker_flag_thresholds": {
            "same_label_turns": options.same_label_turns,
            "min_seconds_per_turn": options.min_seconds_per_turn,
        },
    }
