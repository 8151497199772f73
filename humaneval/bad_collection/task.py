"""`python -m humaneval.launch bad`: compose task_configs/bad.yaml and check every input first.

Unknown model names (checked against the registry, the configured factories, or the model server),
unreadable persona / onboarding / block-list files and impossible numbers are an `InputError` (exit
code 2 naming file, line and field) before Mephisto starts anything; nothing is launched or written.
"""

from __future__ import annotations

from collections.abc import Sequence

from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, ValidationError, open_dict

from humaneval.bad_collection.blueprint import check_args
from humaneval.bad_collection.bundled_data import DEFAULT_ONBOARDING_PATH, DEFAULT_PERSONAS_PATH
from humaneval.bad_collection.procedures import FUNCTION_REGISTRY
from humaneval.crowd.mephisto_api import SharedRemoteProcedureTaskState
from humaneval.crowd.task_config import compose_study_config, errors_named_by_key
from humaneval.input_errors import InputError
from humaneval.study_folder import StudyFolder


MODELS_KEY = "mephisto.blueprint.models"


def _split_models_override(overrides: Sequence[str]) -> tuple[list[str], Any]:
    """Hydra merges a mapping given on the command line into the YAML's, so `models={echo: 1}` would
    keep the default demo_bot too; a study's model list must be exactly what was given. The models
    override is therefore taken out and assigned after composing (the last one wins)."""
    rest, models = [], None
    parser = OverridesParser.create()
    for override in overrides:
        if override.split("=", 1)[0].strip() == MODELS_KEY:
            parsed = parser.parse_overrides([override])[0]
            models = parsed.value()
            if not isinstance(models, dict):
                raise InputError(f"must be a mapping name -> conversations, e.g. {{demo_bot: 2}}, got {models!r}",
                                 field=MODELS_KEY)
        else:
            rest.append(override)
    return rest, models


def build_task(overrides: Sequence[str] = (),
               folder: StudyFolder | None = None) -> tuple[DictConfig, SharedRemoteProcedureTaskState]:
    overrides, models = _split_models_override(overrides)
    cfg = compose_study_config("bad", overrides, folder=folder, files={"personas_file": DEFAULT_PERSONAS_PATH,
                                                  "onboarding_file": DEFAULT_ONBOARDING_PATH, "registry_file": None})
    blue = cfg.mephisto.blueprint
    if models is not None:
        with open_dict(cfg):
            try:
                blue.models = models
            except ValidationError as err:
                raise InputError(f"must map model names to numbers of conversations ({str(err.msg).splitlines()[0]})",
                                 field=MODELS_KEY) from None
    with errors_named_by_key(cfg):
        check_args(blue)
    return cfg, SharedRemoteProcedureTaskState(function_registry=FUNCTION_REGISTRY, static_task_data=[{}])
