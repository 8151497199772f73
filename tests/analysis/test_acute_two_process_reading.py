"""A large ACUTE input is read in two processes (`_read_by_blocks` with `processes=2`, `humaneval.forked_work`):
the judgements are the ones one process reads, code for code, wherever the cut falls (inside a file, between
files, runs and integer ids across it); an error in the second half is still located; a second process that
dies costs its half's reading again, not the result. Each test also checks that a second process really read."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from analysis.acute import records
from analysis.acute.records import load_acute_judgements
from analysis.synthetic.acute import StudyDesign, simulate
from humaneval import forked_work
from humaneval.input_errors import InputError
from tests.analysis.test_acute_block_reader import _summary
from tests.hardware import needs_two_cpus

pytest.importorskip("orjson")


@pytest.fixture()
def second_processes(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every input counts as large; the second processes started, as a list."""
    started: list[Any] = []
    real_start = forked_work.ForkedWork.start.__func__  # type: ignore[attr-defined]

    def start(cls: type, work: Any, expected: tuple = ()) -> Any:
        child = real_start(cls, work, expected)
        started.append(child)
        return child

    monkeypatch.setattr(records, "TWO_PROCESSES_FROM_BYTES", 0)
    monkeypatch.setattr(forked_work.ForkedWork, "start", classmethod(start))
    return started


def _write(path: Path, recs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    return path


def _runs(tmp_path: Path) -> list[Path]:
    """Two runs of different sizes (the cut falls inside the larger), ties, both-bad, dialogues, onboarding,
    integer ids in the second run, non-ASCII names."""
    paths = []
    for run, n in (("r1", 2500), ("r2", 900)):
        design = StudyDesign(strengths={"alpha": 0.0, "=beta": 0.4, "gämma": -0.2}, n_judgements=n, n_workers=40,
                             n_pairs=300, tie_share=0.2, both_bad_share=0.3, failed_onboarding_share=0.1,
                             with_dialogues=True, run_id=run, seed=len(paths))
        recs = list(simulate(design).records())
        if run == "r2":  # integer ids, as other tools write them
            pair_ids: dict[Any, int] = {}
            for i, r in enumerate(recs):
                r["unit_id"], r["pair_id"] = i // 3, pair_ids.setdefault(r["pair_id"], len(pair_ids))
        paths.append(_write(tmp_path / f"{run}.jsonl", recs))
    return paths


#: the start of a fresh interpreter's script: every input counts as large, and `started` lists the second
#: processes the readings started (None where one was refused)
COUNTED_FORKS = """
from analysis.acute import records
from humaneval import forked_work
records.TWO_PROCESSES_FROM_BYTES = 0
started = []
real_start = forked_work.ForkedWork.start.__func__
def start(cls, work, expected=()):
    started.append(real_start(cls, work, expected))
    return started[-1]
forked_work.ForkedWork.start = classmethod(start)
"""

#: run in a fresh interpreter (one thread, so the reader may fork; a test process may hold other threads a test
#: left behind, and the reader then rightly reads alone): every input counts as large, the second processes
#: started are counted, and the judgements (or the located error) are printed as JSON
FRESH_READ = """
import json, logging, os, sys
from humaneval.input_errors import InputError
from tests.analysis.test_acute_block_reader import _summary
paths, processes, child_dies = json.loads(sys.argv[1])
""" + COUNTED_FORKS + """if child_dies:
    parent, real_part = os.getpid(), records._part_result
    def dies_in_the_child(part):
        if os.getpid() != parent:
            os._exit(3)  # killed, as by the OOM killer, before sending anything
        return real_part(part)
    records._part_result = dies_in_the_child
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
try:
    out = {"summary": _summary(records.load_acute_judgements(paths, processes=processes))}
except InputError as err:
    out = {"error": [str(err.path), err.line, err.field]}
out["forked"] = [child is not None for child in started]
print(json.dumps(out))
"""


def _fresh_read(paths: list[Path], processes: int, child_dies: bool = False) -> dict[str, Any]:
    """`FRESH_READ`'s output, with what it logged under "log"."""
    proc = subprocess.run([sys.executable, "-c", FRESH_READ, json.dumps([[str(p) for p in paths], processes, child_dies])],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], check=True, timeout=120)
    return {**json.loads(proc.stdout.splitlines()[-1]), "log": proc.stderr}


def test_two_processes_read_what_one_reads(tmp_path: Path) -> None:
    paths = _runs(tmp_path)
    for cut_in in (paths, paths[:1], [paths[1], paths[0]]):
        one, two = _fresh_read(cut_in, 1), _fresh_read(cut_in, 2)
        assert one["forked"] == [] and two["forked"] == [True], "no second process read"
        assert two["summary"] == one["summary"]
    assert _fresh_read(paths, 1)["summary"] == _summary(load_acute_judgements(paths))  # and as read in this process


