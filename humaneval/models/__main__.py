"""`python -m humaneval.models VERB ...`: the model layer's command-line verbs."""

from __future__ import annotations

from humaneval.verb_dispatch import VerbTable, dispatch

VERBS: VerbTable = {
    "import-parlai": ("humaneval.models.cli_import_parlai", "convert a ParlAI zoo folder to the runtime format"),
    "generate": ("humaneval.models.cli_generate", "answer a file of contexts, writing ParlAI world logs"),
    "self-chat": ("humaneval.models.cli_self_chat", "N self-chats of M turns -> Conversations JSONL for ACUTE"),
    "chat": ("humaneval.models.cli_chat", "chat interactively with a model, safety layer on by default"),
    "serve": ("humaneval.models.cli_serve", "run the batching model server (Flask)"),
}


def main(argv: list[str] | None = None) -> int:
    return dispatch("python -m humaneval.models", VERBS, argv)


if __name__ == "__main__":
    raise SystemExit(main())
