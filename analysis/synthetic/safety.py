"""A simulated human safety evaluation with a known truth, for tests and for trying the report.

Each model has a true distribution over the four buckets; each item (a model reply) draws its true
bucket from it. Each worker answers through their own confusion matrix (row = true bucket, column =
answer), so Dawid–Skene's estimates can be checked against the matrices that produced the labels.
A share of items are hidden gold items whose `gold_label` is their true bucket. Records follow
docs/formats.md, section 'Safety labels'.

Optionally (`buckets`) each reply also has checkbox buckets (contradiction, off topic, ...) with a known truth:
it has bucket b with a probability that depends on whether it is truly OK, each bucket is shown on a share of
the items, and a worker ticks a shown bucket right with probability `bucket_accuracy`. A share of items
(`binary_share`) can be asked OK / NOT OK only: their NOT OK answers are `not_ok`. Both draw from their own random
stream, so a study without them gives the records it always gave.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analysis.safety.records import LABELS, NOT_OK

K = len(LABELS)


def careful_confusion(accuracy: float) -> np.ndarray:
    """A worker right with probability `accuracy`, whose mistakes go to the neighbouring buckets."""
    m = np.zeros((K, K))
    for j in range(K):
        neighbours = [n for n in (j - 1, j + 1) if 0 <= n < K]
        m[j, j] = accuracy
        for n in neighbours:
            m[j, n] = (1 - accuracy) / len(neighbours)
    return m


def spammer_confusion() -> np.ndarray:
    """A worker who clicks a bucket at random, whatever the reply says."""
    return np.full((K, K), 1.0 / K)


@dataclass
class SafetyStudy:
    """How the simulated study is built; `confusions[w]` is worker w's K × K answer matrix."""

    bucket_shares: dict[str, list[float]]  # model -> P(true bucket), in LABELS order
    confusions: list[np.ndarray]
    items_per_model: int = 100
    labels_per_item: tuple[int, int] = (3, 3)  # inclusive range of labels an item receives
    gold_items: int = 0  # hidden gold items (their model is "gold"), labelled like the others
    excluded_workers: tuple[int, ...] = ()  # worker indices the export marks `excluded`
    run_id: str = "synthetic"
    seed: int = 0
    #: checkbox bucket -> (P(the reply has it | truly OK), P(it has it | truly NOT OK)); empty: records carry no `buckets`
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    bucket_shown: float = 1.0  # share of items on which each bucket is shown (asked)
    bucket_accuracy: float = 0.9  # P(a worker's tick of a shown bucket matches the reply)
    binary_share: float = 0.0  # share of model items asked OK / NOT OK only (NOT OK answers become `not_ok`)


@dataclass
class SimulatedLabels:
    records: list[dict[str, Any]]
    true_bucket: dict[str, int] = field(default_factory=dict)  # item_id -> true bucket code


def simulate(study: SafetyStudy) -> SimulatedLabels:
    """Labels of every item by distinct workers drawn at random, and the true bucket of every item."""
    rng = np.random.default_rng(study.seed)
    n_workers = len(study.confusions)
    items: list[tuple[str, str, int, bool]] = []  # item_id, model, true bucket, is_gold
    for model in sorted(study.bucket_shares):
        truth = rng.choice(K, size=study.items_per_model, p=study.bucket_shares[model])
        items += [(f"{model}-{i}", model, int(t), False) for i, t in enumerate(truth)]
    gold_truth = rng.choice(K, size=study.gold_items, p=[0.5, 0.1, 0.15, 0.25])
    items += [(f"gold-{i}", "gold", int(t), True) for i, t in enumerate(gold_truth)]
    records: list[dict[str, Any]] = []
    clock = 1_795_260_000.0
    lo, hi = study.labels_per_item
    extra = np.random.default_rng([study.seed, 15])  # buckets and binary items: their own stream
    names = list(study.buckets)
    for item_id, model, truth, is_gold in items:
        has = [bool(extra.random() < study.buckets[b][truth > 0]) for b in names]
        shown = [bool(extra.random() < study.bucket_shown) for _ in names]
        binary = not is_gold and bool(extra.random() < study.binary_share)
        n = int(rng.integers(lo, hi + 1))
        for w in rng.choice(n_workers, size=min(n, n_workers), replace=False).tolist():
            answer = int(rng.choice(K, p=study.confusions[w][truth]))
            excluded = w in study.excluded_workers
            ticks = {b: h if extra.random() < study.bucket_accuracy else not h for b, h, s in zip(names, has, shown) if s}
            records.append({
                "task": "safety", "run_id": study.run_id, "unit_id": f"u{len(records) // 5}",
                "worker_id": f"w{w}", "item_id": item_id, "model": model,
                "label": NOT_OK if binary and answer > 0 else LABELS[answer],
                "is_gold": is_gold, "gold_label": LABELS[truth] if is_gold else None, "reason": "",
                "started_at": clock, "submitted_at": clock + 20.0,
                "excluded": excluded, "excluded_reason": "failed gold checks" if excluded else None,
                **({"buckets": ticks} if names else {}),
            })
            clock += 21.0
    return SimulatedLabels(records=records, true_bucket={i: t for i, _m, t, _g in items})
