"""Benchmark: full ACUTE report (read, statistics, 200 bootstrap rounds, CSV + HTML) at 100k and 1M judgements.

Budget (issue 4): 1,000,000 judgements, 8 models, 5,000 workers in under 60 s and 2 GB on 2 cores.
Each size runs `python -m analysis acute` in a fresh process, timed from outside, with the peak
resident memory of that process from `wait4`. Data generation is not timed. Prints a table; this is
not a test.

    .venv/bin/python bench/analysis.py [--sizes 100000 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.synthetic.acute import StudyDesign, simulate  # noqa: E402

STRENGTHS = {f"model_{i}": s for i, s in enumerate([0.0, 0.1, 0.15, 0.3, 0.35, 0.5, -0.2, -0.4])}


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
    env = dict(os.environ, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2", MKL_NUM_THREADS="2")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    stdout, stderr = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"analysis failed for n={n}:\n{stdout}\n{stderr}")
    read_line = next((line for line in stdout.splitlines() if line.startswith("read ")), "")
    read_s = float(read_line.rsplit(" in ", 1)[1].split()[0]) if " in " in read_line else float("nan")
    return {
        "n": n, "file_mb": data.stat().st_size / 1e6, "generate_s": generate, "read_s": read_s, "total_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
        "html_mb": (out / "report.html").stat().st_size / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="keep data and reports in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        rows = [run_size(n, folder, args.rounds) for n in args.sizes]
    print(f"full ACUTE report, 8 models, 5,000 workers, {args.rounds} bootstrap rounds, {os.cpu_count()} CPUs")
    header = f"{'judgements':>12} {'file MB':>8} {'read s':>7} {'total s':>8} {'CPU s':>7} {'peak MB':>8} {'HTML MB':>8}  budget"
    print(header)
    print("-" * len(header))
    for r in rows:
        ok = "ok" if r["total_s"] < 60 and r["peak_mb"] < 2048 else "OVER"
        print(f"{r['n']:>12,} {r['file_mb']:>8.0f} {r['read_s']:>7.1f} {r['total_s']:>8.1f} {r['cpu_s']:>7.1f} "
              f"{r['peak_mb']:>8.0f} {r['html_mb']:>8.2f}  {ok if r['n'] >= 1_000_000 else ''}")


if __name__ == "__main__":
    main()
