"""The ACUTE-Eval blueprint (`acute_eval`): a StaticReact task whose units are filled from a work queue.

What it adds to Mephisto's StaticReact blueprint, and why (ParlAI's ACUTE blueprint is the baseline):

* **Units follow the work left.** Units are offered by an assignment generator: whenever fewer
  units are open than `ceil(unreserved judgements / subtasks_per_unit)`, one more is created, so
  `annotations_per_pair` counts, and a unit that expires or is cut short is replaced. When every pair
  has its judgements, the open units are expired and the generator ends, which ends the run.
* **Comparisons are chosen when a worker takes a unit** (`AcuteTaskRunner`), from what that worker
  has not seen; returned/expired/disconnected units give their pairs back.
* **Onboarding** (Mephisto's OnboardingRequired mixin, `onboarding_qualification`): the onboarding
  pairs are scored against their `correct_answer`; below `onboarding_threshold` the worker fails, gets
  Mephisto's `<qualification>-failed` and our soft-block qualification (`block_qualification`), and
  never receives a unit, so none of their judgements count.
* **Block lists**: files of worker ids (one per line) that never get work.
* **Resume**: the queue is rebuilt from Mephisto's database (every earlier run of the same task
  name) whenever a run starts, using the same reading of submissions as the export, so a relaunch
  after a crash loses and duplicates nothing.
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
from humaneval.acute.bundled_data import DEFAULT_ONBOARDING_PATH, EXAMPLE_PAIRINGS_PATH
from humaneval.acute.onboarding import load_onboarding
from humaneval.acute.pairings_validation import load_pairings
from humaneval.acute.questions import DEFAULT_PRESET, Question, resolve_question
from humaneval.acute.task_data import comparison_inputs, judgements_from_submission, page_view, unit_inputs
from humaneval.acute.task_runner import AcuteTaskRunner
from humaneval.crowd.work_queue import QueuedPair, WorkQueue
from humaneval.crowd.export import finished_units
from humaneval.crowd.work_driven_units import WorkDrivenUnits, WorkDrivenUnitsArgs
from humaneval.input_errors import InputError
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

BLUEPRINT_TYPE_ACUTE = "acute_eval"


@dataclass
class AcuteBlueprintArgs(WorkDrivenUnitsArgs, StaticReactBlueprintArgs):
    """ACUTE-Eval: two conversations side by side, one question; see task_configs/acute.yaml."""

    _blueprint_type: str = BLUEPRINT_TYPE_ACUTE
    _group: str = field(default="AcuteEvalBlueprint", metadata={"help": "ACUTE-Eval comparisons (humaneval)"})
    pairings_file: Optional[str] = field(default=None, metadata={"help": "pairings JSONL (FORMATS.md §2); None = bundled example"})
    question: str = field(default=DEFAULT_PRESET, metadata={"help": "question preset (engaging, human, interesting, knowledgeable)"})
    question_text: Optional[str] = field(default=None, metadata={"help": "custom question text (with question_choice)"})
    question_choice: Optional[str] = field(default=None, metadata={"help": "custom choice, containing <Speaker 1>"})
    annotations_per_pair: int = field(default=1, metadata={"help": "judgements per pair, each from a different worker"})
    subtasks_per_unit: int = field(default=5, metadata={"help": "comparisons per unit"})
    onboarding_file: Optional[str] = field(default=None, metadata={"help": "onboarding pairs; None = bundled default"})
    onboarding_threshold: float = field(default=0.75, metadata={"help": "share of onboarding pairs to get right"})
    seed: int = field(default=42, metadata={"help": "seed of the left/right draws and the serving order"})


def _conversation_keys(pair: dict[str, Any]) -> tuple[str, str]:
    ids = pair.get("dialogue_ids") or [d.get("id") for d in pair["dialogue_dicts"]]
    return (f"{pair['speakers_to_eval'][0]}:{ids[0]}", f"{pair['speakers_to_eval'][1]}:{ids[1]}") if None in ids else (
        str(ids[0]), str(ids[1]))


@register_mephisto_abstraction()
class AcuteBlueprint(WorkDrivenUnits, StaticReactBlueprint):
    """StaticReact + work queue + scored onboarding + block lists (see module docstring)."""

    AgentStateClass: ClassVar[type] = AcuteAgentState
    OnboardingAgentStateClass: ClassVar[type] = AcuteAgentState
    TaskRunnerClass: ClassVar[type] = AcuteTaskRunner
    ArgsClass: ClassVar[type] = AcuteBlueprintArgs
    BLUEPRINT_TYPE = BLUEPRINT_TYPE_ACUTE

    def __init__(self, task_run: "TaskRun", args: "DictConfig", shared_state: "SharedTaskState") -> None:
        super().__init__(task_run, args, shared_state)
        self.task_run = task_run
        blue = args.blueprint
        self.per_unit = int(blue.subtasks_per_unit)
        self.annotations_per_pair = int(blue.annotations_per_pair)
        self.seed = int(blue.seed)
        self.threshold = float(blue.onboarding_threshold)
        self.question: Question = resolve_question(blue.question, text=blue.question_text, choice=blue.question_choice)
        self._pairings_file = blue.get("pairings_file", None) or str(EXAMPLE_PAIRINGS_PATH)
        self._onboarding_file = blue.get("onboarding_file", None) or str(DEFAULT_ONBOARDING_PATH)
        self._pairs: dict[str, dict[str, Any]] | None = None
        self._onboarding: dict[str, dict[str, Any]] | None = None
        self._queue: WorkQueue | None = None
        self._queue_lock = threading.Lock()
        self._init_work_driven_units(blue)

    @classmethod
    def assert_task_args(cls, args: "DictConfig", shared_state: "SharedTaskState") -> None:
        """Our data comes from the pairings file, not from StaticBlueprint's data_* sources."""
        Blueprint.assert_task_args.__func__(cls, args, shared_state)  # type: ignore[attr-defined]
        blue = args.blueprint
        assert Path(blue.task_source).expanduser().exists(), f"task_source {blue.task_source} does not exist"
        assert int(blue.subtasks_per_unit) >= 1, "subtasks_per_unit must be at least 1"
        assert int(blue.annotations_per_pair) >= 1, "annotations_per_pair must be at least 1"
        assert 0.0 <= float(blue.onboarding_threshold) <= 1.0, "onboarding_threshold must be within [0, 1]"
        pairings_file = blue.get("pairings_file", None) or EXAMPLE_PAIRINGS_PATH
        if not [p for p in load_pairings(pairings_file) if not p["is_onboarding"]]:
            raise InputError("no comparisons (only onboarding pairs) in the pairings file", path=pairings_file)
        if blue.get("onboarding_qualification", None) is not None:
            load_onboarding(blue.get("onboarding_file", None) or DEFAULT_ONBOARDING_PATH)

    # --- data ------------------------------------------------------------------------------------

    @property
    def pairs(self) -> dict[str, dict[str, Any]]:
        if self._pairs is None:
            pairs = load_pairings(self._pairings_file)
            skipped = sum(p["is_onboarding"] for p in pairs)
            if skipped:
                logger.info("%d onboarding pair(s) in the pairings file ignored: onboarding comes from onboarding_file", skipped)
            self._pairs = {p["pair_id"]: p for p in pairs if not p["is_onboarding"]}
        return self._pairs

    @property
    def onboarding_pairs(self) -> dict[str, dict[str, Any]]:
        if self._onboarding is None:
            use = self.use_onboarding
            self._onboarding = {p["pair_id"]: p for p in load_onboarding(self._onboarding_file)} if use else {}
        return self._onboarding

    @property
    def queue(self) -> WorkQueue:
        """The work queue, rebuilt from the database on first use (so only live runs pay for it)."""
        with self._queue_lock:
            if self._queue is None:
                queue = WorkQueue(
                    [QueuedPair(pid, _conversation_keys(p)) for pid, p in self.pairs.items()],
                    self.annotations_per_pair,
                    self.seed,
                )
                self._restore(queue)
                self._queue = queue
            return self._queue

    def _restore(self, queue: WorkQueue) -> None:
        """Everything earlier runs of this task collected counts; everything shown counts as seen."""
        db = self.task_run.db
        task = self.task_run.get_task()
        counted = 0
        for unit in finished_units(db, task.task_name):
            for judgement in judgements_from_submission(unit.inputs, unit.outputs):
                left_index = 0 if judgement.left == judgement.model_a else 1
                counted += queue.restore_completed(unit.mephisto_worker_id, judgement.pair_id, left_index)
        for agent in db.find_agents(task_id=task.db_id):
            inputs = agent.state.get_init_state() or {}
            for comparison in inputs.get("comparisons", []) if isinstance(inputs, dict) else []:
                queue.restore_seen(str(agent.worker_id), comparison["pair_id"])
        if counted:
            logger.info("resuming task %s: %d judgement(s) already collected, %d missing", task.task_name, counted, queue.missing())

    def reserve_unit_inputs(self, holder: str, worker: str) -> dict[str, Any]:
        """The stored inputs of a new unit for `worker` (see `task_data`)."""
        items = self.queue.reserve(holder, worker, self.per_unit)
        if not items:
            logger.warning("agent %s took a unit but no comparison is left for its worker", holder)
        comparisons = [comparison_inputs(self.pairs[r.pair_id], r.left_index) for r in items]
        return unit_inputs(comparisons, self.question, is_onboarding=False, onboarding_required=self.use_onboarding)

    def count_submission(self, holder: str, worker: Worker, inputs: Any, outputs: Any) -> None:
        """A unit came back submitted: its judgements count, anything it left out goes back to the queue."""
        judged = judgements_from_submission(inputs, outputs)
        counted = self.queue.complete(holder, [j.pair_id for j in judged])
        logger.info("worker %s: %d judgement(s) counted, %d missing in the run", worker.worker_name, counted,
                    self.queue.missing())

    # --- units -----------------------------------------------------------------------------------

    def get_initialization_data(self) -> Iterator[InitializationData]:
        """Called once at launch: rebuild the queue, keep block-listed workers out, start offering units."""
        queue = self.queue
        self.soft_block_listed_workers()
        logger.info("%d pairs, %d judgement(s) missing: about %d unit(s) of %d", len(self.pairs), queue.missing(),
                    queue.units_needed(self.per_unit), self.per_unit)
        return self.work_driven_assignments()

    def units_still_needed(self) -> int:
        return self.queue.units_needed(self.per_unit)

    def work_is_done(self) -> bool:
        return self.queue.is_done()

    def work_done_message(self) -> str:
        return f"every pair has its {self.annotations_per_pair} judgement(s): no more units"

    # --- quality control -------------------------------------------------------------------------

    def get_onboarding_data(self, worker_id: str) -> dict[str, Any]:
        """The onboarding pairs, sides drawn per worker (seeded, so a reconnect sees the same page)."""
        rng = random.Random(f"{self.seed}:onboarding:{worker_id}")
        comparisons = [comparison_inputs(p, rng.randrange(2)) for p in self.onboarding_pairs.values()]
        return page_view(unit_inputs(comparisons, self.question, is_onboarding=True, onboarding_required=True))

    def validate_onboarding(self, worker: "Worker", onboarding_agent: "OnboardingAgent") -> bool:
        """Pass when the share of onboarding pairs answered correctly reaches the threshold. The full
        inputs (models, right answers, outcome) are stored with the onboarding for the export; a
        failing worker is soft-blocked."""
        data = onboarding_agent.state.get_data()
        shown = (data.get("inputs") or {}).get("comparisons", [])
        comparisons = [
            comparison_inputs(self.onboarding_pairs[c["pair_id"]], int(c["left_index"]))
            for c in shown
            if c.get("pair_id") in self.onboarding_pairs
        ]
        inputs = unit_inputs(comparisons, self.question, is_onboarding=True, onboarding_required=True)
        judged = judgements_from_submission(inputs, data.get("outputs"))
        correct = sum(j.winner == self.onboarding_pairs[j.pair_id]["correct_answer"] for j in judged)
        total = max(len(self.onboarding_pairs), 1)
        passed = correct / total >= self.threshold
        inputs["onboarding_passed"] = passed
        inputs["onboarding_correct"] = correct
        state = onboarding_agent.state
        if isinstance(state, AcuteAgentState):
            state.store_inputs(inputs)
        logger.info("worker %s onboarding: %d/%d correct, %s", worker.worker_name, correct, total,
                    "passed" if passed else "failed")
        if not passed:
            self.soft_block(worker, f"failed onboarding ({correct}/{total} right)")
        return passed
