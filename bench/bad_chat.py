"""BAD chat benchmark: N simulated workers chatting at once with the demo bot through the router.

    .venv/bin/python bench/bad_chat.py                 # 8 workers, 5 messages each (~1 min)
    .venv/bin/python bench/bad_chat.py --workers 4 --turns 3

A real local BAD collection (`python -m humaneval.launch bad` config: local architect, node router,
the demo bot embedded with the safety layer, onboarding off) in a temporary data directory. Each worker
is a `SimulatedWorker` speaking the page's protocol over the router's websocket, in its own thread, with
no think time: send a message, label the bot's reply, repeat, submit. Latency is a bot turn as the
worker sees it: from the `send_message` call to its response (router + Mephisto's unit thread + model
layer, batched across workers). Beside it, the model layer's own reply time in the same run (each
`BotReplies.reply`: the model and the safety layer, under the same concurrency), so the difference is
what the router and the runner add. The machine is shared and noisy: read the numbers as indicative,
and never assert them.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import humaneval.crowd  # noqa: E402,F401  (Mephisto through the compat layer)
from humaneval.bad_collection.bot_replies import BotReplies  # noqa: E402
from humaneval.bad_collection.task import build_task  # noqa: E402
from humaneval.crowd.launcher import LaunchSettings, LocalLaunch  # noqa: E402
from humaneval.crowd.simulated_worker import SimulatedWorker  # noqa: E402

TOPICS = ("colour", "city", "song", "food", "animal", "season", "book", "sport", "movie", "game")


def worker_session(base_url: str, name: str, turns: int, latencies: list[float], errors: list[str]) -> None:
    import json

    worker = SimulatedWorker(base_url, name, timeout=120)
    deadline = time.monotonic() + 60
    session = worker.request_agent(f"{name}-1")
    while session.agent_id is None and time.monotonic() < deadline:
        time.sleep(0.2)
        session = worker.request_agent(f"{name}-1")
    if session.agent_id is None:
        errors.append(f"{name}: no unit ({session.failure_reason})")
        return
    live = worker.connect_live(session.agent_id)
    for n in range(turns):
        started = time.perf_counter()
        answer = json.loads(live.call("send_message", {"text": f"{name} wonders: what is your favourite {TOPICS[n]}?"}, timeout=120))
        latencies.append(time.perf_counter() - started)
        if not answer["ok"]:
            errors.append(f"{name}: {answer['error']}")
            return
        live.call("label", {"turn_index": answer["state"]["needs_label"], "label": "__ok__"}, timeout=60)
    worker.submit_task(session.agent_id, {"rating": 3, "comment": ""})
    live.close()


def time_model_layer(model_times: list[float]) -> None:
    """Record the duration of every bot reply the model layer makes in this process."""
    reply = BotReplies.reply

    def timed(self: BotReplies, conversation: Any) -> Any:
        started = time.perf_counter()
        try:
            return reply(self, conversation)
        finally:
            model_times.append(time.perf_counter() - started)

    BotReplies.reply = timed  # type: ignore[method-assign]


def percentiles(times: list[float]) -> tuple[float, float]:
    """p50 and p95 (nearest rank) of `times`; NaN for none."""
    if not times:
        return float("nan"), float("nan")
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--turns", type=int, default=5, help="messages per worker (= min_turns)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        cfg, state = build_task([
            f"humaneval.data_dir={tmp}",
            f"mephisto.blueprint.models={{demo_bot: {args.workers}}}",
            f"mephisto.blueprint.min_turns={args.turns}",
            "mephisto.blueprint.onboarding_qualification=null",
            "mephisto.blueprint.max_conversations_per_worker=1",
            "mephisto.task.task_name=bench-bad-chat",
        ])
        latencies: list[float] = []
        model_times: list[float] = []
        errors: list[str] = []
        time_model_layer(model_times)
        with LocalLaunch(cfg, state, LaunchSettings(data_dir=Path(tmp))) as run:
            threads = [threading.Thread(target=worker_session, args=(run.base_url, f"bench{i}", args.turns, latencies, errors),
                                        daemon=True) for i in range(args.workers)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            run.wait_until(lambda: not any(t.is_alive() for t in threads), timeout=600)
            wall = time.perf_counter() - started
    if errors:
        print("errors:", *errors, sep="\n  ")
    p50, p95 = percentiles(latencies)
    model_p50, model_p95 = percentiles(model_times)
    print(f"\nBAD chat: demo bot embedded, safety layer on, {args.workers} simulated workers at once, no think time\n")
    print("| workers | bot turns | p50 latency (s) | p95 latency (s) | max (s) | model layer p50 (s) | model layer p95 (s) | wall (s) |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {args.workers} | {len(latencies)} | {p50:.3f} | {p95:.3f} | {max(latencies, default=float('nan')):.3f} "
          f"| {model_p50:.3f} | {model_p95:.3f} | {wall:.1f} |")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
