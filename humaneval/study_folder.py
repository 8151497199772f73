"""A study kept in the researcher's own folder: `FOLDER/humaneval.yaml` layered over humaneval's bundled task YAML.

`humaneval launch TASK --config-dir FOLDER` (or `humaneval launch TASK` run inside a folder holding a
`humaneval.yaml`) composes the study with Hydra from FOLDER first and humaneval's task configs on its search
path: the folder's file names `TASK` in its defaults list (our YAML), then `_self_`, so its keys win, and
command-line overrides win over both. `humaneval init TASK FOLDER` writes such a file.

Relative paths in the folder's file (data files, `humaneval.data_dir`) are relative to the folder, so a study
folder can be moved or shared whole; paths typed on the command line stay relative to where it is typed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from humaneval.input_errors import InputError
from humaneval.yaml_files import read_yaml_document

STUDY_FILE = "humaneval.yaml"
STUDY_CONFIG_NAME = "humaneval"
CONFIG_DIR_FLAG = "--config-dir"
TOP_LEVEL_KEYS = ("defaults", "humaneval", "mephisto")


@dataclass(frozen=True)
class StudyFolder:
    path: Path  # absolute
    settings: dict[str, Any]  # the folder's humaneval.yaml as written (for its relative paths)

    @property
    def file(self) -> Path:
        return self.path / STUDY_FILE

    def written_value(self, dotted_key: str) -> Any:
        """The value the folder's file gives `dotted_key`, or None."""
        return value_at(self.settings, dotted_key)

    def absolute(self, path: str) -> str:
        """`path` (from the folder's file) as an absolute path, relative ones against the folder."""
        return str((self.path / Path(path).expanduser()).resolve())

    def resolve(self, dotted_key: str, raw: Any, value: Any) -> str | None:
        """The absolute path for `dotted_key` when its composed value comes from the folder's file (its raw,
        uninterpolated value is the file's own) and is relative; None to leave the value as it is (a path
        typed on the command line, which the caller leaves out, or an absolute one)."""
        if isinstance(value, str) and value and raw == self.written_value(dotted_key) and not os.path.isabs(value):
            return self.absolute(value)
        return None


def value_at(node: Any, dotted_key: str) -> Any:
    """The value at `dotted_key` in nested mappings, or None where a part is missing or not a mapping."""
    for part in dotted_key.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def find_study_folder(task: str, config_dir: str | None, cwd: Path) -> StudyFolder | None:
    """The study folder of a launch: `--config-dir`'s (which must hold humaneval.yaml), else the working
    directory when it holds one, else None (humaneval's own task YAML alone). Its file must name `task`
    in its defaults list, so `launch bad --config-dir acute_study/` is refused, not half-merged."""
    if config_dir is None:
        if not (cwd / STUDY_FILE).is_file():
            return None
        folder = cwd
    else:
        folder = Path(config_dir).expanduser()
        if not folder.is_dir():
            raise InputError("no such folder", path=folder, field=CONFIG_DIR_FLAG)
        if not (folder / STUDY_FILE).is_file():
            raise InputError(f"no {STUDY_FILE} in the study folder (`humaneval init {task} {config_dir}` writes one)",
                             path=folder / STUDY_FILE)
    folder = folder.resolve()
    settings = read_yaml_document(folder / STUDY_FILE)
    if settings is None:
        settings = {}
    if not isinstance(settings, dict):
        raise InputError("must be a YAML mapping of settings", path=folder / STUDY_FILE)
    defaults = settings.get("defaults")
    if not isinstance(defaults, list) or task not in defaults or "_self_" not in defaults[defaults.index(task):]:
        # `_self_` before the task would let humaneval's YAML override the folder's keys: silently ignored settings
        raise InputError(f"the defaults list must name the task '{task}' and then _self_, e.g. `defaults: [{task}, "
                         f"_self_]`; got {defaults!r}", path=folder / STUDY_FILE, field="defaults")
    unknown = [key for key in settings if key not in TOP_LEVEL_KEYS]
    if unknown:
        raise InputError(f"not a setting; a study's keys are under {', '.join(TOP_LEVEL_KEYS[1:])}", path=folder / STUDY_FILE,
                         field=str(unknown[0]))
    return StudyFolder(folder, settings)


def split_config_dir(args: list[str]) -> tuple[str | None, list[str]]:
    """`--config-dir FOLDER` (or `--config-dir=FOLDER`) taken out of a launch's arguments."""
    rest: list[str] = []
    found: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == CONFIG_DIR_FLAG:
            found.append(args[i + 1] if i + 1 < len(args) else "")
            i += 2
            continue
        if arg.startswith(CONFIG_DIR_FLAG + "="):
            found.append(arg.split("=", 1)[1])
        else:
            rest.append(arg)
        i += 1
    if len(found) > 1:
        raise InputError("given more than once; a launch runs one study folder", field=CONFIG_DIR_FLAG)
    if found and not found[0]:
        raise InputError("needs a folder: --config-dir FOLDER", field=CONFIG_DIR_FLAG)
    return (found[0] if found else None), rest
