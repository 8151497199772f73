"""A seeded synthetic BAD collection: turn-label records (docs/formats.md, section 'Exports') with known ground truth.

The tests check every number of `analysis bad` against independent computations on these records,
so the generator produces what makes the statistics non-trivial: conversations that differ in how
easily the bot is fooled (clustering, so the conversation bootstrap and the Wilson interval differ),
conversations of different lengths (censoring in the survival view), safety checks with a known
sensitivity and false-positive rate, unfinished conversations and a worker who labels everything OK.
Optionally (`buckets`) every bot turn also carries checkbox buckets, ticked with a probability that depends on the
turn's label and each shown on a share of the turns; they draw from their own random stream, so a design without
them gives the records it always gave.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from humaneval.jsonl import write_jsonl

START = 1_795_260_000.0


@dataclass(frozen=True)
class BadDesign:
    """What to simulate; every model is talked to by every worker in turn."""

    #: model -> probability that an average conversation's bot turn is labelled NOT OK
    models: dict[str, float] = field(default_factory=lambda: {"blender_90M": 0.08, "blender_400M": 0.15, "demo_bot": 0.3})
    conversations_per_model: int = 30
    workers: int = 8
    min_bot_turns: int = 3
    max_bot_turns: int = 8
    #: standard deviation of a conversation's offset on the logit scale (0 = turns independent)
    heterogeneity: float = 1.2
    #: check -> (P(unsafe | NOT OK), P(unsafe | OK))
    checks: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {"string_matcher": (0.3, 0.01), "classifier": (0.7, 0.08)})
    incomplete_share: float = 0.1
    #: the first this many workers label every turn OK
    lazy_workers: int = 1
    seconds_per_bot_turn: float = 25.0
    seed: int = 0
    #: checkbox bucket -> (P(ticked | turn labelled OK), P(ticked | labelled NOT OK)); empty: records carry no `buckets`
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    bucket_shown: float = 1.0  # share of bot turns on which each bucket is shown (asked)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def simulate_bad(design: BadDesign) -> list[dict[str, Any]]:
    """All records of the design, in collection order."""
    return list(_records(design))


def _records(d: BadDesign) -> Iterator[dict[str, Any]]:
    rng = np.random.default_rng(d.seed)
    extra = np.random.default_rng([d.seed, 15])  # buckets: their own stream
    workers = [f"w{i}" for i in range(d.workers)]
    conversation = 0
    for model, rate in d.models.items():
        for _ in range(d.conversations_per_model):
            worker = workers[conversation % d.workers]
            lazy = workers.index(worker) < d.lazy_workers
            n_bot = int(rng.integers(d.min_bot_turns, d.max_bot_turns + 1))
            offset = rng.normal(0.0, d.heterogeneity)
            p = 1 / (1 + math.exp(-(_logit(rate) + offset)))
            status = "incomplete" if rng.random() < d.incomplete_share else "complete"
            started = START + conversation * 600.0
            submitted = started + n_bot * d.seconds_per_bot_turn * float(rng.uniform(0.6, 1.4))
            rating = None if status == "incomplete" else int(rng.integers(1, 6))
            for b in range(n_bot):
                truly_unsafe = bool(rng.random() < p)
                label = "__notok__" if truly_unsafe and not lazy else "__ok__"
                safety = {}
                for check, (sensitivity, false_positive) in d.checks.items():
                    unsafe = bool(rng.random() < (sensitivity if truly_unsafe else false_positive))
                    score = round(float(rng.uniform(0.5, 1.0) if unsafe else rng.uniform(0.0, 0.5)), 4)
                    safety[check] = {"unsafe": unsafe, "score": score, "reason": "matched a listed phrase" if unsafe else ""}
                ticks = {name: bool(extra.random() < p_tick[label == "__notok__"])
                         for name, p_tick in d.buckets.items() if extra.random() < d.bucket_shown}
                yield {
                    "task": "bad", "run_id": "bad_sim", "unit_id": str(conversation), "worker_id": worker,
                    "conversation_id": f"c{conversation}", "turn_index": 2 * b + 1, "bot_turn_number": b + 1,
                    "model": model, "text": f"{model} reply {b + 1} in conversation {conversation}",
                    "label": label, "safety": safety,
                    "safety_action": "replaced" if any(v["unsafe"] for v in safety.values()) else "shown",
                    "conversation_status": status, "rating": rating,
                    "started_at": started, "submitted_at": submitted,
                    **({"buckets": ticks} if d.buckets else {}),
                }
            conversation += 1


def write_bad(design: BadDesign, path: str | Path) -> Path:
    """Write the design's records as JSONL (atomically) and return the path."""
    write_jsonl(path, simulate_bad(design))
    return Path(path)
