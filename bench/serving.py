"""Serving benchmark: dynamic batching vs. one request at a time vs. the machine's limit, for concurrent chats.

    .venv/bin/python bench/serving.py            # full run (~8-15 min on 2 CPU cores)
    .venv/bin/python bench/serving.py --quick    # short run (~2 min): 1, 8, 16 chats, one turn each
                                                 # (a cold start only: read 'on/limit' from a full run)
    .venv/bin/python bench/serving.py --ray      # our server vs Ray Serve at 1 replica on all cores and
                                                 # at one 1-CPU replica per core (humaneval[scale]; three
                                                 # repeats, ~20 min; --repeats N: from 6 up, the overhead's
                                                 # median comes with a 95% interval; 7 take ~45 min)
    .venv/bin/python bench/serving.py --ray --chats 16 --turns 12 --repeats 6
                                                 # the overhead at 16 chats (~50 min): 4-turn runs are ~4
                                                 # batches, and one split batch moves a run by 10-25%

The model has the Blender 90M architecture (BlenderbotSmall: vocab 54944, scaled embeddings, 8+8 layers,
512-d, 16 heads, FFN 2048) with RANDOM weights built from its config — a load generator, not a bot — and
decodes with the Blender recipe (beam 10, min length 20, 3-gram blocking on the reply and the context,
start token suppressed; `humaneval.models.decoding_recipe`). Replies are capped at 20 tokens (random
weights would otherwise run to the 128-token limit; MODELS.md's timings are for 20-token replies too), so
every reply costs the same and the comparison is about serving, not about reply length.

Each simulated chat is a closed loop with no think time (the worst case for a server): it sends its history
plus a new human message to a real HTTP server on 127.0.0.1 (`humaneval.models.server`, safety screening
on, as in production), waits for the reply, appends it, repeats. Each chat has a client of its own and keeps
its connection from turn to turn. "off" serves one request at a time (max batch 1), as ParlAI did; "on"
batches up to 16 requests (window 20 ms, and the batcher waits for the requests a batch released to come
back; `humaneval.models.batching`). "limit" is what no server can beat:
the same chats (same messages, same growing histories) with every turn of all N chats in one direct
`generate_batch` call — no HTTP, no safety screening, no batch forming. It runs right before and right after
"on" and its row is both runs together, so the load of a shared machine weighs on both alike.
Throughput = replies / wall time; latency = per request, as the client sees it;
"x batch-1" = throughput / the limit at 1 chat (one direct `generate` of one reply at a time).

Targets (2 CPU cores): at 8 chats, throughput on >= 1.8x off; at 16 chats, p95 latency on <= 0.6x off;
at 8 and 16 chats, throughput on >= 90% of the limit's.
The machine is shared and noisy (2-4x swings): read the numbers as indicative, and never assert them.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import yaml  # noqa: E402
from transformers import BlenderbotSmallConfig, BlenderbotSmallForConditionalGeneration  # noqa: E402

from analysis.stats.intervals import median_interval  # noqa: E402
from closed_loops import run_together  # noqa: E402  (bench/ is on sys.path when a bench runs as a script)
from humaneval.models.batching import BatchingOptions  # noqa: E402
from humaneval.models.client import HttpClient  # noqa: E402
from humaneval.models.decoding_recipe import DecodingRecipe  # noqa: E402
from humaneval.models.reply_model import DialogueContext  # noqa: E402
from humaneval.models.safety import SafetyPipeline  # noqa: E402
from humaneval.models.server import (  # noqa: E402
    ModelService,
    server_config_from_dict,
    start_http_server,
)
from humaneval.usable_cpus import usable_cpus  # noqa: E402
from humaneval.web.addresses import free_port  # noqa: E402

VOCAB_SIZE = 54944
REPLY_TOKENS = 20
MAX_BATCH = 16  # the batching server's max batch, in both servers
WARM_ROUNDS = 3  # untimed rounds at most before a --ray comparison's run (run_warmed)
CONTEXT_TOKENS = 128  # the simulated chats stay short; truncation keeps the oldest tokens out
HUMAN_MESSAGES = (
    "i really like to go hiking on the weekend, what about you?",
    "do you have any pets or hobbies that keep you busy?",
    "what kind of music do you listen to when you work?",
    "i just finished a great book about the history of tea.",
    "where would you travel if you could go anywhere?",
    "my favourite food is pasta with fresh tomatoes and basil.",
    "have you seen any good movies lately?",
    "i am learning to play the guitar, it is hard but fun.",
    "what do you usually do in the evening?",
    "the weather here has been sunny all week.",
)


class RandomBlender90M:
    """A `ReplyModel` over a random-weight Blender-90M-shaped model; words are hashed to token ids."""

    def __init__(self, *, name: str = "blender_90M_random", device: str = "cpu", dtype: str = "float32",
                 seed: int = 0) -> None:
        self.name = name
        self.max_batch_size = 16
        torch.manual_seed(seed)
        config = BlenderbotSmallConfig(
            vocab_size=VOCAB_SIZE, d_model=512, encoder_layers=8, decoder_layers=8, encoder_attention_heads=16,
            decoder_attention_heads=16, encoder_ffn_dim=2048, decoder_ffn_dim=2048, max_position_embeddings=512,
            scale_embedding=True, activation_function="gelu", pad_token_id=0, bos_token_id=1, eos_token_id=2,
            decoder_start_token_id=1,
        )
        torch_dtype = torch.bfloat16 if dtype in ("bf16", "bfloat16") else torch.float32
        self.model = BlenderbotSmallForConditionalGeneration(config).eval().to(device=device, dtype=torch_dtype)
        self.device = device
        recipe = DecodingRecipe(max_length=REPLY_TOKENS)  # the Blender recipe, replies capped at 20 tokens
        self.generate_kwargs = recipe.generate_kwargs(config.max_position_embeddings)

    def encode(self, context: DialogueContext) -> list[int]:
        words = " ".join([*context.persona, *context.turns]).split()
        ids = [4 + zlib.crc32(w.encode()) % (VOCAB_SIZE - 4) for w in words]
        return ids[-(CONTEXT_TOKENS - 1):] + [2]

    def generate_batch(self, contexts: list[DialogueContext]) -> list[str]:
        rows = [self.encode(c) for c in contexts]
        width = max(len(r) for r in rows)
        ids = torch.tensor([r + [0] * (width - len(r)) for r in rows], device=self.device)
        with torch.inference_mode():
            out = self.model.generate(input_ids=ids, attention_mask=(ids != 0).long(), **self.generate_kwargs)
        return [" ".join(f"t{t}" for t in row.tolist() if t > 3) for row in out]


MODES = ("off", "limit", "on", "limit")  # the order each chat count runs in: "limit" brackets "on"


@dataclass
class Result:
    chats: int
    mode: str
    replies: int
    wall_s: float
    latencies: list[float]
    batch_sizes: list[int]

    @property
    def throughput(self) -> float:
        return self.replies / self.wall_s

    def plus(self, other: "Result") -> "Result":
        """This run and `other` (same chats and mode) as one: replies and wall times add up."""
        return Result(self.chats, self.mode, self.replies + other.replies, self.wall_s + other.wall_s,
                      self.latencies + other.latencies, self.batch_sizes + other.batch_sizes)

    def percentile(self, q: float) -> float:
        if len(self.latencies) == 1:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1]


def run_direct(model: RandomBlender90M, chats: int, turns: int) -> Result:
    """The limit for `chats` closed-loop chats: each turn, every chat's context in one `generate_batch` call.

    The messages and histories are the ones `run_setting`'s chats build (chat i draws from Random(i)), so
    the model sees the same inputs; a reply's latency is its batch's time. `generate` runs on one worker
    thread, as in the server's batcher: on this machine it ran 2-4x slower on the main thread under load
    (torch's OpenMP team there), which would flatter the server."""
    rngs = [random.Random(index) for index in range(chats)]
    histories: list[list[str]] = [[] for _ in range(chats)]
    latencies: list[float] = []
    with ThreadPoolExecutor(max_workers=1) as worker:
        began = time.perf_counter()
        for _ in range(turns):
            messages = [rng.choice(HUMAN_MESSAGES) for rng in rngs]
            contexts = [DialogueContext(tuple([*h, m])) for h, m in zip(histories, messages)]
            started = time.perf_counter()
            replies = worker.submit(model.generate_batch, contexts).result()
            latencies += [time.perf_counter() - started] * chats
            for history, message, reply in zip(histories, messages, replies):
                history += [message, reply]
        wall = time.perf_counter() - began
    return Result(chats, "limit", len(latencies), wall, latencies, [chats] * len(latencies))


def run_setting(model: RandomBlender90M, chats: int, turns: int, batching: bool) -> Result:
    """`chats` closed-loop chats over HTTP against a real server, batching on (max 16) or off (max 1)."""
    options = BatchingOptions(max_batch_size=MAX_BATCH if batching else 1, batch_window_s=0.02, max_queue=64)
    # No request may time out: at 16 chats one at a time a reply waits ~16 replies (60+ s on a busy machine).
    with ModelService([(model, options)], SafetyPipeline.from_config(None), request_timeout_s=600) as service:
        server = start_http_server(service)
        with chat_clients(server.url, chats) as clients:
            result = run_chats(clients, model.name, turns, "on" if batching else "off")
        server.stop()
    return result


def run_warmed(url: str, model_name: str, chats: int, turns: int, mode: str,
               replicas: int = 1) -> tuple[Result, str]:
    """`run_chats` after untimed rounds of the same `chats` (one reply each), until one round is answered in
    as few batches as the replicas allow (at most `WARM_ROUNDS` rounds); with what the warm-up did ("1 warm
    round", "3 warm rounds, not in step"), for the progress line.

    Why: the `--ray` comparison must start both servers in the same state. A batcher expects as many
    requests as its last batch answered (`humaneval.models.batching`): a fresh one expects a full batch, but
    a Ray deployment that has just served a smaller run expects that run's chats. And each chat keeps its
    client, with its connection, from the rounds into the timed run, so the clock starts with every
    connection open: a burst of 16 new connections through Serve's proxy arrives spread out enough to split
    a batch (13 + 3), so with new clients for every run each timed Ray run paid a fifth batch for its
    chats' connections — a cost of connecting, once per connection, not of throughput."""
    fewest = max(min(replicas, chats), math.ceil(chats / MAX_BATCH))
    with chat_clients(url, chats) as clients:
        for rounds in range(1, WARM_ROUNDS + 1):
            warm = run_chats(clients, model_name, 1, "warm-up")
            batches = round(sum(1 / size for size in warm.batch_sizes))  # a batch of b is b replies reporting b
            if batches <= fewest:
                break
        note = f"{rounds} warm round{'s' if rounds > 1 else ''}" + ("" if batches <= fewest else ", not in step")
        return run_chats(clients, model_name, turns, mode), note


@contextmanager
def chat_clients(url: str, chats: int) -> Iterator[list[HttpClient]]:
    """A client per chat, closed on leaving. Not one shared by all, as the BAD task shares one: 16 threads
    released together through one requests session reached the server spread out enough to split a batch
    (14 + 2) on both servers, a load-generator effect that would blur the comparison."""
    clients = [HttpClient(url, retries=0, timeout_s=600) for _ in range(chats)]
    try:
        yield clients
    finally:
        for client in clients:
            client.close()


def run_chats(clients: list[HttpClient], model_name: str, turns: int, mode: str) -> Result:
    """One closed-loop chat per client, chat i through `clients[i]`, drawing its messages from Random(i)."""
    latencies: list[float] = []
    batch_sizes: list[int] = []
    lock = threading.Lock()

    def chat(index: int) -> None:
        rng = random.Random(index)
        history: list[str] = []
        for _ in range(turns):
            message = rng.choice(HUMAN_MESSAGES)
            began = time.perf_counter()
            result = clients[index].reply(model_name, [*history, message])
            elapsed = time.perf_counter() - began
            if result.action != "reply":  # a blocked turn skips generation and would flatter the numbers
                raise RuntimeError(f"turn was {result.action}: {result.reason}")
            history += [message, result.text]
            with lock:
                latencies.append(elapsed)
                batch_sizes.append(result.batch_size or 0)

    wall = run_together(len(clients), chat)
    return Result(len(clients), mode, len(latencies), wall, latencies, batch_sizes)


def comparison_config(port: int, ray: dict[str, Any] | None = None) -> dict[str, Any]:
    """The server config of the `--ray` comparison, for `serve` and for Ray Serve alike: the same model
    (built by this module's `RandomBlender90M` in each server process), batching and default safety checks."""
    config: dict[str, Any] = {
        "port": port, "request_timeout_s": 600,
        "models": [{"name": "blender_90M_random", "factory": "serving:RandomBlender90M", "max_batch_size": MAX_BATCH,
                    "batch_window_ms": 20, "max_queue": 64}],
    }
    return {**config, "ray": ray} if ray else config


def put_bench_on_pythonpath() -> None:
    """Put bench/ on this process's PYTHONPATH, which the server processes inherit (a `serve` started from
    here, and Ray's workers through the instance this process starts), so they find
    `serving:RandomBlender90M`."""
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent),
                                                             os.environ.get("PYTHONPATH")]))


