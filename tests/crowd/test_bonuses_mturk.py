"""MTurk bonuses at the API edge (botocore's Stubber, the fixtures of test_mturk_stubbed.py): `SendBonus` with
the ledger row's request token; a crash after MTurk answered but before the ledger heard is retried with
the SAME token, and MTurk's "already processed" answer is recorded as paid, so exactly one SendBonus
succeeds; a refused bonus is retried with a new token."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from botocore.stub import ANY

from humaneval.crowd.bonus_ledger import FAILED, LEDGER_FILE, PAID, PAYING, BonusLedger
from humaneval.crowd.bonuses import manual_key
from humaneval.crowd.cli_review import main as review_main
from humaneval.crowd.data_dir import open_database
from humaneval.crowd.mturk import AwsKeys, register_requester
from tests.crowd import test_mturk_stubbed
from tests.crowd.test_mturk_stubbed import KEY_ID, REQUESTER, SECRET, make_edge

aws_sandbox = test_mturk_stubbed.aws_sandbox  # the fixture: dummy AWS credentials, nothing reaches ~/.aws

PROVIDER = "mturk_sandbox"
TASK = "bonus-task"
TASK_TYPE = "static_react_task"
REASON = "Thank you for a careful answer"
DUPLICATE = 'The idempotency token "{token}" has already been processed. (1626172412406)'  # MTurk's words


def seed_units(data_dir: Path, units: list[tuple[str, str, str]]) -> list[str]:
    """Submitted units of one MTurk sandbox run, as a finished run leaves them in Mephisto's database and its
    MTurk datastore: one per (Mephisto worker name, agent status, MTurk assignment id), oldest first, each
    on its own HIT. Returns their unit ids."""
    db = open_database(data_dir)
    requester_id = register_requester(db, PROVIDER, REQUESTER, AwsKeys(KEY_ID, SECRET)).requester_id
    task_id = db.new_task(TASK, TASK_TYPE)
    run_id = db.new_task_run(task_id, requester_id, json.dumps("{}"), PROVIDER, TASK_TYPE, True)
    datastore = db.get_datastore_for_provider(PROVIDER)
    workers: dict[str, str] = {}
    unit_ids = []
    for n, (worker, status, assignment) in enumerate(units, start=1):
        if worker not in workers:
            workers[worker] = db.new_worker(worker, PROVIDER)
        assignment_id = db.new_assignment(task_id, run_id, requester_id, TASK_TYPE, PROVIDER, True)
        unit_id = db.new_unit(task_id, run_id, requester_id, assignment_id, 0, 0.05, PROVIDER, TASK_TYPE, True)
        agent_id = db.new_agent(workers[worker], unit_id, task_id, run_id, assignment_id, TASK_TYPE, PROVIDER)
        db.update_unit(unit_id, agent_id=agent_id, status="completed")
        db.update_agent(agent_id, status=status)
        datastore.new_hit(f"HIT{n}", "https://example.invalid/hit", 600, run_id)
        datastore.register_assignment_to_hit(f"HIT{n}", unit_id, assignment)
        unit_ids.append(str(unit_id))
    return unit_ids


def seed_approved_unit(data_dir: Path) -> str:
    """One approved unit of MTurk worker W1 (Mephisto: W1_sandbox) on assignment ASSIGN1 of HIT1."""
    return seed_units(data_dir, [("W1_sandbox", "approved", "ASSIGN1")])[0]


def send_bonus(token: object = ANY) -> dict[str, object]:
    return {"WorkerId": "W1", "BonusAmount": "1.50", "AssignmentId": "ASSIGN1", "Reason": REASON,
            "UniqueRequestToken": token}


class Crash(BaseException):
    """The process dying between MTurk's answer and the ledger's `paid` (BaseException: nothing catches it)."""


def test_a_crash_after_mturk_paid_is_retried_with_the_same_token_and_recorded_paid_once(
    aws_sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = aws_sandbox / "mephisto"
    unit_id = seed_approved_unit(data_dir)
    edge = make_edge(monkeypatch, PROVIDER)
    argv = ["bonus", "--task-name", TASK, "--data-dir", str(data_dir), "--worker", "W1", "--amount", "1.50",
            "--reason", REASON]
    key = manual_key(TASK, "W1_sandbox", Decimal("1.50"), REASON)

    edge.expect("SendBonus", send_bonus(), {})  # MTurk grants it...
    real_move = BonusLedger.move

    def dies_before_recording_paid(self: BonusLedger, key: str, from_states: object, to_state: str, **kw: object):  # type: ignore[no-untyped-def]
        if to_state == PAID:
            raise Crash()
        return real_move(self, key, from_states, to_state, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(BonusLedger, "move", dies_before_recording_paid)
    with pytest.raises(Crash):
        review_main(argv)  # ...and the process dies before the ledger hears of it
    monkeypatch.setattr(BonusLedger, "move", real_move)
    row = BonusLedger(data_dir / LEDGER_FILE).get(key)
    assert row is not None and row.state == PAYING and row.unit_id == unit_id

    edge.expect_error("SendBonus", send_bonus(row.token), "RequestError", DUPLICATE.format(token=row.token))
    capsys.readouterr()
    assert review_main(argv) == 0
    assert f"already paid: 1.50 to W1_sandbox (unit {unit_id}, {PROVIDER})" in capsys.readouterr().out
    edge.assert_all_calls_made()
    assert [op for op, _ in edge.calls] == ["SendBonus", "SendBonus"]
    assert [params["UniqueRequestToken"] for _, params in edge.calls] == [row.token, row.token]
    assert BonusLedger(data_dir / LEDGER_FILE).get(key).state == PAID  # type: ignore[union-attr]

    assert review_main(argv) == 0  # a third run asks MTurk nothing
    assert len(edge.calls) == 2 and "already paid" in capsys.readouterr().out


def test_a_refused_bonus_is_recorded_failed_and_retried_with_a_new_token(
    aws_sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = aws_sandbox / "mephisto"
    seed_approved_unit(data_dir)
    edge = make_edge(monkeypatch, PROVIDER)
    argv = ["bonus", "--task-name", TASK, "--data-dir", str(data_dir), "--worker", "W1", "--amount", "1.50",
            "--reason", REASON]
    key = manual_key(TASK, "W1_sandbox", Decimal("1.50"), REASON)
    edge.expect_error("SendBonus", send_bonus(), "RequestError", "This Requester has insufficient funds in their account")
    assert review_main(argv) == 1
    assert "failed: 1.50 to W1_sandbox" in capsys.readouterr().out
    refused = BonusLedger(data_dir / LEDGER_FILE).get(key)
    assert refused is not None and refused.state == FAILED and "insufficient funds" in refused.detail

    edge.expect("SendBonus", send_bonus(), {})
    assert review_main(argv) == 0
    assert "paid: 1.50 to W1_sandbox" in capsys.readouterr().out
    edge.assert_all_calls_made()
    first, second = (params["UniqueRequestToken"] for _, params in edge.calls)
    assert first == refused.token and second != first
    assert BonusLedger(data_dir / LEDGER_FILE).get(key).state == PAID  # type: ignore[union-attr]


def test_a_payment_unanswered_for_a_day_is_not_resent_because_mturk_forgets_its_token(
    aws_sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = aws_sandbox / "mephisto"
    unit_id = seed_approved_unit(data_dir)
    edge = make_edge(monkeypatch, PROVIDER)
    argv = ["bonus", "--task-name", TASK, "--data-dir", str(data_dir), "--worker", "W1", "--amount", "1.50",
            "--reason", REASON]
    key = manual_key(TASK, "W1_sandbox", Decimal("1.50"), REASON)
    ledger = BonusLedger(data_dir / LEDGER_FILE)
    ledger.request(key=key, task_name=TASK, provider=PROVIDER, worker="W1_sandbox", unit_id=unit_id,
                   amount=Decimal("1.50"), reason=REASON)
    original = ledger.move(key, ("requested",), PAYING).token  # type: ignore[union-attr]
    with sqlite3.connect(data_dir / LEDGER_FILE) as conn:  # sent 23.5 hours ago, answer never recorded
        conn.execute("UPDATE bonuses SET updated_at = updated_at - ?", (23.5 * 3600,))
    assert review_main(argv) == 1
    out = capsys.readouterr().out
    assert "unconfirmed: 1.50 to W1_sandbox" in out and "MTurk forgets its request token" in out
    assert edge.calls == []  # nothing resent
    assert review_main(["bonus", "--task-name", TASK, "--data-dir", str(data_dir), "--confirm", key, "unpaid"]) == 0
    edge.expect("SendBonus", send_bonus(), {})
    assert review_main(argv) == 0
    edge.assert_all_calls_made()
    paid = ledger.get(key)
    assert paid is not None and paid.state == PAID
    assert edge.calls[0][1]["UniqueRequestToken"] == paid.token != original  # the forgotten token is not reused


@pytest.mark.parametrize("code, status", [("ServiceFault", 500), ("ServiceUnavailable", 503),
                                          ("ThrottlingException", 400)])
def test_an_error_that_does_not_say_refused_keeps_the_token_so_the_retry_cannot_pay_twice(
    aws_sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], code: str, status: int
) -> None:
    """A ServiceFault may come after MTurk granted the bonus: a new token on the rerun would pay it again.
    Only MTurk's RequestError (HTTP 4xx) says nothing was done (the test above)."""
    data_dir = aws_sandbox / "mephisto"
    seed_approved_unit(data_dir)
    edge = make_edge(monkeypatch, PROVIDER)
    argv = ["bonus", "--task-name", TASK, "--data-dir", str(data_dir), "--worker", "W1", "--amount", "1.50",
            "--reason", REASON]
    key = manual_key(TASK, "W1_sandbox", Decimal("1.50"), REASON)
    edge.stubber.add_client_error("send_bonus", service_error_code=code, service_message="internal error",
                                  http_status_code=status, expected_params=send_bonus())
    edge.expected.append(("SendBonus", send_bonus()))
    assert review_main(argv) == 1
    out = capsys.readouterr().out
    assert "unconfirmed: 1.50 to W1_sandbox" in out and f"{code} (HTTP {status})" in out
    sent = BonusLedger(data_dir / LEDGER_FILE).get(key)
    assert sent is not None and sent.state == PAYING

    edge.expect_error("SendBonus", send_bonus(sent.token), "RequestError", DUPLICATE.format(token=sent.token))
    assert review_main(argv) == 0  # MTurk had granted the first: it says so, and nothing is paid again
    assert "already paid: 1.50 to W1_sandbox" in capsys.readouterr().out
    edge.assert_all_calls_made()
    assert [params["UniqueRequestToken"] for _, params in edge.calls] == [sent.token, sent.token]
    assert BonusLedger(data_dir / LEDGER_FILE).get(key).state == PAID  # type: ignore[union-attr]


