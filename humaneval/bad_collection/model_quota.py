"""Which model a worker chats with next: target conversation counts per model, independent of Mephisto.

A study asks for `targets[model]` complete conversations per model. A model's slot is taken when a
worker takes a unit (`take`), counted when the conversation completes (`complete`), and given back
when it does not (`release`: returned, expired, disconnected, submitted unfinished). The model chosen
is the one with the most conversations still missing (target − completed − in progress), preferring
models this worker has not chatted with yet; a worker gets a model twice only when nothing else is
left for them ("not the same model twice unless needed"). `max_per_worker` caps how many
conversations one worker has (completed + in progress; 0 = no cap), so no single worker's style
dominates a model's numbers.

Rebuilt from Mephisto's database at every launch (`restore_completed`), so a relaunch continues the
counts. Thread-safe: Mephisto calls it from executor, unit and generator threads. It is one
`WorkPool` (`humaneval.crowd.work_pool`), as the item queue of ACUTE and safety annotation is.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Mapping


class ModelQuota:
    """Conversations still wanted per model, who holds which, and who chatted with what."""

    def __init__(self, targets: Mapping[str, int], max_per_worker: int = 0) -> None:
        if not targets:
            raise ValueError("at least one model is needed")
        if any(n < 0 for n in targets.values()):
            raise ValueError(f"targets must be >= 0, got {dict(targets)}")
        self.targets = dict(targets)
        self.max_per_worker = max_per_worker
        self._lock = threading.RLock()
        self._completed: Counter[str] = Counter()
        self._held: dict[str, tuple[str, str]] = {}  # holder -> (worker, model)
        self._worker_models: dict[str, list[str]] = defaultdict(list)  # completed, per worker

    # --- restore ---------------------------------------------------------------------------------

    def restore_completed(self, worker: str, model: str) -> None:
        """A complete conversation of an earlier run (models no longer in the study are ignored)."""
        with self._lock:
            if model in self.targets:
                self._completed[model] += 1
            self._worker_models[worker].append(model)

    # --- per unit --------------------------------------------------------------------------------

    def take(self, holder: str, worker: str, *, force: bool = False) -> str | None:
        """Choose and hold a model for `holder` (a unit's agent); None when nothing is left for `worker`.

        `force` picks a model even past its target (the unit was already given to the worker)."""
        with self._lock:
            if holder in self._held:
                return self._held[holder][1]
            model = self._choose(worker)
            if model is None and force:
                model = min(self.targets, key=lambda m: self._completed[m] + self._in_progress(m) - self.targets[m])
            if model is not None:
                self._held[holder] = (worker, model)
            return model

    def complete(self, holder: str) -> str | None:
        """The held conversation completed: it counts."""
        with self._lock:
            held = self._held.pop(holder, None)
            if held is None:
                return None
            worker, model = held
            self._completed[model] += 1
            self._worker_models[worker].append(model)
            return model

    def release(self, holder: str) -> str | None:
        """The held conversation did not complete: its slot goes back."""
        with self._lock:
            held = self._held.pop(holder, None)
            return None if held is None else held[1]

    # --- questions -------------------------------------------------------------------------------

    def available_for(self, worker: str) -> bool:
        with self._lock:
            return self._choose(worker) is not None

    def unreserved(self, model: str | None = None) -> int:
        """Conversations still needed and not in progress (of one model, or all)."""
        with self._lock:
            models = [model] if model else list(self.targets)
            return sum(max(0, self.targets[m] - self._completed[m] - self._in_progress(m)) for m in models)

    def is_done(self) -> bool:
        with self._lock:
            return all(self._completed[m] >= n for m, n in self.targets.items())

    def completed(self) -> dict[str, int]:
        with self._lock:
            return {m: self._completed[m] for m in self.targets}

    def _in_progress(self, model: str) -> int:
        return sum(m == model for _, m in self._held.values())

    def _choose(self, worker: str) -> str | None:
        mine = self._worker_models[worker] + [m for w, m in self._held.values() if w == worker]
        if self.max_per_worker and len(mine) >= self.max_per_worker:
            return None
        open_models = [m for m in self.targets if self.unreserved(m) > 0]
        if not open_models:
            return None
        fresh = [m for m in open_models if m not in mine]
        candidates = fresh or open_models
        return max(candidates, key=lambda m: (self.unreserved(m), -list(self.targets).index(m)))
