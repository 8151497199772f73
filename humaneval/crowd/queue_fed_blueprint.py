"""The blueprint of a study whose units are filled from a work queue: what ACUTE-Eval and safety
annotation share.

A queue-fed study is a static page (Mephisto's StaticReact blueprint: one page, one submit) whose
content is chosen only when a worker takes a unit:

* **Units follow the work left** (`WorkDrivenUnits`): whenever fewer units are open than
  `ceil(unreserved answers / per_unit)`, one more is created; when every item has its answers the
  open units are expired and the run ends.
* **Items are reserved when a worker takes a unit** (`agent_init_data`, called by `StaticWorkRunner`),
  from what that worker has not seen (`work_queue`); returned/expired/disconnected units give their
  items back. The agent stores the full inputs; the page only ever gets the study's `page_view`.
* **Resume**: the queue is rebuilt from Mephisto's database (every earlier run of the same task
  name) whenever a run starts, using the study's own reading of submissions, so a relaunch after a
  crash loses and duplicates nothing.
* **Scored onboarding** (Mephisto's OnboardingRequired mixin): the study scores the answers; below
  `onboarding_threshold` the worker fails, gets Mephisto's `<qualification>-failed` and the task's
  soft-block qualification, and never receives a unit. The full inputs (right answers, outcome) are
  stored with the onboarding for the export (`StoredInputsAgentState`).
* **Feedback on each practice answer** (`practice_checks`): the onboarding page asks the server about
  each answer (the right ones never reach the page); the first answer to an item is the one scored.

A study subclasses `QueueFedBlueprint`, names its two size arguments (`per_unit_key`,
`answers_per_item_key`), reads its own settings in `configure` (no Mephisto there: a relaunch asks
`work_done_in` before launching anything) and answers the questions in the "study" section.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Optional

from humaneval.crowd.export import FinishedUnit, finished_units
from humaneval.crowd.mephisto_api import (
    InitializationData,
    StaticReactBlueprint,
    StaticReactBlueprintArgs,
    Worker,
)
from humaneval.crowd.practice_checks import PracticeAgentState, with_checked_answers
from humaneval.crowd.stored_inputs_state import StoredInputsAgentState
from humaneval.crowd.work_driven_units import WorkDrivenUnits, WorkDrivenUnitsArgs
from humaneval.crowd.work_queue import QueueItem, WorkQueue
from humaneval.crowd.work_runner import StaticWorkRunner
from humaneval.practice_feedback import PracticeVerdict

if TYPE_CHECKING:
    from humaneval.crowd.mephisto_api import Agent, MephistoDB, OnboardingAgent

logger = logging.getLogger(__name__)


@dataclass
class QueueFedBlueprintArgs(WorkDrivenUnitsArgs, StaticReactBlueprintArgs):
    """Arguments every queue-fed study has; a study's Args class lists it first."""

    onboarding_file: Optional[str] = field(default=None, metadata={"help": "onboarding items (JSONL); None = bundled"})
    onboarding_threshold: float = field(default=0.75, metadata={"help": "share of onboarding items to get right"})
    seed: int = field(default=42, metadata={"help": "seed of the serving order and of the study's draws (sides, gold)"})


