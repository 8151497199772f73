"""Compose a task's Hydra YAML (task_configs/) with Mephisto's own config groups.

We use Hydra's compose API rather than `mephisto.tools.scripts.task_script`: the latter needs a
logging config that the Mephisto 1.1.1 wheel does not ship, changes the working directory, and hides
the composed config from tests. The YAML files list Mephisto's groups in their defaults
(`/mephisto/blueprint`, `/mephisto/architect`, `/mephisto/provider`), so every Mephisto argument is
still a Hydra override (`mephisto.task.task_reward=0.5`).

The comments next to each key in those YAML files are the keys' documentation; `task_doc` reads them
so that `python -m humaneval.launch TASK --help` shows them without a second copy to keep in sync. The
keys a provider adds (`provider=prolific`: `mephisto.provider.currency`, ...) are documented where
they are declared, in the provider's argument dataclass (`metadata={"help": ...}`); `task_doc` lists
them from there.
Hydra's errors about overrides become `InputError`s located by the key the user typed.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from humaneval.crowd.launcher import PROVIDERS
from humaneval.crowd.prolific.provider import ProlificProviderArgs
from humaneval.crowd.page_folder import new_page_folder
from humaneval.frontend_bundles import BundleMissing, bundle_path
from humaneval.input_errors import InputError
from humaneval.page_images import MAX_IMAGE_MB_LIMIT, PageImages
from humaneval.shipped_files import TASK_CONFIG_DIR
from humaneval.study_folder import STUDY_CONFIG_NAME, StudyFolder, value_at

OVERRIDE_GRAMMAR_URL = "https://hydra.cc/docs/1.2/advanced/override_grammar/basic"
# `provider=NAME` chooses Mephisto's provider group; the composed config records the choice here.
PROVIDER_PATH = "mephisto.provider._provider_type"


def literal(path: str) -> str:
    """`path` as a config value OmegaConf reads back unchanged: a folder named like an interpolation
    (`${oc.env:HOME}`) stays a name instead of being resolved."""
    return path.replace("${", "\\${")


def config_path(value: str | None, default: Path | None) -> str | None:
    """A file named in a task's config as an absolute path (Mephisto's server runs from its own folder),
    else the task's default. Links are not followed: a symlink loop is the reader's error to report."""
    return os.path.abspath(Path(value).expanduser()) if value else (str(default) if default else None)


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


@dataclass(frozen=True)
class ConfigSource:
    """Where a composition starts: a folder, its primary config, and overrides the user did not type."""

    config_dir: Path
    config_name: str
    fixed: tuple[str, ...] = ()

    @classmethod
    def of(cls, config_name: str, config_dir: Path = TASK_CONFIG_DIR, study: StudyFolder | None = None) -> "ConfigSource":
        """Our `config_name.yaml`, or a study folder's humaneval.yaml with our task configs on Hydra's
        search path (its defaults list names `config_name`: ours, then its own keys over it)."""
        if study is None:
            return cls(config_dir, config_name)
        quoted = "'" + ("file://" + str(config_dir)).replace("\\", "\\\\").replace("'", "\\'") + "'"
        return cls(study.path, STUDY_CONFIG_NAME, (f"hydra.searchpath=[{quoted}]",))


def compose_task_config(
    config_name: str, overrides: Sequence[str] = (), config_dir: Path = TASK_CONFIG_DIR,
    study: StudyFolder | None = None,
) -> DictConfig:
    """The composed config for `config_dir/config_name.yaml` (under `study`'s humaneval.yaml, if any) with
    command-line style overrides.

    An override Hydra cannot apply is an `InputError` whose field is the key as typed: Hydra's own
    advice for an unknown key (prefix it with `+`) would silently add a setting nothing reads, so we
    name the nearest real key instead (and the study's file when the key is written there).
    """
    translated = translate_overrides(overrides)
    source = ConfigSource.of(config_name, config_dir, study)
    try:
        return _compose(source, translated)
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
        where = study.file if study is not None else None
        if isinstance(cause, (ConfigKeyError, ConfigAttributeError)) and cause.full_key:
            raise _unknown_key(config_name, translated, source, cause.full_key, where) from None
        written = _KEY_ERROR_IN_FILE.search(str(err))  # a YAML's unknown key: Hydra keeps only the message
        if cause is None and written:
            raise _unknown_key(config_name, translated, source, written.group(1), where) from None
        invalid = _VALUE_ERROR_IN_FILE.search(str(err))  # a wrong type in a YAML: the same, for its value
        if cause is None and invalid:
            raise InputError(invalid.group(1).strip(), path=where, field=invalid.group(2) or None) from None
        if isinstance(cause, OmegaConfBaseException) and cause.full_key:  # e.g. a number that is not one
            raise InputError(str(cause.msg).splitlines()[0], field=cause.full_key) from None
        raise InputError(" ".join(line.strip() for line in str(err).splitlines() if line.strip()), path=where) from None


_VALUE_ERROR_IN_FILE = re.compile(r"(?:Validation|ConfigType|ConfigValue)Error raised while composing config:\s*\n(.*?)\n.*?"
                                  r"full_key: (\S*)", re.S)
_KEY_ERROR_IN_FILE = re.compile(r"ConfigKeyError raised while composing config:.*?full_key: (\S+)", re.S)

TASK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


def check_run_settings(cfg: DictConfig) -> None:
    """The settings every launch uses, checked before anything starts (each an `InputError` naming its key):
    the task name becomes folder and file names (exports/<name>.jsonl), so no separators or dot-dot."""
    name = cfg.mephisto.task.get("task_name")
    if not isinstance(name, str) or not TASK_NAME.fullmatch(name) or ".." in name:
        raise InputError(f"must be 1-100 letters, digits, '_', '-' or '.', starting with a letter or digit, got {name!r}",
                         field="mephisto.task.task_name")
    port = cfg.humaneval.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535):
        raise InputError(f"must be a port number 1-65535, or null for a free one, got {port!r}", field="humaneval.port")
    level = cfg.mephisto.get("log_level", "info")
    if str(level).lower() not in LOG_LEVELS:
        raise InputError(f"must be one of {', '.join(LOG_LEVELS)}, got {level!r}", field="mephisto.log_level")


def compose_study_config(study: str, overrides: Sequence[str], files: Mapping[str, Path | None],
                         folder: StudyFolder | None = None) -> DictConfig:
    """A study's composed config, ready for Mephisto: its page (`task_source`, unless set) and our public
    folder next to it, every file key in `files` (key -> default when unset) and the block lists as
    absolute paths (those the study folder's file gives, relative to the folder). A page that was never
    built is an `InputError` naming `task_source`."""
    if folder is not None:
        _check_folder_keys(study, folder)
    cfg = compose_task_config(study, overrides, study=folder)
    if folder is not None:
        typed = {o.split("=", 1)[0].lstrip("+~") for o in overrides}
        _resolve_in_folder(cfg, folder, files, typed)
    check_run_settings(cfg)
    blue = cfg.mephisto.blueprint
    with open_dict(cfg):
        if blue.get("task_source", None) in (None, "???"):
            try:
                blue.task_source = str(bundle_path(study))
            except BundleMissing as err:
                raise InputError(str(err), field="mephisto.blueprint.task_source") from None
        blue.extra_source_dir = str(new_page_folder())
        for key, default in files.items():
            path = config_path(blue.get(key), default)
            blue[key] = literal(path) if path is not None else None
        if "block_list_files" in blue:
            blue.block_list_files = [literal(str(config_path(p, None))) for p in blue.block_list_files or []]
    return cfg


def _resolve_in_folder(cfg: DictConfig, folder: StudyFolder, files: Mapping[str, Path | None],
                       typed: set[str]) -> None:
    """The study folder's relative paths (data files, block lists, data_dir) made absolute against it; those
    given on the command line (`typed`) stay relative to where they were typed (`config_path`)."""
    raw = OmegaConf.to_container(cfg, resolve=False)

    def resolved(section: DictConfig, key: str, dotted: str) -> None:
        path = None if dotted in typed else folder.resolve(dotted, value_at(raw, dotted), section.get(key))
        if path is not None:
            section[key] = literal(path)

    with open_dict(cfg):
        blue = cfg.mephisto.blueprint
        for key in files:
            resolved(blue, key, f"mephisto.blueprint.{key}")
        resolved(cfg.humaneval, "data_dir", "humaneval.data_dir")
        written = folder.written_value("mephisto.blueprint.block_list_files")
        if "block_list_files" in blue and "mephisto.blueprint.block_list_files" not in typed and isinstance(written, list):
            blue.block_list_files = [literal(folder.absolute(item)) if isinstance(item, str) and item
                                     and not os.path.isabs(item) else item for item in written]


def _check_folder_keys(config_name: str, folder: StudyFolder) -> None:
    """Every key the folder's file sets under `humaneval` is one our task YAML documents (Hydra refuses
    unknown `mephisto.*` keys itself, but our own section is a plain mapping that would take any key)."""
    documented = {key.path for key in task_doc(config_name).keys if key.path.startswith("humaneval.")}

    def check(node: Any, prefix: str) -> None:
        for name, value in node.items():
            path = f"{prefix}.{name}"
            if path in documented:
                continue
            if isinstance(value, dict) and any(d.startswith(path + ".") for d in documented):
                check(value, path)
                continue
            below = [d[len(prefix) + 1:] for d in documented if d.startswith(prefix + ".")]
            close = difflib.get_close_matches(str(name), below, n=1)
            hint = f"did you mean {prefix}.{close[0]}?" if close else \
                f"`humaneval launch {config_name} --help` lists the keys"
            raise InputError(f"no such key in the {config_name} config; {hint}", path=folder.file, field=path)

    section = folder.settings.get("humaneval")
    if isinstance(section, dict):
        check(section, "humaneval")


def _compose(source: ConfigSource, overrides: Sequence[str]) -> DictConfig:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(source.config_dir), version_base="1.3"), warnings.catch_warnings():
        # Setting hydra.searchpath (a study folder) makes Hydra check every search path, and Mephisto's plugin
        # adds two optional ones that rarely exist; their "is not available" warnings mean nothing to a user.
        warnings.filterwarnings("ignore", message=r"provider=mephisto-profiles", category=UserWarning)
        return compose(config_name=source.config_name, overrides=[*source.fixed, *overrides])


def _unknown_key(config_name: str, overrides: Sequence[str], source: ConfigSource, missing: str,
                 study_file: Path | None) -> InputError:
    """The error for an override naming a key the config lacks, with the nearest real key if any.

    `missing` is the first segment Hydra did not find (`mephisto.blueprint.seeed` for
    `mephisto.blueprint.seeed.x`); the keys to compare with come from the same config composed with
    only the group choices (`provider=...` changes which provider keys exist).
    """
    typed = next((key for key in (o.split("=", 1)[0].lstrip("+~") for o in overrides)
                  if key == missing or key.startswith(missing + ".")), None)
    cfg = _compose(ConfigSource.of(config_name), [o for o in overrides if "/" in o.split("=", 1)[0]])
    keys = list(_key_paths(OmegaConf.to_container(cfg, resolve=False)))
    parts = (typed or missing).split(".")
    known = next(n for n in range(len(parts), -1, -1) if n == 0 or ".".join(parts[:n]) in keys)
    prefix = ".".join(parts[:known])
    below = [k[len(prefix) + 1:] for k in keys if k.startswith(prefix + ".")] if prefix else keys
    close = difflib.get_close_matches(".".join(parts[known:]), below, n=1)
    hint = f"did you mean {prefix + '.' if prefix else ''}{close[0]}?" if close else \
        f"`python -m humaneval.launch {config_name} --help` lists the keys"
    # a key nobody typed is written in the study folder's file
    return InputError(f"no such key in the {config_name} config; {hint}", field=typed or missing,
                      path=study_file if typed is None else None)


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


def check_number(blue: DictConfig, key: str, low: float, high: float | None = None) -> None:
    """Refuse blueprint setting `key` unless it is a number (not a boolean) in [low, high]: before anything
    starts, with the setting's full name, as every other bad input."""
    value = blue[key]
    # `not low <= value` (not `value < low`): NaN compares false either way and must be refused too
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value or (high is not None and not value <= high):
        bounds = f"within [{low}, {high}]" if high is not None else f"at least {low}"
        raise InputError(f"must be {bounds}, got {value!r}", field=f"mephisto.blueprint.{key}")


def checked_image_bound(blue: DictConfig) -> PageImages:
    """Checks of the images a study shows (before launch: nothing copied), with its `max_image_mb` checked."""
    check_number(blue, "max_image_mb", 0.001, MAX_IMAGE_MB_LIMIT)
    return PageImages(max_mb=float(blue.max_image_mb))


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


@dataclass(frozen=True)
class KeyDoc:
    """One setting of a task's YAML, as `--help` shows it and `--cfg` puts it first."""

    key: str  # what to type on the command line: `provider`, `mephisto.blueprint.seed`
    path: str  # where the value lands in the composed config
    default: str  # the value as the YAML writes it
    doc: str  # the comments next to the key, continuation lines joined


@dataclass(frozen=True)
class TaskDoc:
    """A task YAML's own documentation: its header paragraph, then its keys and free-standing notes in file order."""

    summary: str
    entries: list[KeyDoc | str]

    @property
    def keys(self) -> list[KeyDoc]:
        return [entry for entry in self.entries if isinstance(entry, KeyDoc)]


MAX_DEFAULT_CHARS = 70


#: provider choices whose own `mephisto.provider.*` keys `--help` lists, and the dataclass that declares them
PROVIDER_ARGS: dict[str, type] = {"prolific": ProlificProviderArgs}


def task_doc(config_name: str, config_dir: Path = TASK_CONFIG_DIR) -> TaskDoc:
    """The documentation written as comments in `config_dir/config_name.yaml`, then (if the YAML lets
    `provider` be chosen) each provider's own keys in a block of their own (`provider_keys`).

    The header comment up to its "Compose order:" sentence (which is for whoever edits the file) is the
    summary. A key's documentation is the comment on its line plus the comment-only lines indented
    under it; a mapping without a comment on its line (`mephisto:`, `blueprint:`) is a section whose
    keys are listed one by one, while a commented one (`models:`) is a single setting. Comment-only
    lines before a key that do not continue the previous one are notes. The provider is the one group
    choice documented as a key, `provider` (see `translate_overrides`).
    """
    text = (config_dir / f"{config_name}.yaml").read_text(encoding="utf-8")
    doc = _DocReader(text).read()
    documented = {key.path for key in doc.keys}
    if PROVIDER_PATH in documented:
        for choice, args_class in PROVIDER_ARGS.items():
            doc.entries.extend(provider_keys(choice, args_class, documented))
    return doc


def provider_keys(choice: str, args_class: type, documented: set[str]) -> list[KeyDoc | str]:
    """The `mephisto.provider.*` keys `provider=CHOICE` adds, led by a note naming the choice: each field
    of its argument dataclass with the dataclass's default and `metadata["help"]`, so a researcher never
    needs the source. A key the task's YAML documents itself (`requester_name`: the YAML's value is the
    one that applies) is named in the note rather than listed twice; `_private` fields are Mephisto's."""
    keys: list[KeyDoc] = []
    above: list[str] = []
    for field in dataclasses.fields(args_class):
        path = f"mephisto.provider.{field.name}"
        if field.name.startswith("_"):
            continue
        if path in documented:
            above.append(field.name)
            continue
        default = field.default if field.default_factory is dataclasses.MISSING else field.default_factory()
        keys.append(KeyDoc(path, path, _shown(default), str(field.metadata.get("help", ""))))
    also = f"; {', '.join(above)} as above" if above else ""
    note = (f"provider={choice} takes these mephisto.provider keys ({args_class.__name__}'s defaults{also}; "
            f"docs/{choice}.md explains each):")
    return [note, *keys]


class _DocReader:
    """One pass over a task YAML's nodes (for keys, values and their line/column) and lines (for comments)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines()
        self.entries: list[KeyDoc | str] = []
        self.cursor = 0  # comment-only lines before this one are accounted for

    def read(self) -> TaskDoc:
        root = yaml.compose(self.text, Loader=yaml.SafeLoader)
        header = " ".join(line.lstrip("#").strip() for line in self.lines[:root.start_mark.line])
        summary = header.split("Compose order:")[0].strip()
        self.cursor = root.start_mark.line
        self._section(root, "")
        return TaskDoc(summary=summary, entries=self.entries)

    def _comment_column(self, line: int) -> int | None:
        stripped = self.lines[line].lstrip()
        return len(self.lines[line]) - len(stripped) if stripped.startswith("#") else None

    def _comment_text(self, line: int) -> str:
        return self.lines[line].strip().lstrip("#").strip()

    def _comment_after(self, line: int, column: int) -> tuple[str, int] | None:
        """The comment on `line` after `column` (the end of a value, or of a key before its colon)."""
        rest = self.lines[line][column:]
        at = rest.find("#")
        if at < 0 or rest[:at].strip() not in ("", ":"):
            return None
        return rest[at + 1:].strip(), column + at

    def _section(self, mapping: yaml.MappingNode, prefix: str) -> None:
        for key_node, value in mapping.value:
            key = prefix + key_node.value
            line = key_node.start_mark.line
            notes = [self._comment_text(i) for i in range(self.cursor, line) if self._comment_column(i) is not None]
            if notes:
                self.entries.append(" ".join(notes))
            if key == "defaults":
                self._provider(value)
            elif isinstance(value, yaml.MappingNode) and self._comment_after(line, key_node.end_mark.column) is None:
                self.cursor = line + 1
                self._section(value, key + ".")
            else:
                self._setting(key, key_node, value)

    def _provider(self, defaults: yaml.Node) -> None:
        for item in getattr(defaults, "value", []):
            for choice_key, choice in item.value if isinstance(item, yaml.MappingNode) else []:
                if choice_key.value == "/mephisto/provider":
                    comment = self._comment_after(choice.end_mark.line, choice.end_mark.column)
                    self.entries.append(KeyDoc("provider", PROVIDER_PATH, choice.value, comment[0] if comment else ""))
        self.cursor = max(self.cursor, _last_line(defaults) + 1)

    def _setting(self, key: str, key_node: yaml.Node, value: yaml.Node) -> None:
        line, last = key_node.start_mark.line, _last_line(value)
        on_key_line = isinstance(value, yaml.ScalarNode) or value.flow_style  # else a block collection below
        first = self._comment_after(line, value.end_mark.column if on_key_line else key_node.end_mark.column)
        doc = [first[0]] if first else []
        inner_keys = {k.start_mark.line: k.value for k, _ in value.value} if isinstance(value, yaml.MappingNode) else {}
        ends = {n.end_mark.line: n.end_mark.column for n in _scalars(value)}
        for i in range(line + 1, last + 1):  # comments inside a collection value
            column = self._comment_column(i)
            if column is not None:
                found: tuple[str, int] | None = (self._comment_text(i), column)
            else:
                found = self._comment_after(i, ends[i]) if i in ends else None
            if found:
                aligned = first is not None and found[1] == first[1]  # continues the key's comment
                doc.append(found[0] if aligned or i not in inner_keys else f"({inner_keys[i]}: {found[0]})")
        i = last + 1
        while i < len(self.lines) and (self._comment_column(i) or -1) > key_node.start_mark.column:
            doc.append(self._comment_text(i))
            i += 1
        self.cursor = i
        self.entries.append(KeyDoc(key, key, self._default(value), " ".join(doc)))

    def _default(self, value: yaml.Node) -> str:
        if isinstance(value, yaml.ScalarNode) and value.start_mark.line == value.end_mark.line:
            return self.lines[value.start_mark.line][value.start_mark.column:value.end_mark.column]
        return _shown(yaml.safe_load(yaml.serialize(value)))


def _shown(data: Any) -> str:
    """A default as `--help` shows it: one line of YAML flow style (what an override types), or, when
    longer than MAX_DEFAULT_CHARS, how many entries `--cfg` shows."""
    flow = yaml.safe_dump(data, default_flow_style=True, width=10**6, sort_keys=False).removesuffix("...\n").strip()
    return flow if len(flow) <= MAX_DEFAULT_CHARS else f"({len(data)} entries, shown by --cfg)"


def _scalars(node: yaml.Node) -> Iterator[yaml.ScalarNode]:
    if isinstance(node, yaml.ScalarNode):
        yield node
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _scalars(item)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _scalars(key)
            yield from _scalars(value)


def _last_line(node: yaml.Node) -> int:
    """The last line holding part of `node` (a block collection's end mark is the next key's line)."""
    return max([node.start_mark.line] + [n.end_mark.line for n in _scalars(node)])