def run_serve_process(chats_list: list[int], turns: int) -> dict[tuple[int, str], Result]:
    """Each chat count against `python -m humaneval.models serve` in a process of its own, as Ray's replicas
    are: the load generator's threads then share neither server's interpreter."""
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "serve.yaml"
        config.write_text(yaml.safe_dump(comparison_config(free_port())), encoding="utf-8")
        log = Path(folder) / "serve.log"  # its request log would drown the progress lines
        with log.open("w", encoding="utf-8") as log_file:
            server = subprocess.Popen([sys.executable, "-m", "humaneval.models", "serve", "--config", str(config)],
                                      stdout=subprocess.PIPE, stderr=log_file, text=True,
                                      cwd=Path(__file__).resolve().parents[1])
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            if not line.startswith("serving "):
                server.wait(60)
                raise RuntimeError(f"serve did not start: {log.read_text(encoding='utf-8')[-2000:]}")
            url = line.split(" on ", 1)[1].split()[0]
            threading.Thread(target=server.stdout.read, daemon=True).start()  # its pipe must never fill up
            results: dict[tuple[int, str], Result] = {}
            for chats in chats_list:
                print(f"  {chats:>2} chats x {turns} turns, single-process server ...", end="", flush=True)
                results[(chats, "on")], note = run_warmed(url, "blender_90M_random", chats, turns, "on")
                print(f" {results[(chats, 'on')].wall_s:6.1f} s ({note})", flush=True)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return results


