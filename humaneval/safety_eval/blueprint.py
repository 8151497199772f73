"""The safety-annotation blueprint (`safety_annotation`): workers label the last reply of a conversation
OK / NOT OK (minority / some / most), a StaticReact task whose units are filled from a work queue.

It follows the ACUTE blueprint (`humaneval.acute.blueprint`) and shares its machinery: units follow the
work left (`WorkDrivenUnits`), items are chosen when a worker takes a unit from what they have not seen
(`humaneval.crowd.work_queue`, one conversation per item), returned/expired/disconnected units give their
items back, scored onboarding with a soft-block on failure, block lists, and resume from Mephisto's
database. What it adds, and why:

* **Hidden gold items** (`gold_file`, `gold_per_unit`): each unit carries items whose answer is known, at
  seeded random positions and indistinguishable in the page. A worker whose gold accuracy falls below
  `gold_threshold` after `gold_min_answers` gold answers is excluded (`gold.WorkerQuality`): soft-blocked,
  no further unit, and every label of theirs revoked from the queue, so those items are collected again
  from other workers. The export marks their labels `excluded: true`.
* **Resume** replays the stored units in submission order through the same rule, so the gold statistics
  and the exclusions survive a relaunch exactly as the live run decided them.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Optional

import humaneval.crowd  # noqa: F401  (Mephisto through the compat layer)
from humaneval.acute.agent_state import AcuteAgentState
from humaneval.crowd.export import finished_units
from humaneval.crowd.task_config import config_path
from humaneval.crowd.work_driven_units import WorkDrivenUnits, WorkDrivenUnitsArgs
from humaneval.crowd.work_queue import QueuedPair, WorkQueue
from humaneval.safety_eval.bundled_data import DATA_DIR, DEMO_ANNOTATION_INDICES_PATH, DEMO_TASK_DATA_PATH
from humaneval.safety_eval.gold import WorkerQuality, choose_gold, load_known_items, place, replay, score
from humaneval.safety_eval.task_data import LabelItem, labels_from_submission, load_task_items, page_view, unit_inputs
from humaneval.safety_eval.task_runner import SafetyTaskRunner
from mephisto.abstractions.blueprint import Blueprint
from mephisto.abstractions.blueprints.static_react_task.static_react_blueprint import (
    StaticReactBlueprint,
    StaticReactBlueprintArgs,
)
from mephisto.data_model.assignment import InitializationData
from mephisto.data_model.worker import Worker
from mephisto.operations.registry import register_mephisto_abstraction

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from mephisto.abstractions.blueprint import SharedTaskState
    from mephisto.data_model.agent import OnboardingAgent
    from mephisto.data_model.task_run import TaskRun

logger = logging.getLogger(__name__)

BLUEPRINT_TYPE_SAFETY = "safety_annotation"
DEFAULT_GOLD_PATH = DATA_DIR / "gold.jsonl"
"""Clearly OK and clearly NOT OK replies, hidden in units to check workers."""
DEFAULT_ONBOARDING_PATH = DATA_DIR / "onboarding.jsonl"
"""Clearly OK and clearly NOT OK replies a worker labels before the first unit."""


@dataclass
class SafetyBlueprintArgs(WorkDrivenUnitsArgs, StaticReactBlueprintArgs):
    """Safety annotation: is THEM's last message OK to send? See task_configs/safety.yaml."""

    _blueprint_type: str = BLUEPRINT_TYPE_SAFETY
    _group: str = field(default="SafetyAnnotationBlueprint", metadata={"help": "safety annotation (humaneval)"})
    task_data_file: Optional[str] = field(default=None, metadata={"help": "task_data.jsonl (FORMATS.md §3); None = bundled demo"})
    annotation_indices_file: Optional[str] = field(default=None, metadata={"help": "annotation_indices.jsonl; None = bundled demo"})
    items_per_unit: int = field(default=5, metadata={"help": "items to label per unit (gold items come on top)"})
    annotations_per_item: int = field(default=3, metadata={"help": "labels per item, each from a different worker"})
    onboarding_file: Optional[str] = field(default=None, metadata={"help": "onboarding items; None = bundled"})
    onboarding_threshold: float = field(default=0.75, metadata={"help": "share of onboarding items to get right"})
    gold_file: Optional[str] = field(default=None, metadata={"help": "hidden gold items; None = bundled"})
    gold_per_unit: int = field(default=1, metadata={"help": "hidden gold items per unit (0 = none)"})
    gold_threshold: float = field(default=0.75, metadata={"help": "minimum gold accuracy (OK vs NOT OK)"})
    gold_min_answers: int = field(default=3, metadata={"help": "gold answers before the threshold applies"})
    seed: int = field(default=42, metadata={"help": "seed of the serving order and of gold choice and placement"})


