"""YAML files we read (the model registry, the server config), with every fault a located `InputError`.

`yaml.safe_load` builds plain data only (no Python objects from tags). What it does not guard against
is reported here in the user's terms instead of as a traceback: a missing file or a folder, bytes that
are not UTF-8, a syntax error (with its line), and nesting so deep that the parser recurses out of stack.
Two things PyYAML accepts are refused with their line: a key given twice in one mapping (PyYAML keeps the
last one silently, so an edit appended to a file would quietly replace a setting), and aliases (`&a` /
`*a`), which no config of ours needs and which let a few lines expand into billions of nodes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from humaneval.input_errors import InputError
from humaneval.jsonl import open_input


class _StrictLoader(yaml.SafeLoader):
    """safe_load's loader, refusing aliases and keys given twice in a mapping."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(problem="aliases (*name) are not accepted in this file; write the value out",
                                       problem_mark=event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (str, int, float, bool)) or key is None:
                if key in seen:
                    raise yaml.MarkedYAMLError(problem=f"key {key!r} is given twice in this mapping",
                                               problem_mark=key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


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
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as err:
        line = err.problem_mark.line + 1 if err.problem_mark is not None else None
        raise InputError(f"invalid YAML ({err.problem})", path=path, line=line) from None
    except yaml.YAMLError as err:
        raise InputError(f"invalid YAML ({err})", path=path) from None
    except RecursionError:
        raise InputError("invalid YAML (nested too deeply)", path=path) from None
