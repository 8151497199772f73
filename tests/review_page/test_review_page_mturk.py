"""The review page's actions against MTurk (botocore's Stubber at the API edge, a real sandbox run before it):
reject, approve in bulk, bonus and block from the page make exactly these calls, with these parameters, once,
however often the page repeats a request."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.stub import ANY

from humaneval.crowd.data_dir import open_database
from humaneval.crowd.mturk import AwsKeys, register_requester
from humaneval.web.addresses import free_port
from tests.crowd import test_mturk_stubbed
from tests.crowd.test_mturk_stubbed import KEY_ID, REQUESTER, SECRET, make_edge, three_mturk_sandbox_units
from tests.review_page.conftest import start_review_server

pytestmark = pytest.mark.integration

aws_sandbox = test_mturk_stubbed.aws_sandbox  # the fixture: dummy AWS credentials, nothing reaches ~/.aws
PROVIDER = "mturk_sandbox"
REJECTION = "The answer is empty."
BONUS_REASON = "Thank you for two careful answers"


def test_page_actions_make_exactly_the_mturk_calls_once(aws_sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = aws_sandbox / "mephisto"
    register_requester(open_database(data_dir), PROVIDER, REQUESTER, AwsKeys(KEY_ID, SECRET))
    edge = make_edge(monkeypatch, PROVIDER)
    unit_of, polls_during_run = three_mturk_sandbox_units(data_dir, edge, free_port())
    edge.calls.clear()
    edge.expected.clear()
    edge.expect("RejectAssignment", {"AssignmentId": "ASSIGN2", "RequesterFeedback": REJECTION}, {})
    edge.expect("ApproveAssignment", {"AssignmentId": "ASSIGN1", "OverrideRejection": True}, {})
    edge.expect("ApproveAssignment", {"AssignmentId": "ASSIGN3", "OverrideRejection": True}, {})
    # the bonus goes with the worker's newest approved assignment, under the ledger's request token
    edge.expect("SendBonus", {"WorkerId": "W1", "BonusAmount": "0.50", "AssignmentId": "ASSIGN3",
                              "Reason": BONUS_REASON, "UniqueRequestToken": ANY}, {})
    edge.expect("CreateWorkerBlock", {"WorkerId": "W2", "Reason": "copied answers"}, {})

    server = start_review_server(data_dir, "humaneval-smoke")
    try:
        requests_sent = [
            {"request": "page-reject-0001", "action": "reject", "workers": ["W2_sandbox"], "reason": REJECTION},
            {"request": "page-approve-0001", "action": "approve", "workers": ["W1_sandbox"]},
            {"request": "page-bonus-00001", "action": "bonus", "workers": ["W1_sandbox"], "amount": "0.50",
             "reason": BONUS_REASON},
            {"request": "page-block-00001", "action": "block", "workers": ["W2_sandbox"], "reason": "copied answers"},
        ]
        for body in requests_sent:
            answer = server.post("/api/actions", body)
            assert answer.status_code == 200, answer.text
            assert answer.json()["repeat"] is False and all(line["ok"] for line in answer.json()["lines"]), answer.json()
        for body in requests_sent:  # every request again, as a browser retry would send it: nothing more
            assert server.post("/api/actions", body).json()["repeat"] is True
        # the same bonus from a second dialog (a new request id): the ledger knows it is paid
        again = server.post("/api/actions", {**requests_sent[2], "request": "page-bonus-00002"}).json()
        assert again["repeat"] is False and again["lines"][0]["detail"].startswith("already paid: 0.50 to W1_sandbox")
        # no smoke-task flags: the page says why rather than showing nobody flagged
        study = server.get("/api/study").json()
        assert study["flags_note"] == "no analysis flags for records of task raw"
    finally:
        server.running.stop()

    edge.assert_all_calls_made()
    assert len(edge.polls) == polls_during_run  # reviewing never polls HITs
    lines = server.audit.lines()
    assert [(line.action, line.target.split(" (")[0]) for line in lines] == [
        ("reject", f"unit {unit_of['ASSIGN2']}"), ("approve", f"unit {unit_of['ASSIGN1']}"),
        ("approve", f"unit {unit_of['ASSIGN3']}"), ("bonus", "worker W1_sandbox"), ("block", "worker W2_sandbox"),
        ("bonus", "worker W1_sandbox")]
    assert "MTurk assignment ASSIGN3" in lines[2].detail and "blocked on MTurk" in lines[4].detail
    db = open_database(data_dir)
    assert {a: db.get_unit(u)["status"] for a, u in unit_of.items()} == {
        "ASSIGN1": "accepted", "ASSIGN2": "rejected", "ASSIGN3": "accepted"}
