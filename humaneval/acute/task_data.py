"""The data of one ACUTE unit: what the server stores, what the page sees, and what a submission means.

Three shapes, one module, so that the blueprint (which builds units), the page (which shows them) and
the export (which reads them back) cannot drift apart:

* **stored inputs** (the agent's init state in Mephisto's database): every comparison with its
  `pair_id`, the two evaluated models in pairing order, the dialogue ids, `left_index` (which of the
  two is shown left) and the two conversations in display order;
* **page view** (what the worker's browser receives): the same without model names or dialogue ids,
  and turns tagged only `evaluated` / `other`: speaker ids are model names, and a worker who can read
  them in the page source could vote for a brand instead of a conversation;
* **submission**: `{"judgements": [{"pair_id", "choice": "left"|"right", "reason", "started_at",
  "submitted_at"}]}`; a judgement counts only if it names a comparison of the unit, a side, and a
  non-empty reason. A unit whose stored inputs offer extra choices (`question.extra_choices`: "tie",
  "both_bad", when the study allows them) also accepts those, and its `winner` is the choice itself.
  Which choices count is read from the unit's own inputs, not from the current settings, so a task
  resumed with another `allow_tie` keeps every judgement made under the old one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from humaneval.acute.questions import Question
from humaneval.crowd.page_answers import answers_by, page_time, reason_words

SIDES = ("left", "right")

# Choices a study may offer besides the two speakers (blueprint args `allow_tie`, `allow_both_bad`):
# the value the page sends, which the export writes as `winner`, and its label, which favours no side.
EXTRA_CHOICES = {"tie": "About the same", "both_bad": "Both are bad"}


def reserved_name_problem(model: str) -> str | None:
    """Why `model` cannot name a model, or None: an extra choice's value is also a judgement's `winner`,
    so a model of that name could not be told from a tie."""
    if model in EXTRA_CHOICES:
        return f"{model!r} cannot name a model: judgements use it as the winner of a pair judged {EXTRA_CHOICES[model]!r}"
    return None


def extra_choices(*, allow_tie: bool, allow_both_bad: bool) -> tuple[str, ...]:
    """The extra choices a study offers, in page order (off by default: ParlAI's ACUTE forces a choice)."""
    return tuple(value for value, on in (("tie", allow_tie), ("both_bad", allow_both_bad)) if on)


def conversation_view(dialogue: dict[str, Any], evaluated: str, label: str,
                      image: dict[str, str] | None = None) -> dict[str, Any]:
    """One conversation as shown: the image it is about (if any: `{"url", "alt"}`, see `humaneval.page_images`),
    context lines, then turns tagged by role (never by speaker id)."""
    context: list[str] = []
    for act in dialogue.get("context") or []:
        context += [line for line in str(act.get("text", "")).split("\n") if line.strip()]
    turns = [
        {"role": "evaluated" if turn["id"] == evaluated else "other", "text": str(turn["text"])}
        for turn in dialogue["dialogue"]
    ]
    view = {"label": label, "context": context, "turns": turns}
    return {**view, "image": image} if image else view


def comparison_inputs(pair: dict[str, Any], left_index: int) -> dict[str, Any]:
    """A stored comparison of `pair` with side `left_index` shown on the left."""
    order = (left_index, 1 - left_index)
    speakers = pair["speakers_to_eval"]
    images = pair.get("page_images") or [None, None]
    return {
        "pair_id": pair["pair_id"],
        "models": list(speakers),
        "dialogue_ids": list(pair.get("dialogue_ids") or [None, None]),
        "left_index": left_index,
        "conversations": [
            conversation_view(pair["dialogue_dicts"][side], speakers[side], f"Speaker {n}", images[side])
            for n, side in enumerate(order, start=1)
        ],
    }


def unit_inputs(
    comparisons: Sequence[dict[str, Any]], question: Question, *, is_onboarding: bool, onboarding_required: bool,
    extra: Sequence[str] = (), min_reason_words: int = 1,
) -> dict[str, Any]:
    """The stored inputs of a unit (or of an onboarding); `extra` are the `EXTRA_CHOICES` offered."""
    return {
        "task": "acute",
        "is_onboarding": is_onboarding,
        "onboarding_required": onboarding_required,
        "min_reason_words": min_reason_words,
        "question": {
            "name": question.name,
            "text": question.text,
            "choices": [question.choice(1).replace("<Speaker 1>", "Speaker 1"),
                        question.choice(2).replace("<Speaker 2>", "Speaker 2")],
            "extra_choices": [{"value": value, "label": EXTRA_CHOICES[value]} for value in extra],
        },
        "comparisons": list(comparisons),
    }


def page_view(inputs: dict[str, Any]) -> dict[str, Any]:
    """What the browser gets: stored inputs minus anything that names a model."""
    hidden = ("models", "dialogue_ids")
    return {
        **{k: v for k, v in inputs.items() if k != "comparisons"},
        "comparisons": [{k: v for k, v in c.items() if k not in hidden} for c in inputs.get("comparisons", [])],
    }


@dataclass(frozen=True)
class Judgement:
    """One counted decision, resolved to models."""

    pair_id: str
    model_a: str
    model_b: str
    left: str
    winner: str
    reason: str
    dialogue_ids: list[Any]
    started_at: float | None
    submitted_at: float | None


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def accepted_choices(inputs: dict[str, Any]) -> tuple[str, ...]:
    """The choices a unit's (or an onboarding's) page offered: the two sides, then the extra choices stored
    with it. A tuple, not a set: a submitted choice may be anything JSON holds, and a list is not hashable."""
    offered = (inputs.get("question") or {}).get("extra_choices") or []
    return SIDES + tuple(c["value"] for c in offered if c.get("value") in EXTRA_CHOICES)


def judgements_from_submission(inputs: dict[str, Any] | None, outputs: dict[str, Any] | None) -> list[Judgement]:
    """The valid judgements of a submission, in the unit's order; anything malformed is left out (and its pair
    goes back to the queue), a reason shorter than the unit's `min_reason_words` included: the page refuses it,
    so only a forged page sends one."""
    if not inputs or not isinstance(outputs, dict):
        return []
    submitted = outputs.get("judgements")
    if not isinstance(submitted, list):
        return []
    by_pair = answers_by(submitted, "pair_id")
    accepted = accepted_choices(inputs)
    found: list[Judgement] = []
    for comparison in inputs.get("comparisons", []):
        answer = by_pair.get(comparison["pair_id"])
        if answer is None or answer.get("choice") not in accepted:
            continue
        reason = answer.get("reason")
        if not isinstance(reason, str) or reason_words(reason) < max(1, _int(inputs.get("min_reason_words"), 1)):
            continue
        models = comparison["models"]
        left_index = int(comparison["left_index"])
        left, right = models[left_index], models[1 - left_index]
        found.append(
            Judgement(
                pair_id=comparison["pair_id"],
                model_a=models[0],
                model_b=models[1],
                left=left,
                winner={"left": left, "right": right}.get(answer["choice"], answer["choice"]),
                reason=reason.strip(),
                dialogue_ids=list(comparison.get("dialogue_ids") or []),
                started_at=page_time(answer.get("started_at")),
                submitted_at=page_time(answer.get("submitted_at")),
            )
        )
    return found
