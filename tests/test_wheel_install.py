"""humaneval as a library: the wheel of a clean checkout (tests/built_wheel.py; the checkout is deleted once the
wheel is built) installed with `[crowd,analysis]` into a fresh venv outside the repository, Mephisto beside it
(`--no-deps`, as scripts/setup.sh does) and its node router prepared by `humaneval crowd prepare-router`. From an
empty folder: `humaneval init acute study/`, `humaneval launch acute --config-dir study/` with simulated workers
(our SimulatedWorker over real HTTP) to the end of the run, `humaneval crowd export` and `humaneval analysis
acute` — and this repository's files untouched."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests

from humaneval.crowd.simulated_worker import SimulatedWorker
from tests.acute.test_acute_integration import onboarding_answers, unit_answers
from tests.built_wheel import REPO, fresh_venv

pytestmark = [pytest.mark.slow, pytest.mark.integration]

PAGE = re.compile(r"(http://localhost:\d+)/\?worker_id=")


def _git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", "."],
                          cwd=REPO, capture_output=True, text=True, check=True).stdout


def _run(venv: Path, cwd: Path, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(venv / "bin" / "humaneval"), *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"humaneval {' '.join(argv)}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def _work_until_done(base_url: str, launcher: subprocess.Popen[str]) -> int:
    """Simulated workers pass the practice and take units until the run ends; the units they submitted."""
    submitted = 0
    for n in range(1, 20):
        if launcher.poll() is not None:
            break
        worker = SimulatedWorker(base_url, f"sim{n}")
        try:
            session = worker.request_agent()
        except requests.ConnectionError:
            # the run ended on its own (every unit done) while this worker's request was on its way: the router
            # closed the connection as it stopped. Only that: the caller then waits for the launcher to exit 0
            # with all 5 units submitted, so a router dropping a request mid-run still fails the test
            break
        if session.agent_id is not None and session.is_onboarding:
            session = worker.submit_onboarding(session.agent_id, onboarding_answers(session, correct=True))
        while session.agent_id is not None and not session.is_onboarding:
            worker.submit_task(session.agent_id, unit_answers(session))
            submitted += 1
            time.sleep(0.3)
            session = worker.request_agent()
    return submitted


def test_a_wheel_runs_a_study_from_an_empty_folder(clean_wheel: Path, tmp_path: Path) -> None:
    repo_before = _git_status()
    venv = fresh_venv(tmp_path, clean_wheel, "crowd,analysis")
    python = venv / "bin" / "python"
    mephisto = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                               "mephisto==1.1.1"], capture_output=True, text=True, timeout=600)
    assert mephisto.returncode == 0, mephisto.stderr[-2000:]
    work = tmp_path / "empty"
    work.mkdir()
    _run(venv, work, "crowd", "prepare-router", timeout=600)
    where = subprocess.run([str(python), "-c", "import humaneval.shipped_files as s; print(s.TASK_CONFIG_DIR, s.PAGES_DIR)"],
                           cwd=work, capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(p).is_relative_to(venv) for p in where), where  # the installed copies, not a checkout's

    _run(venv, work, "init", "acute", "study")
    assert sorted(p.name for p in (work / "study").iterdir()) == ["humaneval.yaml", "onboarding.jsonl", "pairings.jsonl"]
    errors = tmp_path / "launch_stderr.txt"
    with errors.open("w") as stderr:
        launcher = subprocess.Popen([str(venv / "bin" / "humaneval"), "launch", "acute", "--config-dir", "study"],
                                    cwd=work, stdout=subprocess.PIPE, stderr=stderr, text=True)
        try:
            base_url, lines = None, []
            while base_url is None:
                line = launcher.stdout.readline() if launcher.stdout else ""  # the pages, then the progress
                assert line, f"the launcher ended before printing its pages: {''.join(lines)}{errors.read_text()}"
                lines.append(line)
                match = PAGE.search(line)
                base_url = match.group(1) if match else None
            submitted = _work_until_done(base_url, launcher)
            out, _ = launcher.communicate(timeout=120)
        finally:
            if launcher.poll() is None:
                launcher.kill()
                launcher.communicate()
    console = "".join(lines) + out
    assert launcher.returncode == 0, console[-2000:] + errors.read_text()[-2000:]
    assert errors.read_text().startswith(f"study folder: {work / 'study'} (humaneval.yaml over humaneval's acute.yaml)")
    assert submitted == 5  # the bundled 24 pairs, one judgement each, 5 per unit
    assert f"record(s) exported to {work / 'study' / 'data' / 'exports' / 'study.jsonl'}" in console

    data = work / "study" / "data"  # the study's data_dir, relative to its folder
    _run(venv, work, "crowd", "export", "--task-name", "study", "--data-dir", str(data), "--out", "judgements.jsonl")
    records = [json.loads(line) for line in (work / "judgements.jsonl").read_text().splitlines()]
    assert sum(not r["is_onboarding"] for r in records) == 24
    _run(venv, work, "analysis", "acute", "--judgements", "judgements.jsonl", "--out", "report")
    summary = json.loads((work / "report" / "summary.json").read_text())
    assert summary and (work / "report" / "report.html").is_file()
    assert _git_status() == repo_before  # no file of the repository written, changed or left behind
