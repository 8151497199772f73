"""The smoke task: one prompt per unit, a typed answer back. Used to prove the sandbox path (tests,
and `python -m humaneval.crowd smoke` for a researcher checking a new machine)."""

from __future__ import annotations

from omegaconf import DictConfig

from humaneval.crowd.export import StudyExport, raw_records
from humaneval.crowd.mephisto_api import SharedStaticTaskState
from humaneval.study_folder import StudyFolder
from humaneval.crowd.task_config import compose_study_config

EXPORT = StudyExport("static_react_task", unit_records=raw_records)
"""Its units need no reading: each record is a unit's inputs and outputs as submitted."""


def build_task(overrides: list[str] | tuple[str, ...] = (),
               folder: StudyFolder | None = None) -> tuple[DictConfig, SharedStaticTaskState]:
    cfg = compose_study_config("smoke", overrides, folder=folder, files={})
    state = SharedStaticTaskState(static_task_data=[{"prompt": p} for p in cfg.humaneval.prompts])
    return cfg, state