@register_mephisto_abstraction()
class SafetyBlueprint(WorkDrivenUnits, StaticReactBlueprint):
    """StaticReact + work queue + scored onboarding + hidden gold + block lists (see module docstring)."""

    AgentStateClass: ClassVar[type] = AcuteAgentState  # static state whose inputs the server may replace
    OnboardingAgentStateClass: ClassVar[type] = AcuteAgentState
    TaskRunnerClass: ClassVar[type] = SafetyTaskRunner
    ArgsClass: ClassVar[type] = SafetyBlueprintArgs
    BLUEPRINT_TYPE = BLUEPRINT_TYPE_SAFETY

    def __init__(self, task_run: "TaskRun", args: "DictConfig", shared_state: "SharedTaskState") -> None:
        super().__init__(task_run, args, shared_state)
        self.task_run = task_run
        blue = args.blueprint
        self.per_unit = int(blue.items_per_unit)
        self.annotations_per_item = int(blue.annotations_per_item)
        self.gold_per_unit = int(blue.gold_per_unit)
        self.gold_threshold = float(blue.gold_threshold)
        self.gold_min_answers = int(blue.gold_min_answers)
        self.onboarding_threshold = float(blue.onboarding_threshold)
        self.seed = int(blue.seed)
        self._task_data_file = config_path(blue.get("task_data_file"), DEMO_TASK_DATA_PATH)
        self._indices_file = config_path(blue.get("annotation_indices_file"), DEMO_ANNOTATION_INDICES_PATH)
        self._gold_file = config_path(blue.get("gold_file"), DEFAULT_GOLD_PATH)
        self._onboarding_file = config_path(blue.get("onboarding_file"), DEFAULT_ONBOARDING_PATH)
        self._items: dict[str, LabelItem] | None = None
        self._gold: list[LabelItem] | None = None
        self._onboarding: list[LabelItem] | None = None
        self._queue: WorkQueue | None = None
        self._lock = threading.RLock()
        self.quality = WorkerQuality()
        self._gold_seen: dict[str, set[str]] = {}  # worker -> gold item ids shown to them
        self._init_work_driven_units(blue)

    @classmethod
    def assert_task_args(cls, args: "DictConfig", shared_state: "SharedTaskState") -> None:
        """Our data comes from the task data files, not from StaticBlueprint's data_* sources; the
        inputs themselves are checked by `task.build_task` before anything launches."""
        Blueprint.assert_task_args.__func__(cls, args, shared_state)  # type: ignore[attr-defined]
        blue = args.blueprint
        assert Path(blue.task_source).expanduser().exists(), f"task_source {blue.task_source} does not exist"
        assert int(blue.items_per_unit) >= 1, "items_per_unit must be at least 1"
        assert int(blue.annotations_per_item) >= 1, "annotations_per_item must be at least 1"

    # --- data ------------------------------------------------------------------------------------

    @property
    def items(self) -> dict[str, LabelItem]:
        if self._items is None:
            self._items = {i.item_id: i for i in load_task_items(self._task_data_file, self._indices_file)}
        return self._items

    @property
    def gold_items(self) -> list[LabelItem]:
        if self._gold is None:
            self._gold = load_known_items(self._gold_file, "gold") if self.gold_per_unit > 0 else []
        return self._gold

    @property
    def onboarding_items(self) -> list[LabelItem]:
        if self._onboarding is None:
            self._onboarding = load_known_items(self._onboarding_file, "onboarding") if self.use_onboarding else []
        return self._onboarding

    @property
    def queue(self) -> WorkQueue:
        """The work queue, rebuilt from the database on first use (so only live runs pay for it).

        An item's only "conversation" is the item itself: a worker may label several turns of one
        conversation (`--annotate all-bot`), each a separate question, but never the same item twice."""
        with self._lock:
            if self._queue is None:
                queue = WorkQueue([QueuedPair(iid, (iid,)) for iid in self.items], self.annotations_per_item, self.seed)
                self._restore(queue)
                self._queue = queue
            return self._queue

    def _restore(self, queue: WorkQueue) -> None:
        """Replay earlier runs of this task: gold verdicts first, then the labels of workers still
        trusted count; everything ever shown counts as seen."""
        db = self.task_run.db
        task = self.task_run.get_task()
        units = list(finished_units(db, task.task_name))
        self.quality = replay(units)
        counted = 0
        for unit in units:
            if unit.mephisto_worker_id in self.quality.excluded:
                continue
            for label in labels_from_submission(unit.inputs, unit.outputs):
                if not label.item["is_gold"]:
                    counted += queue.restore_completed(unit.mephisto_worker_id, label.item["item_id"], 0)
        for agent in db.find_agents(task_id=task.db_id):
            inputs = agent.state.get_init_state()
            for item in inputs.get("items", []) if isinstance(inputs, dict) else []:
                if item["is_gold"]:
                    self._gold_seen.setdefault(str(agent.worker_id), set()).add(item["item_id"])
                else:
                    queue.restore_seen(str(agent.worker_id), item["item_id"])
        if counted or self.quality.excluded:
            logger.info("resuming task %s: %d label(s) already collected, %d missing, %d worker(s) excluded",
                        task.task_name, counted, queue.missing(), len(self.quality.excluded))

    def reserve_unit_inputs(self, holder: str, worker: str) -> dict[str, Any]:
        """The stored inputs of a new unit for `worker`: the reserved items with the hidden gold
        items at seeded positions (no gold when nothing is left to label)."""
        reserved = self.queue.reserve(holder, worker, self.per_unit)
        if not reserved:
            logger.warning("agent %s took a unit but no item is left for its worker", holder)
        regular = [self.items[r.pair_id].stored(is_gold=False) for r in reserved]
        rng = random.Random(f"{self.seed}:unit:{holder}")
        with self._lock:
            seen = self._gold_seen.setdefault(worker, set())
            gold = choose_gold(self.gold_items, seen, self.gold_per_unit if regular else 0, rng)
            seen.update(g.item_id for g in gold)
        items = place(regular, [g.stored(is_gold=True) for g in gold], rng)
        return unit_inputs(items, is_onboarding=False, onboarding_required=self.use_onboarding,
                           gold_threshold=self.gold_threshold if self.gold_per_unit else None,
                           gold_min_answers=self.gold_min_answers if self.gold_per_unit else None)

    def is_excluded(self, worker: str) -> bool:
        return worker in self.quality.excluded

    def accepts_worker(self, worker: "Worker") -> bool:
        """Block-listed workers and those excluded for failing gold get no unit."""
        return super().accepts_worker(worker) and not self.is_excluded(str(worker.db_id))

    def count_submission(self, holder: str, worker: "Worker", inputs: dict[str, Any] | None,
                         outputs: dict[str, Any] | None) -> None:
        """A unit came back submitted: judge its gold answers, then either count its labels or, if the
        worker just failed gold, exclude them (soft-block, revoke everything they labelled).

        An excluded worker's labels are never counted first and revoked after: the run ends as soon as
        nothing is missing, so they must not count even for a moment."""
        worker_id = str(worker.db_id)
        if not isinstance(outputs, dict):  # nothing was submitted after all: nothing to judge
            self.queue.release(holder)
            return
        labels = labels_from_submission(inputs, outputs)
        stored = (inputs or {}).get("items", [])
        with self._lock:
            reason = self.quality.add_unit(worker_id, score(stored, labels, gold_only=True),
                                           (inputs or {}).get("gold_threshold"), (inputs or {}).get("gold_min_answers"))
            if reason is None and not self.is_excluded(worker_id):
                counted = self.queue.complete(holder, [lb.item["item_id"] for lb in labels if not lb.item["is_gold"]])
                logger.info("worker %s: %d label(s) counted, %d missing in the run", worker.worker_name, counted,
                            self.queue.missing())
                return
            revoked = self.queue.revoke_worker(worker_id)  # also releases this unit's items
        reason = reason or self.quality.excluded[worker_id]
        logger.warning("worker %s excluded (%s): %d label(s) revoked, collected again from others",
                       worker.worker_name, reason, revoked)
        self.soft_block(worker, reason)

    # --- units -----------------------------------------------------------------------------------

    def get_initialization_data(self) -> Iterator[InitializationData]:
        """Called once at launch: rebuild the queue, keep block-listed workers out, start offering units."""
        queue = self.queue
        self.soft_block_listed_workers()
        logger.info("%d items, %d label(s) missing: about %d unit(s) of %d (+%d gold)", len(self.items),
                    queue.missing(), queue.units_needed(self.per_unit), self.per_unit, self.gold_per_unit)
        return self.work_driven_assignments()

    def units_still_needed(self) -> int:
        return self.queue.units_needed(self.per_unit)

    def work_is_done(self) -> bool:
        return self.queue.is_done()

    def work_done_message(self) -> str:
        return f"every item has its {self.annotations_per_item} label(s): no more units"

    # --- onboarding ------------------------------------------------------------------------------

    def _onboarding_inputs(self, worker_id: str) -> dict[str, Any]:
        """The onboarding items in a per-worker seeded order (so the check maps the page's slots back)."""
        items = [i.stored(is_gold=False) for i in self.onboarding_items]
        random.Random(f"{self.seed}:onboarding:{worker_id}").shuffle(items)
        return unit_inputs(items, is_onboarding=True, onboarding_required=True)

    def get_onboarding_data(self, worker_id: str) -> dict[str, Any]:
        return page_view(self._onboarding_inputs(worker_id))

    def validate_onboarding(self, worker: "Worker", onboarding_agent: "OnboardingAgent") -> bool:
        """Pass when the share of onboarding items answered right (OK vs NOT OK) reaches the threshold.
        The full inputs (answers, outcome) are stored with the onboarding for the export; a failing
        worker is soft-blocked."""
        inputs = self._onboarding_inputs(str(worker.db_id))
        results = score(inputs["items"], labels_from_submission(inputs, onboarding_agent.state.get_data().get("outputs")),
                        gold_only=False)
        passed = sum(results) / max(len(results), 1) >= self.onboarding_threshold
        inputs["onboarding_passed"] = passed
        inputs["onboarding_correct"] = sum(results)
        if isinstance(onboarding_agent.state, AcuteAgentState):
            onboarding_agent.state.store_inputs(inputs)
        logger.info("worker %s onboarding: %d/%d right, %s", worker.worker_name, sum(results), len(results),
                    "passed" if passed else "failed")
        if not passed:
            self.soft_block(worker, f"failed onboarding ({sum(results)}/{len(results)} right)")
        return passed
