"""`python -m humaneval.crowd VERB ...`: Mephisto housekeeping that is not a launch.

  prepare-router       install Mephisto's node router packages once (scripts/setup.sh runs it)
  export               finished units of a task -> JSONL records (FORMATS.md §5)
  register-requester   store MTurk (sandbox) credentials for a requester name
  review               list, approve, reject, soft-block or block the work of a finished run
"""

from __future__ import annotations

import importlib
import sys

VERBS: dict[str, str] = {
    "prepare-router": "humaneval.crowd.cli_prepare_router",
    "export": "humaneval.crowd.cli_export",
    "register-requester": "humaneval.crowd.cli_register_requester",
    "review": "humaneval.crowd.cli_review",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in VERBS:
        print(__doc__.strip())
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return int(importlib.import_module(VERBS[argv[0]]).main(argv[1:]) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
