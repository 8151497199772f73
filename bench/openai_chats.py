"""OpenAI-compatible chats benchmark: concurrent BAD chats with a model behind a chat-completions server.

    .venv/bin/python bench/openai_chats.py                        # 1, 8 and 32 chats, 4 turns each (~1-3 min)
    .venv/bin/python bench/openai_chats.py --chats 8 --turns 2 --concurrency 8

The endpoint is the real `transformers serve` on the tiny random Llama of tests/openai_peer.py (2 layers,
greedy, replies capped at --max-tokens), started by the bench in a temporary folder. At each number of
concurrent chats two paths reach it, one after the other, each chat a closed loop with no think time:

- anchor: every turn posts the chat's messages straight to the endpoint with the official `openai` client;
- BAD: every chat is a `BadChat` (the page's procedures: send_message, then label the reply) whose bot
  turns go BotReplies -> EmbeddedClient -> ModelService (batching, safety screening of the reply) ->
  OpenAICompatibleModel (an `openai_compatible` registry entry), as an embedded BAD study runs them; only
  Mephisto's router and websocket are left out (bench/bad_chat.py measures those).

The endpoint's own time is measured by a timing proxy in front of it on the BAD path (FailingFront from
tests/openai_peer.py, nothing scripted): it records how long the endpoint took with each request, and a
turn's "ours" is the turn's time minus the endpoint time of its request (matched by the worker message the
request answers). The proxy sees the very requests of the run under the very load they met; replaying the
same requests later would time the endpoint under another load (fewer requests in flight, as our
`concurrency` cap holds them back). The proxy's own loopback hop counts as ours, so "ours" is an upper
bound. It is not all work: with many chats it is mostly waiting in our own queue (the model's batches run
one at a time, each fanned out over at most `concurrency` requests and done when its slowest reply is),
where the anchor's requests wait inside the server instead (its turn time is mostly the server's queue).
The 1-chat row has no queue: its "ours" is the path's own cost per turn (safety screening, the message
checks, HTTP). Client, proxy and server share the same cores here, as they would not in production (the
server on a GPU host). The machine is shared and noisy: read the numbers as indicative, never assert them.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openai  # noqa: E402
from closed_loops import run_together  # noqa: E402  (bench/ is on sys.path when a bench runs as a script)
from omegaconf import OmegaConf  # noqa: E402

from humaneval.bad_collection.bot_replies import PERSONA_PREFIX, BotReplies  # noqa: E402
from humaneval.bad_collection.chat_record import BOT, OK, ChatRecord  # noqa: E402
from humaneval.bad_collection.message_checks import MessageLimits  # noqa: E402
from humaneval.bad_collection.model_access import open_model_client  # noqa: E402
from humaneval.bad_collection.session import BadChat  # noqa: E402
from humaneval.models.openai_compatible import to_messages  # noqa: E402
from humaneval.models.openai_compatible_settings import DEFAULT_SYSTEM_PROMPT  # noqa: E402
from humaneval.models.reply_model import DialogueContext  # noqa: E402
from tests.openai_peer import FailingFront, TransformersServePeer  # noqa: E402

MODEL = "remote_bot"
PERSONA = ("i have two cats.", "i work night shifts as a nurse.")
TOPICS = ("colour", "city", "song", "food", "animal", "season", "book", "sport", "movie", "game")


def message(chat: int, turn: int) -> str:
    """Unique per chat and turn: the proxy's requests are matched to turns by it."""
    return f"chat {chat} asks, turn {turn}: what is your favourite {TOPICS[turn % len(TOPICS)]}?"


@dataclass
class PathResult:
    turn_s: dict[str, float] = field(default_factory=dict)  # worker message -> the turn's time
    endpoint_s: dict[str, float] = field(default_factory=dict)  # BAD path: message -> the endpoint's time
    wall_s: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def ours_s(self) -> list[float]:
        """Each turn's time minus its request's endpoint time (turns whose request the proxy timed)."""
        return [self.turn_s[m] - e for m, e in self.endpoint_s.items() if m in self.turn_s]


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


Timed = dict[str, float]


def run_chats(chats: int, one_chat: Callable[[int, Timed], None]) -> PathResult:
    """`chats` closed loops at once (started together), each recording message -> turn time; errors kept."""
    result = PathResult()
    lock = threading.Lock()

    def chat(index: int) -> None:
        times: Timed = {}
        try:
            one_chat(index, times)
        except Exception as err:  # reported under the table: a failed turn must not pass unseen
            with lock:
                result.errors.append(f"chat {index}: {type(err).__name__}: {err}")
        with lock:
            result.turn_s.update(times)

    result.wall_s = run_together(chats, chat)
    return result


def anchor_run(peer: TransformersServePeer, chats: int, turns: int, max_tokens: int) -> PathResult:
    """The endpoint alone: the official client, the same messages our model would send."""
    client = openai.OpenAI(base_url=peer.base_url, api_key="unused", max_retries=0, timeout=300)
    persona = tuple(PERSONA_PREFIX + line for line in PERSONA)

    def one_chat(index: int, times: Timed) -> None:
        history: list[str] = []
        for turn in range(turns):
            history.append(message(index, turn))
            messages = to_messages(DialogueContext(turns=tuple(history), persona=persona), DEFAULT_SYSTEM_PROMPT)
            began = time.perf_counter()
            done = client.chat.completions.create(model=peer.model, messages=messages, max_tokens=max_tokens)
            times[history[-1]] = time.perf_counter() - began
            history.append((done.choices[0].message.content or "").strip())

    try:
        return run_chats(chats, one_chat)
    finally:
        client.close()


