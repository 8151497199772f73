"""The review page's API as an attacker and a hurried reviewer meet it: token, Host, body type and size,
security headers, field-by-field refusals that change nothing, previews that change nothing, and actions that
happen once however they are repeated (the same request id at once from many connections, a second dialog's
bonus)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import requests

from humaneval.crowd.bonus_ledger import LEDGER_FILE, BonusLedger
from humaneval.crowd.data_dir import open_database
from humaneval.crowd.review import TaskReview
from humaneval.review_page.app import MAX_REQUEST_BYTES
from tests.review_page.conftest import TOKEN, ReviewServer
from tests.review_page.support import CAREFUL, SPAMMER, TASK

pytestmark = pytest.mark.integration

A, B, S = (f"{n}_sandbox" for n in (*CAREFUL, SPAMMER))


def agent_statuses(server: ReviewServer) -> dict[str, str]:
    return {u.worker_name: u.agent_status for u in TaskReview(open_database(server.data_dir), TASK).units(True)}


def test_study_lists_every_worker_with_units_times_and_the_analysis_flags(review_server: ReviewServer) -> None:
    study = review_server.get("/api/study").json()
    rows = {w["name"]: w for w in study["workers"]}
    assert set(rows) == {A, B, S}
    assert rows[S]["flags"] == ["too fast"] and rows[S]["reasons"] == ["too fast: median 1.0 s per comparison, below 10 s"]
    assert rows[A]["flags"] == rows[B]["flags"] == []
    # unit time by the page's clock: two comparisons of 40 s (A), 35 s (B), 1 s (the spammer)
    assert (rows[A]["median_seconds"], rows[B]["median_seconds"], rows[S]["median_seconds"]) == pytest.approx((80, 70, 2))
    assert all(w["awaiting"] == 1 and w["approved"] == w["rejected"] == 0 for w in rows.values())
    assert rows[A]["units"][0]["reward"] == 0.75 and rows[A]["units"][0]["currency"] == "USD"
    assert study["flags_note"] == "" and "too fast" in study["flags_rule"]
    work = review_server.get("/api/work", params={"worker": S}).json()["units"]
    assert [b["kind"] for b in work[0]["blocks"]][:3] == ["heading", "conversation", "conversation"]
    assert review_server.get("/api/work", params={"worker": "nobody"}).status_code == 404


@pytest.mark.parametrize("headers, status", [
    ({}, 401),
    ({"Authorization": "Bearer wrong"}, 401),
    ({"Authorization": f"Basic {TOKEN}"}, 401),
    ({"Authorization": f"Bearer {TOKEN}", "Host": "evil.example:80"}, 421),  # DNS rebinding
])
def test_the_api_needs_the_token_and_this_servers_own_name(review_server: ReviewServer, headers: dict[str, str],
                                                           status: int) -> None:
    answer = requests.post(review_server.url + "/api/actions", timeout=10, headers=headers,
                           json={"request": "attack-000001", "action": "approve", "workers": [A, B, S]})
    assert answer.status_code == status
    assert review_server.audit.lines() == [] and set(agent_statuses(review_server).values()) == {"completed"}


def test_a_cross_site_form_or_text_post_is_refused(review_server: ReviewServer) -> None:
    for content_type, data in [("application/x-www-form-urlencoded", "action=approve"),
                               ("text/plain", '{"request": "attack-000002", "action": "approve", "workers": ["x"]}')]:
        answer = review_server.post("/api/actions", None, data=data, headers={"Content-Type": content_type})
        assert answer.status_code == 400 and "application/json" in answer.json()["error"]
    assert review_server.audit.lines() == []


def test_pages_and_answers_carry_the_security_headers(review_server: ReviewServer) -> None:
    for path in ("/", "/review.js", "/review.css", "/api/study"):
        answer = review_server.get(path)
        assert answer.status_code == 200
        policy = answer.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert review_server.get("/static/../app.py").status_code == 404
    assert "innerHTML" not in review_server.get("/review.js").text


def test_an_oversized_body_is_413_and_changes_nothing(review_server: ReviewServer) -> None:
    body = {"request": "big-00000001", "action": "approve", "workers": ["w" * MAX_REQUEST_BYTES]}
    assert review_server.post("/api/actions", body).status_code == 413
    assert review_server.audit.lines() == []


@pytest.mark.parametrize("body, field", [
    ({"action": "approve", "workers": [A]}, "request"),
    ({"request": "short", "action": "approve", "workers": [A]}, "request"),
    ({"request": "req-00000001", "action": "pay-everyone", "workers": [A]}, "action"),
    ({"request": "req-00000001", "action": "approve", "workers": []}, "workers"),
    ({"request": "req-00000001", "action": "approve", "workers": [A, 7]}, "workers"),
    ({"request": "req-00000001", "action": "approve", "workers": ["nobody"]}, "workers"),
    ({"request": "req-00000001", "action": "reject", "workers": [S], "reason": "  "}, "reason"),
    ({"request": "req-00000001", "action": "bonus", "workers": [A], "reason": "thanks", "amount": "500"}, "amount"),
    ({"request": "req-00000001", "action": "bonus", "workers": [A], "reason": "thanks", "amount": "0.505"}, "amount"),
    ({"request": "req-00000001", "action": "bonus", "workers": [A], "reason": "thanks", "amount": "0.50"}, "workers"),
    ({"request": "req-00000001", "action": "bonus", "workers": [A], "reason": "thanks", "amount": "\u0663"}, "amount"),
    ({"request": "req-00000001", "action": "approve", "workers": [A], "extra": 1}, "extra"),
])
def test_bad_requests_name_the_field_and_change_nothing(review_server: ReviewServer, body: dict, field: str) -> None:
    answer = review_server.post("/api/actions", body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == field, answer.json()
    assert review_server.audit.lines() == [] and set(agent_statuses(review_server).values()) == {"completed"}


def test_a_preview_says_what_is_paid_and_does_nothing(review_server: ReviewServer) -> None:
    preview = review_server.post("/api/preview", {"action": "approve", "workers": [A, B]}).json()
    assert preview["pays"] == "1.50 USD"
    assert preview["lines"] == ["approve unit 1 of careful_a_sandbox: pays 0.75 USD",
                                "approve unit 2 of careful_b_sandbox: pays 0.75 USD"]
    assert review_server.audit.lines() == [] and set(agent_statuses(review_server).values()) == {"completed"}


def test_one_request_sent_at_once_over_many_connections_acts_once(review_server: ReviewServer) -> None:
    body = {"request": "burst-0000001", "action": "approve", "workers": [A, B]}
    answers: list[dict] = []
    threads = [threading.Thread(target=lambda: answers.append(review_server.post("/api/actions", body).json()))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(a["repeat"] for a in answers) == [False] + [True] * 7
    assert [line.action for line in review_server.audit.lines()] == ["approve", "approve"]
    assert agent_statuses(review_server) == {A: "approved", B: "approved", S: "completed"}


def test_a_bonus_goes_once_through_the_ledger_and_only_with_approved_work(review_server: ReviewServer) -> None:
    bonus = {"action": "bonus", "workers": [A], "amount": "0.40", "reason": "careful reasons"}
    refused = review_server.post("/api/actions", {**bonus, "request": "bonus-0000001"})
    assert refused.status_code == 400 and "no approved unit" in refused.json()["error"]
    review_server.post("/api/actions", {"request": "approve-00001", "action": "approve", "workers": [A]})
    first = review_server.post("/api/actions", {**bonus, "request": "bonus-0000002"}).json()
    second = review_server.post("/api/actions", {**bonus, "request": "bonus-0000003"}).json()  # a second dialog
    assert first["lines"][0]["detail"].startswith("paid: 0.40 to careful_a_sandbox")
    assert second["lines"][0]["detail"].startswith("already paid: 0.40 to careful_a_sandbox")
    rows = BonusLedger(review_server.data_dir / LEDGER_FILE).rows(TASK)
    assert [(r.worker, r.amount, r.state) for r in rows] == [(A, Decimal("0.40"), "paid")]


def test_soft_block_and_block_through_the_page(review_server: ReviewServer) -> None:
    soft = review_server.post("/api/actions", {"request": "soft-0000001", "action": "soft-block", "workers": [S]}).json()
    assert soft["lines"][0]["ok"] and f"'{TASK}_soft_block' granted" in soft["lines"][0]["detail"]
    block = review_server.post("/api/actions", {"request": "block-000001", "action": "block", "workers": [S],
                                                "reason": "spam"}).json()
    assert block["lines"][0]["ok"] and "blocked in the mock provider" in block["lines"][0]["detail"]
    db = open_database(review_server.data_dir)
    worker = db.find_workers(worker_name=S)[0]
    assert worker.get_granted_qualification(f"{TASK}_soft_block") is not None
    assert [line.action for line in review_server.audit.lines()] == ["soft-block", "block"]


def test_a_repeated_bonus_is_previewed_and_logged_as_already_paid_and_earlier_ones_are_named(
        review_server: ReviewServer) -> None:
    review_server.post("/api/actions", {"request": "approve-00002", "action": "approve", "workers": [A]})
    bonus = {"action": "bonus", "workers": [A], "amount": "1.00", "reason": "thanks"}
    review_server.post("/api/actions", {**bonus, "request": "bonus-0000010"})
    again = review_server.post("/api/preview", bonus).json()
    assert again["pays"] == "nothing" and again["lines"][0].startswith(f"bonus to {A}: already paid (1.00 USD")
    retyped = review_server.post("/api/preview", {**bonus, "reason": "Thanks"}).json()  # a new bonus: said so
    assert retyped["pays"] == "1.00 USD" and retyped["lines"][1] == f"note: {A} already has 1 other bonus(es): 1.00 USD 'thanks' (paid)"
    review_server.post("/api/actions", {**bonus, "request": "bonus-0000011"})
    bonus_lines = [line for line in review_server.audit.lines() if line.action == "bonus"]
    assert [(line.ok, line.skipped) for line in bonus_lines] == [(True, False), (True, True)]  # one payment, one skip
    worker = next(w for w in review_server.get("/api/study").json()["workers"] if w["name"] == A)
    assert worker["bonuses"] == [{"amount": "1.00", "reason": "thanks", "state": "paid"}]


def test_a_request_id_used_for_another_action_is_refused(review_server: ReviewServer) -> None:
    review_server.post("/api/actions", {"request": "reused-00001", "action": "approve", "workers": [A]})
    other = review_server.post("/api/actions", {"request": "reused-00001", "action": "reject", "workers": [S],
                                                "reason": "spam"})
    assert other.status_code == 400 and other.json()["field"] == "request"
    assert agent_statuses(review_server)[S] == "completed"


def test_checks_too_thin_to_run_are_named_not_shown_as_passed(review_server: ReviewServer) -> None:
    rows = {w["name"]: w for w in review_server.get("/api/study").json()["workers"]}
    # one judgement per pair: nobody shares a pair, so agreement was never tested for anybody
    assert all(any(u.startswith("agreement not tested: 0 judgements") for u in w["untested"]) for w in rows.values())


def test_a_bonus_from_the_cli_is_in_the_same_audit_log(review_server: ReviewServer) -> None:
    from humaneval.crowd.cli_review import main as review_main

    review_server.post("/api/actions", {"request": "approve-00003", "action": "approve", "workers": [B]})
    argv = ["bonus", "--task-name", TASK, "--data-dir", str(review_server.data_dir), "--worker", B, "--amount", "0.30",
            "--reason", "clear reasons"]
    assert review_main(argv) == 0 and review_main(argv) == 0  # the second finds it paid
    lines = review_server.audit.lines()
    assert [(x.action, x.via, x.skipped) for x in lines] == [
        ("approve", "page", False), ("bonus", "cli", False), ("bonus", "cli", True)]
    assert "paid: 0.30 to careful_b_sandbox" in lines[1].detail
