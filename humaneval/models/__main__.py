"""`python -m humaneval.models VERB ...`: one entry point, one module per verb (imported lazily so that
`--help` and light verbs do not pay for torch)."""

from __future__ import annotations

import importlib
import sys

VERBS: dict[str, tuple[str, str]] = {
    "import-parlai": ("humaneval.models.cli_import_parlai", "convert a ParlAI zoo folder to the runtime format"),
    "generate": ("humaneval.models.cli_generate", "answer a file of contexts, writing ParlAI world logs"),
    "self-chat": ("humaneval.models.cli_self_chat", "N self-chats of M turns -> Conversations JSONL for ACUTE"),
    "chat": ("humaneval.models.cli_chat", "chat interactively with a model, safety layer on by default"),
    "serve": ("humaneval.models.cli_serve", "run the batching model server (Flask)"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in VERBS:
        print("usage: python -m humaneval.models VERB [options]   (VERB --help for its options)\n")
        for verb, (_, summary) in VERBS.items():
            print(f"  {verb:<14} {summary}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module = importlib.import_module(VERBS[argv[0]][0])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
