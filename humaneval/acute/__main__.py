"""`python -m humaneval.acute VERB ...`: one entry point, one module per verb, imported lazily so that
the data verbs never pay for Mephisto. Add a verb by adding a line to `VERBS`; its module exposes
`main(argv: list[str]) -> int`."""

from __future__ import annotations

import importlib
import sys

VERBS: dict[str, tuple[str, str]] = {
    "pairings": ("humaneval.acute.cli_pairings", "build a pairings JSONL from Conversations logs of 2+ models"),
    "validate": ("humaneval.acute.cli_validate", "check a pairings (or onboarding) file; exit 2 on the first problem"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in VERBS:
        print("usage: python -m humaneval.acute VERB [options]   (VERB --help for its options)\n")
        for verb, (_, summary) in VERBS.items():
            print(f"  {verb:<10} {summary}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module = importlib.import_module(VERBS[argv[0]][0])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
