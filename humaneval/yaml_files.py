"""YAML files we read (the model registry, the server config), with every fault a located `InputError`.

`yaml.safe_load` builds plain data only (no Python objects from tags). What it does not guard against
is reported here in the user's terms instead of as a traceback: a missing file or a folder, bytes that
are not UTF-8, a syntax error (with its line), and nesting so deep that the parser recurses out of stack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from humaneval.input_errors import InputError
from humaneval.jsonl import open_input


def read_yaml_document(path: str | Path, *, what: str = "file") -> Any:
    """The parsed document; `what` names the file in the not-found message ("registry file", ...)."""
    path = Path(path)
    try:
        with open_input(path) as handle:
            data = handle.read()
    except InputError as err:
        raise InputError(err.problem.replace("file", what, 1), path=path) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"not UTF-8 text ({err.reason} at byte {err.start})", path=path) from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        line = err.problem_mark.line + 1 if err.problem_mark is not None else None
        raise InputError(f"invalid YAML ({err.problem})", path=path, line=line) from None
    except yaml.YAMLError as err:
        raise InputError(f"invalid YAML ({err})", path=path) from None
    except RecursionError:
        raise InputError("invalid YAML (nested too deeply)", path=path) from None
