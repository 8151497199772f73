"""`review list` shows the page's worker table in the terminal; `review serve` starts as a user starts it,
prints the address with its token, answers only with that token, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from humaneval.crowd.cli_review import main as review_main
from tests.review_page.support import TASK

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def test_list_shows_each_workers_counts_time_and_flags_with_reasons(study_dir: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert review_main(["--task-name", TASK, "--data-dir", str(study_dir)]) == 0  # no verb: list
    out = capsys.readouterr().out
    assert "3 unit(s)" in out
    table = out[out.index("\nworker "):]
    assert re.search(r"^worker\s+units\s+awaiting\s+approved\s+rejected\s+median\s+flags$", table, re.M), table
    assert re.search(r"^careful_a_sandbox\s+1\s+1\s+0\s+0\s+80 s\s+—$", table, re.M), table
    assert re.search(r"^spammer_sandbox\s+1\s+1\s+0\s+0\s+2 s\s+too fast$", table, re.M), table
    assert "    too fast: median 1.0 s per comparison, below 10 s" in table
    assert "onboarding" not in table.splitlines()[1]  # nobody was onboarded: no column of "not reported"


def test_serve_prints_its_address_with_the_token_and_stops_on_ctrl_c(study_dir: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("HUMANEVAL_REVIEW_TOKEN", None)
    server = subprocess.Popen([sys.executable, "-m", "humaneval.crowd", "review", "serve", "--task-name", TASK,
                               "--data-dir", str(study_dir), "--reviewer", "dana"],
                              cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        assert server.stdout is not None
        for line in server.stdout:
            lines.append(line)
            if line.startswith("reviewer:"):
                break
        printed = "".join(lines)
        address = re.search(r"review page for 'acute-review': (http://127\.0\.0\.1:\d+)/#token=(\S+)", printed)
        assert address, printed
        assert "3 worker(s), 3 unit(s); 1 flagged by the analysis" in printed
        url, token = address.groups()
        assert requests.get(url + "/api/study", timeout=10).status_code == 401
        study = requests.get(url + "/api/study", timeout=10, headers={"Authorization": f"Bearer {token}"}).json()
        assert study["reviewer"] == "dana" and len(study["workers"]) == 3
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == 0, err
    assert "shutting down" in out and "Traceback" not in err


def test_approve_in_a_fresh_process_reads_the_studys_units(study_dir: Path) -> None:
    """The CLI on its own (no study imported before it, unlike in this test process): approving reads each unit's
    data through the ACUTE blueprint, which the entry point registers."""
    common = ["--task-name", TASK, "--data-dir", str(study_dir)]
    done = subprocess.run([sys.executable, "-m", "humaneval.crowd", "review", "approve", *common,
                           "--worker", "careful_a_sandbox"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "approved unit 1 (worker careful_a_sandbox, mock): unit now accepted" in done.stdout


def test_serve_refuses_a_weak_token_of_the_users_own(study_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HUMANEVAL_REVIEW_TOKEN", "letmein")
    with pytest.raises(SystemExit) as exit_info:
        review_main(["serve", "--task-name", TASK, "--data-dir", str(study_dir)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "HUMANEVAL_REVIEW_TOKEN" in err and "at least 16" in err and "letmein" not in err
