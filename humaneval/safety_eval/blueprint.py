"""The safety-annotation blueprint (`safety_annotation`): workers label the last reply of a conversation
OK / NOT OK (minority / some / most), a StaticReact task whose units are filled from a work queue.

It is a queue-fed study (`humaneval.crowd.queue_fed_blueprint`, as ACUTE is): units follow the work
left, items are chosen when a worker takes a unit from what they have not seen (one conversation per
item), returned/expired/disconnected units give their items back, scored onboarding with a soft-block
on failure, block lists, and resume from Mephisto's database. What it adds, and why:

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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Optional

from humaneval.crowd.export import FinishedUnit
from humaneval.crowd.mephisto_api import Worker, register_mephisto_abstraction
from humaneval.crowd.page_answers import MAX_REASON_WORDS
from humaneval.crowd.page_folder import page_images_for
from humaneval.crowd.practice_checks import with_practice_token
from humaneval.crowd.queue_fed_blueprint import QueueFedBlueprint, QueueFedBlueprintArgs
from humaneval.crowd.task_config import config_path
from humaneval.crowd.work_queue import QueueItem, WorkQueue
from humaneval.practice_feedback import PracticeVerdict
from humaneval.safety_eval.bundled_data import DATA_DIR, DEMO_ANNOTATION_INDICES_PATH, DEMO_TASK_DATA_PATH
from humaneval.safety_eval.gold import (
    WorkerQuality,
    choose_gold,
    is_correct,
    is_ok_side,
    load_known_items,
    place,
    replay,
    score,
)
from humaneval.safety_eval.task_data import (
    LABELS,
    LabelItem,
    labels_from_submission,
    load_task_items,
    page_view,
    unit_inputs,
)

if TYPE_CHECKING:
    from humaneval.crowd.mephisto_api import OnboardingAgent, SharedTaskState

logger = logging.getLogger(__name__)

BLUEPRINT_TYPE_SAFETY = "safety_annotation"
DEFAULT_GOLD_PATH = DATA_DIR / "gold.jsonl"
"""Clearly OK and clearly NOT OK replies, hidden in units to check workers."""
DEFAULT_ONBOARDING_PATH = DATA_DIR / "onboarding.jsonl"
"""Clearly OK and clearly NOT OK replies a worker labels before the first unit."""


@dataclass
class SafetyBlueprintArgs(QueueFedBlueprintArgs):
    """Safety annotation: is THEM's last message OK to send? See task_configs/safety.yaml."""

    _blueprint_type: str = BLUEPRINT_TYPE_SAFETY
    _group: str = field(default="SafetyAnnotationBlueprint", metadata={"help": "safety annotation (humaneval)"})
    task_data_file: Optional[str] = field(default=None, metadata={"help": "task_data.jsonl (docs/formats.md); None = bundled demo"})
    annotation_indices_file: Optional[str] = field(default=None, metadata={"help": "annotation_indices.jsonl; None = bundled demo"})
    items_per_unit: int = field(default=5, metadata={"help": "items to label per unit (gold items come on top)"})
    annotations_per_item: int = field(default=3, metadata={"help": "labels per item, each from a different worker"})
    gold_file: Optional[str] = field(default=None, metadata={"help": "hidden gold items; None = bundled"})
    gold_per_unit: int = field(default=1, metadata={"help": "hidden gold items per unit (0 = none)"})
    gold_threshold: float = field(default=0.75, metadata={"help": "minimum gold accuracy (OK vs NOT OK)"})
    gold_min_answers: int = field(default=3, metadata={"help": "gold answers before the threshold applies"})
    min_reason_words: int = field(default=0, metadata={"help": "words the reason needs; 0 = optional (the page counts them live)"})