def bad_run(bot: BotReplies, front: FailingFront, chats: int, turns: int) -> PathResult:
    """BAD chats through our model layer; each turn's endpoint time comes from the proxy."""
    limits = MessageLimits()
    first_request = len(front.requests)

    def one_chat(index: int, times: Timed) -> None:
        record = ChatRecord(conversation_id=f"bench-{index}", model=MODEL, min_turns=turns, persona=list(PERSONA))
        chat = BadChat(record, bot, limits=limits, instructions=[], save=lambda: None)
        for turn in range(turns):
            text = message(index, turn)
            began = time.perf_counter()
            answer = chat.send_message(text)
            times[text] = time.perf_counter() - began
            if not answer["ok"]:
                raise RuntimeError(f"turn {turn}: {answer['error']}")
            if record.turns[-1].speaker != BOT:
                raise RuntimeError(f"turn {turn}: no bot reply")
            chat.label(len(record.turns) - 1, OK)

    result = run_chats(chats, one_chat)
    result.endpoint_s = {r.body["messages"][-1]["content"]: r.upstream_s for r in front.requests[first_request:]
                         if r.upstream_s is not None}
    return result


def write_registry(path: Path, base_url: str, served_model: str, *, max_tokens: int, concurrency: int,
                   max_batch_size: int) -> Path:
    path.write_text(
        f"default: {MODEL}\n"
        "models:\n"
        f"  {MODEL}:\n"
        "    kind: openai_compatible\n"
        f"    base_url: {base_url}\n"
        f"    model: '{served_model}'\n"
        f"    max_tokens: {max_tokens}\n"
        f"    concurrency: {concurrency}\n"
        f"    max_batch_size: {max_batch_size}\n"
        "    timeout_s: 300\n"
        "    retries: 0\n",
        encoding="utf-8")
    return path


def open_bad_bot(registry: Path, timeout_s: float) -> BotReplies:
    """The bot replies of an embedded BAD study with this one model (what `launch bad` builds)."""
    blue = OmegaConf.create({"models": {MODEL: 1}, "registry_file": str(registry), "model_server_url": None,
                             "model_factories": {}, "bot_timeout_seconds": timeout_s})
    return BotReplies(open_model_client(blue), timeout_s=timeout_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, nargs="+", default=[1, 8, 32], help="concurrent chats (default 1 8 32)")
    parser.add_argument("--turns", type=int, default=4, help="worker messages per chat (default 4)")
    parser.add_argument("--max-tokens", type=int, default=16, help="reply cap in tokens (default 16)")
    parser.add_argument("--concurrency", type=int, default=4,
                        help="the registry entry's concurrency: requests in flight (default 4, the entry's default)")
    parser.add_argument("--max-batch-size", type=int, default=8,
                        help="the registry entry's max_batch_size (default 8, the entry's default)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    timeout_s = 300.0  # a slow turn is measured, not failed

    with tempfile.TemporaryDirectory() as tmp:
        print("starting transformers serve on a tiny random Llama ...", flush=True)
        with TransformersServePeer.start(Path(tmp) / "tiny") as peer, FailingFront(peer.base_url) as front:
            registry = write_registry(Path(tmp) / "models.yaml", front.base_url, peer.model, max_tokens=args.max_tokens,
                                      concurrency=args.concurrency, max_batch_size=args.max_batch_size)
            bot = open_bad_bot(registry, timeout_s)
            try:
                # Warm-up, concurrent like the runs: the server loads the model and its first concurrent
                # requests are several times slower (whichever path came first looked slow without it).
                anchor_run(peer, 4, 2, args.max_tokens)
                bad_run(bot, front, 4, 2)
                results: dict[tuple[int, str], PathResult] = {}
                for chats in args.chats:
                    for path in ("anchor", "BAD"):
                        print(f"  {chats:>2} chats x {args.turns} turns, {path:<6} ...", end="", flush=True)
                        if path == "anchor":
                            result = anchor_run(peer, chats, args.turns, args.max_tokens)
                        else:
                            result = bad_run(bot, front, chats, args.turns)
                        results[(chats, path)] = result
                        print(f" {result.wall_s:6.1f} s", flush=True)
            finally:
                bot.client.close()
    print_table(results, args)
    return 0


def print_table(results: dict[tuple[int, str], PathResult], args: argparse.Namespace) -> None:
    print()
    print(f"registry entry: concurrency {args.concurrency}, max_batch_size {args.max_batch_size}, "
          f"max_tokens {args.max_tokens}; {args.turns} turns per chat; seconds per turn")
    print(f"{'chats':>5} | {'path':<6} | {'turns':>5} | {'turns/s':>7} | {'p50':>6} | {'p95':>6} | "
          f"{'endpt p50':>9} | {'endpt p95':>9} | {'ours p50':>8} | {'ours p95':>8} | {'p50/anchor':>10}")
    print("-" * 106)
    for (chats, path), r in results.items():
        turns = list(r.turn_s.values())
        anchor = percentile(list(results[(chats, "anchor")].turn_s.values()), 50)
        endpoint, ours = list(r.endpoint_s.values()), r.ours_s
        extra = (f"{percentile(endpoint, 50):>9.3f} | {percentile(endpoint, 95):>9.3f} | "
                 f"{percentile(ours, 50):>8.3f} | {percentile(ours, 95):>8.3f}") if endpoint else \
            f"{'-':>9} | {'-':>9} | {'-':>8} | {'-':>8}"
        print(f"{chats:>5} | {path:<6} | {len(turns):>5} | {len(turns) / r.wall_s:>7.2f} | {percentile(turns, 50):>6.3f} | "
              f"{percentile(turns, 95):>6.3f} | {extra} | {percentile(turns, 50) / anchor:>9.2f}x")
    for (chats, path), r in results.items():
        for error in r.errors[:5]:
            print(f"error ({chats} chats, {path}): {error}")


if __name__ == "__main__":
    raise SystemExit(main())