def test_a_bonus_by_hand_goes_only_with_an_approved_unit_of_exactly_that_worker(
    aws_sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """W1's newest unit is unreviewed: the bonus goes on the approved one. W2 was rejected: no bonus. `W4`
    named exactly has only an unreviewed unit; the approved `W4_sandbox` (another identity, e.g. a forged
    Prolific id) is not theirs."""
    data_dir = aws_sandbox / "mephisto"
    approved, unreviewed, rejected, _, _ = seed_units(data_dir, [
        ("W1_sandbox", "approved", "ASSIGN1"), ("W1_sandbox", "completed", "ASSIGN2"),
        ("W2_sandbox", "rejected", "ASSIGN3"), ("W4", "completed", "ASSIGN4"), ("W4_sandbox", "approved", "ASSIGN5")])
    edge = make_edge(monkeypatch, PROVIDER)
    bonus = ["bonus", "--task-name", TASK, "--data-dir", str(data_dir), "--amount", "1.50", "--reason", REASON]
    for more, field, why in ((["--worker", "W2"], "--worker", f"unit {rejected} rejected"),
                             (["--worker", "W4"], "--worker", "approve first"),
                             (["--worker", "W1", "--unit", unreviewed], "--unit", f"unit {unreviewed} completed"),
                             (["--worker", "W1", "--unit", rejected], "--unit", "not a submitted unit of worker 'W1'"),
                             (["--rules", "--unit", approved], "--unit", "go with --worker")):
        with pytest.raises(SystemExit) as exit_info:
            review_main(bonus[:5] + more if "--rules" in more else bonus + more)
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and field in err and why in err, (more, err)
    assert edge.calls == [] and not (data_dir / LEDGER_FILE).exists()  # nothing sent, nothing written

    edge.expect("SendBonus", send_bonus(), {})  # on ASSIGN1, the approved unit
    assert review_main(bonus + ["--worker", "W1"]) == 0
    assert f"paid: 1.50 to W1_sandbox (unit {approved}, {PROVIDER})" in capsys.readouterr().out
    edge.assert_all_calls_made()


def test_confirm_never_runs_as_a_dry_run_and_a_total_above_the_ceiling_records_and_sends_nothing(
    aws_sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = aws_sandbox / "mephisto"
    unit_id = seed_approved_unit(data_dir)
    edge = make_edge(monkeypatch, PROVIDER)
    common = ["bonus", "--task-name", TASK, "--data-dir", str(data_dir)]
    key = manual_key(TASK, "W1_sandbox", Decimal("1.50"), REASON)
    ledger = BonusLedger(data_dir / LEDGER_FILE)
    ledger.request(key=key, task_name=TASK, provider=PROVIDER, worker="W1_sandbox", unit_id=unit_id,
                   amount=Decimal("1.50"), reason=REASON)
    sent = ledger.move(key, ("requested",), PAYING)
    assert sent is not None

    def refused(argv: list[str]) -> tuple[str, str]:
        with pytest.raises(SystemExit) as exit_info:
            review_main(argv)
        assert exit_info.value.code == 2
        return capsys.readouterr()

    assert "--dry-run does not go with --confirm" in refused(common + ["--confirm", key, "unpaid", "--dry-run"])[1]
    assert ledger.rows(TASK) == [sent]  # still paying, same token: the dry run wrote nothing

    another = common + ["--worker", "W1", "--amount", "1.50", "--reason", "Another careful answer", "--max-total", "1.49"]
    assert "1 bonus(es) would pay 1.50 in all, above the total ceiling of 1.49" in refused(another)[1]
    out, err = refused(another + ["--dry-run"])  # the dry run lists the bonus, then says the real run is refused
    assert "would pay: 1.50 to W1_sandbox" in out and "above the total ceiling" in err
    assert ledger.rows(TASK) == [sent] and edge.calls == []
