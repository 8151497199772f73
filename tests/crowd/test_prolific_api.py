"""`ProlificClient` against `FakeProlific`: the exact requests each method sends, every refusal Prolific's
reference describes surfacing as `ProlificError` (status and Prolific's message), the PROCESSING wait,
retries only where a repeat is harmless, and a token that never leaves except in the Authorization header."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from humaneval.crowd.prolific import api
from humaneval.crowd.prolific.api import ProlificClient, ProlificError
from tests.prolific_fake import Call, FakeProlific

TOKEN = "tok-Zq81-secret-do-not-print"
CODE = "C0MPL3T3"
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # test-side requests to 127.0.0.1
GOOD_REJECTION = "Your answers were copied from the example on every page, so we cannot use them; " \
                 "please see the instructions about original work."  # 126 chars


def study_payload(**overrides: object) -> dict:
    payload = {
        "name": "Chat with two bots", "internal_name": "acute-1", "description": "Compare two conversations.",
        "external_study_url": "https://eval.example.org/?PROLIFIC_PID={{%PROLIFIC_PID%}}"
                              "&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}",
        "prolific_id_option": "url_parameters",
        "completion_codes": [{"code": CODE, "code_type": "COMPLETED", "actions": [{"action": "MANUALLY_REVIEW"}]}],
        "total_available_places": 2, "estimated_completion_time": 10, "reward": 250,
        "device_compatibility": ["desktop"], "filters": [],
    }
    payload.update(overrides)
    return payload


@pytest.fixture()
def fake() -> Iterator[FakeProlific]:
    with FakeProlific(token=TOKEN, processing_reads=2) as server:
        yield server


@pytest.fixture()
def client(fake: FakeProlific) -> ProlificClient:
    return ProlificClient(TOKEN, fake.api_url, timeout_s=5, backoff_s=0)


def published(client: ProlificClient, **overrides: object) -> str:
    study_id = client.create_study(study_payload(**overrides))["id"]
    client.transition_study(study_id, "PUBLISH")
    return study_id


def awaiting_review(fake: FakeProlific, client: ProlificClient, study_id: str, participant: str) -> str:
    submission = fake.participant_starts(study_id, participant)
    fake.participant_completes(submission, CODE)
    fake.submissions[submission].update(status="AWAITING REVIEW", _processing_reads=0)
    return submission


def requests_of(fake: FakeProlific, start: int = 0) -> list[tuple[str, str, dict | None]]:
    return [(c.method, c.path, c.body) for c in fake.calls[start:]]


def raw_request(fake: FakeProlific, method: str, path: str, body: dict) -> tuple[int, dict]:
    """A request the client would not send (it waits out PROCESSING), to test the fake's own refusal."""
    request = urllib.request.Request(fake.api_url + path, data=json.dumps(body).encode(), method=method,
                                     headers={"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"})
    try:
        with DIRECT.open(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


# --- each method's exact request ---


def test_every_method_sends_the_documented_method_path_and_body(fake: FakeProlific, client: ProlificClient) -> None:
    assert client.me()["id"] == fake.user["id"]
    ws = client.create_workspace("Human eval")
    assert [w["id"] for w in client.list_workspaces()] == [ws["id"]]
    project = client.create_project(ws["id"], "ACUTE")
    assert [p["id"] for p in client.list_projects(ws["id"])] == [project["id"]]
    study = client.create_study(study_payload(project=project["id"]))
    assert study["status"] == "UNPUBLISHED"
    assert client.get_study(study["id"])["reward"] == 250
    client.update_study(study["id"], {"total_available_places": 3})
    assert client.transition_study(study["id"], "PUBLISH")["status"] == "ACTIVE"
    submission = awaiting_review(fake, client, study["id"], "p1")
    assert [s["id"] for s in client.list_submissions(study["id"])] == [submission]
    assert client.transition_submission(submission, "APPROVE")["status"] == "APPROVED"
    bulk = client.create_bonus_payments(study["id"], [("p1", "1.50")])
    assert client.pay_bonus_payments(bulk["id"]) is None
    group = client.create_participant_group("blocked", workspace_id=ws["id"], participant_ids=["p9"])
    assert [g["id"] for g in client.list_participant_groups(workspace_id=ws["id"])] == [group["id"]]
    client.add_to_participant_group(group["id"], ["p1", "p2"])
    client.remove_from_participant_group(group["id"], ["p9"])
    assert client.list_participant_group_members(group["id"]) == ["p1", "p2"]

    s, g, w = study["id"], group["id"], ws["id"]
    assert requests_of(fake) == [
        ("GET", "/users/me/", None),
        ("POST", "/workspaces/", {"title": "Human eval"}),
        ("GET", "/workspaces/", None),
        ("POST", f"/workspaces/{w}/projects/", {"title": "ACUTE"}),
        ("GET", f"/workspaces/{w}/projects/", None),
        ("POST", "/studies/", study_payload(project=project["id"])),
        ("GET", f"/studies/{s}/", None),
        ("PATCH", f"/studies/{s}/", {"total_available_places": 3}),
        ("POST", f"/studies/{s}/transition/", {"action": "PUBLISH"}),
        ("GET", f"/studies/{s}/submissions/", None),
        ("GET", f"/submissions/{submission}/", None),  # the PROCESSING check before reviewing
        ("POST", f"/submissions/{submission}/transition/", {"action": "APPROVE"}),
        ("POST", "/submissions/bonus-payments/", {"study_id": s, "csv_bonuses": "p1,1.50\n"}),
        ("POST", f"/bulk-bonus-payments/{bulk['id']}/pay/", None),
        ("POST", "/participant-groups/", {"name": "blocked", "workspace_id": w, "participant_ids": ["p9"]}),
        ("GET", f"/participant-groups/?workspace_id={w}", None),
        ("POST", f"/participant-groups/{g}/participants/", {"participant_ids": ["p1", "p2"]}),
        ("DELETE", f"/participant-groups/{g}/participants/", {"participant_ids": ["p9"]}),
        ("GET", f"/participant-groups/{g}/participants/", None),
    ]
    assert all(c.status < 300 for c in fake.calls)


def test_a_rejection_sends_message_and_category(fake: FakeProlific, client: ProlificClient) -> None:
    study = published(client)
    submission = awaiting_review(fake, client, study, "p1")
    start = len(fake.calls)
    assert client.transition_submission(submission, "REJECT", message=GOOD_REJECTION,
                                        rejection_category="FAILED_INSTRUCTIONS")["status"] == "REJECTED"
    assert requests_of(fake, start)[-1] == ("POST", f"/submissions/{submission}/transition/", {
        "action": "REJECT", "message": GOOD_REJECTION, "rejection_category": "FAILED_INSTRUCTIONS"})


def test_lists_follow_every_page() -> None:
    with FakeProlific(token=TOKEN, page_size=2) as paged:
        paging = ProlificClient(TOKEN, paged.api_url, backoff_s=0)
        study = published(paging, total_available_places=5)
        started = [paged.participant_starts(study, f"p{i}") for i in range(5)]
        assert [s["id"] for s in paging.list_submissions(study)] == started
        assert [c.path for c in paged.calls[-3:]] == [
            f"/studies/{study}/submissions/", f"/studies/{study}/submissions/?page=2",
            f"/studies/{study}/submissions/?page=3"]


def test_a_next_link_to_another_host_is_not_followed_with_the_token(fake: FakeProlific) -> None:
    for title in ("one", "two"):
        fake.workspaces[title] = {"id": title, "title": title}
    fake.page_size = 1
    # Same server under another name: its `next` links name 127.0.0.1, which is not the host we were given.
    by_name = ProlificClient(TOKEN, fake.api_url.replace("127.0.0.1", "localhost"), backoff_s=0)
    with pytest.raises(ProlificError) as refused:
        by_name.list_workspaces()
    assert refused.value.status is None and "refusing to follow a link off" in refused.value.detail
    assert [c.path for c in fake.calls] == ["/workspaces/"]


def test_an_oversized_answer_is_refused(fake: FakeProlific, client: ProlificClient,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    fake.workspaces["w"] = {"id": "w", "title": "x" * 500}
    monkeypatch.setattr(api, "MAX_RESPONSE_BYTES", 400)
    with pytest.raises(ProlificError, match="answer larger than 400 bytes"):
        client.list_workspaces()


# --- refusals: Prolific's 400 surfaces with its message, and nothing changes ---


@pytest.mark.parametrize(("payload", "detail"), [
    (study_payload(reward=None), "reward: A positive integer is required."),
    ({k: v for k, v in study_payload().items() if k != "reward"}, "reward: This field is required."),
    ({k: v for k, v in study_payload().items() if k != "completion_codes"}, "completion_codes: This field is required."),
    (study_payload(reward=2.5), "reward: A positive integer is required."),
    (study_payload(total_available_places=0), "total_available_places: A positive integer is required."),
    (study_payload(estimated_completion_time="10"), "estimated_completion_time: A positive integer is required."),
    (study_payload(completion_codes=[]), "completion_codes:"),
    (study_payload(device_compatibility=["toaster"]), "device_compatibility:"),
    (study_payload(prolific_id_option="cookies"), "prolific_id_option:"),
])
def test_a_study_prolific_would_refuse_is_refused(fake: FakeProlific, client: ProlificClient,
                                                  payload: dict, detail: str) -> None:
    with pytest.raises(ProlificError) as refused:
        client.create_study(payload)
    assert (refused.value.status, refused.value.method, refused.value.path) == (400, "POST", "/studies/")
    assert detail in refused.value.detail
    assert fake.studies == {}


@pytest.mark.parametrize(("fields", "detail"), [
    ({"name": "A new public title"}, "name: This field cannot be changed once the study is published."),
    ({"reward": 300}, "reward: This field cannot be changed once the study is published."),
    ({"internal_name": "x", "description": "y"}, "description: This field cannot be changed"),
    ({"total_available_places": 1}, "total_available_places: Places can only be increased once published"),
])
def test_a_published_study_takes_only_its_internal_name_and_more_places(
        client: ProlificClient, fake: FakeProlific, fields: dict, detail: str) -> None:
    study = published(client)
    before = dict(fake.studies[study])
    with pytest.raises(ProlificError) as refused:
        client.update_study(study, fields)
    assert refused.value.status == 400 and detail in refused.value.detail
    assert fake.studies[study] == before
    assert client.update_study(study, {"internal_name": "renamed", "total_available_places": 4})["total_available_places"] == 4
    assert client.update_study(study, {"total_available_places": 4})["total_available_places"] == 4  # equal is fine


def test_a_draft_takes_any_field_and_may_shrink(client: ProlificClient) -> None:
    study = client.create_study(study_payload(total_available_places=5))["id"]
    assert client.update_study(study, {"total_available_places": 1, "reward": 300})["reward"] == 300


@pytest.mark.parametrize(("actions", "detail"), [
    (["PUBLISH", "PUBLISH"], "Cannot PUBLISH a study that is ACTIVE."),
    (["PAUSE"], "Cannot PAUSE a study that is UNPUBLISHED."),
    (["START"], "Cannot START a study that is UNPUBLISHED."),
    (["STOP"], "Cannot STOP a study that is UNPUBLISHED."),
    (["PUBLISH", "START"], "Cannot START a study that is ACTIVE."),
    (["PUBLISH", "STOP", "START"], "Cannot START a study that is COMPLETED."),
    (["LAUNCH"], 'action: "LAUNCH" is not a valid choice.'),
])
def test_study_transitions_from_the_wrong_status_are_refused(client: ProlificClient, fake: FakeProlific,
                                                             actions: list[str], detail: str) -> None:
    study = client.create_study(study_payload())["id"]
    for action in actions[:-1]:
        client.transition_study(study, action)
    status = fake.studies[study]["status"]
    with pytest.raises(ProlificError) as refused:
        client.transition_study(study, actions[-1])
    assert refused.value.status == 400 and refused.value.detail == detail
    assert fake.studies[study]["status"] == status


def test_pause_start_stop_follow_the_documented_statuses(client: ProlificClient) -> None:
    study = published(client)
    assert [client.transition_study(study, a)["status"] for a in ("PAUSE", "START", "STOP")] == \
        ["PAUSED", "ACTIVE", "COMPLETED"]


def test_only_a_finished_submission_can_be_reviewed(fake: FakeProlific, client: ProlificClient) -> None:
    study = published(client)
    active = fake.participant_starts(study, "p1")
    with pytest.raises(ProlificError) as refused:
        client.transition_submission(active, "APPROVE")
    assert refused.value.status == 400 and refused.value.detail == "Cannot APPROVE a submission that is ACTIVE."
    processing = fake.participant_starts(study, "p2")
    fake.participant_completes(processing, CODE)
    status, body = raw_request(fake, "POST", f"/submissions/{processing}/transition/", {"action": "APPROVE"})
    assert (status, body["error"]["detail"]) == (400, "Cannot APPROVE a submission that is PROCESSING.")
    assert {s["status"] for s in fake.submissions.values()} == {"ACTIVE", "PROCESSING"}


@pytest.mark.parametrize(("message", "category", "detail"), [
    (GOOD_REJECTION[:99], "LOW_EFFORT", "message: A rejection message of at least 100 characters is required."),
    (None, "LOW_EFFORT", "message: A rejection message of at least 100 characters is required."),
    (GOOD_REJECTION, "LAZY", 'rejection_category: "LAZY" is not a valid choice.'),
    (GOOD_REJECTION, None, 'rejection_category: "None" is not a valid choice.'),
])
def test_a_rejection_needs_a_long_message_and_a_known_category(fake: FakeProlific, client: ProlificClient,
                                                               message: str | None, category: str | None,
                                                               detail: str) -> None:
    submission = awaiting_review(fake, client, published(client), "p1")
    with pytest.raises(ProlificError) as refused:
        client.transition_submission(submission, "REJECT", message=message, rejection_category=category)
    assert refused.value.status == 400 and refused.value.detail == detail
    assert fake.submissions[submission]["status"] == "AWAITING REVIEW"
    assert client.transition_submission(submission, "REJECT", message=GOOD_REJECTION[:100],
                                        rejection_category="LOW_EFFORT")["status"] == "REJECTED"


def test_a_review_sent_twice_is_ignored_the_second_time(fake: FakeProlific, client: ProlificClient) -> None:
    submission = awaiting_review(fake, client, published(client), "p1")
    assert client.transition_submission(submission, "APPROVE")["status"] == "APPROVED"
    assert client.transition_submission(submission, "APPROVE")["status"] == "APPROVED"
    with pytest.raises(ProlificError, match="Cannot REJECT a submission that is APPROVED"):
        client.transition_submission(submission, "REJECT", message=GOOD_REJECTION, rejection_category="OTHER")


def test_a_bonus_to_someone_who_did_not_take_part_is_refused(fake: FakeProlific, client: ProlificClient) -> None:
    study = published(client)
    submission = fake.participant_starts(study, "p1")
    with pytest.raises(ProlificError) as refused:
        client.create_bonus_payments(study, [("p1", "1.00"), ("stranger", "2.00")])
    assert refused.value.status == 400
    assert refused.value.detail == "csv_bonuses: These ids did not take part in the study: stranger"
    assert fake.bonuses == {}
    by_submission = client.create_bonus_payments(study, [(submission, "0.50")])  # a submission id works too
    assert (by_submission["amount"], by_submission["total_amount"] > by_submission["amount"]) == (50.0, True)


@pytest.mark.parametrize(("who", "amount"), [
    ("p1\nstranger", "1.00"), ("p1,5.00", "1.00"), ("", "1.00"), (" p1", "1.00"),
    ("p1", "1.505"), ("p1", "-1"), ("p1", "0"), ("p1", "1,5"), ("p1", "£1"), ("p1", "1e2"),
])
def test_a_bonus_row_that_would_change_the_csv_or_the_amount_is_refused_before_sending(
        fake: FakeProlific, client: ProlificClient, who: str, amount: str) -> None:
    study = published(client)
    fake.participant_starts(study, "p1")
    start = len(fake.calls)
    with pytest.raises(ValueError):
        client.create_bonus_payments(study, [(who, amount)])
    assert fake.calls[start:] == []


def test_a_missing_study_is_a_404(client: ProlificClient) -> None:
    with pytest.raises(ProlificError) as missing:
        client.get_study("nope")
    assert (missing.value.status, missing.value.detail, missing.value.path) == (404, "Not found.", "/studies/nope/")


def test_an_id_cannot_reach_another_endpoint(fake: FakeProlific, client: ProlificClient) -> None:
    with pytest.raises(ProlificError) as missing:
        client.get_study("../users/me")
    assert missing.value.status == 404 and fake.calls[-1].path == "/studies/..%2Fusers%2Fme/"


# --- participants, places and study statuses ---


def test_participants_are_let_in_only_while_prolific_would(fake: FakeProlific, client: ProlificClient) -> None:
    ws = client.create_workspace("W")["id"]
    blocked = client.create_participant_group("blocked", workspace_id=ws, participant_ids=["bad"])["id"]
    draft = client.create_study(study_payload(total_available_places=1))["id"]
    with pytest.raises(ValueError, match="UNPUBLISHED, not ACTIVE"):
        fake.participant_starts(draft, "p1")
    study = published(client, total_available_places=1,
                      filters=[{"filter_id": "participant_group_blocklist", "selected_values": [blocked]}])
    with pytest.raises(ValueError, match="blocklist"):
        fake.participant_starts(study, "bad")
    first = fake.participant_starts(study, "p1")
    with pytest.raises(ValueError, match="no place left"):
        fake.participant_starts(study, "p2")
    fake.participant_returns(first)  # a returned place is free again
    second = fake.participant_starts(study, "p2")
    fake.participant_times_out(second)
    fake.participant_starts(study, "p3")
    client.update_study(study, {"total_available_places": 3})
    with pytest.raises(ValueError, match="already took part"):
        fake.participant_starts(study, "p3")
    client.remove_from_participant_group(blocked, ["bad"])  # membership applies at once
    fake.participant_starts(study, "bad")


def test_an_allowlist_lets_in_only_its_members(fake: FakeProlific, client: ProlificClient) -> None:
    ws = client.create_workspace("W")["id"]
    allowed = client.create_participant_group("pilots", workspace_id=ws, participant_ids=["p1"])["id"]
    study = published(client, filters=[{"filter_id": "participant_group_allowlist", "selected_values": [allowed]}])
    with pytest.raises(ValueError, match="not in the allowlist"):
        fake.participant_starts(study, "p2")
    fake.participant_starts(study, "p1")


def test_a_study_awaits_review_when_full_and_completes_when_reviewed(fake: FakeProlific, client: ProlificClient) -> None:
    study = published(client, total_available_places=2)
    first, second = fake.participant_starts(study, "p1"), fake.participant_starts(study, "p2")
    fake.participant_completes(first, CODE)
    assert client.get_study(study)["status"] == "ACTIVE"  # p2 is still working
    fake.participant_completes(second, CODE)
    assert client.get_study(study)["status"] == "AWAITING REVIEW"
    client.transition_submission(first, "REJECT", message=GOOD_REJECTION, rejection_category="NO_DATA")
    assert client.get_study(study)["status"] == "ACTIVE"  # a rejection frees its place
    third = fake.participant_starts(study, "p3")
    fake.participant_completes(third, CODE)
    client.transition_submission(second, "APPROVE")
    assert client.get_study(study)["status"] == "AWAITING REVIEW"
    client.transition_submission(third, "APPROVE")
    assert client.get_study(study)["status"] == "COMPLETED"
    with pytest.raises(ProlificError, match="A completed study cannot be edited"):
        client.update_study(study, {"total_available_places": 3})


def test_growing_places_reopens_a_full_study(fake: FakeProlific, client: ProlificClient) -> None:
    study = published(client, total_available_places=1)
    fake.participant_completes(fake.participant_starts(study, "p1"), CODE)
    assert client.get_study(study)["status"] == "AWAITING REVIEW"
    assert client.update_study(study, {"total_available_places": 2})["status"] == "ACTIVE"
    fake.participant_starts(study, "p2")


def test_the_completion_page_records_the_code(fake: FakeProlific) -> None:
    with DIRECT.open(f"{fake.completion_url}?cc={CODE}", timeout=5) as page:
        assert page.status == 200 and b"Thank you" in page.read()
    assert fake.completions == [CODE]


# --- PROCESSING ---


def test_processing_is_waited_out_before_reviewing() -> None:
    with FakeProlific(token=TOKEN, processing_reads=3) as slow:
        slow_client = ProlificClient(TOKEN, slow.api_url, backoff_s=0)
        submission = slow.participant_starts(published(slow_client), "p1")
        slow.participant_completes(submission, CODE)
        start = len(slow.calls)
        assert slow_client.transition_submission(submission, "APPROVE")["status"] == "APPROVED"
        assert [(c.method, c.status) for c in slow.calls[start:]] == [("GET", 200)] * 4 + [("POST", 200)]


def test_a_submission_that_stays_processing_is_not_reviewed() -> None:
    with FakeProlific(token=TOKEN, processing_reads=10_000) as stuck:
        stuck_client = ProlificClient(TOKEN, stuck.api_url, backoff_s=0)
        submission = stuck.participant_starts(published(stuck_client), "p1")
        stuck.participant_completes(submission, CODE)
        with pytest.raises(ProlificError) as waited:
            stuck_client.transition_submission(submission, "APPROVE", settle_timeout_s=0.4)
        assert waited.value.status is None and "still PROCESSING after 0.4s" in waited.value.detail
        assert stuck.calls_to("POST", r"/submissions/.*/transition/") == []


# --- retries ---


def test_a_read_is_retried_through_503s(fake: FakeProlific, client: ProlificClient) -> None:
    study = client.create_study(study_payload())["id"]
    fake.fail_next("GET", r"/studies/[^/]+/", 503, times=2)
    assert client.get_study(study)["id"] == study
    assert [c.status for c in fake.calls_to("GET", rf"/studies/{study}/")] == [503, 503, 200]


def test_retries_are_bounded(fake: FakeProlific) -> None:
    once = ProlificClient(TOKEN, fake.api_url, retries=1, backoff_s=0)
    study = once.create_study(study_payload())["id"]
    fake.fail_next("GET", r"/studies/[^/]+/", 503, times=5)
    with pytest.raises(ProlificError) as failed:
        once.get_study(study)
    assert failed.value.status == 503 and len(fake.calls_to("GET", rf"/studies/{study}/")) == 2


def test_a_refusal_is_not_retried(fake: FakeProlific, client: ProlificClient) -> None:
    study = published(client)
    with pytest.raises(ProlificError):
        client.update_study(study, {"reward": 1})
    assert len(fake.calls_to("PATCH", rf"/studies/{study}/")) == 1


@pytest.mark.parametrize(("method", "pattern", "act"), [
    ("POST", r"/studies/", lambda c, s: c.create_study(study_payload())),
    ("POST", r"/studies/.*/transition/", lambda c, s: c.transition_study(s, "PAUSE")),
    ("POST", r"/submissions/bonus-payments/", lambda c, s: c.create_bonus_payments(s, [("p1", "1.00")])),
])
def test_a_post_that_may_create_or_change_twice_is_not_retried(fake: FakeProlific, client: ProlificClient,
                                                               method: str, pattern: str, act) -> None:
    study = published(client)
    fake.participant_starts(study, "p1")
    fake.fail_next(method, pattern, 503)
    with pytest.raises(ProlificError) as failed:
        act(client, study)
    assert failed.value.status == 503
    assert fake.calls[-1].status == 503 and [c.status for c in fake.calls_to(method, pattern)].count(503) == 1


def test_a_review_is_retried_because_prolific_ignores_a_repeat(fake: FakeProlific, client: ProlificClient) -> None:
    submission = awaiting_review(fake, client, published(client), "p1")
    fake.fail_next("POST", r"/submissions/.*/transition/", 502)
    assert client.transition_submission(submission, "APPROVE")["status"] == "APPROVED"
    assert [c.status for c in fake.calls_to("POST", rf"/submissions/{submission}/transition/")] == [502, 200]


def test_paying_a_bulk_bonus_is_sent_once_even_on_503(fake: FakeProlific, client: ProlificClient) -> None:
    study = published(client)
    fake.participant_starts(study, "p1")
    bulk = client.create_bonus_payments(study, [("p1", "2.00")])["id"]
    fake.fail_next("POST", r"/bulk-bonus-payments/.*/pay/", 503, times=3)
    with pytest.raises(ProlificError) as failed:
        client.pay_bonus_payments(bulk)
    assert failed.value.status == 503
    assert [c.status for c in fake.calls_to("POST", rf"/bulk-bonus-payments/{bulk}/pay/")] == [503]
    assert fake.paid_bonuses("p1") == []


def test_a_pay_whose_answer_is_lost_is_not_resent_and_reads_as_unknown(fake: FakeProlific) -> None:
    impatient = ProlificClient(TOKEN, fake.api_url, timeout_s=0.5, backoff_s=0)
    study = published(impatient)
    submission = fake.participant_starts(study, "p1")
    bulk = impatient.create_bonus_payments(study, [("p1", "2.00")])["id"]
    fake.hold_after("POST", r"/bulk-bonus-payments/.*/pay/")
    with pytest.raises(ProlificError) as lost:
        impatient.pay_bonus_payments(bulk)
    fake.release()
    assert lost.value.status is None and lost.value.detail.startswith("no answer")
    assert fake.paid_bonuses("p1") == ["2.00"]  # Prolific paid; the caller must find that out, not pay again
    assert len(fake.calls_to("POST", rf"/bulk-bonus-payments/{bulk}/pay/")) == 1
    assert impatient.get_submission(submission)["bonus_payments"] == [200.0]  # how the caller can find out


def test_the_fake_pays_again_on_every_pay_as_prolific_warns(fake: FakeProlific, client: ProlificClient) -> None:
    study = published(client)
    fake.participant_starts(study, "p1")
    bulk = client.create_bonus_payments(study, [("p1", "0.75")])["id"]
    client.pay_bonus_payments(bulk)
    client.pay_bonus_payments(bulk)
    assert fake.paid_bonuses("p1") == ["0.75", "0.75"]


def test_a_connection_refused_is_retried_for_reads_then_reported_as_no_answer() -> None:
    with FakeProlific(token=TOKEN) as gone:
        url = gone.api_url
    closed = ProlificClient(TOKEN, url, timeout_s=2, retries=2, backoff_s=0)
    with pytest.raises(ProlificError) as lost:
        closed.me()
    assert lost.value.status is None and lost.value.detail.startswith("no answer")


# --- the token ---


def test_plain_http_to_a_remote_host_is_refused_before_any_request() -> None:
    for url in ("http://api.prolific.com/api/v1", "http://10.0.0.5/api/v1", "ftp://127.0.0.1/api/v1"):
        with pytest.raises(ValueError) as refused:
            ProlificClient(TOKEN, url)
        assert TOKEN not in str(refused.value)
    for url in ("http://127.0.0.1:9/api/v1", "http://localhost:9/api/v1", "http://[::1]:9/api/v1",
                "https://api.prolific.com/api/v1"):
        assert ProlificClient(TOKEN, url).base_url == url


def test_the_token_is_sent_only_in_the_header_and_never_logged_or_shown(
        fake: FakeProlific, client: ProlificClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    study = published(client)
    errors: list[ProlificError] = []
    for act in (lambda: client.update_study(study, {"reward": 1}),
                lambda: ProlificClient("wrong-" + TOKEN, fake.api_url).me(),
                lambda: client.get_study("missing")):
        with pytest.raises(ProlificError) as failed:
            act()
        errors.append(failed.value)
    assert [e.status for e in errors] == [400, 401, 404]
    assert errors[1].detail == "Invalid token."
    shown = [r.getMessage() for r in caplog.records] + [str(e) for e in errors] + [repr(e) for e in errors]
    shown += [repr(client), str(client)]
    assert any(f"/studies/{study}/" in r.getMessage() for r in caplog.records)  # the log does name the requests
    assert not [line for line in shown if TOKEN in line]
    assert all(TOKEN not in json.dumps(c.body) for c in fake.calls)


def test_calls_are_recorded_with_their_status(fake: FakeProlific, client: ProlificClient) -> None:
    with pytest.raises(ProlificError):
        client.transition_study("nope", "PUBLISH")
    assert fake.calls == [Call("POST", "/studies/nope/transition/", {"action": "PUBLISH"}, 404)]
