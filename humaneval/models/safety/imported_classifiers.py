"""Slots for the ParlAI safety classifiers (BAD multi-turn, sensitive topics, single-turn safety).

Their weights are not redistributable with the toolkit, and nothing may download them at run time, so
each slot reports "not configured" (score `None`, never unsafe) until a converted classifier directory
is given. The conversion (`python -m humaneval.models import-parlai`) writes our own small native classifier
module; this file only decides, from its class probabilities, whether a message is unsafe — with ParlAI's
threshold rule and ParlAI's inputs (the BAD classifier sees the last 4 turns joined by newlines).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from humaneval.input_errors import InputError
from humaneval.models.safety.checks import Verdict

logger = logging.getLogger(__name__)


@runtime_checkable
class ProbabilityClassifier(Protocol):
    """What a converted ParlAI classifier offers: its class names and a probability row per text."""

    class_list: Sequence[str]

    def predict_proba(self, texts: list[str]) -> list[list[float]]: ...


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

IMPORT_HINT = ("import the ParlAI weights with `python -m humaneval.models import-parlai ZOO_DIR --out DIR` "
               "and set its `path` in the server config")


def parlai_decision(class_list: Sequence[str], probs: Sequence[float], threshold: float) -> str:
    """ParlAI's `TorchClassifierAgent` rule: at 0.5 (or with more than two classes) the argmax; otherwise
    class_list[0] iff its probability exceeds the threshold, else class_list[1]."""
    if len(class_list) != 2 or threshold == 0.5:
        return class_list[max(range(len(probs)), key=lambda i: probs[i])]
    return class_list[0] if probs[0] > threshold else class_list[1]


def _default_loader(path: Path, device: str) -> ProbabilityClassifier:
    """Load a converted classifier directory with the importer's native module."""
    # The converter and its loader belong to the import half of the model layer; resolved lazily so that an
    # unconfigured slot costs nothing and the two halves stay decoupled.
    module = importlib.import_module("humaneval.models.safety_classifier")
    return module.load_classifier(path, device=device)


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
        loader: Callable[[Path, str], ProbabilityClassifier] | None = None,
        classifier: ProbabilityClassifier | None = None,
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
            self._classifier = (loader or _default_loader)(self.path, device)
            logger.info("loaded %s from %s on %s", self.kind.title, self.path, device)
        self.configured = self._classifier is not None

    def model_input(self, text: str, context: Sequence[str]) -> str:
        """The text ParlAI fed this classifier: the message with up to `history_turns - 1` earlier turns."""
        earlier = list(context)[-(self.kind.history_turns - 1):] if self.kind.history_turns > 1 else []
        return "\n".join([*earlier, text])

    def check(self, text: str, context: Sequence[str] = ()) -> Verdict:
        if self._classifier is None:
            return Verdict(unsafe=False, score=None, reason=f"{self.kind.title}: not configured ({IMPORT_HINT})")
        class_list = list(self._classifier.class_list)
        probs = [float(p) for p in self._classifier.predict_proba([self.model_input(text, context)])[0]]
        decision = parlai_decision(class_list, probs, self.threshold)
        score = sum(p for c, p in zip(class_list, probs) if c not in self.kind.safe_classes)
        unsafe = decision not in self.kind.safe_classes
        return Verdict(unsafe=unsafe, score=score,
                       reason=f"{self.kind.title}: {decision} (p(unsafe)={score:.2f}, threshold {self.threshold:g})")
