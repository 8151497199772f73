"""Streaming JSONL in and atomic JSONL out.

Reading streams (world logs reach millions of lines) and reports the 1-based line of any bad line.
Writing goes to a temporary file in the target directory that is renamed into place only when the
whole output is written, so a crash or a bad input line never leaves a partial file behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from humaneval.input_errors import InputError


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, Any]]:
    """Yield (line number, parsed value) for every non-blank line; bad JSON raises `InputError`."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    with handle:
        for lineno, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                yield lineno, json.loads(raw)
            except json.JSONDecodeError as err:
                raise InputError(f"invalid JSON ({err.msg}, column {err.colno})", path=path, line=lineno) from None
            except UnicodeDecodeError as err:
                raise InputError(f"not UTF-8 text ({err.reason})", path=path, line=lineno) from None


def read_json_document(path: str | Path) -> Any:
    """A whole-file JSON document (ParlAI .opt files, onboarding.json, sidecars), with located errors."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    except UnicodeDecodeError as err:
        raise InputError(f"not UTF-8 text ({err.reason})", path=path) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"invalid JSON ({err.msg}, column {err.colno})", path=path, line=err.lineno) from None


def iter_jsonl_objects(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Like `iter_jsonl`, but every line must hold a JSON object."""
    for lineno, value in iter_jsonl(path):
        if not isinstance(value, dict):
            raise InputError(f"expected a JSON object, got {type(value).__name__}", path=path, line=lineno)
        yield lineno, value


@contextlib.contextmanager
def atomic_text_writer(path: str | Path) -> Iterator[TextIO]:
    """Open a temp file beside `path`; rename it onto `path` only if the block finishes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates 0600 files; outputs are ordinary files, so apply the user's umask.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def write_jsonl(path: str | Path, records: Iterable[Any]) -> int:
    """Write records atomically, one compact JSON value per line; return how many were written."""
    count = 0
    with atomic_text_writer(path) as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
