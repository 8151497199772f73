"""`python -m humaneval.crowd VERB ...`: Mephisto housekeeping that is not a launch."""

from __future__ import annotations

from humaneval.verb_dispatch import VerbTable, dispatch

VERBS: VerbTable = {
    "prepare-router": ("humaneval.crowd.cli_prepare_router", "install Mephisto's node router packages once (scripts/setup.sh runs it)"),
    # above the crowd runtime: it reads every study's export (humaneval.studies)
    "export": ("humaneval.cli_export", "finished units of a task -> JSONL records (docs/formats.md)"),
    "register-requester": ("humaneval.crowd.cli_register_requester", "store MTurk (sandbox) credentials for a requester name"),
    # above the crowd runtime too: approving reads a unit's data through its study's blueprint
    "review": ("humaneval.cli_review", "list, approve, reject, bonus, soft-block or block work, or serve a review page"),
}


def main(argv: list[str] | None = None) -> int:
    return dispatch("python -m humaneval.crowd", VERBS, argv)


if __name__ == "__main__":
    raise SystemExit(main())
