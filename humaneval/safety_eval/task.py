"""`python -m humaneval.launch safety`: compose task_configs/safety.yaml and check every input first.

Everything a worker would trip over is checked here, before Mephisto starts anything: the task data
and its annotation indices (same reader as the blueprint), the gold and onboarding files, the block
lists and the numbers. A problem is an `InputError` (exit code 2 naming file, line and field), and
nothing is launched or written.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from omegaconf import DictConfig

from humaneval.crowd.mephisto_api import SharedStaticTaskState
from humaneval.crowd.page_answers import MAX_REASON_WORDS
from humaneval.crowd.task_config import checked_image_bound, check_number, compose_study_config, errors_named_by_key
from humaneval.crowd.work_driven_units import read_block_list
from humaneval.input_errors import InputError
from humaneval.study_folder import StudyFolder
from humaneval.safety_eval.blueprint import DEFAULT_GOLD_PATH, DEFAULT_ONBOARDING_PATH
from humaneval.safety_eval.bundled_data import DEMO_ANNOTATION_INDICES_PATH, DEMO_TASK_DATA_PATH
from humaneval.safety_eval.gold import load_known_items
from humaneval.safety_eval.task_data import LabelItem, load_task_items

logger = logging.getLogger(__name__)


def build_task(overrides: Sequence[str] = (),
               folder: StudyFolder | None = None) -> tuple[DictConfig, SharedStaticTaskState]:
    cfg = compose_study_config("safety", overrides, folder=folder, files={
        "task_data_file": DEMO_TASK_DATA_PATH, "annotation_indices_file": DEMO_ANNOTATION_INDICES_PATH,
        "gold_file": DEFAULT_GOLD_PATH, "onboarding_file": DEFAULT_ONBOARDING_PATH})
    blue = cfg.mephisto.blueprint
    for key in ("items_per_unit", "annotations_per_item"):
        check_number(blue, key, 1)
    for key in ("gold_per_unit", "gold_min_answers"):
        check_number(blue, key, 0)
    for key in ("gold_threshold", "onboarding_threshold"):
        check_number(blue, key, 0.0, 1.0)
    check_number(blue, "min_reason_words", 0, MAX_REASON_WORDS)
    images = checked_image_bound(blue)
    with errors_named_by_key(cfg):
        items = load_task_items(blue.task_data_file, blue.annotation_indices_file, images)
        if not items:
            raise InputError("no items to annotate", path=blue.task_data_file)
        if int(blue.gold_per_unit) > 0:
            warn_if_gold_stands_out(items, load_known_items(blue.gold_file, "gold", images), blue.gold_file)
        if blue.get("onboarding_qualification", None) is not None:
            load_known_items(blue.onboarding_file, "onboarding", images)
        read_block_list(list(blue.block_list_files))
    return cfg, SharedStaticTaskState()


def warn_if_gold_stands_out(items: Sequence[LabelItem], gold: Sequence[LabelItem], gold_file: str) -> None:
    """Gold items must look like the work they hide in: in a study whose items show pictures, a gold item
    without one (the bundled gold file has none) is one a worker can spot. Warned, not refused: a study may
    mix items with and without pictures on purpose."""
    pictured = sum(item.image is not None for item in items)
    bare = sum(item.image is None for item in gold)
    if pictured and bare:
        logger.warning("%d of %d items to label show a picture, but %d of %d gold items in %s show none: workers "
                       "can tell those gold items apart; give them pictures (image_src, docs/multimodal.md)",
                       pictured, len(items), bare, len(gold), gold_file)
