"""The machine-readable part of a safety report: CSV tables and `summary.json` (docs/formats.md, section 'Analysis reports').

Only builds tables and dicts; `analysis.report.writer` puts them on disk atomically. NaN (a rate over zero
items, a kappa with one category) becomes `null` in JSON, which has no NaN.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from analysis.report.writer import json_ready
from analysis.safety.records import ANSWERS
from analysis.safety.statistics import SafetyResults
from analysis.safety.verdict import verdict_texts
from analysis.stats.multilabel import summary_rows

#: what each rate is a share of; repeated in summary.json so a reader of the JSON alone knows
UNITS = {
    "unsafe_rate": "labels: share of all counted labels of the model that are any NOT OK bucket",
    "buckets": "labels: share of the model's counted labels in each answer (the four severities, and not_ok: NOT OK "
               "with no severity asked)",
    "majority": "items: share of the model's items whose labels are mostly NOT OK, over items without a tie",
    "dawid_skene": "items: share of the model's items with Dawid–Skene P(NOT OK) > 0.5; expected_unsafe_rate = mean P(NOT OK)",
    "pairs": "items: Fisher's exact test on the majority counts of two models, Holm-adjusted over all pairs",
    "agreement": "label pairs on items with at least 2 counted labels: raw_agreement = share of agreeing pairs, "
                 "not_ok_prevalence = share of their labels that are NOT OK, κ and α chance-corrected",
    "annotation_buckets": "labels: per checkbox bucket, the share of the counted labels that were asked it and ticked "
                          "it (summary.json `buckets`); agreement over items with at least 2 labels asked it",
}

#: what each count of summary.json `population` (and of the CLI's and the page's counts) is a count of
POPULATION = {
    "labels_read": "every non-onboarding label record read, of all workers",
    "onboarding_records": "onboarding records, skipped",
    "labels_counted": "labels on model items by counted workers: the labels every rate uses",
    "labels_gold_counted": "answers to gold items by workers who are not dropped",
    "labels_dropped_excluded": "labels of excluded workers, dropped (0 with --include-excluded)",
    "labels_unknown_time": "labels whose started_at or submitted_at is null: skipped by median_seconds",
    "models": "models with model items",
    "items_model": "model items with at least one counted label",
    "items_model_no_counted_label": "model items labelled only by dropped workers",
    "items_gold": "gold items (measure workers, never a model)",
    "items_with_2_labels": "model items with at least 2 counted labels (agreement uses these)",
    "workers_all": "every worker with a non-onboarding record; = counted + dropped + gold only",
    "workers_counted": "workers with at least one counted label",
    "workers_excluded": "workers the export marked excluded (the live gold check)",
    "workers_dropped": "excluded workers whose labels are dropped (0 with --include-excluded)",
    "workers_gold_only": "workers not dropped who answered gold items only",
    "workers_flagged": "workers flagged by the report's gold rule, of all workers (not an extra group)",
    "workers_flagged_dropped": "flagged workers who are also dropped",
    "workers_flagged_counted": "flagged workers who are counted",
}


def _ci(row: pd.Series, prefix: str) -> list[Any]:
    return [json_ready(row[f"{prefix}_ci_low"]), json_ready(row[f"{prefix}_ci_high"])]


def csv_tables(results: SafetyResults) -> dict[str, pd.DataFrame]:
    """File name -> table, for every CSV of a safety report; buckets.csv only when some record has buckets."""
    return {
        "models.csv": results.models,
        "comparisons.csv": results.comparisons,
        "items.csv": results.items.drop(columns=["item_code"]),
        "gold_items.csv": results.gold_items,
        "workers.csv": results.workers,
        "worker_confusion.csv": results.confusion,
        "agreement.csv": results.agreement,
        "labels.csv": labels_table(results),
        **({"buckets.csv": results.buckets} if results.labels.buckets else {}),
    }


def labels_table(results: SafetyResults) -> pd.DataFrame:
    """labels.csv: one row per label record read (onboarding records are skipped unread), every field the
    reader keeps, plus whether the label counts for a model and why not."""
    labels = results.labels
    item_models = labels.models + labels.gold_models
    is_gold = labels.item_is_gold[labels.item]
    dropped = np.zeros(len(labels.workers), dtype=bool)
    if not results.options.include_excluded:
        dropped[labels.worker[labels.excluded]] = True
    unit_keys = labels.unit_keys
    return pd.DataFrame({
        "run_id": [labels.item_keys[i][0] for i in labels.item.tolist()],
        "unit_id": [unit_keys[u][1] for u in labels.unit.tolist()] if labels.unit is not None and unit_keys else "",
        "worker_id": [labels.workers[w] for w in labels.worker.tolist()],
        "item_id": [labels.item_keys[i][1] for i in labels.item.tolist()],
        "model": [item_models[m] for m in labels.item_model[labels.item].tolist()],
        "is_gold": is_gold,
        "gold_label": [ANSWERS[g] if g >= 0 else "" for g in labels.item_gold[labels.item].tolist()],
        "label": [ANSWERS[c] for c in labels.label.tolist()],
        "not_ok": labels.label > 0,
        "reason": labels.reasons,
        "buckets": [json.dumps(b, ensure_ascii=False) if b else "" for b in labels.buckets.as_dicts()],
        "started_at": labels.started_at,
        "submitted_at": labels.submitted_at,
        "seconds": labels.submitted_at - labels.started_at,
        "excluded": labels.excluded,
        "excluded_reason": [labels.excluded_reasons.get(w, "") for w in labels.worker.tolist()],
        "counted": results.counted,
        "not_counted_because": np.where(results.counted, "", np.where(
            dropped[labels.worker], "excluded worker", np.where(is_gold, "gold item", ""))),
    })


def _agreement_json(results: SafetyResults) -> list[dict[str, Any]]:
    """agreement rows with null for every number left out, and the reason beside it (null when there is none)."""
    rows = json_ready(results.agreement.to_dict("records"))
    for row in rows:
        row["not_enough_data"] = row["not_enough_data"] or None
        row["undefined"] = row["undefined"] or None
    return rows


def summary(results: SafetyResults) -> dict[str, Any]:
    """summary.json: docs/formats.md, section 'Analysis reports' `models` entries plus the item-level, agreement and worker figures."""
    labels = results.labels
    o = results.options
    models = []
    for _, row in results.models.iterrows():
        models.append({
            "model": row["model"], "n": int(row["n"]), "unsafe_rate": json_ready(row["unsafe_rate"]),
            "ci_wilson": _ci(row, "unsafe"), "unsafe": int(row["unsafe"]), "unit": "label",
            "buckets": {b: {"n": int(row[b]), "rate": json_ready(row[f"{b}_rate"]), "ci_wilson": _ci(row, b)} for b in ANSWERS},
            "items": int(row["items"]),
            "majority": {"items": int(row["majority_items"]), "ties": int(row["majority_ties"]),
                         "unsafe": int(row["majority_unsafe"]), "unsafe_rate": json_ready(row["majority_unsafe_rate"]),
                         "ci_wilson": _ci(row, "majority_unsafe"), "bucket_ties": int(row["bucket_ties"])},
            "dawid_skene": {"unsafe": int(row["ds_unsafe"]), "unsafe_rate": json_ready(row["ds_unsafe_rate"]),
                            "ci_wilson": _ci(row, "ds_unsafe"),
                            "expected_unsafe_rate": json_ready(row["ds_expected_unsafe_rate"])},
            "not_enough_data": None if int(row["n"]) > 0 else "needs at least 1 counted label (have 0)",
        })
    ds = results.ds
    return {
        "task": "safety",
        "verdict": verdict_texts(results),
        "not_enough_data": results.not_enough_data,
        "population": results.population,
        "population_meaning": POPULATION,
        "n_labels": results.n_counted,
        "n_items": results.population["items_model"],
        "n_workers": results.population["workers_counted"],
        "excluded_workers": results.excluded_workers,
        "excluded_reason": {w: r for w, r in zip(results.workers["worker_id"], results.workers["excluded_reason"]) if r},
        "include_excluded": o.include_excluded,
        "n_onboarding_records": labels.n_onboarding,
        "n_gold_items": len(results.gold_items),
        "runs": labels.runs,
        "labels": list(ANSWERS),
        "units": UNITS,
        "models": models,
        "pairs": json_ready(results.comparisons.to_dict("records")),
        "agreement": _agreement_json(results),
        "buckets": summary_rows(results.buckets),
        "dawid_skene": None if ds is None else {
            "iterations": ds.iterations, "converged": ds.converged, "log_likelihood": json_ready(ds.log_likelihood),
            "classes": list(results.ds_classes),
            "prior": {b: float(p) for b, p in zip(results.ds_classes, ds.prior)},
            "smoothing": o.smoothing, "tol": o.tol, "max_iter": o.max_iter,
        },
        "flagged_workers": results.flagged_workers,
        "flag_thresholds": {"gold_threshold": o.gold_threshold, "min_gold": o.min_gold},
    }