@pytest.mark.parametrize("half", ["first", "second"])
def test_an_error_in_either_half_is_located(tmp_path: Path, half: str) -> None:
    [path, _] = _runs(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    bad = 10 if half == "first" else len(lines) - 10  # well before or past the cut
    lines[bad] = json.dumps({**json.loads(lines[bad]), "winner": "nobody"})
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    read = _fresh_read([path], 2)
    assert read["forked"] == [True]
    assert read["error"] == [str(path), bad + 1, "winner"]


def test_a_second_process_that_dies_costs_its_half_not_the_result(tmp_path: Path) -> None:
    paths = _runs(tmp_path)
    read = _fresh_read(paths, 2, child_dies=True)
    assert read["forked"] == [True] and "second reading process failed" in read["log"]
    assert read["summary"] == _fresh_read(paths, 1)["summary"]


def test_no_fork_while_other_threads_run(tmp_path: Path, second_processes: list[Any]) -> None:
    """A fork copies only the calling thread; a lock another thread holds would never be released in the child."""
    paths = _runs(tmp_path)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        judgements = load_acute_judgements(paths, processes=2)
    finally:
        stop.set()
        other.join()
    assert second_processes == [None]  # asked, and refused
    assert _summary(judgements) == _summary(load_acute_judgements(paths, processes=1))


def test_a_missing_file_is_named_as_with_one_process(tmp_path: Path) -> None:
    paths = _runs(tmp_path)
    gone = tmp_path / "gone.jsonl"
    one, two = _fresh_read([paths[0], gone, paths[1]], 1), _fresh_read([paths[0], gone, paths[1]], 2)
    assert two["forked"] == [True]
    assert one["error"] == two["error"] == [str(gone), None, None]
    with pytest.raises(InputError, match="file not found"):
        load_acute_judgements([paths[0], gone, paths[1]], processes=2)


CHILD_OF_A_KILLED_PARENT = """
import sys, time
import numpy as np
from humaneval.forked_work import ForkedWork
def work():
    time.sleep(1.0)  # the parent is killed meanwhile
    return None, {"big": np.ones(2_000_000)}  # 16 MB: far more than a pipe's buffer
child = ForkedWork.start(work)
print(child._process.pid, flush=True)
time.sleep(60)  # never asks for the result: killed before
"""


def test_the_second_process_ends_when_its_parent_is_killed_outright(tmp_path: Path) -> None:
    """SIGKILL (or the OOM killer) runs no clean-up in the parent: the child must not sit for ever on a full pipe
    with its half of the input in memory (it did while it kept a copy of the parent's end of the pipe)."""
    psutil = pytest.importorskip("psutil")
    parent = subprocess.Popen([sys.executable, "-c", CHILD_OF_A_KILLED_PARENT], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    child_pid = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()

    def gone() -> bool:
        try:
            return psutil.Process(child_pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    deadline = time.monotonic() + 20
    while not gone() and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        assert gone(), "the second process outlived its killed parent"
    finally:
        if not gone():
            os.kill(child_pid, signal.SIGKILL)


#: `python -m analysis acute` in a fresh interpreter pinned to the CPUs in argv[2]: every input counts as
#: large; prints whether each reading forked a second process
PINNED_CLI = """
import json, os, sys
from analysis import __main__ as analysis_main
paths, cpus, out = json.loads(sys.argv[1])
os.sched_setaffinity(0, cpus)
""" + COUNTED_FORKS + """code = analysis_main.main(["acute", "--judgements", *paths, "--out", out, "--bootstrap-rounds", "0"])
print(json.dumps({"code": code, "forked": [child is not None for child in started]}))
"""


@needs_two_cpus
def test_the_report_reads_in_one_process_when_pinned_to_one_cpu(tmp_path: Path) -> None:
    """`usable_cpus`, not the machine's count: a report run under `taskset -c 0` must not start a second
    reading process to share the one core it has."""
    paths = [str(p) for p in _runs(tmp_path)]
    runs = {}
    for name, cpus in (("one", [0]), ("two", sorted(os.sched_getaffinity(0))[:2])):
        proc = subprocess.run([sys.executable, "-c", PINNED_CLI, json.dumps([paths, cpus, str(tmp_path / name)])],
                              capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        runs[name] = json.loads(proc.stdout.splitlines()[-1])
    assert runs["one"] == {"code": 0, "forked": []}
    assert runs["two"] == {"code": 0, "forked": [True]}
