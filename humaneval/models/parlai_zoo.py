"""A ParlAI zoo folder as both converters read it: the weights file, `model.opt` and the dictionary.

`model.opt` is an input like any other, so it is read through `Opt`, whose typed readers turn a wrong or
hostile value into an `InputError` naming the file and the field. Shared by `parlai_import` (generators)
and `parlai_classifier` (classifiers), which is why it lives in neither.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from humaneval.input_errors import InputError
from humaneval.jsonl import read_json_document

PARLAI_SPECIALS = ("__null__", "__start__", "__end__", "__unk__")  # ids 0..3 = pad, bos, eos, unk


@dataclass
class ZooFolder:
    """The three things a ParlAI zoo folder holds: options, weights, dictionary."""

    root: Path
    model_file: Path
    opt: dict[str, Any]
    dict_file: Path
    state_dict: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)

    @property
    def kind(self) -> str:
        return str(self.opt.get("model", ""))

    @property
    def options(self) -> "Opt":
        """The opt with typed readers whose errors name `model.opt`."""
        return Opt(self.opt, Path(f"{self.model_file}.opt"))


class Opt:
    """A model.opt read with its types and ranges checked.

    The opt is a file like any other input: `"n_heads": 0` must be an error naming model.opt and the field,
    not a ZeroDivisionError deep in a model build. Absent and null values take the caller's default.
    """

    def __init__(self, values: dict[str, Any], path: Path) -> None:
        self.values = values
        self.path = path

    def error(self, key: str, problem: str) -> InputError:
        return InputError(problem, path=self.path, field=key)

    def integer(self, key: str, default: int | None, *, minimum: int | None = None) -> int | None:
        value = self.values.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be an integer, not {_describe(value)}")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be >= {minimum}, not {value}")
        return value

    def number(self, key: str, default: float) -> float:
        value = self.values.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.error(key, f"must be a finite number, not {_describe(value)}")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.values.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {_describe(value)}")
        return value

    def text(self, key: str, default: str) -> str:
        value = self.values.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, not {_describe(value)}")
        return value

    def size(self, key: str, actual: int | None, what: str, default: int) -> int:
        """A size the weights also fix: the opt's value must agree with them (absent: the weights decide)."""
        value = self.integer(key, None, minimum=1)
        if value is not None and actual is not None and value != actual:
            raise self.error(key, f"is {value} but the checkpoint has {actual} {what}")
        if value is not None:
            return value
        return actual if actual is not None else default

    def check_kept_options(self) -> None:
        """The input-layout and decoding options copied into the runtime folder must have their JSON types,
        or the model would be imported fine and then fail each time it is loaded."""
        for key, kind in _KEPT_OPTION_TYPES.items():
            if kind is int:
                self.integer(key, None)
            elif kind is float:
                self.number(key, 0.0)
            elif kind is bool:
                self.flag(key, False)
            else:
                self.text(key, "")


# The JSON type of every option in model_input.PARLAI_OPTION_KEYS (a test checks both list the same keys).
_KEPT_OPTION_TYPES: dict[str, type] = {
    "dict_tokenizer": str,
    "dict_lower": bool,
    "delimiter": str,
    "text_truncate": int,
    "label_truncate": int,
    "truncate": int,
    "history_add_global_end_token": str,
    "inference": str,
    "beam_size": int,
    "beam_min_length": int,
    "beam_block_ngram": int,
    "beam_context_block_ngram": int,
    "beam_length_penalty": float,
    "topk": int,
    "topp": float,
    "temperature": float,
}


def _describe(value: Any) -> str:
    """A short, safe description of an opt value for a message (a hostile value may be huge)."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        text = json.dumps(value) if not isinstance(value, int) or abs(value) < 10**30 else "a huge integer"
        return text if len(text) <= 40 else text[:40] + "…"
    return {list: "a list", dict: "an object", bool: "a boolean"}.get(type(value), type(value).__name__)


@dataclass(frozen=True)
class ImportResult:
    """What the importer wrote, for the CLI to report."""

    out_dir: Path
    kind: str  # "generator" or "classifier"
    architecture: str
    vocab_size: int
    n_parameters: int


def read_opt(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError("no model.opt in the zoo folder", path=path)
    opt = read_json_document(path)
    if not isinstance(opt, dict):
        raise InputError("model.opt must hold a JSON object", path=path)
    return opt


def open_zoo_folder(zoo_dir: str | Path, model_name: str = "model") -> ZooFolder:
    """Locate `model`, `model.opt`, `model.dict` (a path to the model file itself also works)."""
    zoo = Path(zoo_dir)
    if zoo.is_file():
        model_file, zoo = zoo, zoo.parent
    else:
        model_file = zoo / model_name
    if not zoo.is_dir():
        raise InputError("zoo folder not found", path=zoo)
    if not model_file.is_file():
        raise InputError(f"no '{model_file.name}' weights file in the zoo folder", path=zoo)
    opt = read_opt(Path(f"{model_file}.opt"))
    dict_file = Path(f"{model_file}.dict")
    if not dict_file.is_file() and opt.get("dict_file"):
        dict_file = zoo / Path(str(opt["dict_file"])).name
    return ZooFolder(root=zoo, model_file=model_file, opt=opt, dict_file=dict_file)
