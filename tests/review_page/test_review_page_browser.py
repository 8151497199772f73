"""The review page in headless Chromium on a finished sandbox study (real Mephisto, mock provider): the
reviewer sees every worker, the spammer's flag with the analysis's reason, rejects the spammer (a double click
on Confirm), approves the rest in bulk; the database and the audit log show exactly that, a repeated request
changes nothing, and every worker's and reviewer's markup is shown as text."""

from __future__ import annotations

import json

import pytest
import requests
from playwright.sync_api import expect

from humaneval.crowd.data_dir import open_database
from humaneval.crowd.review import TaskReview
from tests.axe import axe_violations
from tests.review_page.conftest import TOKEN, ReviewServer
from tests.review_page.support import CAREFUL, SPAMMER, TASK, XSS, XSS_CHAT

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SANDBOXED = {name: f"{name}_sandbox" for name in (*CAREFUL, SPAMMER)}
REJECTION = "You chose the left side every time in about a second <i>without reading</i>."


def statuses(server: ReviewServer) -> dict[str, tuple[str, str]]:
    """worker -> (agent status, unit status), read fresh from Mephisto's database."""
    review = TaskReview(open_database(server.data_dir), TASK)
    return {u.worker_name: (u.agent_status, u.unit_status) for u in review.units(include_reviewed=True)}


def test_reject_the_flagged_spammer_then_approve_the_rest_in_bulk(page, review_server: ReviewServer) -> None:
    page.goto(f"{review_server.url}/#token={TOKEN}")
    rows = page.locator("#workers tbody tr")
    rows.first.wait_for()
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.worker)")) == sorted(SANDBOXED.values())
    assert "token" not in page.url  # the token leaves the address bar (and the history)
    spammer_row = page.locator(f'tr[data-worker="{SANDBOXED[SPAMMER]}"]')
    assert spammer_row.locator(".flag").all_inner_texts() == ["too fast"]
    for name in CAREFUL:
        assert page.locator(f'tr[data-worker="{SANDBOXED[name]}"] .flag').count() == 0

    # the spammer's work: the analysis's reason, and markup (theirs, and in the chats) shown as text
    page.get_by_role("button", name=SANDBOXED[SPAMMER], exact=True).click()
    page.locator("#work .unit").first.wait_for()
    assert page.locator("#detail-flags .flag-reason").all_inner_texts() == [
        "too fast: median 1.0 s per comparison, below 10 s"]
    assert "agreement not tested" in page.locator("#detail-flags .untested").first.inner_text()
    work = page.locator("#work")
    assert XSS in work.inner_text() and XSS_CHAT in work.inner_text()
    assert work.locator("img, script, b").count() == 0
    assert page.locator(".conversation.chosen figcaption").first.inner_text().startswith("Left:")  # always left
    assert axe_violations(page) == []  # labels, contrast, names: nothing serious or critical

    # reject them: the confirmation says what is not paid; a double click on Confirm acts once
    page.locator("#detail-actions").get_by_role("button", name="Reject…").click()
    page.get_by_label("Reason").fill(REJECTION)
    page.get_by_role("button", name="Check what this does").click()
    page.locator(".preview-lines li").first.wait_for()
    assert page.locator(".preview-lines li").all_inner_texts() == [
        f"reject unit 3 of {SANDBOXED[SPAMMER]}: 0.75 USD not paid"]
    assert axe_violations(page) == []  # the confirmation dialog too
    page.get_by_role("button", name="Confirm").dblclick()
    page.get_by_text("Done:", exact=True).wait_for()
    assert page.locator(".result-lines li").count() == 1
    page.get_by_role("button", name="Close").click()

    # the rest, in bulk: select every worker still awaiting review
    expect(rows).to_have_count(2)  # "awaiting review only": the spammer has left the list
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.worker)")) == sorted(SANDBOXED[n] for n in CAREFUL)
    page.get_by_label("select every worker shown").check()
    assert page.locator("#selected-count").inner_text() == "2 selected"
    page.get_by_role("button", name="Approve selected").click()
    page.locator(".pays").wait_for()
    assert page.locator(".pays").inner_text() == "Pays: 1.50 USD"
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("Done:", exact=True).wait_for()
    page.get_by_role("button", name="Close").click()

    # the database and the mock provider, read afresh
    assert statuses(review_server) == {
        SANDBOXED[SPAMMER]: ("rejected", "rejected"),
        SANDBOXED[CAREFUL[0]]: ("approved", "accepted"),
        SANDBOXED[CAREFUL[1]]: ("approved", "accepted"),
    }
    # one audit line per action: the rejection and the two approvals, by this reviewer, from the page
    lines = review_server.audit.lines()
    assert [(line.action, line.ok, line.skipped) for line in lines] == [
        ("reject", True, False), ("approve", True, False), ("approve", True, False)]
    assert {line.who for line in lines} == {"tester"} and {line.via for line in lines} == {"page"}
    assert REJECTION in lines[0].detail and lines[1].request == lines[2].request != lines[0].request

    # the same approval request again (a browser retry): told it was done, nothing more happens
    again = review_server.post("/api/actions", {"request": lines[1].request, "action": "approve",
                                                "workers": [SANDBOXED[n] for n in CAREFUL]})
    assert again.status_code == 200 and again.json()["repeat"] is True
    assert len(review_server.audit.lines()) == 3
    assert statuses(review_server)[SANDBOXED[CAREFUL[0]]] == ("approved", "accepted")

    # the audit panel shows the reviewer's markup as text too
    page.get_by_text("Audit log").click()
    assert REJECTION in page.locator("#audit-lines").inner_text()
    assert page.locator("#audit-lines i").count() == 0
    assert page.title() == f"Review {TASK} — humaneval"  # no injected script ever ran
    assert page.errors == []


