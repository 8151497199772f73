"""`python -m humaneval.acute VERB ...`: the data verbs of ACUTE-Eval (they never pay for Mephisto)."""

from __future__ import annotations

from humaneval.verb_dispatch import VerbTable, dispatch

VERBS: VerbTable = {
    "pairings": ("humaneval.acute.cli_pairings", "build a pairings JSONL from Conversations logs of 2+ models"),
    "validate": ("humaneval.acute.cli_validate", "check a pairings (or onboarding) file; exit 2 on the first problem"),
}


def main(argv: list[str] | None = None) -> int:
    return dispatch("python -m humaneval.acute", VERBS, argv)


if __name__ == "__main__":
    raise SystemExit(main())
