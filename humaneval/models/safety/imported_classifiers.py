"""Slots for the ParlAI safety classifiers (BAD multi-turn, sensitive topics, single-turn safety).

Their weights are not redistributable with the toolkit, and nothing may download them at run time, so
each slot reports "not configured" (a not-run verdict: `unsafe` and score `None`) until a converted classifier directory
is given. The conversion (`python -m humaneval.models import-parlai`) writes our own small native classifier
module (`humaneval.models.parlai_classifier`, which also owns ParlAI's threshold rule and input layout); this
file fits it into the check interface: which classes count as unsafe, how much history each classifier sees
(the BAD classifier: the last 4 turns joined by newlines), and the per-check threshold from the config.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from humaneval.input_errors import InputError
from humaneval.models.safety.checks import Verdict

logger = logging.getLogger(__name__)


class Prediction(Protocol):
    probs: dict[str, float]  # every class's probability


@runtime_checkable
class ImportedClassifier(Protocol):
    """What a converted ParlAI classifier offers (`humaneval.models.parlai_classifier.ParlAIClassifier`)."""

    classes: tuple[str, ...]

    def predict(self, texts: list[str]) -> Sequence[Prediction]: ...


@dataclass(frozen=True)
class ClassifierKind:
    """How ParlAI used one family of classifier: its title, which classes are safe, how much history."""

    title: str
    safe_classes: frozenset[str]
    history_turns: int  # turns of input, the message itself included (1 = single message)


KINDS: dict[str, ClassifierKind] = {
    # BAD multi-turn (bot_adversarial_dialogue): last 4 turns joined by "\n", classes __notok__ __ok__.
    "bad": ClassifierKind("BAD classifier", frozenset({"__ok__"}), 4),
    # dialogue_safety single-turn (standard + adversarial), classes __notok__ __ok__.
    "single_turn": ClassifierKind("single-turn safety classifier", frozenset({"__ok__"}), 1),
    # sensitive topics: none politics religion medical nsfw drugs.
    "sensitive_topics": ClassifierKind("sensitive-topics classifier", frozenset({"none"}), 1),
}

# Short: it is repeated in every logged verdict. The how-to is in docs/serving.md and task_configs/serve.yaml.
NOT_CONFIGURED = "not configured (no imported weights; see docs/serving.md)"


def _load_converted(path: Path, name: str, device: str) -> ImportedClassifier:
    """Load a directory written by `import-parlai` with the importer's native classifier module."""
    from humaneval.models.parlai_classifier import ParlAIClassifier  # torch: only once a slot is configured

    return ParlAIClassifier.load(path, name=name, device=device)


class ImportedClassifierCheck:
    """One classifier slot; `configured` only once a converted directory has been loaded."""

    def __init__(
        self,
        kind: str,
        *,
        name: str | None = None,
        path: str | Path | None = None,
        threshold: float = 0.5,
        device: str = "cpu",
        classifier: ImportedClassifier | None = None,
    ) -> None:
        if kind not in KINDS:
            raise InputError(f"unknown classifier kind {kind!r} (known: {', '.join(KINDS)})", field="kind")
        self.kind = KINDS[kind]
        self.name = name or f"{kind}_classifier"
        self.threshold = threshold
        self.path = Path(path) if path is not None else None
        self._classifier = classifier
        if self._classifier is None and self.path is not None:
            if not self.path.is_dir():
                raise InputError("converted classifier directory not found", path=self.path, field="path")
            self._classifier = _load_converted(self.path, self.name, device)
            logger.info("loaded %s from %s on %s", self.kind.title, self.path, device)
        self.configured = self._classifier is not None

    def check(self, text: str, context: Sequence[str] = ()) -> Verdict:
        if self._classifier is None:
            return Verdict.not_run(f"{self.kind.title}: {NOT_CONFIGURED}")
        from humaneval.models.parlai_classifier import bad_classifier_input, decide

        # ParlAI's input: the message with up to `history_turns - 1` earlier turns, joined by newlines.
        model_input = bad_classifier_input([*context, text], n_turns=self.kind.history_turns)
        prediction = self._classifier.predict([model_input])[0]
        classes = tuple(self._classifier.classes)
        probs = [float(prediction.probs[c]) for c in classes]
        decision = decide(probs, classes, self.threshold)  # ParlAI's threshold rule, with our per-check threshold
        score = sum(p for c, p in zip(classes, probs) if c not in self.kind.safe_classes)
        unsafe = decision not in self.kind.safe_classes
        return Verdict(unsafe=unsafe, score=score,
                       reason=f"{self.kind.title}: {decision} (p(unsafe)={score:.2f}, threshold {self.threshold:g})")
