"""`python -m humaneval.models chat`: talk to a model in the terminal, safety layer on by default.

The `safe_interactive` experience of ParlAI, plus the reason whenever a message is blocked, so a researcher
can see why (ParlAI's users complained that it never said). Reads one message per line from stdin, so it
also works piped (tests feed it lines).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from humaneval.input_errors import InputError, exit_on_input_error
from humaneval.models.client import ChatSession, ModelClient, ModelServerError, open_client

QUIT_COMMANDS = {"/quit", "/exit", "[done]", "[exit]"}

DESCRIPTION = """\
Chat with a model. Type a message and press Enter; commands: /reset (clear the bot's history), /quit.
Safety is on by default, as in ParlAI's safe_interactive: an unsafe message of yours is not sent, an
unsafe bot reply is replaced and the bot's history cleared — and the reason is shown.

Where the model runs:
  (default)        in this process, `--model` loaded from the model registry (`--registry FILE`, else
                   $HUMANEVAL_MODELS, else task_configs/models.yaml; default model: the registry's
                   default, the demo bot)
  --config FILE    in this process, with the models and safety checks of a server config
  --server URL     on a running `serve` (e.g. a GPU host); token from --token-env"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m humaneval.models chat", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model name (default: the only configured model, else the registry's default)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--config", metavar="FILE", help="server YAML to load in-process (task_configs/serve.yaml)")
    where.add_argument("--server", metavar="URL", help="URL of a running model server, e.g. http://gpu-host:8765")
    where.add_argument("--registry", metavar="FILE",
                       help="model registry YAML for the in-process model (default: $HUMANEVAL_MODELS, then "
                            "task_configs/models.yaml); --config names its own")
    parser.add_argument("--token-env", default="HUMANEVAL_SERVER_TOKEN", metavar="VAR",
                        help="environment variable holding the server's bearer token (with --server)")
    parser.add_argument("--device", help="device for in-process models (cpu, cuda, cuda:1); default from config")
    parser.add_argument("--persona", action="append", default=[], metavar="LINE",
                        help="a persona/context line shown to the model before the chat (repeatable)")
    parser.add_argument("--no-safety", action="store_true",
                        help="turn the safety layer off for both sides (for red-teaming; replies are raw)")
    return parser


def _connect(args: argparse.Namespace) -> ModelClient:
    token = os.environ.get(args.token_env) or None
    return open_client(server=args.server, token=token, config=args.config, model=args.model, device=args.device,
                       registry=args.registry)


def _pick_model(client: ModelClient, requested: str | None, registry: str | None = None) -> str:
    """The requested model (checked now, not at the first message), else the only one, else the default."""
    available = [m["name"] for m in client.models()["models"]]
    if requested:
        if requested not in available:
            raise InputError(f"unknown model {requested!r}; available: {', '.join(available) or 'none'}",
                             field="--model")
        return requested
    if not available:  # e.g. an empty --config file: nothing to chat with
        raise InputError("no models to chat with (the config lists none)", field="models")
    if len(available) == 1:
        return available[0]
    default = _registry_default(registry)
    return default if default in available else available[0]


def _registry_default(registry: str | None) -> str:
    from humaneval.models.registry import load_registry

    return load_registry(registry).default


def chat_loop(session: ChatSession, lines: TextIO, out: TextIO, *, interactive: bool) -> None:
    """Read messages until EOF or a quit command, printing the bot's answers and any block reasons."""
    while True:
        if interactive:
            out.write("you: ")
            out.flush()
        line = lines.readline()
        if not line:
            return
        message = line.strip()
        if not message:
            continue
        if message.lower() in QUIT_COMMANDS:
            return
        if message.lower() == "/reset":
            session.reset()
            print("[ history cleared ]", file=out, flush=True)
            continue
        try:
            result = session.send(message)
        except ModelServerError as err:
            hint = "try again" if err.retryable else "this message cannot be answered"
            print(f"[ error: {err} — {hint} ]", file=out, flush=True)
            continue
        print(f"bot: {result.text}", file=out, flush=True)
        if result.action == "human_blocked":
            print(f"     (your message was not sent: {result.reason})", file=out, flush=True)
        elif result.action == "bot_replaced":
            print(f"     (the bot's reply was withheld and its history cleared: {result.reason})", file=out, flush=True)


@exit_on_input_error
def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    client = _connect(args)
    try:
        try:
            model = _pick_model(client, args.model, args.registry)
        except InputError as err:
            raise err.at(path=args.config) from None
        session = ChatSession(client, model, persona=tuple(args.persona), safety=False if args.no_safety else None)
        interactive = sys.stdin.isatty()
        if interactive:
            safety = "off" if args.no_safety else "on"
            print(f"chatting with {model} (safety {safety}); /reset clears history, /quit ends", flush=True)
        chat_loop(session, sys.stdin, sys.stdout, interactive=interactive)
    except ModelServerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0
