"""Compose a task's Hydra YAML (task_configs/) with Mephisto's own config groups.

We use Hydra's compose API rather than `mephisto.tools.scripts.task_script`: the latter needs a
logging config that the Mephisto 1.1.1 wheel does not ship, changes the working directory, and hides
the composed config from tests. The YAML files list Mephisto's groups in their defaults
(`/mephisto/blueprint`, `/mephisto/architect`, `/mephisto/provider`), so every Mephisto argument is
still a Hydra override (`mephisto.task.task_reward=0.5`).

Hydra's errors about overrides become `InputError`s located by the key the user typed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from humaneval.crowd.launcher import PROVIDERS
from humaneval.input_errors import InputError

TASK_CONFIG_DIR = Path(__file__).resolve().parent.parent.parent / "task_configs"
OVERRIDE_GRAMMAR_URL = "https://hydra.cc/docs/1.2/advanced/override_grammar/basic"


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
    """The composed config for `config_dir/config_name.yaml` with command-line style overrides.

    An override Hydra cannot apply is an `InputError` whose field is the key as typed: Hydra's own
    advice for an unknown key (prefix it with `+`) would silently add a setting nothing reads, so we
    name the nearest real key instead.
    """
    translated = translate_overrides(overrides)
    try:
        return _compose(config_name, translated, config_dir)
    except OverrideParseException as err:
        # Hydra's message repeats the override and ends with a caret line and the grammar's address
        detail = "; ".join(line.strip() for line in err.message.splitlines()
                           if line.strip() not in ("", "^") and not line.startswith(("Error parsing", "Lexer", "See ")))
        raise InputError(f"not an override KEY=VALUE{f' ({detail})' if detail else ''}; see {OVERRIDE_GRAMMAR_URL}",
                         field=err.override) from None
    except MissingConfigException as err:
        raise InputError(f"no such choice; choose one of {', '.join(err.options or [])}",
                         field=err.missing_cfg_file) from None
    except ConfigCompositionException as err:
        cause = err.__cause__
        if isinstance(cause, (ConfigKeyError, ConfigAttributeError)) and cause.full_key:
            raise _unknown_key(config_name, translated, config_dir, cause.full_key) from None
        if isinstance(cause, OmegaConfBaseException) and cause.full_key:  # e.g. a number that is not one
            raise InputError(str(cause.msg).splitlines()[0], field=cause.full_key) from None
        raise InputError(" ".join(line.strip() for line in str(err).splitlines() if line.strip())) from None


def _compose(config_name: str, overrides: Sequence[str], config_dir: Path) -> DictConfig:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir), version_base="1.3"):
        return compose(config_name=config_name, overrides=list(overrides))


def _unknown_key(config_name: str, overrides: Sequence[str], config_dir: Path, missing: str) -> InputError:
    """The error for an override naming a key the config lacks, with the nearest real key if any.

    `missing` is the first segment Hydra did not find (`mephisto.blueprint.seeed` for
    `mephisto.blueprint.seeed.x`); the keys to compare with come from the same config composed with
    only the group choices (`provider=...` changes which provider keys exist).
    """
    typed = next((key for key in (o.split("=", 1)[0].lstrip("+~") for o in overrides)
                  if key == missing or key.startswith(missing + ".")), missing)
    cfg = _compose(config_name, [o for o in overrides if "/" in o.split("=", 1)[0]], config_dir)
    keys = list(_key_paths(OmegaConf.to_container(cfg, resolve=False)))
    parts = typed.split(".")
    known = next(n for n in range(len(parts), -1, -1) if n == 0 or ".".join(parts[:n]) in keys)
    prefix = ".".join(parts[:known])
    below = [k[len(prefix) + 1:] for k in keys if k.startswith(prefix + ".")] if prefix else keys
    close = difflib.get_close_matches(".".join(parts[known:]), below, n=1)
    hint = f"did you mean {prefix + '.' if prefix else ''}{close[0]}?" if close else \
        f"`python -m humaneval.launch {config_name} --help` lists the keys"
    return InputError(f"no such key in the {config_name} config; {hint}", field=typed)


def _key_paths(node: Any, prefix: str = "") -> Iterator[str]:
    """Every dotted key of a config container, inner ones included, except Mephisto's `_private` ones."""
    if isinstance(node, dict):
        for key, value in node.items():
            if not str(key).startswith("_"):
                yield prefix + str(key)
                yield from _key_paths(value, f"{prefix}{key}.")


class ConfigValueError(InputError):
    """An `InputError` in a file that a config key names, led by that key.

    The user typed `mephisto.blueprint.pairings_file=...` (or left the bundled default): the key says
    which setting to fix, the file, line and field (kept as they were) say what is wrong in it.
    """

    def __init__(self, key: str, err: InputError) -> None:
        self.key = key
        super().__init__(err.problem, path=err.path, line=err.line, field=err.field)

    def __str__(self) -> str:
        return f"{self.key}: {super().__str__()}"


@contextmanager
def errors_named_by_key(cfg: DictConfig) -> Iterator[None]:
    """Re-raise an `InputError` about a file as a `ConfigValueError` naming the key(s) whose value it is."""
    try:
        yield
    except InputError as err:
        if err.path is None or isinstance(err, ConfigValueError):
            raise
        values = OmegaConf.to_container(cfg, resolve=False)
        keys = [key for key, value in _leaves(values) if value == err.path or isinstance(value, list) and err.path in value]
        if not keys:
            raise
        raise ConfigValueError(" and ".join(keys), err) from None


def _leaves(node: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield prefix + str(key), value