@register_mephisto_abstraction()
class SafetyBlueprint(QueueFedBlueprint):
    """Queue-fed labels + scored onboarding + hidden gold (see module docstring)."""

    ArgsClass: ClassVar[type] = SafetyBlueprintArgs
    BLUEPRINT_TYPE = BLUEPRINT_TYPE_SAFETY
    answer_noun: ClassVar[str] = "labels"
    per_unit_key: ClassVar[str] = "items_per_unit"
    answers_per_item_key: ClassVar[str] = "annotations_per_item"

    def configure(self, blue: Any) -> None:
        super().configure(blue)
        self.gold_per_unit = int(blue.gold_per_unit)
        self.gold_threshold = float(blue.gold_threshold)
        self.gold_min_answers = int(blue.gold_min_answers)
        self.min_reason_words = int(blue.get("min_reason_words", 0))
        self._task_data_file = config_path(blue.get("task_data_file"), DEMO_TASK_DATA_PATH)
        self._indices_file = config_path(blue.get("annotation_indices_file"), DEMO_ANNOTATION_INDICES_PATH)
        self._gold_file = config_path(blue.get("gold_file"), DEFAULT_GOLD_PATH)
        self._onboarding_file = config_path(blue.get("onboarding_file"), DEFAULT_ONBOARDING_PATH)
        self._items: dict[str, LabelItem] | None = None
        self.page_images = page_images_for(blue)
        self._gold: list[LabelItem] | None = None
        self._onboarding: list[LabelItem] | None = None
        self.quality = WorkerQuality()
        self._gold_seen: dict[str, set[str]] = {}  # worker -> gold item ids shown to them

    @classmethod
    def check_study_args(cls, blue: Any, shared_state: "SharedTaskState") -> None:
        """The numbers (`task.build_task` checked the inputs themselves before anything launched)."""
        assert int(blue.items_per_unit) >= 1, "items_per_unit must be at least 1"
        assert int(blue.annotations_per_item) >= 1, "annotations_per_item must be at least 1"
        assert 0 <= int(blue.min_reason_words) <= MAX_REASON_WORDS, f"min_reason_words must be 0-{MAX_REASON_WORDS}"

    # --- data ------------------------------------------------------------------------------------

    @property
    def items(self) -> dict[str, LabelItem]:
        if self._items is None:
            items = load_task_items(self._task_data_file, self._indices_file, self.page_images)
            self._items = {i.item_id: i for i in items}
        return self._items

    @property
    def gold_items(self) -> list[LabelItem]:
        if self._gold is None:
            self._gold = load_known_items(self._gold_file, "gold", self.page_images) if self.gold_per_unit > 0 else []
        return self._gold

    @property
    def onboarding_items(self) -> list[LabelItem]:
        if self._onboarding is None:
            use = self.use_onboarding
            self._onboarding = load_known_items(self._onboarding_file, "onboarding", self.page_images) if use else []
        return self._onboarding

    def load_page_data(self) -> None:
        self.items, self.gold_items, self.onboarding_items  # noqa: B018  (their images are copied as they load)

    # --- the queue-fed study ---------------------------------------------------------------------

    def queue_items(self) -> list[QueueItem]:
        """An item's only "conversation" is the item itself: a worker may label several turns of one
        conversation (`--annotate all-bot`), each a separate question, but never the same item twice."""
        return [QueueItem(iid, (iid,)) for iid in self.items]

    def restore_finished(self, queue: WorkQueue, units: list[FinishedUnit]) -> int:
        """Gold verdicts first (replayed in submission order), then the labels of workers still trusted count."""
        self.quality = replay(units)
        counted = 0
        for unit in units:
            if unit.mephisto_worker_id in self.quality.excluded:
                continue
            for label in labels_from_submission(unit.inputs, unit.outputs):
                if not label.item["is_gold"]:
                    counted += queue.restore_completed(unit.mephisto_worker_id, label.item["item_id"], 0)
        return counted

    def restore_shown(self, queue: WorkQueue, worker: str, inputs: dict[str, Any]) -> None:
        for item in inputs.get("items", []):
            if item["is_gold"]:
                self._gold_seen.setdefault(worker, set()).add(item["item_id"])
            else:
                queue.restore_seen(worker, item["item_id"])

    def resume_details(self) -> str:
        return f", {len(self.quality.excluded)} worker(s) excluded" if self.quality.excluded else ""

    def describe_work(self, queue: WorkQueue) -> str:
        return f"{super().describe_work(queue)} (+{self.gold_per_unit} gold)"

    def reserve_unit_inputs(self, holder: str, worker: str) -> dict[str, Any]:
        """The reserved items with the hidden gold items at seeded positions (no gold when nothing is
        left to label)."""
        reserved = self.queue.reserve(holder, worker, self.per_unit)
        if not reserved:
            logger.warning("agent %s took a unit but no item is left for its worker", holder)
        regular = [self.items[r.item_id].stored(is_gold=False) for r in reserved]
        rng = random.Random(f"{self.seed}:unit:{holder}")
        with self._lock:
            seen = self._gold_seen.setdefault(worker, set())
            gold = choose_gold(self.gold_items, seen, self.gold_per_unit if regular else 0, rng)
            seen.update(g.item_id for g in gold)
        items = place(regular, [g.stored(is_gold=True) for g in gold], rng)
        return unit_inputs(items, is_onboarding=False, onboarding_required=self.use_onboarding,
                           gold_threshold=self.gold_threshold if self.gold_per_unit else None,
                           gold_min_answers=self.gold_min_answers if self.gold_per_unit else None,
                           min_reason_words=self.min_reason_words)

    def is_excluded(self, worker: str) -> bool:
        return worker in self.quality.excluded

    def accepts_worker(self, worker: Worker) -> bool:
        """Block-listed workers and those excluded for failing gold get no unit."""
        return super().accepts_worker(worker) and not self.is_excluded(str(worker.db_id))

    def count_answers(self, holder: str, worker: Worker, inputs: dict[str, Any] | None,
                      outputs: dict[str, Any] | None) -> None:
        """Judge the unit's gold answers, then either count its labels or, if the worker just failed
        gold, exclude them (soft-block, revoke everything they labelled).

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

    def page_view(self, inputs: dict[str, Any]) -> dict[str, Any]:
        return page_view(inputs)

    # --- onboarding ------------------------------------------------------------------------------

    def _onboarding_inputs(self, worker_id: str) -> dict[str, Any]:
        """The onboarding items in a per-worker seeded order (so the check maps the page's slots back)."""
        items = [i.stored(is_gold=False) for i in self.onboarding_items]
        random.Random(f"{self.seed}:onboarding:{worker_id}").shuffle(items)
        return unit_inputs(items, is_onboarding=True, onboarding_required=True, min_reason_words=self.min_reason_words)

    def get_onboarding_data(self, worker_id: str) -> dict[str, Any]:
        return with_practice_token(page_view(self._onboarding_inputs(worker_id)), worker_id)

    def validate_onboarding(self, worker: Worker, onboarding_agent: "OnboardingAgent") -> bool:
        """Pass when the share of onboarding items answered right (OK vs NOT OK) reaches the threshold."""
        inputs = self._onboarding_inputs(str(worker.db_id))
        outputs = self.scored_onboarding_outputs(onboarding_agent, "labels", "slot", "label")
        results = score(inputs["items"], labels_from_submission(inputs, outputs), gold_only=False)
        return self.onboarding_outcome(worker, onboarding_agent, inputs, outputs, sum(results), len(results))

    def practice_verdict(self, worker_id: str, shown: dict[str, Any], item: str, answer: str) -> PracticeVerdict | None:
        """OK or NOT OK for the onboarding item in slot `item` (the page knows items by slot only), scored as
        the onboarding scores it (OK vs any NOT OK), with the item's `feedback`."""
        items = self._onboarding_inputs(worker_id)["items"]
        # the slot exactly as the page writes it: checks are kept by this text, scoring looks up str(slot)
        if not (item.isascii() and item.isdigit()) or item != str(int(item)) or int(item) >= len(items) \
                or answer not in LABELS:
            return None
        known = {i.item_id: i for i in self.onboarding_items}[items[int(item)]["item_id"]]
        assert known.gold_label is not None  # onboarding items always carry their answer
        right = "this reply is OK to send" if is_ok_side(known.gold_label) else "this reply is NOT OK to send"
        return PracticeVerdict.of(is_correct(answer, known.gold_label), right, known.feedback)
