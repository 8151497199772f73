"""Gold items only catch careless workers if a worker cannot spot them: a gold item that looks different
from the model items around it (say, lower-case while the model writes "I'm sorry.") can be answered with
care while the real items are clicked through. So the bundled gold and onboarding items must not be
told apart from the bundled model items by their surface style.

The check: every turn the task shows (the labelled reply and its context, each tagged with its speaker,
since the worker sees the speaker too) is described by simple surface features — starts with a capital,
ends with . ! or ?, share of upper-case letters, length in words, has an apostrophe, has a lower-case
"i" — and a simple classifier (logistic regression, a depth-2 tree) learns gold-vs-model from them
under stratified 10-fold cross-validation. Its accuracy must not be significantly better than always
guessing the majority class (one-sided exact binomial test, p >= 0.05).

Power, honestly: the bundled data are 41 model items and 12 gold + onboarding items. On the labelled
replies alone (53 samples, majority rate 0.77) the test only fails from 47 right (accuracy 0.89), so
only a strong tell is seen; every shown turn (204 samples, majority rate 0.79, fails from 172 right,
0.84) is tested as well to see subtler ones. Passing says the gross tells (case, punctuation,
apostrophes, length) are gone, not that no worker could ever guess: the demo bot mostly answers
off-topic, and a reply that fits its context is a tell no restyling removes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from scipy.stats import binomtest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from humaneval.jsonl import iter_jsonl_objects
from humaneval.safety_eval.blueprint import DEFAULT_GOLD_PATH, DEFAULT_ONBOARDING_PATH
from humaneval.safety_eval.bundled_data import DEMO_ANNOTATION_INDICES_PATH, DEMO_TASK_DATA_PATH
from humaneval.safety_eval.gold import load_known_items
from humaneval.safety_eval.task_data import LabelItem, load_task_items

ALPHA = 0.05
CLASSIFIERS = {
    "logistic regression": lambda: make_pipeline(StandardScaler(), LogisticRegression()),
    "depth-2 tree": lambda: DecisionTreeClassifier(max_depth=2, random_state=0),
}
_LOWER_I = re.compile(r"(?<![\w'])i(?![\w])")  # "i", "i'm", not "it" or "hi"


def surface_features(text: str, speaker: str) -> list[float]:
    """What a glance at a turn shows, without reading it."""
    letters = [c for c in text if c.isalpha()]
    return [
        float(text[:1].isupper()),
        float(text.rstrip().endswith((".", "!", "?"))),
        sum(c.isupper() for c in letters) / max(len(letters), 1),
        float(len(text.split())),
        float("'" in text or "\u2019" in text),
        float(bool(_LOWER_I.search(text))),
        float(speaker == "THEM"),
    ]


def samples(items: Sequence[LabelItem], *, replies_only: bool) -> list[list[float]]:
    """One sample per shown turn, or per labelled reply (the last turn shown)."""
    return [surface_features(t["text"], t["speaker"])
            for item in items for t in (item.turns[-1:] if replies_only else item.turns)]


def detectability(gold: Sequence[LabelItem], model: Sequence[LabelItem], classifier: str,
                  *, replies_only: bool) -> tuple[float, float]:
    """Cross-validated (stratified 10-fold) accuracy of telling gold from model, and its one-sided
    p-value against the majority-class rate."""
    gold_x, model_x = samples(gold, replies_only=replies_only), samples(model, replies_only=replies_only)
    x, y = gold_x + model_x, [1] * len(gold_x) + [0] * len(model_x)
    folds = StratifiedKFold(10, shuffle=True, random_state=0)
    predicted = cross_val_predict(CLASSIFIERS[classifier](), x, y, cv=folds)
    correct = int(sum(p == t for p, t in zip(predicted, y)))
    majority = max(len(gold_x), len(model_x)) / len(y)
    return correct / len(y), binomtest(correct, len(y), majority, alternative="greater").pvalue


def known_items(*paths: Path) -> list[LabelItem]:
    return [item for path in paths for item in load_known_items(path, "gold")]


@pytest.fixture(scope="module")
def model_items() -> list[LabelItem]:
    return load_task_items(DEMO_TASK_DATA_PATH, DEMO_ANNOTATION_INDICES_PATH)


def old_style_copy(source: Path, target: Path) -> Path:
    """The file with every text lower-cased and its final punctuation dropped: how gold used to look."""
    objs = [obj for _, obj in iter_jsonl_objects(source)]
    for act in (act for obj in objs for pair in obj["dialog"] for act in pair):
        act["text"] = act["text"].lower().rstrip(".!?")
    target.write_text("".join(json.dumps(obj) + "\n" for obj in objs), encoding="utf-8")
    return target


# (classifier, replies_only): each classifier on the labelled replies and on every shown turn
CASES = pytest.mark.parametrize(("classifier", "replies_only"),
                                [(c, r) for c in sorted(CLASSIFIERS) for r in (True, False)],
                                ids=lambda v: {True: "labelled replies", False: "every shown turn"}.get(v, v))


@CASES
def test_bundled_gold_cannot_be_told_from_model_items_by_style(model_items: list[LabelItem], classifier: str,
                                                                 replies_only: bool) -> None:
    gold = known_items(DEFAULT_GOLD_PATH, DEFAULT_ONBOARDING_PATH)
    accuracy, p = detectability(gold, model_items, classifier, replies_only=replies_only)
    assert p >= ALPHA, f"{classifier} tells gold from model items with accuracy {accuracy:.3f} (p = {p:.2g})"


@CASES
def test_the_same_gold_in_the_old_lower_case_style_is_caught(model_items: list[LabelItem], classifier: str,
                                                            replies_only: bool, tmp_path: Path) -> None:
    """The check has the power to see the tell it is for: the same items, only lower-cased and without
    final punctuation, are told from model items far better than chance."""
    gold = known_items(old_style_copy(DEFAULT_GOLD_PATH, tmp_path / "gold.jsonl"),
                       old_style_copy(DEFAULT_ONBOARDING_PATH, tmp_path / "onboarding.jsonl"))
    accuracy, p = detectability(gold, model_items, classifier, replies_only=replies_only)
    assert p < ALPHA, f"{classifier} missed the lower-case gold: accuracy {accuracy:.3f} (p = {p:.2g})"
