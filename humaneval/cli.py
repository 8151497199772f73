"""`humaneval VERB ...`: the one console command, over the `python -m` entry points that keep working.

Each verb is a package's own entry point (its verb table or `launch`), imported only when used, so
`humaneval --help` and `humaneval analysis ...` never load torch or Mephisto.
"""

from __future__ import annotations

import os
import sys

from humaneval.verb_dispatch import VerbTable, dispatch

VERBS: VerbTable = {
    "init": ("humaneval.cli_init", "start a study in a folder of your own: humaneval init TASK FOLDER"),
    "launch": ("humaneval.launch", "run a study: humaneval launch TASK [--config-dir FOLDER] [KEY=VALUE ...]"),
    "acute": ("humaneval.acute.__main__", "ACUTE-Eval pairings: make, validate (python -m humaneval.acute)"),
    "safety": ("humaneval.safety_eval.__main__", "safety evaluation: contexts, world-log formatting"),
    "bad": ("humaneval.bad_collection.__main__", "BAD collection: export dialogues and ParlAI examples"),
    "crowd": ("humaneval.crowd.__main__", "crowd runtime: export, review (approve, reject, block, bonus), register-requester"),
    "models": ("humaneval.models.__main__", "models: import-parlai, chat, self-chat, generate, serve"),
    "analysis": ("analysis.__main__", "statistics and reports: acute, safety, bad, auto, plan, import"),
}


def main(argv: list[str] | None = None) -> int:
    try:
        return dispatch("humaneval", VERBS, argv)
    except BrokenPipeError:  # `humaneval launch acute --help | head`: the reader has gone, no error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's own flush at exit would raise again
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
