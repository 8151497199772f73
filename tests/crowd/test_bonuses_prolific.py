"""Prolific bonuses against the fake Prolific API (tests/prolific_fake.py), through the real CLI in a subprocess
that is SIGKILLed mid-payment: a bonus is paid exactly once whatever moment the crash hits.

* killed while Prolific holds the answer to the pay call (the money has moved): the rerun does not pay again;
  it finds the payment in the submission's `bonus_payments` and records it paid;
* the pay call answered 503 (nothing moved, but we cannot know that): the row stays unconfirmed, reruns never
  pay blindly, `--confirm KEY unpaid` lets the next run pay the recorded bulk, once;
* killed while the bulk is being set up (its id never recorded): the rerun sets up a new bulk and pays that
  one; the orphan draft is never paid.
"""

from __future__ import annotations

import copy
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from humaneval.crowd.bonus_ledger import CREATED, LEDGER_FILE, PAID, PAYING, REQUESTED, BonusLedger, BonusRow
from humaneval.crowd.bonuses import manual_key
from humaneval.crowd.data_dir import open_database
from humaneval.crowd.launcher import LaunchSettings, LocalLaunch
from humaneval.crowd.prolific.credentials import ProlificToken, register_requester
from humaneval.crowd.prolific.records import study_of_run
from humaneval.crowd.review import TaskReview
from humaneval.crowd.smoke_task import build_task
from tests.crowd.conftest import completed_units, wait_for
from tests.crowd.test_review import as_worker
from tests.crowd.prolific_support import TOKEN, prolific_overrides, prolific_participant
from tests.prolific_fake import FakeProlific

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
TASK = "humaneval-smoke"
REASON = "Thank you for an answer we could use"
PAY = r"/bulk-bonus-payments/[^/]+/pay/"
CREATE = r"/submissions/bonus-payments/"


# What the fake Prolific holds of an account, a study and its submissions (no bonus yet) once a run is reviewed.
PROLIFIC_TABLES = ("workspaces", "projects", "groups", "studies", "submissions")


@dataclass(frozen=True)
class ApprovedRun:
    """A finished Prolific smoke run whose one submitted unit, participant pidA's, is approved."""

    data_dir: Path
    submission: str  # pidA's submission on Prolific
    prolific_tables: dict[str, dict[str, dict]]  # what the fake Prolific held then, by PROLIFIC_TABLES


@pytest.fixture(scope="module")
def approved_once(tmp_path_factory: pytest.TempPathFactory) -> ApprovedRun:
    """The run is launched and reviewed once for the module (about 5 s); every test pays on its own copy."""
    base = tmp_path_factory.mktemp("approved")
    with pytest.MonkeyPatch.context() as patch, FakeProlific(token=TOKEN) as prolific:
        patch.setenv("HUMANEVAL_PROLIFIC_CREDENTIALS", str(base / "prolific_credentials"))
        register_requester(open_database(base / "mephisto"), "lab", ProlificToken(TOKEN, prolific.api_url))
        cfg, state = build_task(prolific_overrides(base, prolific))
        with LocalLaunch(cfg, state, LaunchSettings(data_dir=base / "mephisto")) as run:
            study = study_of_run(run.db, run.run_id)
            assert study is not None
            assert run.wait_until(lambda: prolific.studies[study.study_id]["status"] == "ACTIVE", timeout=30)
            session, worker = prolific_participant(run, prolific, study.study_id, "pidA")
            agent = as_worker(run, lambda: worker.request_agent(assignment_id=session))
            assert agent.agent_id is not None, agent.failure_reason
            as_worker(run, lambda: worker.submit_task(agent.agent_id, {"answer": "Lisbon"}))
            prolific.participant_completes(session, study.completion_code)
            assert run.wait_until(lambda: completed_units(run) == 1, timeout=60)
        review = TaskReview(open_database(base / "mephisto"), TASK)
        [done] = review.approve(review.select(workers=["pidA"]))
        assert done.ok, done.describe()
        assert wait_for(lambda: not [t for t in threading.enumerate() if t.name.startswith("prolific-watch-")], 10)
        return ApprovedRun(base / "mephisto", session, {t: copy.deepcopy(getattr(prolific, t)) for t in PROLIFIC_TABLES})


@pytest.fixture()
def approved(approved_once: ApprovedRun, tmp_path: Path, prolific: FakeProlific) -> tuple[Path, str]:
    """This test's own copy of the approved run: its data dir, and this test's fake Prolific (token file in
    tmp_path) holding its study and submissions, no call recorded yet: the data dir and pidA's submission."""
    data_dir = Path(shutil.copytree(approved_once.data_dir, tmp_path / "approved"))
    for table, rows in approved_once.prolific_tables.items():
        getattr(prolific, table).update(copy.deepcopy(rows))
    return data_dir, approved_once.submission


def bonus_cli(data_dir: Path, *more: str) -> list[str]:
    return [sys.executable, "-m", "humaneval.crowd", "review", "bonus", "--task-name", TASK, "--data-dir", str(data_dir),
            *more]


PID_A = ("--worker", "pidA", "--amount", "1.50", "--reason", REASON)
KEY = manual_key(TASK, "pidA", Decimal("1.50"), REASON)


def run_cli(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120, env=os.environ.copy())


