"""`python -m PACKAGE VERB ...` for the toolkit's packages: one module per verb, imported only when its
verb is used, so `--help` and light verbs never pay for torch or Mephisto. Each verb module exposes
`main(argv: list[str]) -> int`."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping

# verb -> (module path, one-line summary)
VerbTable = Mapping[str, tuple[str, str]]


def dispatch(prog: str, verbs: VerbTable, argv: list[str] | None = None) -> int:
    """Run the verb named first in `argv`; print the verb list (exit 0 for -h/--help, 2 otherwise)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in verbs:
        width = max(len(verb) for verb in verbs) + 2
        print(f"usage: {prog} VERB [options]   (VERB --help for its options)\n")
        for verb, (_, summary) in verbs.items():
            print(f"  {verb:<{width}} {summary}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return int(importlib.import_module(verbs[argv[0]][0]).main(argv[1:]) or 0)
