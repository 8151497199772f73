"""Benchmark: full ACUTE report (read, statistics, 200 bootstrap rounds, CSV + HTML) at 100k and 1M judgements.

Budget (issue 4): 1,000,000 judgements, 8 models, 5,000 workers in under 60 s and 2 GB on 2 cores.
Each size runs `python -m analysis acute` in a fresh process, with its wall time, CPU time and peak
resident memory taken by a small launcher process (`LAUNCHER`) that starts it and `wait4`s for it: Linux
counts in a process's peak the resident memory of the process it was forked from, so a child of this
process (numpy, pandas, scikit-learn and the generated study: ~270 MB at 1M) never showed a peak below
this process's size. The report reads a large file in two processes; the launcher adds the second one's
private memory to the first's resident memory while both run. Data generation is not timed. Prints a table; this is not a test.

`--compare-fastchat` (issue 22) also runs, on the same file and in a fresh process each, the Chatbot Arena
ranking as its authors describe it: Bradley-Terry strengths by a logistic regression (scikit-learn, no
penalty, no intercept; a row per model pair and outcome weighted by its count, a tie half a win each,
ratings 1000 + 400 log10-odds) and 200 bootstrap rounds, each resampling all battles with replacement in
pandas and fitting again. Written here from that description; no FastChat code is copied or imported.
Its time is the fit and bootstrap alone (the battles are read before the clock starts, only the three
columns it needs, so its peak memory is the least the algorithm needs); ours is the whole report,
reading included. The table gives ours / theirs (issue 22's targets at 1M: time <= 0.5x, memory <= 1.0x).

    .venv/bin/python bench/analysis.py [--sizes 100000 1000000] [--keep DIR] [--compare-fastchat]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.synthetic.acute import StudyDesign, simulate  # noqa: E402

STRENGTHS = {f"model_{i}": s for i, s in enumerate([0.0, 0.1, 0.15, 0.3, 0.35, 0.5, -0.2, -0.4])}


#: run as `python -c LAUNCHER cmd...`: runs cmd, exits with its exit code, and ends stderr with a line
#: "rusage <peak KiB> <CPU s> <wall s>" of cmd alone (forked from this small process, not from the bench). The
#: peak is cmd's peak resident memory, or, when cmd forks a process of its own (ours reads half of a large file
#: in one), the peak of cmd's resident memory plus its descendants' private memory (pages they share with cmd are
#: counted once), sampled every 20 ms: `ru_maxrss` alone gives the largest process, not the sum. CPU time
#: includes the descendants'.
LAUNCHER = """
import os, subprocess, sys, threading, time
def kib(pid, name, fields):
    try:
        with open(f"/proc/{pid}/{name}") as f:
            return sum(int(line.split()[1]) for line in f if line.split(":")[0] in fields)
    except (OSError, ValueError, IndexError):
        return 0
def descendants(pid):
    try:
        kids = [int(c) for t in os.listdir(f"/proc/{pid}/task") for c in open(f"/proc/{pid}/task/{t}/children").read().split()]
    except OSError:
        return []
    return kids + [d for k in kids for d in descendants(k)]
peak, running = 0, True
def sample():
    global peak
    while running:
        kids = descendants(proc.pid)
        if kids:
            private = sum(kib(k, "smaps_rollup", ("Private_Clean", "Private_Dirty")) for k in kids)
            peak = max(peak, kib(proc.pid, "status", ("VmRSS",)) + private)
        time.sleep(0.02)