def killed_while_held(prolific: FakeProlific, argv: list[str], method_path: tuple[str, str]) -> None:
    """Run the CLI, SIGKILL it while the fake holds the reply to `method_path` (its effect applied), release."""
    method, path = method_path
    prolific.hold_after(method, path)
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ.copy())
    try:
        assert wait_for(lambda: bool(prolific.calls_to(method, path)) or proc.poll() is not None, timeout=60)
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)  # the CLI is blocked in the held request
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        prolific.release()


def ledger_row(data_dir: Path) -> BonusRow:
    row = BonusLedger(data_dir / LEDGER_FILE).get(KEY)
    assert row is not None
    return row


def test_killed_while_prolific_pays_the_rerun_finds_the_payment_and_never_pays_twice(
    approved: tuple[Path, str], prolific: FakeProlific
) -> None:
    data_dir, submission = approved
    killed_while_held(prolific, bonus_cli(data_dir, *PID_A), ("POST", PAY))
    assert prolific.paid_bonuses("pidA") == ["1.50"]  # Prolific paid before the kill
    crashed = ledger_row(data_dir)
    assert crashed.state == PAYING and crashed.bulk_id in prolific.bonuses

    again = run_cli(bonus_cli(data_dir, *PID_A))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already paid: 1.50 to pidA" in again.stdout and f"Prolific lists it on submission {submission}" in again.stdout
    assert prolific.paid_bonuses("pidA") == ["1.50"]
    assert len(prolific.calls_to("POST", PAY)) == 1 and len(prolific.calls_to("POST", CREATE)) == 1
    assert prolific.calls_to("POST", CREATE)[0].body == {"study_id": prolific.submissions[submission]["study_id"],
                                                     "csv_bonuses": "pidA,1.50\n"}
    assert ledger_row(data_dir).state == PAID


def test_an_unanswered_pay_stays_unconfirmed_until_a_person_says_unpaid_then_the_same_bulk_is_paid_once(
    approved: tuple[Path, str], prolific: FakeProlific
) -> None:
    data_dir, _ = approved
    prolific.fail_next("POST", PAY, 503)  # no effect, but the CLI cannot know that
    first = run_cli(bonus_cli(data_dir, *PID_A))
    assert first.returncode == 1 and "unconfirmed: 1.50 to pidA" in first.stdout, first.stdout + first.stderr
    assert "check the study's bonus page on Prolific" in first.stdout
    bulk = ledger_row(data_dir).bulk_id
    rerun = run_cli(bonus_cli(data_dir, *PID_A))
    assert rerun.returncode == 1 and "unconfirmed" in rerun.stdout
    assert len(prolific.calls_to("POST", PAY)) == 1 and prolific.paid_bonuses("pidA") == []  # never paid blindly

    confirmed = run_cli(bonus_cli(data_dir, "--confirm", KEY, "unpaid"))
    assert confirmed.returncode == 0 and "back to created" in confirmed.stdout, confirmed.stdout + confirmed.stderr
    assert ledger_row(data_dir).state == CREATED
    paid = run_cli(bonus_cli(data_dir, *PID_A))
    assert paid.returncode == 0 and "paid: 1.50 to pidA" in paid.stdout, paid.stdout + paid.stderr
    assert prolific.paid_bonuses("pidA") == ["1.50"]
    assert [c.path for c in prolific.calls_to("POST", PAY)] == [f"/bulk-bonus-payments/{bulk}/pay/"] * 2
    assert len(prolific.calls_to("POST", CREATE)) == 1 and ledger_row(data_dir).state == PAID
    wrong = run_cli(bonus_cli(data_dir, "--confirm", KEY, "paid"))
    assert wrong.returncode == 2 and "not awaiting confirmation" in wrong.stderr


def test_killed_while_the_bulk_is_set_up_the_rerun_pays_a_new_bulk_once(
    approved: tuple[Path, str], prolific: FakeProlific
) -> None:
    data_dir, _ = approved
    killed_while_held(prolific, bonus_cli(data_dir, *PID_A), ("POST", CREATE))
    assert ledger_row(data_dir).state == REQUESTED and len(prolific.bonuses) == 1  # a draft Prolific holds, unpaid
    again = run_cli(bonus_cli(data_dir, *PID_A))
    assert again.returncode == 0 and "paid: 1.50 to pidA" in again.stdout, again.stdout + again.stderr
    assert prolific.paid_bonuses("pidA") == ["1.50"]
    assert sorted(b["times_paid"] for b in prolific.bonuses.values()) == [0, 1]
    assert ledger_row(data_dir).bulk_id == next(i for i, b in prolific.bonuses.items() if b["times_paid"] == 1)


def test_two_clis_paying_the_same_bonus_at_once_pay_it_once(
    approved: tuple[Path, str], prolific: FakeProlific
) -> None:
    data_dir, _ = approved
    prolific.hold_after("POST", PAY)  # the first CLI is inside the pay call while the second starts
    first = subprocess.Popen(bonus_cli(data_dir, *PID_A), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=os.environ.copy())
    try:
        assert wait_for(lambda: bool(prolific.calls_to("POST", PAY)) or first.poll() is not None, timeout=60)
        second = run_cli(bonus_cli(data_dir, *PID_A))
    finally:
        prolific.release()
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0 and "paid: 1.50 to pidA" in out, out + err
    assert second.returncode == 0 and "already paid: 1.50 to pidA" in second.stdout, second.stdout + second.stderr
    assert prolific.paid_bonuses("pidA") == ["1.50"] and len(prolific.calls_to("POST", PAY)) == 1
    assert len(prolific.calls_to("POST", CREATE)) == 1 and ledger_row(data_dir).state == PAID
