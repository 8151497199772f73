"""Placeholder: being written (issue 15)."""

from __future__ import annotations

import argparse
from pathlib import Path

from humaneval.input_errors import InputError

from analysis.importers.source import Imported


def build_parser(parser: argparse.ArgumentParser) -> None:
    """No options yet."""


def convert(paths: list[Path], args: argparse.Namespace) -> Imported:
    raise InputError("not written yet")
