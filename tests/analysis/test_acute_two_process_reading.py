"""A large ACUTE input is read in two processes (`_read_by_blocks` with `processes=2`, `humaneval.forked_work`):
the judgements are the ones one process reads, code for code, wherever the cut falls (inside a file, between
files, runs and integer ids across it); an error in the second half is still located; a second process that
dies costs its half's reading again, not the result. Each test also checks that a second process really read."""

from __future__ import annotations

import json
import logging
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


def test_two_processes_read_what_one_reads(tmp_path: Path, second_processes: list[Any]) -> None:
    paths = _runs(tmp_path)
    one = _summary(load_acute_judgements(paths, processes=1))
    assert not second_processes
    for cut_in in (paths, paths[:1], [paths[1], paths[0]]):
        two = load_acute_judgements(cut_in, processes=2)
        assert second_processes, "no second process read"
        assert _summary(two) == _summary(load_acute_judgements(cut_in, processes=1))
    assert _summary(load_acute_judgements(paths, processes=2)) == one


@pytest.mark.parametrize("half", ["first", "second"])
def test_an_error_in_either_half_is_located(tmp_path: Path, second_processes: list[Any], half: str) -> None:
    [path, _] = _runs(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    bad = 10 if half == "first" else len(lines) - 10  # well before or past the cut
    lines[bad] = json.dumps({**json.loads(lines[bad]), "winner": "nobody"})
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_acute_judgements([path], processes=2)
    assert (err.value.line, err.value.field) == (bad + 1, "winner")
    assert second_processes


def test_a_second_process_that_dies_costs_its_half_not_the_result(tmp_path: Path, second_processes: list[Any],
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    paths = _runs(tmp_path)
    one = _summary(load_acute_judgements(paths, processes=1))
    parent = os.getpid()
    real = records._part_result

    def dies_in_the_child(part: Any) -> Any:
        if os.getpid() != parent:
            os._exit(3)  # killed, as by the OOM killer, before sending anything
        return real(part)

    monkeypatch.setattr(records, "_part_result", dies_in_the_child)
    with caplog.at_level(logging.INFO, logger="analysis.acute.records"):
        assert _summary(load_acute_judgements(paths, processes=2)) == one
    assert second_processes and "second reading process failed" in caplog.text


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


def test_a_missing_file_is_named_as_with_one_process(tmp_path: Path, second_processes: list[Any]) -> None:
    paths = _runs(tmp_path)
    for processes in (1, 2):
        with pytest.raises(InputError, match="file not found") as err:
            load_acute_judgements([paths[0], tmp_path / "gone.jsonl", paths[1]], processes=processes)
        assert str(err.value.path) == str(tmp_path / "gone.jsonl")


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
