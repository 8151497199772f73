"""The smoke task: one prompt per unit, a typed answer back. Used to prove the sandbox path (tests,
and `python -m humaneval.crowd smoke` for a researcher checking a new machine)."""

from __future__ import annotations

from omegaconf import DictConfig, open_dict

from humaneval.crowd.task_config import compose_task_config
from humaneval.frontend_bundles import PUBLIC_DIR, bundle_path
from mephisto.abstractions.blueprints.abstract.static_task.static_blueprint import SharedStaticTaskState


def build_task(overrides: list[str] | tuple[str, ...] = ()) -> tuple[DictConfig, SharedStaticTaskState]:
    cfg = compose_task_config("smoke", overrides)
    with open_dict(cfg):
        if cfg.mephisto.blueprint.get("task_source", None) in (None, "???"):
            cfg.mephisto.blueprint.task_source = str(bundle_path("smoke"))
        cfg.mephisto.blueprint.extra_source_dir = str(PUBLIC_DIR)
    state = SharedStaticTaskState(static_task_data=[{"prompt": p} for p in cfg.humaneval.prompts])
    return cfg, state
