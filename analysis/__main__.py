"""`python -m analysis <verb>`: one verb per study type, each imported only when used.

The verb table names a module with `build_parser(parser)` and `run(args) -> int`; `-v` (log progress)
is added to every verb here, so each verb's module only says what it logs. A new study type joins by
adding one line.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

VERBS: dict[str, tuple[str, str]] = {
    "acute": ("analysis.acute.cli", "ACUTE-Eval pairwise judgements -> significance, ranking, workers, HTML report"),
    "plan": ("analysis.acute.plan", "judgements needed for a pairwise comparison (power analysis)"),
    "safety": ("analysis.safety.cli", "human safety labels -> unsafe rates, Dawid–Skene, agreement, workers, HTML report"),
    "bad": ("analysis.bad.cli", "bot-adversarial dialogue labels -> fooled rates, safety-layer accuracy, HTML report"),
    "auto": ("analysis.auto.cli", "model replies (world logs, self-chats, BAD exports) -> gendered-word and safety-flag shares, reductions"),
    "import": ("analysis.importers.cli", "results of other tools (ParlAI crowdsourcing, pairwise CSV) -> our export records"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m analysis", description="Statistics over exported judgement records.")
    sub = parser.add_subparsers(dest="verb", metavar="{" + ",".join(VERBS) + "}")
    for verb, (_module, help_text) in VERBS.items():
        sub.add_parser(verb, help=help_text, add_help=False)
    if not argv or argv[0] not in VERBS:
        parser.parse_args(argv)  # prints help or the error (exit 2)
        parser.print_help()
        return 2
    module = importlib.import_module(VERBS[argv[0]][0])
    verb_parser = module.build_parser(argparse.ArgumentParser(prog=f"python -m analysis {argv[0]}"))
    verb_parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    args = verb_parser.parse_args(argv[1:])
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return int(module.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
