"""The ACUTE-Eval blueprint (`acute_eval`): a queue-fed study (`humaneval.crowd.queue_fed_blueprint`)
whose items are pairs of conversations, each judged by `annotations_per_pair` different workers.

What it adds to the queue-fed base, and why (ParlAI's ACUTE blueprint is the baseline):

* **Units follow the work left**, so `annotations_per_pair` counts and a unit that expires or is cut
  short is replaced (ParlAI fixes every unit's pairs at launch).
* **Comparisons are chosen when a worker takes a unit**, from what that worker has not seen; which
  side is shown left is balanced per pair (the queue draws it, the stored inputs keep it).
* **Onboarding** (`onboarding_qualification`): the onboarding pairs are scored against their
  `correct_answer`; a worker below `onboarding_threshold` never receives a unit, so none of their
  judgements count. After each practice answer the page asks the server whether it was right and
  shows why (the pair's `feedback`); the first answer checked is the one scored (`practice_checks`).
* **Ties** (`allow_tie`, `allow_both_bad`, off by default as in ParlAI): the page also offers "About
  the same" / "Both are bad", onboarding included (the worker practises the real page). Onboarding
  pairs have an obvious better speaker, so such an answer there counts as wrong.
* **Resume** reads submissions with `task_data.judgements_from_submission`, the function the export
  uses, so the queue and the export always agree.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Optional

from humaneval.acute.bundled_data import DEFAULT_ONBOARDING_PATH, EXAMPLE_PAIRINGS_PATH
from humaneval.acute.onboarding import load_onboarding, practice_verdict
from humaneval.acute.pairings_validation import load_pairings
from humaneval.acute.questions import DEFAULT_PRESET, Question, resolve_question
from humaneval.acute.task_data import (
    accepted_choices,
    comparison_inputs,
    extra_choices,
    judgements_from_submission,
    page_view,
    unit_inputs,
)
from humaneval.crowd.export import FinishedUnit
from humaneval.crowd.mephisto_api import Worker, register_mephisto_abstraction
from humaneval.crowd.page_answers import MAX_REASON_WORDS
from humaneval.crowd.page_folder import page_images_for
from humaneval.crowd.practice_checks import with_practice_token
from humaneval.crowd.queue_fed_blueprint import QueueFedBlueprint, QueueFedBlueprintArgs
from humaneval.crowd.work_queue import QueueItem, WorkQueue
from humaneval.input_errors import InputError
from humaneval.practice_feedback import PracticeVerdict

if TYPE_CHECKING:
    from humaneval.crowd.mephisto_api import OnboardingAgent, SharedTaskState

logger = logging.getLogger(__name__)

BLUEPRINT_TYPE_ACUTE = "acute_eval"


@dataclass
class AcuteBlueprintArgs(QueueFedBlueprintArgs):
    """ACUTE-Eval: two conversations side by side, one question; see task_configs/acute.yaml."""

    _blueprint_type: str = BLUEPRINT_TYPE_ACUTE
    _group: str = field(default="AcuteEvalBlueprint", metadata={"help": "ACUTE-Eval comparisons (humaneval)"})
    pairings_file: Optional[str] = field(default=None, metadata={"help": "pairings JSONL (docs/formats.md); None = bundled example"})
    question: str = field(default=DEFAULT_PRESET, metadata={"help": "question preset (engaging, human, interesting, knowledgeable)"})
    question_text: Optional[str] = field(default=None, metadata={"help": "custom question text (with question_choice)"})
    question_choice: Optional[str] = field(default=None, metadata={"help": "custom choice, containing <Speaker 1>"})
    annotations_per_pair: int = field(default=1, metadata={"help": "judgements per pair, each from a different worker"})
    subtasks_per_unit: int = field(default=5, metadata={"help": "comparisons per unit"})
    allow_tie: bool = field(default=False, metadata={"help": "also offer 'About the same' (winner: tie)"})
    allow_both_bad: bool = field(default=False, metadata={"help": "also offer 'Both are bad' (winner: both_bad)"})
    min_reason_words: int = field(default=1, metadata={"help": "words a reason needs (the page counts them live)"})


def _conversation_keys(pair: dict[str, Any]) -> tuple[str, str]:
    ids = pair.get("dialogue_ids") or [d.get("id") for d in pair["dialogue_dicts"]]
    return (f"{pair['speakers_to_eval'][0]}:{ids[0]}", f"{pair['speakers_to_eval'][1]}:{ids[1]}") if None in ids else (
        str(ids[0]), str(ids[1]))


@register_mephisto_abstraction()
class AcuteBlueprint(QueueFedBlueprint):
    """Queue-fed comparisons of two conversations + scored onboarding (see module docstring)."""

    ArgsClass: ClassVar[type] = AcuteBlueprintArgs
    BLUEPRINT_TYPE = BLUEPRINT_TYPE_ACUTE
    item_noun: ClassVar[str] = "pair"
    answer_noun: ClassVar[str] = "judgements"
    per_unit_key: ClassVar[str] = "subtasks_per_unit"
    answers_per_item_key: ClassVar[str] = "annotations_per_pair"

    def configure(self, blue: Any) -> None:
        super().configure(blue)
        self.question: Question = resolve_question(blue.question, text=blue.question_text, choice=blue.question_choice)
        self.extra_choices = extra_choices(allow_tie=bool(blue.allow_tie), allow_both_bad=bool(blue.allow_both_bad))
        self.min_reason_words = int(blue.get("min_reason_words", 1))
        self._pairings_file = blue.get("pairings_file", None) or str(EXAMPLE_PAIRINGS_PATH)
        self._onboarding_file = blue.get("onboarding_file", None) or str(DEFAULT_ONBOARDING_PATH)
        self._pairs: dict[str, dict[str, Any]] | None = None
        self._onboarding: dict[str, dict[str, Any]] | None = None
        self.page_images = page_images_for(blue)

    @classmethod
    def check_study_args(cls, blue: Any, shared_state: "SharedTaskState") -> None:
        """The numbers, and a pairings file with comparisons in it (`task.build_task` checked the rest)."""
        assert int(blue.subtasks_per_unit) >= 1, "subtasks_per_unit must be at least 1"
        assert int(blue.annotations_per_pair) >= 1, "annotations_per_pair must be at least 1"
        assert 0.0 <= float(blue.onboarding_threshold) <= 1.0, "onboarding_threshold must be within [0, 1]"
        assert 1 <= int(blue.min_reason_words) <= MAX_REASON_WORDS, f"min_reason_words must be 1-{MAX_REASON_WORDS}"
        pairings_file = blue.get("pairings_file", None) or EXAMPLE_PAIRINGS_PATH
        if not [p for p in load_pairings(pairings_file) if not p["is_onboarding"]]:
            raise InputError("no comparisons (only onboarding pairs) in the pairings file", path=pairings_file)
        if blue.get("onboarding_qualification", None) is not None:
            load_onboarding(blue.get("onboarding_file", None) or DEFAULT_ONBOARDING_PATH)

    # --- data ------------------------------------------------------------------------------------

    @property
    def pairs(self) -> dict[str, dict[str, Any]]:
        if self._pairs is None:
            pairs = load_pairings(self._pairings_file, images=self.page_images)
            skipped = sum(p["is_onboarding"] for p in pairs)
            if skipped:
                logger.info("%d onboarding pair(s) in the pairings file ignored: onboarding comes from onboarding_file", skipped)
            self._pairs = {p["pair_id"]: p for p in pairs if not p["is_onboarding"]}
        return self._pairs

    @property
    def onboarding_pairs(self) -> dict[str, dict[str, Any]]:
        if self._onboarding is None:
            use = self.use_onboarding
            pairs = load_onboarding(self._onboarding_file, self.page_images) if use else []
            self._onboarding = {p["pair_id"]: p for p in pairs}
        return self._onboarding

    def load_page_data(self) -> None:
        self.pairs, self.onboarding_pairs  # noqa: B018  (their images are copied into the page folder as they load)

    # --- the queue-fed study ---------------------------------------------------------------------

    def queue_items(self) -> list[QueueItem]:
        return [QueueItem(pid, _conversation_keys(p)) for pid, p in self.pairs.items()]

    def restore_finished(self, queue: WorkQueue, units: list[FinishedUnit]) -> int:
        """Judgements of earlier runs count, unless they answered another question (the task name was
        relaunched with a new `question`): those judge something else and are collected again."""
        counted, other_question = 0, 0
        for unit in units:
            asked = (unit.inputs.get("question") or {}).get("text") if isinstance(unit.inputs, dict) else None
            if asked is not None and asked != self.question.text:
                other_question += 1
                continue
            for judgement in judgements_from_submission(unit.inputs, unit.outputs):
                left_index = 0 if judgement.left == judgement.model_a else 1
                counted += queue.restore_completed(unit.mephisto_worker_id, judgement.pair_id, left_index)
        if other_question:
            logger.warning("%d earlier unit(s) of this task asked another question than %r: their judgements do not "
                           "count for it", other_question, self.question.text)
        return counted

    def restore_shown(self, queue: WorkQueue, worker: str, inputs: dict[str, Any]) -> None:
        for comparison in inputs.get("comparisons", []):
            queue.restore_seen(worker, comparison["pair_id"])

    def reserve_unit_inputs(self, holder: str, worker: str) -> dict[str, Any]:
        """The stored inputs of a new unit for `worker` (see `task_data`)."""
        items = self.queue.reserve(holder, worker, self.per_unit)
        if not items:
            logger.warning("agent %s took a unit but no comparison is left for its worker", holder)
        comparisons = [comparison_inputs(self.pairs[r.item_id], r.left_index) for r in items]
        return unit_inputs(comparisons, self.question, is_onboarding=False, onboarding_required=self.use_onboarding,
                           extra=self.extra_choices, min_reason_words=self.min_reason_words)

    def count_answers(self, holder: str, worker: Worker, inputs: Any, outputs: Any) -> None:
        """Its judgements count, anything it left out goes back to the queue."""
        judged = judgements_from_submission(inputs, outputs)
        counted = self.queue.complete(holder, [j.pair_id for j in judged])
        logger.info("worker %s: %d judgement(s) counted, %d missing in the run", worker.worker_name, counted,
                    self.queue.missing())

    def page_view(self, inputs: dict[str, Any]) -> dict[str, Any]:
        return page_view(inputs)

    # --- onboarding ------------------------------------------------------------------------------

    def get_onboarding_data(self, worker_id: str) -> dict[str, Any]:
        """The onboarding pairs, sides drawn per worker (seeded, so a reconnect sees the same page), and the
        secret its practice checks carry (`practice_checks`)."""
        rng = random.Random(f"{self.seed}:onboarding:{worker_id}")
        comparisons = [comparison_inputs(p, rng.randrange(2)) for p in self.onboarding_pairs.values()]
        return with_practice_token(page_view(self._onboarding_inputs(comparisons)), worker_id)

    def validate_onboarding(self, worker: Worker, onboarding_agent: "OnboardingAgent") -> bool:
        """Pass when the share of onboarding pairs answered correctly reaches the threshold ("tie" or
        "both_bad" never equals a `correct_answer`, so it counts as wrong)."""
        data = onboarding_agent.state.get_data()
        shown = (data.get("inputs") or {}).get("comparisons", [])
        comparisons = [
            comparison_inputs(self.onboarding_pairs[c["pair_id"]], int(c["left_index"]))
            for c in shown
            if c.get("pair_id") in self.onboarding_pairs
        ]
        inputs = self._onboarding_inputs(comparisons)
        outputs = self.scored_onboarding_outputs(onboarding_agent, "judgements", "pair_id", "choice")
        judged = judgements_from_submission(inputs, outputs)
        correct = sum(j.winner == self.onboarding_pairs[j.pair_id]["correct_answer"] for j in judged)
        return self.onboarding_outcome(worker, onboarding_agent, inputs, outputs, correct, len(self.onboarding_pairs))

    def practice_verdict(self, worker_id: str, shown: dict[str, Any], item: str, answer: str) -> PracticeVerdict | None:
        """Which speaker is the better one in onboarding pair `item` as this worker saw it (sides differ per
        worker), and the pair's `feedback`; "tie"/"both_bad", where offered, are wrong like any other miss."""
        pair = self.onboarding_pairs.get(item)
        comparison = next((c for c in shown.get("comparisons", []) if c.get("pair_id") == item), None)
        if pair is None or comparison is None or answer not in accepted_choices(shown):
            return None
        return practice_verdict(pair, int(comparison["left_index"]), answer)

    def _onboarding_inputs(self, comparisons: list[dict[str, Any]]) -> dict[str, Any]:
        """An onboarding's inputs: the page a unit shows, extra choices included."""
        return unit_inputs(comparisons, self.question, is_onboarding=True, onboarding_required=True,
                           extra=self.extra_choices, min_reason_words=self.min_reason_words)
