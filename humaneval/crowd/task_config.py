"""Compose a task's Hydra YAML (task_configs/) with Mephisto's own config groups.

We use Hydra's compose API rather than `mephisto.tools.scripts.task_script`: the latter needs a
logging config that the Mephisto 1.1.1 wheel does not ship, changes the working directory, and hides
the composed config from tests. The YAML files list Mephisto's groups in their defaults
(`/mephisto/blueprint`, `/mephisto/architect`, `/mephisto/provider`), so every Mephisto argument is
still a Hydra override (`mephisto.task.task_reward=0.5`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from humaneval.crowd.launcher import PROVIDERS
from humaneval.input_errors import InputError

TASK_CONFIG_DIR = Path(__file__).resolve().parent.parent.parent / "task_configs"


def translate_overrides(overrides: Sequence[str]) -> list[str]:
    """Accept the short `provider=mturk_sandbox` for Mephisto's `mephisto/provider=...` group choice."""
    translated = []
    for override in overrides:
        key, sep, value = override.partition("=")
        if sep and key == "provider":
            if value not in PROVIDERS:
                raise InputError(f"unknown provider '{value}'; choose one of {', '.join(PROVIDERS)}", field="provider")
            translated.append(f"mephisto/provider={value}")
        else:
            translated.append(override)
    return translated


def compose_task_config(
    config_name: str, overrides: Sequence[str] = (), config_dir: Path = TASK_CONFIG_DIR
) -> DictConfig:
    """The composed config for `config_dir/config_name.yaml` with command-line style overrides."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir), version_base="1.3"):
        return compose(config_name=config_name, overrides=translate_overrides(overrides))
