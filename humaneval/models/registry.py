"""The model registry: names -> (runtime directory, recipe, dtype, device, batch size), or a remote server.

Tasks, the server and the CLIs refer to models by name ("demo_bot", "blender_90M") so that a study config
says *which* bot without saying *where* its files are or how it runs on this machine; moving a model to a
GPU host is a one-line change (`device: cuda`). The registry is a YAML file (task_configs/models.yaml by
default); every entry is checked when the file is read, so a typo fails at start-up with file and field,
not minutes later inside a crowd task.

Paths: absolute, `~`-relative, relative to the YAML file, or `pkg:...` relative to the installed
`humaneval` package (how the bundled demo bot is found wherever the package lives).

Kinds: `generator` (a local Blender-style directory), `classifier` (a safety classifier, not loadable as
a generator) and `openai_compatible` (any OpenAI chat-completions server: no files, a URL and a model
name; its keys are checked by `openai_compatible_settings`).

A chat model's entry may add a `control` string to every model input (ParlAI's bias-bucket token such as
" f0m0", appended to the end of the dialogue); the entry's name is what studies record, so the same
weights with and without a control are two models, and the string itself is in the output metadata.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from humaneval.input_errors import InputError
from humaneval.shipped_files import TASK_CONFIG_DIR
from humaneval.models import openai_compatible_settings as remote_settings
from humaneval.models.reply_model import ReplyModel
from humaneval.yaml_files import read_yaml_document

log = logging.getLogger(__name__)

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # .../humaneval
DEFAULT_REGISTRY_PATH = TASK_CONFIG_DIR / "models.yaml"
DEMO_BOT_NAME = "demo_bot"
DEMO_BOT_PATH = PACKAGE_ROOT / "models" / "demo_bot"
REGISTRY_ENV = "HUMANEVAL_MODELS"  # optional: a registry file to use when none is passed

_ENTRY_KEYS = {"path", "kind", "dtype", "device", "max_batch_size", "recipe", "description", "control"}
KINDS = ("generator", "classifier", remote_settings.KIND)
# A control is a token or a short instruction; the bound keeps it from crowding the dialogue out of the input.
MAX_CONTROL_CHARS = 200


@dataclass(frozen=True)
class ModelSpec:
    """One registry entry, checked and with its path resolved (`remote` instead of a path for a server)."""

    name: str
    path: Path | None
    kind: str = "generator"
    dtype: str = "float32"  # "remote" for an openai_compatible model: its server decides
    device: str = "cpu"  # "remote" likewise
    max_batch_size: int = 8
    recipe: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    source: Path | None = None  # the registry file it came from (for error messages)
    remote: remote_settings.OpenAICompatibleSettings | None = None  # kind openai_compatible only
    control: str | None = None  # appended verbatim to the end of every model input (see check_control)

    @property
    def available(self) -> bool:
        """Whether the runtime files exist (real checkpoints appear only after `import-parlai`); a remote
        model has none, and its server is reached only when it is used."""
        return self.remote is not None or (self.path is not None and (self.path / "config.json").is_file())

    def provenance(self) -> dict[str, Any]:
        """Where the model came from and what it was fed besides the dialogue, for the metadata of the
        files it generates (never a key); `control` only when the entry sets one, so entries without it
        record exactly what they did before."""
        origin = self.remote.provenance() if self.remote is not None else {"model_path": str(self.path)}
        return {**origin, "control": self.control} if self.control is not None else origin


@dataclass(frozen=True)
class Registry:
    """All entries of one registry file and the default model name."""

    models: dict[str, ModelSpec]
    default: str = DEMO_BOT_NAME
    source: Path | None = None

    def get(self, name: str | None = None) -> ModelSpec:
        """The entry for `name` (the default when None); unknown names list the known ones."""
        name = name or self.default
        if name not in self.models:
            raise InputError(
                f"unknown model '{name}' (registry has: {', '.join(sorted(self.models)) or 'nothing'})",
                path=self.source,
                field="models",
            )
        return self.models[name]

    def load(self, name: str | None = None) -> ReplyModel:
        """Load the generator called `name` (the default when None)."""
        return load_generator(self.get(name))


def builtin_registry() -> Registry:
    """Used when no registry file exists (e.g. an installed package without task_configs/): the demo bot only."""
    spec = ModelSpec(
        name=DEMO_BOT_NAME,
        path=DEMO_BOT_PATH,
        dtype="float32",
        device="cpu",
        max_batch_size=16,
        description="tiny demo bot trained on chatterbot-corpus (not BlenderBot)",
    )
    return Registry(models={DEMO_BOT_NAME: spec}, default=DEMO_BOT_NAME, source=None)


def resolve_model_path(raw: str, base_dir: Path) -> Path:
    text = os.path.expandvars(str(raw))
    if text.startswith("pkg:"):
        return (PACKAGE_ROOT / text[4:].lstrip("/")).resolve()
    path = Path(text).expanduser()
    return path if path.is_absolute() else (base_dir / path).resolve()


def check_control(value: Any, path: Path | None, field_name: str) -> str:
    """A registry `control` string, kept verbatim (ParlAI's bias bucket is " f0m0": the leading space is
    part of what the model was trained on). Refused: non-strings, blank or overlong text, and control
    characters or line breaks, which would slip an extra line or a terminal escape into every input, and
    invisible format characters (zero-width, bidi overrides: a control of only U+200B looks empty in every
    log yet names a different model)."""
    if not isinstance(value, str):
        raise InputError(f"must be a string, got {type(value).__name__}", path=path, field=field_name)
    if not value.strip():
        raise InputError("must hold some non-space text (omit the key for no control)", path=path, field=field_name)
    if len(value) > MAX_CONTROL_CHARS:
        raise InputError(f"is {len(value)} characters; at most {MAX_CONTROL_CHARS}", path=path, field=field_name)
    for index, char in enumerate(value):
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            raise InputError(f"holds a control, invisible or line-break character (U+{ord(char):04X} at position {index})",
                             path=path, field=field_name)
    return value


def _spec_from_entry(name: str, entry: Any, path: Path) -> ModelSpec:
    where = f"models.{name}"
    if not isinstance(entry, dict):
        raise InputError(f"each model entry must be a mapping, got {type(entry).__name__}", path=path, field=where)
    batch = entry.get("max_batch_size", 8)
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise InputError("max_batch_size must be a positive integer", path=path, field=f"{where}.max_batch_size")
    control = check_control(entry["control"], path, f"{where}.control") if "control" in entry else None
    if entry.get("kind") == remote_settings.KIND:
        return ModelSpec(name=name, path=None, kind=remote_settings.KIND, dtype="remote", device="remote",
                         max_batch_size=batch,
                         description=str(entry.get("description", "")), source=path,
                         remote=remote_settings.parse_settings(entry, path, where), control=control)
    unknown = sorted(set(entry) - _ENTRY_KEYS)
    if unknown:
        raise InputError(f"unknown keys {', '.join(unknown)} (known: {', '.join(sorted(_ENTRY_KEYS))})", path=path, field=where)
    if not isinstance(entry.get("path"), str) or not entry["path"]:
        raise InputError("missing 'path' (the runtime directory)", path=path, field=f"{where}.path")
    kind = entry.get("kind", "generator")
    if kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(KINDS)}", path=path, field=f"{where}.kind")
    if control is not None and kind != "generator":
        raise InputError(f"only chat models take a control string, and this entry is a {kind}", path=path,
                         field=f"{where}.control")
    dtype = str(entry.get("dtype", "float32"))
    if dtype not in ("float32", "fp32", "bfloat16", "bf16", "float16", "fp16"):
        raise InputError(f"dtype must be float32 or bfloat16 (or float16), got '{dtype}'", path=path, field=f"{where}.dtype")
    device = str(entry.get("device", "cpu"))
    if not (device == "cpu" or device == "cuda" or (device.startswith("cuda:") and device[5:].isdigit())):
        raise InputError(f"device must be cpu, cuda or cuda:N, got '{device}'", path=path, field=f"{where}.device")
    recipe = entry.get("recipe") or {}
    if not isinstance(recipe, dict):
        raise InputError("recipe must be a mapping of decoding overrides", path=path, field=f"{where}.recipe")
    from humaneval.models.decoding_recipe import DecodingRecipe

    try:
        DecodingRecipe().with_overrides(recipe)  # validate names and values now, not at load time
    except InputError as err:
        raise InputError(err.problem, path=path, field=f"{where}.recipe") from None
    except TypeError as err:
        raise InputError(str(err), path=path, field=f"{where}.recipe") from None
    return ModelSpec(
        name=name,
        path=resolve_model_path(entry["path"], path.parent),
        kind=kind,
        dtype=dtype,
        device=device,
        max_batch_size=batch,
        recipe=dict(recipe),
        description=str(entry.get("description", "")),
        source=path,
        control=control,
    )


def load_registry(path: str | Path | None = None) -> Registry:
    """Read and check a registry file; None means $HUMANEVAL_MODELS, then task_configs/models.yaml, then built-in."""
    if path is None:
        env = os.environ.get(REGISTRY_ENV)
        if env:
            path = env
        elif DEFAULT_REGISTRY_PATH.is_file():
            path = DEFAULT_REGISTRY_PATH
        else:
            return builtin_registry()
    path = Path(path)
    data = read_yaml_document(path, what="registry file")
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict) or not data["models"]:
        raise InputError("expected a mapping with a non-empty 'models' mapping", path=path, field="models")
    unknown = sorted(set(data) - {"models", "default"})
    if unknown:
        raise InputError(f"unknown top-level keys: {', '.join(unknown)}", path=path)
    models = {str(name): _spec_from_entry(str(name), entry, path) for name, entry in data["models"].items()}
    default = str(data.get("default", DEMO_BOT_NAME))
    if default not in models:
        raise InputError(f"default model '{default}' is not listed under models", path=path, field="default")
    return Registry(models=models, default=default, source=path)


def load_generator(spec: ModelSpec) -> ReplyModel:
    """Instantiate a registry entry as a `ReplyModel`: a local generator, or the client of an
    openai_compatible server (load-time errors name the registry entry)."""
    where = f"models.{spec.name}"
    if spec.remote is not None:
        from humaneval.models.openai_compatible import OpenAICompatibleModel

        return OpenAICompatibleModel.from_settings(spec.name, spec.remote, max_batch_size=spec.max_batch_size,
                                                   source=spec.source, control=spec.control)
    if spec.kind != "generator":
        raise InputError(f"model '{spec.name}' is a {spec.kind}, not a generator", path=spec.source, field=f"{where}.kind")
    if not spec.available:
        raise InputError(
            f"model '{spec.name}' has no runtime files at {spec.path}; convert a ParlAI zoo folder with "
            f"`python -m humaneval.models import-parlai ZOO_DIR --out {spec.path}`",
            path=spec.source,
            field=f"{where}.path",
        )
    from humaneval.models.blender_generator import BlenderGenerator

    try:
        return BlenderGenerator.load(
            spec.path,
            name=spec.name,
            recipe=spec.recipe,
            dtype=spec.dtype,
            device=spec.device,
            max_batch_size=spec.max_batch_size,
            control=spec.control,
        )
    except InputError as err:
        if err.path is not None:
            raise
        # a setting of this entry (device, dtype, recipe, control) is wrong: point at the entry
        field_name = f"{where}.{err.field}" if err.field else where
        raise InputError(err.problem, path=spec.source, field=field_name) from None


def with_device(spec: ModelSpec, device: str | None = None, dtype: str | None = None) -> ModelSpec:
    """A copy of `spec` for a command-line override (`--device cuda`); a remote model runs where its
    server runs, so for it the override is ignored (with a warning: a server's `--device` applies to its
    local models only)."""
    changes = {k: v for k, v in (("device", device), ("dtype", dtype)) if v}
    if spec.remote is not None:
        if changes:
            log.warning("%s is an %s model (it runs on its server): ignoring %s", spec.name, spec.kind,
                        ", ".join(f"{k}={v}" for k, v in changes.items()))
        return spec
    return dataclasses.replace(spec, **changes)