def test_without_the_token_the_page_says_how_to_open_it_and_the_api_refuses(page, review_server: ReviewServer) -> None:
    page.goto(review_server.url + "/")
    page.get_by_text("No token: open the address `review serve` printed").wait_for()
    assert page.locator("#workers tbody tr").count() == 0
    refused = requests.get(review_server.url + "/api/study", timeout=10)
    assert refused.status_code == 401 and "token" in refused.json()["error"]
    assert json.loads(requests.get(review_server.url + "/api/study", timeout=10,
                                   headers={"Authorization": "Bearer wrong"}).text)["error"] == refused.json()["error"]


def test_keys_move_select_and_open_actions_and_filters_narrow_the_list(page, review_server: ReviewServer) -> None:
    page.goto(f"{review_server.url}/#token={TOKEN}")
    rows = page.locator("#workers tbody tr")
    rows.first.wait_for()
    shown = rows.evaluate_all("rs => rs.map(r => r.dataset.worker)")
    assert shown[0] == SANDBOXED[SPAMMER]  # flagged first
    page.keyboard.press("j")
    expect(page.locator("#detail-title")).to_have_text(f"{shown[0]} (mock)")
    page.keyboard.press("j")
    expect(page.locator("#detail-title")).to_have_text(f"{shown[1]} (mock)")
    page.keyboard.press("x")
    expect(page.locator("#selected-count")).to_have_text("1 selected")
    page.keyboard.press("k")
    expect(page.locator("#detail-title")).to_have_text(f"{shown[0]} (mock)")
    page.keyboard.press("r")
    expect(page.locator("#confirm-title")).to_have_text(f"Reject {shown[0]}")
    page.keyboard.press("j")  # typing in the dialog never moves the list
    expect(page.locator("#detail-title")).to_have_text(f"{shown[0]} (mock)")
    page.get_by_role("button", name="Cancel").click()
    page.get_by_label("flagged only").check()
    expect(rows).to_have_count(1)
    page.get_by_role("button", name="Worker").click()  # sorting by name, then reversed
    page.get_by_label("flagged only").uncheck()
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.worker)") == sorted(SANDBOXED.values(), reverse=True)
    page.get_by_role("button", name="Worker").click()
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.worker)") == sorted(SANDBOXED.values())
    assert review_server.audit.lines() == [] and page.errors == []