def run_ray(chats_list: list[int], turns: int, cpus: int) -> dict[tuple[int, str], Result]:
    """Each chat count against Ray Serve with 1 replica on all `cpus` CPUs, then 1-CPU replicas on each
    (with one CPU, the first layout only).

    One local Ray instance (127.0.0.1) for all runs, stopped at the end. Each run is warmed by rounds of its
    chats (`run_warmed`)."""
    from humaneval.models.ray_serve import remove_application, start_serve
    from humaneval.models.ray_session import ray_session

    port = free_port()
    results: dict[tuple[int, str], Result] = {}
    with ray_session(None, num_cpus=cpus):
        for replicas, per_replica in ray_layouts(cpus):
            mode = f"ray x{replicas}"
            print(f"  deploying {mode} ({per_replica} CPU each) ...", flush=True)
            url = start_serve(server_config_from_dict(comparison_config(
                port, {"replicas": replicas, "num_cpus": per_replica})), None)
            for chats in chats_list:
                print(f"  {chats:>2} chats x {turns} turns, {mode} ...", end="", flush=True)
                results[(chats, mode)], note = run_warmed(url, "blender_90M_random", chats, turns, mode, replicas)
                print(f" {results[(chats, mode)].wall_s:6.1f} s ({note})", flush=True)
            remove_application(stop_serve=False)  # the local instance, Serve included, ends with the session
    return results