class QueueFedBlueprint(WorkDrivenUnits, StaticReactBlueprint):
    """StaticReact + work queue + scored onboarding + block lists (see module docstring)."""

    AgentStateClass: ClassVar[type] = StoredInputsAgentState
    OnboardingAgentStateClass: ClassVar[type] = PracticeAgentState  # keeps the first answer per practice item
    TaskRunnerClass: ClassVar[type] = StaticWorkRunner

    item_noun: ClassVar[str] = "item"  # what one queue item is, for messages ("pair")
    answer_noun: ClassVar[str] = "answers"  # what one collected answer is ("judgements", "labels")
    per_unit_key: ClassVar[str]  # the study's argument for items per unit ("subtasks_per_unit")
    answers_per_item_key: ClassVar[str]  # ... and for answers per item ("annotations_per_pair")

    def configure(self, blue: Any) -> None:
        """The sizes, the seed and the threshold; a study extends it with its own settings."""
        self.per_unit = int(blue[self.per_unit_key])
        self.answers_per_item = int(blue[self.answers_per_item_key])
        self.seed = int(blue.seed)
        self.onboarding_threshold = float(blue.onboarding_threshold)
        self._queue: WorkQueue | None = None
        self._lock = threading.RLock()  # the queue's lazy build; studies guard their own state with it too

    def stored_work_done(self, db: "MephistoDB", task_name: str) -> bool:
        queue = WorkQueue(self.queue_items(), self.answers_per_item, self.seed)
        self.restore_finished(queue, list(finished_units(db, task_name)))
        return queue.is_done()

    # --- the study -------------------------------------------------------------------------------

    def queue_items(self) -> list[QueueItem]:
        """Every item the study wants answers on."""
        raise NotImplementedError

    def restore_finished(self, queue: WorkQueue, units: list[FinishedUnit]) -> int:
        """Count the answers of earlier runs' submitted units into the queue; return how many counted."""
        raise NotImplementedError

    def restore_shown(self, queue: WorkQueue, worker: str, inputs: dict[str, Any]) -> None:
        """An earlier unit (finished or not) showed `inputs` to `worker`: mark its items seen."""
        raise NotImplementedError

    def reserve_unit_inputs(self, holder: str, worker: str) -> dict[str, Any]:
        """The stored inputs of a new unit for `worker`, its items reserved from the queue for `holder`."""
        raise NotImplementedError

    def count_answers(self, holder: str, worker: Worker, inputs: Any, outputs: Any) -> None:
        """A unit came back submitted: decide what counts and complete the holder in the queue."""
        raise NotImplementedError

    def page_view(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Stored inputs -> what the browser may see."""
        raise NotImplementedError

    def practice_verdict(self, worker_id: str, shown: dict[str, Any], item: str, answer: str) -> PracticeVerdict | None:
        """Right or wrong, and why, for `answer` to item `item` of the onboarding page `shown` to the worker
        (None for an item or answer that page does not have); see `practice_checks`."""
        raise NotImplementedError

    @staticmethod
    def scored_onboarding_outputs(onboarding_agent: "OnboardingAgent", list_field: str, key_field: str,
                                  answer_field: str) -> Any:
        """The onboarding's submission as it is scored: each answer the worker had checked in practice is
        the first one checked, whatever the submission says (`practice_checks`)."""
        state = onboarding_agent.state
        outputs = state.get_data().get("outputs")
        if not isinstance(state, PracticeAgentState) or not isinstance(outputs, dict):
            return outputs
        answers = with_checked_answers(outputs.get(list_field), state.checked_answers(), key_field, answer_field)
        return {**outputs, list_field: answers}

    def describe_work(self, queue: WorkQueue) -> str:
        """The launch's log line about the work ("24 pairs, 48 judgement(s) missing ...")."""
        return (f"{len(queue.answers_by_item())} {self.item_noun}s, {queue.missing()} {self.answer_noun} missing: "
                f"about {queue.units_needed(self.per_unit)} unit(s) of {self.per_unit}")

    def resume_details(self) -> str:
        """Anything the study adds to the resume log line (", 2 worker(s) excluded")."""
        return ""

    # --- the queue -------------------------------------------------------------------------------

    @property
    def queue(self) -> WorkQueue:
        """The work queue, rebuilt from the database on first use (so only live runs pay for it)."""
        with self._lock:
            if self._queue is None:
                queue = WorkQueue(self.queue_items(), self.answers_per_item, self.seed)
                self._restore(queue)
                self._queue = queue
            return self._queue

    @property
    def work(self) -> WorkQueue:
        return self.queue

    def _restore(self, queue: WorkQueue) -> None:
        """What earlier runs of this task collected counts; everything they showed counts as seen."""
        db = self.task_run.db
        task = self.task_run.get_task()
        counted = self.restore_finished(queue, list(finished_units(db, task.task_name)))
        for agent in db.find_agents(task_id=task.db_id):
            inputs = agent.state.get_init_state()
            if isinstance(inputs, dict):
                self.restore_shown(queue, str(agent.worker_id), inputs)
        details = self.resume_details()
        if counted or details:
            logger.info("resuming task %s: %d %s already collected, %d missing%s", task.task_name, counted,
                        self.answer_noun, queue.missing(), details)

    # --- units (called by the runner and by Mephisto) --------------------------------------------

    def agent_init_data(self, agent: "Agent") -> dict[str, Any]:
        """New agent: reserve its items and store the full inputs. Reconnecting agent: the same items
        again. The page only ever gets the page view."""
        inputs = agent.state.get_init_state()
        if inputs is None:
            inputs = self.reserve_unit_inputs(holder=str(agent.db_id), worker=str(agent.worker_id))
            agent.state.set_init_state(inputs)
        return self.page_view(inputs)

    def count_submission(self, holder: str, agent: "Agent") -> None:
        data = agent.state.get_data()
        self.count_answers(holder, agent.get_worker(), data.get("inputs"), data.get("outputs"))

    def get_initialization_data(self) -> Iterator[InitializationData]:
        """Called once at launch: rebuild the queue, keep block-listed workers out, start offering units."""
        queue = self.queue
        self.soft_block_listed_workers()
        logger.info("%s", self.describe_work(queue))
        return self.work_driven_assignments()

    def progress_summary(self) -> str:
        total = len(self.queue.answers_by_item()) * self.answers_per_item
        return f"{total - self.queue.missing()} of {total} {self.answer_noun} collected"

    def work_done_message(self) -> str:
        return f"every {self.item_noun} has its {self.answers_per_item} {self.answer_noun}: no more units"

    # --- onboarding ------------------------------------------------------------------------------

    def onboarding_outcome(self, worker: Worker, onboarding_agent: "OnboardingAgent", inputs: dict[str, Any],
                           outputs: Any, correct: int, total: int) -> bool:
        """The end of every study's `validate_onboarding`: pass when `correct / total` reaches the
        threshold; store the full inputs, the outputs as scored and the outcome with the onboarding (the
        export reads them); soft-block a worker who failed."""
        passed = correct / max(total, 1) >= self.onboarding_threshold
        inputs["onboarding_passed"] = passed
        inputs["onboarding_correct"] = correct
        if isinstance(onboarding_agent.state, PracticeAgentState):
            onboarding_agent.state.store_scored_outputs(outputs)
        if isinstance(onboarding_agent.state, StoredInputsAgentState):
            onboarding_agent.state.store_inputs(inputs)
        logger.info("worker %s onboarding: %d/%d right, %s", worker.worker_name, correct, total,
                    "passed" if passed else "failed")
        if not passed:
            self.soft_block(worker, f"failed onboarding ({correct}/{total} right)")
        return passed
