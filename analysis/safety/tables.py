"""The machine-readable part of a safety report: CSV tables and `summary.json` (docs/formats.md, section 'Analysis reports').

Only builds tables and dicts; `analysis.report.writer` puts them on disk atomically. NaN (a rate over zero
items, a kappa with one category) becomes `null` in JSON, which has no NaN.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.report.writer import json_ready
from analysis.safety.records import LABELS
from analysis.safety.statistics import SafetyResults

#: what each rate is a share of; repeated in summary.json so a reader of the JSON alone knows
UNITS = {
    "unsafe_rate": "labels: share of all counted labels of the model that are any NOT OK bucket",
    "buckets": "labels: share of the model's counted labels in each bucket",
    "majority": "items: share of the model's items whose labels are mostly NOT OK, over items without a tie",
    "dawid_skene": "items: share of the model's items with Dawid–Skene P(NOT OK) > 0.5; expected_unsafe_rate = mean P(NOT OK)",
    "pairs": "items: Fisher's exact test on the majority counts of two models, Holm-adjusted over all pairs",
}


def _ci(row: pd.Series, prefix: str) -> list[Any]:
    return [json_ready(row[f"{prefix}_ci_low"]), json_ready(row[f"{prefix}_ci_high"])]


def csv_tables(results: SafetyResults) -> dict[str, pd.DataFrame]:
    """File name -> table, for every CSV of a safety report."""
    return {
        "models.csv": results.models,
        "comparisons.csv": results.comparisons,
        "items.csv": results.items.drop(columns=["item_code"]),
        "gold_items.csv": results.gold_items,
        "workers.csv": results.workers,
        "worker_confusion.csv": results.confusion,
        "agreement.csv": results.agreement,
    }


def summary(results: SafetyResults) -> dict[str, Any]:
    """summary.json: docs/formats.md, section 'Analysis reports' `models` entries plus the item-level, agreement and worker figures."""
    labels = results.labels
    o = results.options
    models = []
    for _, row in results.models.iterrows():
        models.append({
            "model": row["model"], "n": int(row["n"]), "unsafe_rate": json_ready(row["unsafe_rate"]),
            "ci_wilson": _ci(row, "unsafe"), "unsafe": int(row["unsafe"]), "unit": "label",
            "buckets": {b: {"n": int(row[b]), "rate": json_ready(row[f"{b}_rate"]), "ci_wilson": _ci(row, b)} for b in LABELS},
            "items": int(row["items"]),
            "majority": {"items": int(row["majority_items"]), "ties": int(row["majority_ties"]),
                         "unsafe": int(row["majority_unsafe"]), "unsafe_rate": json_ready(row["majority_unsafe_rate"]),
                         "ci_wilson": _ci(row, "majority_unsafe"), "bucket_ties": int(row["bucket_ties"])},
            "dawid_skene": {"unsafe": int(row["ds_unsafe"]), "unsafe_rate": json_ready(row["ds_unsafe_rate"]),
                            "ci_wilson": _ci(row, "ds_unsafe"),
                            "expected_unsafe_rate": json_ready(row["ds_expected_unsafe_rate"])},
        })
    ds = results.ds
    counted_workers = sorted({labels.workers[w] for w in labels.worker[results.counted].tolist()})
    return {
        "task": "safety",
        "n_labels": results.n_counted,
        "n_items": len(results.items),
        "n_workers": len(counted_workers),
        "excluded_workers": results.excluded_workers,
        "excluded_reason": {w: r for w, r in zip(results.workers["worker_id"], results.workers["excluded_reason"]) if r},
        "include_excluded": o.include_excluded,
        "n_onboarding_records": labels.n_onboarding,
        "n_gold_items": len(results.gold_items),
        "runs": labels.runs,
        "labels": list(LABELS),
        "units": UNITS,
        "models": models,
        "pairs": json_ready(results.comparisons.to_dict("records")),
        "agreement": json_ready(results.agreement.to_dict("records")),
        "dawid_skene": None if ds is None else {
            "iterations": ds.iterations, "converged": ds.converged, "log_likelihood": json_ready(ds.log_likelihood),
            "prior": {b: float(p) for b, p in zip(LABELS, ds.prior)},
            "smoothing": o.smoothing, "tol": o.tol, "max_iter": o.max_iter,
        },
        "flagged_workers": results.flagged_workers,
        "flag_thresholds": {"gold_threshold": o.gold_threshold, "min_gold": o.min_gold},
    }
