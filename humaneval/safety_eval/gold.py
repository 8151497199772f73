"""Items with known answers (hidden gold items and onboarding items) and the worker-quality rule.

Why gold inside units: onboarding checks a worker once, at the door; a worker who later clicks at
random is only caught by items whose answer is known, mixed into the real work and indistinguishable
from it in the page. The rule, applied after every submitted unit in submission order, both live (the
task runner) and when replaying the database (resume, export), so all three always agree:

* a gold answer is right when it is on the same side of OK / NOT OK as the gold label (the NOT OK
  buckets are a matter of degree; the gold items are clear cases); a gold item left unanswered counts
  as wrong;
* once a worker has at least `min_answers` gold answers and their share of right ones is below
  `threshold`, they are excluded for good: no more units, and every label of theirs stops counting.

File format of `gold.jsonl` and `onboarding.jsonl` (one item per line): `{"item_id": str (optional,
default "<kind>:<line>"), "dialog": [[human_act, bot_act], ...] (acts `{"id", "text"}` as in
task_data.jsonl, docs/formats.md, "Safety annotation task data"), "gold_label": one of the four buckets, "annotation_index": int
(optional, default the last bot utterance), "note": str (optional, why the answer is clear; never sent
to the page)}`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from humaneval.input_errors import InputError
from humaneval.jsonl import iter_jsonl_objects
from humaneval.page_images import PageImages, episode_image, folder_of
from humaneval.practice_feedback import feedback_problem
from humaneval.safety_eval.task_data import LABELS, LabelItem, Label, labels_from_submission, shown_turns

GOLD_MODEL = "gold"  # the `model` of gold and onboarding items: they are no model's output


def is_ok_side(label: str) -> bool:
    return label == "ok"


def is_correct(label: str, gold_label: str) -> bool:
    """Binary scoring: OK vs any NOT OK."""
    return is_ok_side(label) == is_ok_side(gold_label)


def dialog_utterances(dialog: Any, *, path: str | Path, line: int) -> list[str]:
    """The texts of a `dialog` (list of [human_act, bot_act] pairs), in order, checked."""
    if not isinstance(dialog, list) or not dialog:
        raise InputError("must be a non-empty list of [human, bot] act pairs", path=path, line=line, field="dialog")
    texts: list[str] = []
    for n, pair in enumerate(dialog):
        if not isinstance(pair, list) or not 1 <= len(pair) <= 2:
            raise InputError("each entry must be a list of one or two acts", path=path, line=line, field=f"dialog[{n}]")
        for k, act in enumerate(pair):
            if not isinstance(act, dict) or not isinstance(act.get("text"), str):
                raise InputError("an act needs a string 'text'", path=path, line=line, field=f"dialog[{n}][{k}].text")
            texts.append(act["text"])
    return texts


def load_known_items(path: str | Path, kind: str, images: PageImages | None = None) -> list[LabelItem]:
    """Gold or onboarding items (`kind` names them in default ids and messages), validated; an item's picture
    (`image_src`, as in task data: a study with pictures gives its gold items pictures too, or they would
    stand out) checked and copied by `images` (default: checked only)."""
    images = images or PageImages()
    base = folder_of(path)
    items: list[LabelItem] = []
    seen: set[str] = set()
    for line, obj in iter_jsonl_objects(path):
        texts = dialog_utterances(obj.get("dialog"), path=path, line=line)
        index = obj.get("annotation_index", len(texts) - 1 if len(texts) % 2 == 0 else len(texts) - 2)
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(texts) or index % 2 != 1:
            raise InputError(f"must be the index of a bot utterance (odd, < {len(texts)}), got {index!r}",
                             path=path, line=line, field="annotation_index")
        gold_label = obj.get("gold_label")
        if gold_label not in LABELS:
            raise InputError(f"must be one of {', '.join(LABELS)}, got {gold_label!r}", path=path, line=line,
                             field="gold_label")
        problem = feedback_problem(obj.get("feedback"))
        if problem:
            raise InputError(problem, path=path, line=line, field="feedback")
        item_id = obj.get("item_id", f"{kind}:{line}")
        if not isinstance(item_id, str) or not item_id or item_id in seen:
            raise InputError(f"must be a unique non-empty string, got {item_id!r}", path=path, line=line, field="item_id")
        seen.add(item_id)
        items.append(LabelItem(item_id=item_id, model=GOLD_MODEL, conversation_id=None, annotation_index=index,
                                    turns=tuple(shown_turns(texts, index)), gold_label=gold_label,
                                    feedback=obj.get("feedback"),
                                    image=images.view(episode_image([("", obj)], base, path, line))))
    if not items:
        raise InputError(f"no {kind} items in the file", path=path)
    return items


def score(stored_items: Sequence[dict[str, Any]], labels: Sequence[Label], *, gold_only: bool) -> list[bool]:
    """Right/wrong per item with a known answer (only the hidden gold ones when `gold_only`), in page
    order; an item without a valid label is wrong."""
    answered = {label.slot: label.label for label in labels}
    return [
        slot in answered and is_correct(answered[slot], item["gold_label"])
        for slot, item in enumerate(stored_items)
        if item.get("gold_label") is not None and (item.get("is_gold") or not gold_only)
    ]


def choose_gold(pool: Sequence[LabelItem], seen: set[str], count: int, rng: random.Random) -> list[LabelItem]:
    """`count` gold items for a worker: ones they have not seen first (in a seeded order), then the
    least recent ones again if the pool is exhausted (a worker doing many units sees repeats)."""
    fresh = [g for g in pool if g.item_id not in seen]
    old = [g for g in pool if g.item_id in seen]
    rng.shuffle(fresh)
    rng.shuffle(old)
    return (fresh + old)[:count]


def place(regular: Sequence[dict[str, Any]], gold: Sequence[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """Gold items inserted at seeded random positions among the regular ones."""
    items = list(regular)
    for item in gold:
        items.insert(rng.randint(0, len(items)), item)
    return items


@dataclass
class WorkerQuality:
    """Gold answers per worker and who is excluded (with why). Workers are Mephisto worker ids."""

    correct: Counter[str] = field(default_factory=Counter)
    answered: Counter[str] = field(default_factory=Counter)
    excluded: dict[str, str] = field(default_factory=dict)

    def add_unit(self, worker: str, results: Sequence[bool], threshold: float | None, min_answers: int | None) -> str | None:
        """Count a unit's gold results; return the reason if this unit gets the worker excluded."""
        self.answered[worker] += len(results)
        self.correct[worker] += sum(results)
        if worker in self.excluded or threshold is None or min_answers is None or not results:
            return None
        n, right = self.answered[worker], self.correct[worker]
        if n >= min_answers and right / n < threshold:
            self.excluded[worker] = f"gold accuracy {right}/{n} below the threshold {threshold:g}"
            return self.excluded[worker]
        return None


class StoredUnit(Protocol):
    """What replaying needs of a finished unit (`humaneval.crowd.export.FinishedUnit` has it)."""

    mephisto_worker_id: str
    inputs: Any
    outputs: Any
    submitted_at: float | None


def replay(units: Iterable[StoredUnit]) -> WorkerQuality:
    """The quality verdicts that the live run reached, recomputed from stored units (submission order)."""
    quality = WorkerQuality()
    for unit in sorted(units, key=lambda u: u.submitted_at or 0.0):
        inputs = unit.inputs if isinstance(unit.inputs, dict) else {}
        if inputs.get("is_onboarding"):
            continue
        results = score(inputs.get("items", []), labels_from_submission(inputs, unit.outputs), gold_only=True)
        quality.add_unit(unit.mephisto_worker_id, results, inputs.get("gold_threshold"), inputs.get("gold_min_answers"))
    return quality
