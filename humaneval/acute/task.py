"""`python -m humaneval.launch acute`: compose task_configs/acute.yaml and check every input first.

Everything a worker would trip over is checked here, before Mephisto starts anything (docs promise
it): the pairings file through the same `load_pairings` as `python -m humaneval.acute validate`, the
question, the onboarding file and the block lists. A problem is an `InputError` (exit code 2 naming
file, line and field), and nothing is launched or written.
"""

from __future__ import annotations

from collections.abc import Sequence

from omegaconf import DictConfig

import humaneval.acute.blueprint  # noqa: F401  (registers the blueprint with Mephisto, which composing the config needs)
from humaneval.acute.bundled_data import DEFAULT_ONBOARDING_PATH, EXAMPLE_PAIRINGS_PATH
from humaneval.acute.onboarding import load_onboarding
from humaneval.acute.pairings_validation import load_pairings
from humaneval.acute.questions import resolve_question
from humaneval.crowd.mephisto_api import SharedStaticTaskState
from humaneval.crowd.page_answers import MAX_REASON_WORDS
from humaneval.crowd.task_config import checked_image_bound, check_number, compose_study_config, errors_named_by_key
from humaneval.crowd.work_driven_units import read_block_list
from humaneval.input_errors import InputError
from humaneval.study_folder import StudyFolder


# resolve_question's fields -> the keys a user sets
QUESTION_KEYS = {"question": "mephisto.blueprint.question", "question.text": "mephisto.blueprint.question_text",
                 "question.choice": "mephisto.blueprint.question_choice"}


def build_task(overrides: Sequence[str] = (),
               folder: StudyFolder | None = None) -> tuple[DictConfig, SharedStaticTaskState]:
    cfg = compose_study_config("acute", overrides, folder=folder, files={"pairings_file": EXAMPLE_PAIRINGS_PATH,
                                                    "onboarding_file": DEFAULT_ONBOARDING_PATH})
    blue = cfg.mephisto.blueprint
    images = checked_image_bound(blue)
    with errors_named_by_key(cfg):
        pairs = load_pairings(blue.pairings_file, images=images)
        if all(p["is_onboarding"] for p in pairs):
            raise InputError("no comparisons (only onboarding pairs) in the file", path=blue.pairings_file)
        if blue.get("onboarding_qualification", None) is not None:
            load_onboarding(blue.onboarding_file, images)
        read_block_list(list(blue.block_list_files))
    try:
        resolve_question(blue.question, text=blue.question_text, choice=blue.question_choice)
    except InputError as err:
        raise InputError(err.problem, field=QUESTION_KEYS.get(err.field or "", QUESTION_KEYS["question"])) from None
    for key in ("annotations_per_pair", "subtasks_per_unit"):
        check_number(blue, key, 1)
    check_number(blue, "onboarding_threshold", 0.0, 1.0)
    check_number(blue, "min_reason_words", 1, MAX_REASON_WORDS)
    return cfg, SharedStaticTaskState()