t0 = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:])
threading.Thread(target=sample, daemon=True).start()
_, status, usage = os.wait4(proc.pid, 0)
running = False
sys.stderr.write(f"\\nrusage {max(usage.ru_maxrss, peak)} {usage.ru_utime + usage.ru_stime} {time.perf_counter() - t0}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(cmd: list[str]) -> tuple[int, str, str, dict[str, float]]:
    """Run `cmd` through `LAUNCHER`: (exit code, stdout, stderr without the launcher's line, its wall_s, cpu_s, peak_mb)."""
    env = dict(os.environ, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2", MKL_NUM_THREADS="2")
    proc = subprocess.run([sys.executable, "-c", LAUNCHER, *cmd], cwd=ROOT, env=env, capture_output=True, text=True)
    stderr, _, line = proc.stderr.rstrip("\n").rpartition("\n")
    _, peak_kib, cpu_s, wall_s = line.split()
    return proc.returncode, proc.stdout, stderr, {"wall_s": float(wall_s), "cpu_s": float(cpu_s), "peak_mb": int(peak_kib) / 1024}


def run_size(n: int, folder: Path, rounds: int) -> dict[str, float]:
    data = folder / f"judgements_{n}.jsonl"
    t0 = time.perf_counter()
    study = simulate(StudyDesign(strengths=STRENGTHS, n_judgements=n, n_workers=5000, n_pairs=20000,
                                 spammer_share=0.03, left_clicker_share=0.02, failed_onboarding_share=0.01, seed=n))
    study.write(data)
    generate = time.perf_counter() - t0
    out = folder / f"report_{n}"
    cmd = [sys.executable, "-m", "analysis", "acute", "--judgements", str(data), "--out", str(out),
           "--bootstrap-rounds", str(rounds)]
    code, stdout, stderr, usage = run_measured(cmd)
    if code != 0:
        raise SystemExit(f"analysis failed for n={n}:\n{stdout}\n{stderr}")
    read_line = next((line for line in stdout.splitlines() if line.startswith("read ")), "")
    read_s = float(read_line.rsplit(" in ", 1)[1].split()[0]) if " in " in read_line else float("nan")
    return {
        "n": n, "file_mb": data.stat().st_size / 1e6, "generate_s": generate, "read_s": read_s, "total_s": usage["wall_s"],
        "cpu_s": usage["cpu_s"], "peak_mb": usage["peak_mb"],
        "html_mb": (out / "report.html").stat().st_size / 1e6,
    }


ARENA_WINNERS = {"tie": "tie", "both_bad": "tie (bothbad)"}  # else "model_a" / "model_b", as Arena labels them


def read_battles(path: Path) -> pd.DataFrame:
    """The non-onboarding judgements as Arena's battles table: model_a, model_b, winner, as categorical columns
    (a column of strings made every bootstrap round cost several times more, ~0.3 s at 1M, in hashing them)."""
    shared: dict[str, str] = {}  # one string object per distinct value, as a lean reader would keep them
    cols: dict[str, list[str]] = {"model_a": [], "model_b": [], "winner": []}
    with path.open("rb") as handle:
        for raw in handle:
            rec = orjson.loads(raw)
            if rec["is_onboarding"]:
                continue
            winner = ARENA_WINNERS.get(rec["winner"]) or ("model_a" if rec["winner"] == rec["model_a"] else "model_b")
            for key, value in (("model_a", rec["model_a"]), ("model_b", rec["model_b"]), ("winner", winner)):
                cols[key].append(shared.setdefault(value, value))
    return pd.DataFrame({key: pd.Categorical(values) for key, values in cols.items()})


def arena_ratings(battles: pd.DataFrame) -> dict[str, float]:
    """Bradley-Terry ratings by logistic regression, one weighted row per (model_a, model_b, outcome)."""
    counts = battles.groupby(["model_a", "model_b", "winner"], observed=True, sort=False).size()
    models = sorted(set(battles["model_a"].unique()) | set(battles["model_b"].unique()))
    column = {m: i for i, m in enumerate(models)}
    rows, outcomes, weights = [], [], []
    for (a, b, winner), n in counts.items():
        x = np.zeros(len(models))
        x[column[a]], x[column[b]] = math.log(10), -math.log(10)
        for won, share in {"model_a": [(1, 1.0)], "model_b": [(0, 1.0)]}.get(winner, [(1, 0.5), (0, 0.5)]):
            rows.append(x)
            outcomes.append(won)
            weights.append(n * share)
    fit = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-6).fit(np.array(rows), outcomes, sample_weight=weights)
    return {m: 1000 + 400 * coef for m, coef in zip(models, fit.coef_[0])}


def arena_child(data: Path, rounds: int) -> None:
    """In its own process: read the battles, then time the ratings and the bootstrap; print the times as JSON."""
    t0 = time.perf_counter()
    battles = read_battles(data)
    read_s = time.perf_counter() - t0
    t0, cpu0 = time.perf_counter(), time.process_time()
    arena_ratings(battles)
    boot = [arena_ratings(battles.sample(frac=1.0, replace=True, random_state=r)) for r in range(rounds)]
    pd.DataFrame(boot).quantile([0.025, 0.975])
    print(json.dumps({"read_s": read_s, "fit_s": time.perf_counter() - t0, "fit_cpu_s": time.process_time() - cpu0}))


def run_arena(data: Path, rounds: int) -> dict[str, float]:
    """The Arena ranking on `data` in a fresh process: its read and fit+bootstrap seconds, and peak memory."""
    code, stdout, stderr, usage = run_measured([sys.executable, __file__, "--arena-child", str(data), "--rounds", str(rounds)])
    if code != 0:
        raise SystemExit(f"Arena ranking failed on {data}:\n{stderr}")
    return {**json.loads(stdout.strip().splitlines()[-1]), "peak_mb": usage["peak_mb"]}


def print_comparison(rows: list[dict[str, float]], rounds: int) -> None:
    print(f"\nours (full ACUTE report, reading included) vs Chatbot Arena's BT + {rounds} bootstrap rounds "
          f"(fit and bootstrap only), same file, fresh process each; load average at the end "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("CPU seconds (all threads) beside wall time: on a loaded machine wall time follows the load, CPU less so")
    header = (f"{'judgements':>12} {'ours s':>7} {'Arena s':>8} {'time x':>7} {'ours CPU':>9} {'Arena CPU':>10} "
              f"{'CPU x':>6} {'ours MB':>8} {'Arena MB':>9} {'mem x':>6} {'Arena read s':>13}  "
              f"target (1M: time <= 0.5x, memory <= 1.0x)")
    print(header)
    print("-" * len(header))
    for r in rows:
        time_x, mem_x = r["total_s"] / r["arena_fit_s"], r["peak_mb"] / r["arena_peak_mb"]
        verdict = ("met" if time_x <= 0.5 and mem_x <= 1.0 else "NOT met") if r["n"] >= 1_000_000 else ""
        print(f"{r['n']:>12,} {r['total_s']:>7.1f} {r['arena_fit_s']:>8.1f} {time_x:>7.2f} {r['cpu_s']:>9.1f} "
              f"{r['arena_fit_cpu_s']:>10.1f} {r['cpu_s'] / r['arena_fit_cpu_s']:>6.2f} {r['peak_mb']:>8.0f} "
              f"{r['arena_peak_mb']:>9.0f} {mem_x:>6.2f} {r['arena_read_s']:>13.1f}  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="keep data and reports in this folder")
    parser.add_argument("--compare-fastchat", action="store_true",
                        help="also time Chatbot Arena's BT + bootstrap on the same files (issue 22)")
    parser.add_argument("--arena-child", type=Path, help=argparse.SUPPRESS)  # run_arena's child process
    args = parser.parse_args()
    if args.arena_child:
        arena_child(args.arena_child, args.rounds)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for n in args.sizes:
            row = run_size(n, folder, args.rounds)
            if args.compare_fastchat:
                arena = run_arena(folder / f"judgements_{n}.jsonl", args.rounds)
                row.update(arena_read_s=arena["read_s"], arena_fit_s=arena["fit_s"], arena_fit_cpu_s=arena["fit_cpu_s"],
                           arena_peak_mb=arena["peak_mb"])
            rows.append(row)
    print(f"full ACUTE report, 8 models, 5,000 workers, {args.rounds} bootstrap rounds, {os.cpu_count()} CPUs")
    header = f"{'judgements':>12} {'file MB':>8} {'read s':>7} {'total s':>8} {'CPU s':>7} {'peak MB':>8} {'HTML MB':>8}  budget"
    print(header)
    print("-" * len(header))
    for r in rows:
        ok = "ok" if r["total_s"] < 60 and r["peak_mb"] < 2048 else "OVER"
        print(f"{r['n']:>12,} {r['file_mb']:>8.0f} {r['read_s']:>7.1f} {r['total_s']:>8.1f} {r['cpu_s']:>7.1f} "
              f"{r['peak_mb']:>8.0f} {r['html_mb']:>8.2f}  {ok if r['n'] >= 1_000_000 else ''}")
    if args.compare_fastchat:
        print_comparison(rows, args.rounds)


if __name__ == "__main__":
    main()
