"""Credentials files: INI sections written private (0600) and atomically, read back strictly.

Both crowd credentials we keep live in such a file: MTurk's AWS profiles (the file boto3 reads) and
Prolific's API tokens. One writer, so neither can ever be world-readable, not even for an instant, nor
half-written after a crash.
"""

from __future__ import annotations

import configparser
import io
import os
import tempfile
from pathlib import Path

from humaneval.input_errors import InputError


def _parser(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    if path.exists():
        try:
            parser.read(path, encoding="utf-8")
        except configparser.Error as err:
            raise InputError(f"cannot parse the existing credentials file: {err.__class__.__name__}", path=path) from None
    return parser


def write_private_section(path: Path, section: str, values: dict[str, str]) -> Path:
    """Add or replace `[section]` with `values` in the INI file at `path`, keeping every other section.

    The file (and a new parent directory) is created private (0600 / 0700) and replaced atomically.
    Comments in an existing file are not kept (configparser drops them). Values must be single-line.
    """
    if any(c in value for value in values.values() for c in "\r\n"):
        raise InputError("credentials must be single-line values", field="keys")
    path = path.expanduser()
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    parser = _parser(path)
    if not parser.has_section(section):
        parser.add_section(section)
    for key, value in values.items():
        parser.set(section, key, value)
    buffer = io.StringIO()
    parser.write(buffer)
    fd, tmp_name = tempfile.mkstemp(prefix=".credentials.", dir=path.parent)  # mkstemp creates 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(buffer.getvalue())
        os.chmod(tmp_name, 0o600)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def read_private_section(path: Path, section: str) -> dict[str, str] | None:
    """The values of `[section]`, or None when the file or the section does not exist."""
    path = path.expanduser()
    parser = _parser(path)
    if not parser.has_section(section):
        return None
    return dict(parser.items(section))
