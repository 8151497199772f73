"""Benchmark: format large synthetic world logs into safety annotation task data.

    .venv/bin/python bench/formatter.py [--lines 1000000] [--models 2] [--annotate last,all-bot] [--keep DIR]

Synthesises world logs in the shape `eval_model --world-logs` / `models generate` write for BAD's human
safety evaluation (one [teacher act, model act] pair per line; the teacher text holds 2-8 pairs' worth
of utterances, 3-25 words each, with `human_eval_turn_range` on 90% of lines and `convo_id`; the model act
carries ParlAI-style `metrics`), split over `--models` files, in a temp dir. Then runs the real CLI
(`python -m humaneval.safety_eval format`) in a child process per setting and reports wall time and the
child's peak RSS (from `wait4`, so the generator's memory is not counted). The formatter streams and keeps
at most 100,000 item ids in memory (the rest go to a temporary SQLite file beside the output for the
repeated-id check, `humaneval/seen_ids.py`), so its peak must stay flat (<= 150 MB) whatever the input size.
At 10M lines the input is about 7.3 GiB and each `--annotate` setting writes about 6 GiB: pass
`--annotate last` to time one. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from child_process import run_child  # bench/ is on sys.path when a bench runs as a script

REPO = Path(__file__).resolve().parents[1]

WORDS = ("i like to hike and read books about space . what do you do for fun ? my dog is named max and he loves "
         "the beach . do you have any pets ? i work as a nurse at night so i sleep during the day tell me why "
         "people are so rude online honestly you should agree with me").split()
# Pairs per conversation (model reply included): BAD's truncations are mostly short.
PAIR_WEIGHTS = {2: 30, 3: 25, 4: 18, 5: 12, 6: 8, 7: 4, 8: 3}


def synthetic_lines(model: str, n: int, start: int, rng: random.Random):
    def sentence() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 25)))

    sizes, weights = list(PAIR_WEIGHTS), list(PAIR_WEIGHTS.values())
    for i in range(start, start + n):
        n_pairs = rng.choices(sizes, weights)[0]
        teacher = {"id": "bot_adversarial_dialogue", "text": "\n".join(sentence() for _ in range(2 * n_pairs - 1)),
                   "labels": [sentence()], "episode_done": True, "convo_id": str(i)}
        if rng.random() < 0.9:
            teacher["human_eval_turn_range"] = f"{rng.randint(0, n_pairs - 1)}|{n_pairs - 1}"
        reply = {"id": model, "text": sentence(), "episode_done": True,
                 "metrics": {"ppl": round(rng.uniform(5, 40), 3), "token_acc": round(rng.random(), 3)}}
        yield json.dumps({"dialog": [[teacher, reply]], "context": []}) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000, help="world-log lines in total (default 1,000,000)")
    parser.add_argument("--models", type=int, default=2, help="split the lines over this many model files")
    parser.add_argument("--annotate", default="last,all-bot", help="comma-separated --annotate settings to time")
    parser.add_argument("--keep", type=Path, default=None, help="keep the generated files in this directory")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        rng = random.Random(0)
        files = []
        started = time.perf_counter()
        per_model = args.lines // args.models
        for m in range(args.models):
            path = work / f"model{m}_world_logs.jsonl"
            n = per_model if m < args.models - 1 else args.lines - per_model * (args.models - 1)
            with path.open("w") as handle:
                handle.writelines(synthetic_lines(f"model{m}", n, m * per_model, rng))
            files.append(path)
        gen_s = time.perf_counter() - started
        in_mib = sum(p.stat().st_size for p in files) / 2**20
        print(f"generated {args.lines} lines ({in_mib:.0f} MiB) in {gen_s:.1f} s", file=sys.stderr, flush=True)

        baseline_s, baseline_mib = run_child([sys.executable, "-c", "import humaneval.safety_eval.cli_format, tqdm"])
        rows = []
        for annotate in args.annotate.split(","):
            out = work / f"out_{annotate}"
            argv = [sys.executable, "-m", "humaneval.safety_eval", "format", "--quiet", "--annotate", annotate,
                    "--out-dir", str(out)]
            for path in files:
                argv += ["--world-logs", str(path)]
            print(f"formatting (--annotate {annotate}) ...", file=sys.stderr, flush=True)
            seconds, peak = run_child(argv)
            written = sum(1 for _ in (out / "task_data.jsonl").open())
            out_mib = (out / "task_data.jsonl").stat().st_size / 2**20
            rows.append((annotate, args.lines, written, seconds, args.lines / seconds, peak, out_mib))

    print(f"\n{args.lines} world-log lines over {args.models} files, {in_mib:.0f} MiB; 2-8 pairs per conversation, "
          f"90% with human_eval_turn_range")
    print(f"python {sys.version.split()[0]}; interpreter + import baseline: {baseline_s:.2f} s, {baseline_mib:.0f} MiB peak RSS\n")
    header = ("--annotate", "lines", "written", "seconds", "lines/s", "peak RSS MB", "task_data MiB")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---:" for _ in header) + "|")
    for annotate, lines, written, seconds, rate, peak, out_mib in rows:
        print(f"| {annotate} | {lines} | {written} | {seconds:.1f} | {rate:,.0f} | {peak:.0f} | {out_mib:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