def ray_layouts(cpus: int) -> list[tuple[int, int]]:
    """(replicas, CPUs each): one replica on every CPU, and one 1-CPU replica per CPU where that differs."""
    return [(1, cpus)] + ([(cpus, 1)] if cpus > 1 else [])


def run_mode(model: RandomBlender90M, chats: int, turns: int, mode: str) -> Result:
    return run_direct(model, chats, turns) if mode == "limit" else run_setting(model, chats, turns, mode == "on")


def print_table(results: dict[tuple[int, str], Result], anchor: Result) -> None:
    print(f"{'chats':>5} | {'mode':>5} | {'replies':>7} | {'replies/s':>9} | {'x batch-1':>9} | {'p50 s':>6} | "
          f"{'p95 s':>6} | {'mean batch':>10}")
    print("-" * 82)
    for (chats, mode), r in results.items():
        mean_batch = statistics.fmean(r.batch_sizes) if r.batch_sizes else 0.0
        print(f"{chats:>5} | {mode:>5} | {r.replies:>7} | {r.throughput:>9.2f} | "
              f"{r.throughput / anchor.throughput:>9.2f} | {r.percentile(50):>6.2f} | {r.percentile(95):>6.2f} | "
              f"{mean_batch:>10.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short run: 1, 8 and 16 chats, one turn each")
    parser.add_argument("--chats", type=int, nargs="+", default=None, help="concurrent chats (default 1 4 8 16)")
    parser.add_argument("--turns", type=int, default=None, help="replies per chat (default 4; --quick: 1)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--ray", action="store_true",
                        help="instead: our batching server against Ray Serve with 1 replica on all CPUs and with "
                             "1-CPU replicas (humaneval[scale]; default 8 and 16 chats)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="--ray: times the whole comparison runs (default 3; --quick: 1)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.ray and (args.threads or args.device != "cpu" or args.dtype != "float32"):
        parser.error("--ray compares CPU servers built from one config: --threads, --device and --dtype do not apply")
    if args.ray:
        return main_ray(args)
    chats_list = args.chats or ([1, 8, 16] if args.quick else [1, 4, 8, 16])
    turns = args.turns or (1 if args.quick else 4)
    if args.threads:
        torch.set_num_threads(args.threads)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no per-request access log in the table

    print(f"building a random-weight Blender-90M-architecture model ({args.device}, {args.dtype}, "
          f"{torch.get_num_threads()} torch threads)...", flush=True)
    model = RandomBlender90M(device=args.device, dtype=args.dtype)
    model.generate_batch([DialogueContext(("warm up",))])  # first call pays one-off allocation costs

    results: dict[tuple[int, str], Result] = {}
    for chats in chats_list:
        for mode in MODES:
            print(f"  {chats:>2} chats x {turns} turns, {mode:>5} ...", end="", flush=True)
            result = run_mode(model, chats, turns, mode)
            earlier = results.get((chats, mode))
            results[(chats, mode)] = earlier.plus(result) if earlier else result
            print(f" {result.wall_s:6.1f} s", flush=True)
    anchor = results.get((1, "limit")) or run_direct(model, 1, turns)  # batch-1 throughput, for "x batch-1"

    print()
    print_table(results, anchor)
    print()
    for chats in chats_list:
        off, on, limit = (results[(chats, mode)] for mode in ("off", "on", "limit"))
        print(f"{chats:>2} chats: throughput on/off = {on.throughput / off.throughput:.2f}x, "
              f"p95 on/off = {on.percentile(95) / off.percentile(95):.2f}x, "
              f"throughput on/limit = {on.throughput / limit.throughput:.0%}")
    if 8 in chats_list:
        ratio = results[(8, "on")].throughput / results[(8, "off")].throughput
        print(f"target at 8 chats: throughput >= 1.8x  -> {ratio:.2f}x {'met' if ratio >= 1.8 else 'NOT met'}")
    if 16 in chats_list:
        ratio = results[(16, "on")].percentile(95) / results[(16, "off")].percentile(95)
        print(f"target at 16 chats: p95 <= 0.6x        -> {ratio:.2f}x {'met' if ratio <= 0.6 else 'NOT met'}")
    for chats in (8, 16):
        if chats in chats_list:
            share = results[(chats, "on")].throughput / results[(chats, "limit")].throughput
            print(f"target at {chats} chats: on >= 90% of limit -> {share:.0%} {'met' if share >= 0.9 else 'NOT met'}")
    return 0


def main_ray(args: argparse.Namespace) -> int:
    """`--ray`: throughput of Ray Serve with 1 and N 1-CPU replicas, and its overhead against our server.

    Both servers run from the same config in processes of their own (`serve`, Ray's replicas), never at the
    same time: each repeat runs `serve`, and starts a local Ray instance for the Ray layouts and stops it, in
    alternating order (odd repeats `serve` first), so a machine getting busier or quieter during a repeat
    weighs on both. A row adds up the repeats (replies over wall time); the verdict takes the median of the
    per-repeat ratios, which one slow repeat of a shared machine (a 2-4x swing) does not move as it moves
    the sums. Its interval is `analysis.stats.intervals.median_interval`'s (95%, from 6 repeats up)."""
    chats_list = args.chats or ([16] if args.quick else [8, 16])
    turns = args.turns or (2 if args.quick else 4)
    repeats = 1 if args.quick else args.repeats
    cpus = usable_cpus()
    modes = ["on", *(f"ray x{replicas}" for replicas, _ in ray_layouts(cpus))]
    put_bench_on_pythonpath()
    results: dict[tuple[int, str], Result] = {}
    ratios: dict[tuple[int, str], list[float]] = {}
    for repeat in range(1, repeats + 1):
        print(f"repeat {repeat} of {repeats}", flush=True)
        these: dict[tuple[int, str], Result] = {}
        steps = [lambda: run_serve_process(chats_list, turns), lambda: run_ray(chats_list, turns, cpus)]
        for step in steps if repeat % 2 else reversed(steps):
            these.update(step())
        for key, result in these.items():
            results[key] = results[key].plus(result) if key in results else result
            ratios.setdefault(key, []).append(result.throughput / these[(key[0], "on")].throughput)
    print()
    each_width = max(len("each repeat"), 5 * repeats - 1)  # "0.95 1.08 ...": 4 characters and a space each
    print(f"{'chats':>5} | {'server':>14} | {'replies':>7} | {'replies/s':>9} | {'vs single':>9} | "
          f"{'each repeat':>{each_width}} | {'p50 s':>6} | {'p95 s':>6} | {'mean batch':>10}")
    print("-" * (93 + each_width))
    for chats in chats_list:
        single = results[(chats, "on")]
        for mode in modes:
            r = results[(chats, mode)]
            label = "single-process" if mode == "on" else mode
            each = " ".join(f"{x:.2f}" for x in ratios[(chats, mode)])
            print(f"{chats:>5} | {label:>14} | {r.replies:>7} | {r.throughput:>9.2f} | "
                  f"{r.throughput / single.throughput:>9.2f} | {each:>{each_width}} | {r.percentile(50):>6.2f} | "
                  f"{r.percentile(95):>6.2f} | {statistics.fmean(r.batch_sizes):>10.1f}")
    print()
    repeats_said = f"{repeats} repeats" if repeats > 1 else "1 repeat"
    for chats in chats_list:
        one = ratios[(chats, "ray x1")]
        overhead = 1 - statistics.median(one)
        interval = median_interval(one)
        spread = (f"95% interval {1 - interval[1]:.0%} to {1 - interval[0]:.0%}" if interval else
                  f"range {1 - max(one):.0%} to {1 - min(one):.0%}, too few repeats for a 95% interval (6 needed)")
        straddles = interval is not None and 1 - interval[1] <= 0.10 < 1 - interval[0]
        line = (f"{chats:>2} chats: Ray Serve overhead at 1 replica = {overhead:.0%} lower throughput (median of "
                f"{repeats_said}; {spread}; target <= 10%: {'met' if overhead <= 0.10 else 'NOT met'}"
                f"{', the interval straddles it' if straddles else ''})")
        if cpus > 1:
            many = [m / o for m, o in zip(ratios[(chats, f"ray x{cpus}")], one)]
            line += (f"; {cpus} x 1-CPU replicas / 1 replica = {statistics.median(many):.2f}x "
                     f"({min(many):.2f} to {max(many):.2f})")
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
