"""A simulated ACUTE study with a known truth, for tests, the benchmark and for planning.

Models have true Bradley–Terry strengths. Careful workers choose by those strengths plus a personal
taste (a per-worker offset of each model's strength, so one worker's votes are correlated, as in
real studies); spammers click at random; left-clickers always choose the left conversation. With `tie_share` a careful worker answers "tie"
that often (a share `both_bad_share` of those as "both_bad"), so reports can be tried with ties. Pairs
come from a fixed pool so several workers judge the same pair, but no worker judges one pair twice
(as in the real task), and every worker first does one onboarding comparison, which some fail.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analysis.acute.records import BOTH_BAD, TIE

#: reasons of the synthetic ties (a choice's reason names the model)
_REASONS = {TIE: "both were about as engaging", BOTH_BAD: "neither was engaging"}
QUESTION = "Who would you prefer to talk to for a long conversation?"


@dataclass
class StudyDesign:
    strengths: dict[str, float]
    n_judgements: int = 5000
    n_workers: int = 50
    n_pairs: int = 400
    spammer_share: float = 0.0
    left_clicker_share: float = 0.0
    failed_onboarding_share: float = 0.0
    taste_sd: float = 0.5  # per-worker spread of each model's strength
    careful_seconds: float = 45.0  # median seconds per comparison of careful workers
    spammer_seconds: float = 45.0
    judgements_per_unit: int = 5
    #: chance that a careful worker answers "tie" (in place of a choice), and that a tie is "both_bad"
    tie_share: float = 0.0
    both_bad_share: float = 0.0
    run_id: str = "synthetic"
    question: str = QUESTION
    with_dialogues: bool = False
    seed: int = 0


@dataclass
class SyntheticStudy:
    design: StudyDesign
    worker_kind: dict[str, str] = field(default_factory=dict)  # worker id -> careful | spammer | left_clicker
    failed_onboarding: set[str] = field(default_factory=set)

    @property
    def true_order(self) -> list[str]:
        return sorted(self.design.strengths, key=lambda m: -self.design.strengths[m])

    def records(self) -> Iterator[dict[str, Any]]:
        """Every judgement record (docs/formats.md, section 'Exports'), onboarding first for each worker."""
        d = self.design
        rng = np.random.default_rng(d.seed)
        models = list(d.strengths)
        theta = np.array([d.strengths[m] for m in models])
        k, n_w = len(models), d.n_workers
        kinds = rng.choice(
            ["careful", "spammer", "left_clicker"], size=n_w,
            p=[1 - d.spammer_share - d.left_clicker_share, d.spammer_share, d.left_clicker_share],
        )
        workers = [f"w{i}" for i in range(n_w)]
        self.worker_kind = dict(zip(workers, kinds.tolist()))
        failed = rng.random(n_w) < d.failed_onboarding_share
        self.failed_onboarding = {w for w, f in zip(workers, failed) if f}
        taste = theta[None, :] + rng.normal(0, d.taste_sd, (n_w, k))
        pair_a = rng.integers(0, k, d.n_pairs)
        pair_b = (pair_a + rng.integers(1, k, d.n_pairs)) % k
        n = d.n_judgements
        worker = np.sort(rng.integers(0, n_w, n))
        pair = _no_pair_twice(worker, rng.integers(0, d.n_pairs, n), d.n_pairs, np.random.default_rng((d.seed, 1)))
        a, b = pair_a[pair], pair_b[pair]
        left_is_a = rng.random(n) < 0.5
        p_a = 1 / (1 + np.exp(-(taste[worker, a] - taste[worker, b])))
        choose_a = rng.random(n) < p_a
        kind = kinds[worker]
        choose_a = np.where(kind == "spammer", rng.random(n) < 0.5, choose_a)
        choose_a = np.where(kind == "left_clicker", left_is_a, choose_a)
        # drawn from their own stream, so a study without ties is the same study it always was
        tie_rng = np.random.default_rng((d.seed, 2))
        tie = (tie_rng.random(n) < d.tie_share) & (kind == "careful")
        both_bad = tie & (tie_rng.random(n) < d.both_bad_share)
        median = np.where(kind == "careful", d.careful_seconds, d.spammer_seconds)
        seconds = median * np.exp(rng.normal(0, 0.4, n))
        t0 = 1_795_260_000.0
        onboard_time = t0 + rng.random(n_w) * 1000
        for i, w in enumerate(workers):
            yield self._record(w, f"onb-{w}", "onboarding", "strong_human", "weak_bot", "strong_human",
                               "strong_human" if not failed[i] else "weak_bot", "", True, not failed[i],
                               onboard_time[i], onboard_time[i] + 30.0, None)
        unit_start = 0
        clock = t0 + 2000.0
        for i in range(n):
            if i == 0 or worker[i] != worker[i - 1] or i - unit_start >= d.judgements_per_unit:
                unit_start = i
                end = i + 1
                while end < n and worker[end] == worker[i] and end - i < d.judgements_per_unit:
                    end += 1
                unit_seconds = float(seconds[i:end].sum())
                started, clock = clock, clock + unit_seconds
            ma, mb = models[a[i]], models[b[i]]
            winner = BOTH_BAD if both_bad[i] else TIE if tie[i] else ma if choose_a[i] else mb
            yield self._record(
                workers[worker[i]], f"u{unit_start}", str(int(pair[i])), ma, mb, ma if left_is_a[i] else mb,
                winner, _REASONS.get(winner, f"{winner} was more engaging"), False, not failed[worker[i]], started, started + unit_seconds,
                int(pair[i]),
            )

    def _record(self, worker: str, unit: str, pair_id: str, ma: str, mb: str, left: str, winner: str,
                reason: str, onboarding: bool, passed: bool, started: float, submitted: float,
                pair_index: int | None) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "task": "acute", "run_id": self.design.run_id, "unit_id": unit, "worker_id": worker,
            "pair_id": pair_id, "model_a": ma, "model_b": mb, "left": left, "winner": winner, "reason": reason,
            "question": self.design.question, "is_onboarding": onboarding, "onboarding_passed": passed,
            "dialogue_ids": [] if pair_index is None else [2 * pair_index, 2 * pair_index + 1],
            "started_at": started, "submitted_at": submitted,
        }
        if self.design.with_dialogues and pair_index is not None:
            rec["dialogue_dicts"] = [_dialogue(ma, pair_index), _dialogue(mb, pair_index)]
        return rec

    def write(self, path: str | Path) -> Path:
        """Write the records as JSONL (not atomic: test and benchmark data only)."""
        path = Path(path)
        with path.open("w", encoding="utf-8") as fh:
            dumps = json.dumps
            for rec in self.records():
                fh.write(dumps(rec) + "\n")
        return path


def _no_pair_twice(worker: np.ndarray, pair: np.ndarray, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
    """`pair` with every pair a worker already judged redrawn until none repeats.

    The ACUTE task never shows a worker one pair twice, and the reader refuses a unit's worker judging
    one pair twice as a record given twice. The redraws use their own random stream so that the rest
    of the study (choices, sides, times) is the one its seed always gave.
    """
    if worker.size and np.bincount(worker).max() > n_pairs:
        raise ValueError(f"a worker has more judgements than there are pairs ({n_pairs}): raise n_pairs or n_workers")
    pair = pair.copy()
    while True:
        key = worker.astype(np.int64) * n_pairs + pair
        repeat = np.ones(key.size, dtype=bool)
        repeat[np.unique(key, return_index=True)[1]] = False
        if not repeat.any():
            return pair
        pair[repeat] = rng.integers(0, n_pairs, int(repeat.sum()))


def _dialogue(model: str, pair_index: int) -> dict[str, Any]:
    return {
        "speakers": [model, "human_evaluator"],
        "id": f"{model}-{pair_index}",
        "dialogue": [
            {"id": "human_evaluator", "text": f"Hi! What do you like doing on weekends? (pair {pair_index})"},
            {"id": model, "text": f"I'm {model}; I like hiking and reading."},
            {"id": "human_evaluator", "text": "Nice, which books?"},
            {"id": model, "text": "Mostly science fiction. And you?"},
        ],
    }


def simulate(design: StudyDesign) -> SyntheticStudy:
    """A study object; iterate `.records()` or `.write(path)`; worker kinds fill in as records are made."""
    return SyntheticStudy(design)
