"""The MTurk path at the API edge: real Mephisto, real DB, real router, a real boto3 MTurk client whose
every call is answered by botocore's Stubber. No network.

Mephisto asks `MTurkDatastore.get_client_for_requester` / `get_sandbox_client_for_requester` for a
client before every MTurk call; those two methods are the only thing replaced. Calls are recorded on
the client's `provide-client-params` event, which fires before the Stubber checks anything, so a
call the Stubber rejects inside one of Mephisto's threads (where Mephisto logs and swallows it) still
shows up in the recorded list, which each test compares with the exact expected list.

One deliberate exception: `GetHIT`. Mephisto polls it about once a second for every live HIT, so how
often it is called depends on timing. It is answered by a tiny model of MTurk's HIT state (accepted ->
"Unassignable", submitted -> "Reviewable"), recorded, and checked to concern only HITs a worker took.
"""

from __future__ import annotations

import configparser
import io
import logging
import sys
import re
import stat
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import xform_name
from botocore.stub import Stubber

import humaneval.crowd  # noqa: F401  (Mephisto through the compat layer)
from humaneval.crowd.cli_register_requester import main as register_main
from humaneval.crowd.cli_review import main as review_main
from humaneval.crowd.data_dir import open_database
from humaneval.crowd.launcher import LaunchSettings, LocalLaunch
from humaneval.crowd.mturk import AwsKeys, register_requester
from humaneval.crowd.simulated_worker import AgentSession, SimulatedWorker
from humaneval.crowd.smoke_task import build_task
from humaneval.web.addresses import free_port
from mephisto.abstractions.providers.mturk import mturk_utils
from mephisto.abstractions.providers.mturk.mturk_datastore import MTurkDatastore
from mephisto.abstractions.providers.mturk_sandbox import sandbox_mturk_provider

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYTESTSECRETKEY"
KEY_ID = "AKIATESTKEYID0000042"
REQUESTER = "alice"
EXTERNAL_QUESTION_XSD = (
    "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd"
)
SMOKE = {  # task_configs/smoke.yaml, as MTurk must receive it
    "Title": "Answer one short question",
    "Description": "Type a short answer to one question.",
    "Keywords": "test,smoke",
    "Reward": "0.05",
    "AssignmentDurationInSeconds": 600,
}
ONE_WEEK = 7 * 24 * 3600  # Mephisto's auto-approval delay
THIRTY_ONE_DAYS = 31 * 24 * 3600  # Mephisto's default HIT lifetime
LIVE_LOCALES = [
    {
        "QualificationTypeId": "00000000000000000071",
        "Comparator": "In",
        "LocaleValues": [{"Country": c} for c in ("US", "CA", "GB", "AU", "NZ")],
        "ActionsGuarded": "DiscoverPreviewAndAccept",
    }
]


# --- the MTurk edge ------------------------------------------------------------------------------


@dataclass
class MTurkEdge:
    """One stubbed boto3 MTurk client and everything recorded at it."""

    client: Any
    stubber: Stubber
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    expected: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    requesters_asked: list[tuple[str, str]] = field(default_factory=list)  # (which getter, requester name)
    hit_states: dict[str, str] = field(default_factory=dict)
    polls: list[tuple[str, str]] = field(default_factory=list)

    def expect(self, operation: str, params: dict[str, Any], response: dict[str, Any]) -> None:
        """Queue one exact call (operation name as in the MTurk API) and its answer."""
        self.stubber.add_response(xform_name(operation), response, params)
        self.expected.append((operation, params))

    def expect_error(self, operation: str, params: dict[str, Any], code: str, message: str) -> None:
        self.stubber.add_client_error(
            xform_name(operation), service_error_code=code, service_message=message, expected_params=params
        )
        self.expected.append((operation, params))

    def answer_get_hit(self, HITId: str) -> dict[str, Any]:  # noqa: N803  (boto3's keyword)
        status = self.hit_states.get(HITId, "Assignable")
        self.polls.append((HITId, status))
        return {"HIT": {"HITId": HITId, "HITStatus": status, "NumberOfAssignmentsAvailable": 0}}

    def assert_all_calls_made(self) -> None:
        assert self.calls == self.expected
        self.stubber.assert_no_pending_responses()


@pytest.fixture()
def aws_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Dummy credentials and private AWS files; nothing can reach ~/.aws or the network."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws" / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws" / "config"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIADUMMYDUMMYDUMMY0")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "dummy-secret-not-used")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    # A developer's ~/.mephisto/config.yml may list other locales for live HITs; the test pins Mephisto's default.
    monkeypatch.setattr(mturk_utils, "get_config_arg", lambda section, key: None)
    return tmp_path


def make_edge(monkeypatch: pytest.MonkeyPatch, provider: str) -> MTurkEdge:
    """A real `boto3.client("mturk", region_name="us-east-1")`, configured as Mephisto configures its
    client for `provider` (the sandbox one talks to the sandbox endpoint, which Mephisto checks), stubbed."""
    endpoint = {"endpoint_url": mturk_utils.SANDBOX_ENDPOINT} if provider == "mturk_sandbox" else {}
    client = boto3.client("mturk", region_name="us-east-1", **endpoint)
    edge = MTurkEdge(client=client, stubber=Stubber(client))

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        edge.calls.append((model.name, dict(params)))

    client.meta.events.register("provide-client-params.mturk.*", record)
    client.get_hit = edge.answer_get_hit  # the timing-dependent status poll (see the module docstring)
    edge.stubber.activate()

    def live_client(datastore: MTurkDatastore, requester_name: str) -> Any:
        edge.requesters_asked.append(("live", requester_name))
        return client

    def sandbox_client(datastore: MTurkDatastore, requester_name: str) -> Any:
        edge.requesters_asked.append(("sandbox", requester_name))
        return client

    monkeypatch.setattr(MTurkDatastore, "get_client_for_requester", live_client)
    monkeypatch.setattr(MTurkDatastore, "get_sandbox_client_for_requester", sandbox_client)
    return edge


def external_question(url: str, frame_height: int = 0) -> str:
    return (
        f'<ExternalQuestion xmlns="{EXTERNAL_QUESTION_XSD}">'
        f"<ExternalURL>{url}</ExternalURL><FrameHeight>{frame_height}</FrameHeight></ExternalQuestion>"
    )


def launch(data_dir: Path, provider: str, port: int, extra: tuple[str, ...] = ()) -> LocalLaunch:
    cfg, state = build_task(
        [f"provider={provider}", f"mephisto.provider.requester_name={REQUESTER}", f"humaneval.data_dir={data_dir}", *extra]
    )
    return LocalLaunch(cfg, state, LaunchSettings(data_dir=data_dir, port=port))


def wrap_crowd_source_keys(provider: str) -> set[str]:
    """The keys Mephisto's MTurk page wrapper sends as provider_data (getAgentRegistration)."""
    js_dir = Path(sandbox_mturk_provider.__file__).parent if provider == "mturk_sandbox" else Path(mturk_utils.__file__).parent
    source = (js_dir / "wrap_crowd_source.js").read_text()
    body = re.search(r"function getAgentRegistration\(\)\s*\{.*?return\s*\{(.*?)\};", source, re.S)
    assert body, "getAgentRegistration not found in wrap_crowd_source.js"
    return set(re.findall(r"(\w+)\s*:", body.group(1)))


def request_as_mturk_worker(worker: SimulatedWorker, hit_id: str, assignment_id: str) -> AgentSession:
    """`/request_agent` with the provider_data an MTurk worker's browser sends (wrap_crowd_source.js)."""
    provider_data = {
        "worker_name": worker.worker_name,
        "agent_registration_id": f"{assignment_id}-{worker.worker_name}",
        "assignment_id": assignment_id,
        "hit_id": hit_id,
        "provider_type": worker.provider_type,
    }
    assert set(provider_data) == wrap_crowd_source_keys(worker.provider_type)
    return worker._agent_session(worker._post("/request_agent", {"provider_data": provider_data, "client_timestamp": time.time()}))


# --- launching -----------------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize("provider", ["mturk_sandbox", "mturk"])
def test_launch_makes_one_hit_type_one_hit_per_unit_and_expires_them_at_shutdown(
    provider: str, aws_sandbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = aws_sandbox / "mephisto"
    register_requester(open_database(data_dir), provider, REQUESTER, AwsKeys(KEY_ID, SECRET))
    edge = make_edge(monkeypatch, provider)
    port = free_port()
    question = external_question(f"localhost:{port}")  # Mephisto's task URL is "<hostname>:<port>"
    edge.expect(
        "CreateHITType",
        {
            "AutoApprovalDelayInSeconds": ONE_WEEK,
            **SMOKE,
            # Live HITs are limited to Mephisto's default locales; the sandbox gets no requirement.
            "QualificationRequirements": LIVE_LOCALES if provider == "mturk" else [],
        },
        {"HITTypeId": "HITTYPE1"},
    )
    for hit_id in ("HIT1", "HIT2"):
        edge.expect(
            "CreateHITWithHITType",
            {"HITTypeId": "HITTYPE1", "MaxAssignments": 1, "LifetimeInSeconds": THIRTY_ONE_DAYS, "Question": question},
            {"HIT": {"HITId": hit_id, "HITTypeId": "HITTYPE1"}},
        )
    # Shutdown: no worker took a HIT, so each unit expires one of the run's unassigned HITs, in order.
    # Mephisto expires a HIT by moving its expiry to 2015-01-01.
    for hit_id in ("HIT1", "HIT2"):
        edge.expect("UpdateExpirationForHIT", {"HITId": hit_id, "ExpireAt": datetime(2015, 1, 1)}, {})

    with launch(data_dir, provider, port) as run:
        assert run.wait_until(lambda: len(edge.calls) >= 3, timeout=20), edge.calls
        time.sleep(0.5)  # nothing else may follow the HIT creations while the run is idle
        assert edge.calls == edge.expected[:3]
        run_id = run.run_id
        datastore = run.db.get_datastore_for_provider(provider)
        assert datastore.get_run(run_id)["hit_type_id"] == "HITTYPE1"
    edge.assert_all_calls_made()
    assert edge.polls == []  # no HIT was ever live with a worker on it
    getter = "sandbox" if provider == "mturk_sandbox" else "live"
    assert edge.requesters_asked and set(edge.requesters_asked) == {(getter, REQUESTER)}  # profile "alice"
    db = open_database(data_dir)
    assert sorted(u.db_status for u in db.find_units(task_run_id=run_id)) == ["expired", "expired"]


# --- approve / reject / block / soft-block after simulated MTurk workers -------------------------


def three_mturk_sandbox_units(data_dir: Path, edge: MTurkEdge, port: int) -> tuple[dict[str, str], int]:
    """A smoke run on the MTurk sandbox whose run phase is asserted call by call: W1 submits HIT1 and HIT3, W2
    HIT2; every unit ends completed. Returns MTurk assignment id -> Mephisto unit id, and how many HIT status
    polls the run made (reviewing must add none). The run keeps out holders of `humaneval_soft_block`."""
    provider = "mturk_sandbox"
    overrides = ("humaneval.prompts=[one,two,three]", "mephisto.blueprint.block_qualification=humaneval_soft_block")
    # The run keeps out holders of the soft-block qualification: Mephisto finds or creates its MTurk
    # twin (named with _sandbox on the sandbox) and makes the HIT type exclude it.
    qual = "humaneval_soft_block_sandbox"
    listing = {"Query": qual, "MustBeRequestable": True}
    edge.expect("ListQualificationTypes", {**listing, "MustBeOwnedByCaller": True}, {"QualificationTypes": [], "NumResults": 0})
    edge.expect("ListQualificationTypes", {**listing, "MustBeOwnedByCaller": False}, {"QualificationTypes": [], "NumResults": 0})
    edge.expect(
        "CreateQualificationType",
        {"Name": qual, "Description": f"Equivalent qualification for {qual}.", "QualificationTypeStatus": "Active"},
        {"QualificationType": {"QualificationTypeId": "QUAL1", "Name": qual}},
    )
    edge.expect(
        "CreateHITType",
        {
            "AutoApprovalDelayInSeconds": ONE_WEEK,
            **SMOKE,
            "QualificationRequirements": [
                {"QualificationTypeId": "QUAL1", "Comparator": "DoesNotExist", "ActionsGuarded": "DiscoverPreviewAndAccept"}
            ],
        },
        {"HITTypeId": "HITTYPE1"},
    )
    for hit_id in ("HIT1", "HIT2", "HIT3"):
        edge.expect(
            "CreateHITWithHITType",
            {"HITTypeId": "HITTYPE1", "MaxAssignments": 1, "LifetimeInSeconds": THIRTY_ONE_DAYS,
             "Question": external_question(f"localhost:{port}")},
            {"HIT": {"HITId": hit_id, "HITTypeId": "HITTYPE1"}},
        )

    # MTurk worker id, HIT, MTurk assignment id: W1 takes two HITs, one after the other.
    visits = [("W1", "HIT1", "ASSIGN1"), ("W2", "HIT2", "ASSIGN2"), ("W1", "HIT3", "ASSIGN3")]
    unit_of: dict[str, str] = {}  # MTurk assignment id -> Mephisto unit id
    errors: list[BaseException] = []

    with launch(data_dir, provider, port, overrides) as run:
        db = run.db
        assert run.wait_until(lambda: len(edge.calls) >= len(edge.expected), timeout=20), edge.calls

        def work() -> None:
            try:
                for worker_name, hit_id, assignment_id in visits:
                    worker = SimulatedWorker(run.base_url, worker_name, provider_type=provider)
                    # The worker accepts the HIT on MTurk first; then MTurk loads our page in its frame.
                    edge.hit_states[hit_id] = "Unassignable"
                    session = request_as_mturk_worker(worker, hit_id, assignment_id)
                    assert session.agent_id is not None, session.failure_reason
                    worker.submit_task(session.agent_id, {"answer": f"{worker_name} on {hit_id}"})
                    deadline = time.monotonic() + 20
                    while db.get_agent(session.agent_id)["status"] != "completed":
                        assert time.monotonic() < deadline, "submission never reached Mephisto"
                        time.sleep(0.05)
                    edge.hit_states[hit_id] = "Reviewable"  # MTurk: the form was posted to externalSubmit
                    unit_id = str(db.get_agent(session.agent_id)["unit_id"])
                    unit_of[assignment_id] = unit_id
                    # Mephisto holds the unit "assigned" (and the worker at allowed_concurrent=1) until
                    # its next GetHIT poll sees the HIT reviewable.
                    while db.get_unit(unit_id)["status"] != "completed":
                        assert time.monotonic() < deadline, "Mephisto never saw the HIT submitted"
                        time.sleep(0.05)
            except BaseException as err:  # reported on the main thread
                errors.append(err)

        worker_thread = threading.Thread(target=work)
        worker_thread.start()
        finished = run.wait_until(lambda: run.is_done() or not worker_thread.is_alive() and bool(errors), timeout=60)
        worker_thread.join(10)
        assert not errors, errors
        assert finished, [(u.db_id, u.db_status) for u in db.find_units(task_run_id=run.run_id)]
    # The run phase: qualification + HIT type + 3 HITs, nothing at shutdown (every unit was completed), and the status
    # polls only ever asked about HITs a worker had taken, last seeing them submitted.
    edge.assert_all_calls_made()
    assert {hit for hit, _ in edge.polls} <= {"HIT1", "HIT2", "HIT3"}
    assert {hit for hit, status in edge.polls if status == "Reviewable"} == {"HIT1", "HIT2", "HIT3"}
    assert all(status != "Assignable" for _, status in edge.polls)
    return unit_of, len(edge.polls)


@pytest.mark.integration
def test_review_approves_rejects_blocks_and_soft_blocks_mturk_sandbox_work(
    aws_sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    provider = "mturk_sandbox"
    data_dir = aws_sandbox / "mephisto"
    register_requester(open_database(data_dir), provider, REQUESTER, AwsKeys(KEY_ID, SECRET))
    edge = make_edge(monkeypatch, provider)
    unit_of, polls_during_run = three_mturk_sandbox_units(data_dir, edge, free_port())
    qual = "humaneval_soft_block_sandbox"

    # The review phase: exactly these calls, in this order, with these parameters.
    edge.calls.clear()
    edge.expected.clear()
    edge.expect("ApproveAssignment", {"AssignmentId": "ASSIGN1", "OverrideRejection": True}, {})
    edge.expect("RejectAssignment", {"AssignmentId": "ASSIGN2", "RequesterFeedback": "answer is empty"}, {})
    edge.expect_error(
        "ApproveAssignment", {"AssignmentId": "ASSIGN3", "OverrideRejection": True},
        "RequestError", "This operation can be called with a status of: Submitted",
    )
    edge.expect("CreateWorkerBlock", {"WorkerId": "W2", "Reason": "copied answers"}, {})
    # The soft block grants the very qualification the HIT type excludes.
    edge.expect(
        "AssociateQualificationWithWorker",
        {"QualificationTypeId": "QUAL1", "WorkerId": "W2", "IntegerValue": 1, "SendNotification": False},
        {},
    )
    common = ["--task-name", "humaneval-smoke", "--data-dir", str(data_dir)]
    capsys.readouterr()

    assert review_main(["list", *common]) == 0
    listed = capsys.readouterr().out
    for unit_id in unit_of.values():
        assert re.search(rf"^\s*{unit_id}\s+\d+\s+mturk_sandbox\s+W[12]_sandbox\s+completed\s+completed$", listed, re.M), listed

    assert review_main(["approve", *common, "--unit", unit_of["ASSIGN1"]]) == 0
    out = capsys.readouterr().out
    assert f"approved unit {unit_of['ASSIGN1']} (worker W1_sandbox, mturk_sandbox): unit now accepted" in out
    assert "MTurk assignment ASSIGN1" in out

    assert review_main(["reject", *common, "--worker", "W2", "--reason", "answer is empty"]) == 0
    out = capsys.readouterr().out
    assert f"rejected unit {unit_of['ASSIGN2']} (worker W2_sandbox, mturk_sandbox): unit now rejected" in out

    # MTurk refuses (e.g. already auto-approved): Mephisto only logs that, we report it and exit 1.
    assert review_main(["approve", *common, "--unit", unit_of["ASSIGN3"]]) == 1
    out = capsys.readouterr().out
    assert f"FAILED to approve unit {unit_of['ASSIGN3']}" in out and "RequestError" in out
    assert "1 of 1 action(s) failed" in out

    assert review_main(["block", *common, "--worker", "W2_sandbox", "--reason", "copied answers"]) == 0
    assert "blocked worker W2_sandbox (mturk_sandbox): blocked on MTurk with reason 'copied answers'" in capsys.readouterr().out

    assert review_main(["soft-block", *common, "--worker", "W2"]) == 0
    out = capsys.readouterr().out
    assert (
        "soft-blocked worker W2_sandbox (mturk_sandbox): qualification 'humaneval_soft_block' granted; "
        "runs 1 of 'humaneval-smoke' check it"
    ) in out

    edge.assert_all_calls_made()
    assert len(edge.polls) == polls_during_run  # reviewing never polls HITs
    assert {getter for getter, _ in edge.requesters_asked} == {"sandbox"}
    assert {name for _, name in edge.requesters_asked} == {REQUESTER}

    db = open_database(data_dir)
    status = {a: db.get_unit(u)["status"] for a, u in unit_of.items()}
    assert status == {"ASSIGN1": "accepted", "ASSIGN2": "rejected", "ASSIGN3": "accepted"}  # Mephisto marks it anyway
    qualification = db.find_qualifications("humaneval_soft_block")[0]
    holders = {db.get_worker(g.worker_id)["worker_name"] for g in db.check_granted_qualifications(qualification.db_id)}
    assert holders == {"W2_sandbox"}
    mapping = db.get_datastore_for_provider(provider).get_qualification_mapping(qual)
    assert mapping["mturk_qualification_id"] == "QUAL1"


# --- the requester's balance ---------------------------------------------------------------------


def test_balance_asks_mturk_for_the_requesters_available_balance(
    aws_sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = aws_sandbox / "mephisto"
    register_requester(open_database(data_dir), "mturk", REQUESTER, AwsKeys(KEY_ID, SECRET))
    edge = make_edge(monkeypatch, "mturk")
    edge.expect("GetAccountBalance", {}, {"AvailableBalance": "1234.50"})
    assert review_main(["balance", "--provider", "mturk", "--name", REQUESTER, "--data-dir", str(data_dir)]) == 0
    assert "mturk requester 'alice': available balance $1,234.50" in capsys.readouterr().out
    edge.assert_all_calls_made()
    assert edge.requesters_asked == [("live", REQUESTER)]


# --- registering a requester ---------------------------------------------------------------------


def test_register_requester_writes_a_private_profile_and_the_db_row_and_never_shows_the_secret(
    aws_sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    data_dir = aws_sandbox / "mephisto"
    credentials = aws_sandbox / "aws" / "credentials"
    credentials.parent.mkdir()
    credentials.write_text("[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = keepme\n")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)

    assert register_main(["--provider", "mturk_sandbox", "--name", REQUESTER, "--data-dir", str(data_dir)]) == 0
    assert register_main(["--provider", "mturk", "--name", REQUESTER, "--data-dir", str(data_dir)]) == 0
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET + "ROTATED")  # registering again replaces the keys
    assert register_main(["--provider", "mturk_sandbox", "--name", REQUESTER, "--data-dir", str(data_dir)]) == 0
    out, err = capsys.readouterr()

    # The file: private, our profile with the latest keys, the other profile untouched.
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    parser = configparser.ConfigParser()
    parser.read(credentials)
    assert parser["alice"]["aws_access_key_id"] == KEY_ID
    assert parser["alice"]["aws_secret_access_key"] == SECRET + "ROTATED"
    assert dict(parser["other"]) == {"aws_access_key_id": "AKIAOTHER", "aws_secret_access_key": "keepme"}
    session_keys = boto3.Session(profile_name="alice").get_credentials()  # what Mephisto's session will read
    assert (session_keys.access_key, session_keys.secret_key) == (KEY_ID, SECRET + "ROTATED")

    # The database: the sandbox row carries Mephisto's suffix, the live one does not; re-registering reuses the row.
    db = open_database(data_dir)
    rows = sorted((r.requester_name, r.provider_type) for r in db.find_requesters())
    assert rows == [("alice", "mturk"), ("alice_sandbox", "mturk_sandbox")]
    assert "created" in out and "already existed; keys replaced" in out
    assert f"written to {credentials} with mode 0600" in out
    assert "mephisto.provider.requester_name=alice" in out

    # The secret (and the full key id) appear nowhere: stdout, stderr, log records, the database.
    shown = out + err + "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    for secret in (SECRET, SECRET + "ROTATED"):  # not even a fragment of it
        assert not [secret[i : i + 8] for i in range(len(secret) - 7) if secret[i : i + 8] in shown]
    assert KEY_ID not in shown
    assert SECRET.encode() not in (data_dir / "database.db").read_bytes()
    assert KEY_ID[-4:] in out  # enough to tell keys apart


def test_register_requester_without_keys_or_a_terminal_exits_2_saying_what_to_set(
    aws_sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setattr(sys, "stdin", io.StringIO())  # not a terminal: no prompt
    with pytest.raises(SystemExit) as exit_info:
        register_main(["--provider", "mturk_sandbox", "--name", REQUESTER, "--data-dir", str(aws_sandbox / "m")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "no AWS keys: set AWS_SECRET_ACCESS_KEY in the environment" in err
    assert not (aws_sandbox / "aws" / "credentials").exists()

    with pytest.raises(SystemExit) as exit_info:  # a live name Mephisto would mistake for a sandbox one
        register_main(["--provider", "mturk", "--name", "alice_sandbox", "--data-dir", str(aws_sandbox / "m")])
    assert exit_info.value.code == 2



def test_register_requester_prompts_for_the_secret_without_echo_in_a_terminal(
    aws_sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from humaneval.crowd import cli_register_requester

    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    prompts: list[str] = []
    monkeypatch.setattr("builtins.input", lambda prompt: prompts.append(prompt) or KEY_ID)
    monkeypatch.setattr(cli_register_requester.getpass, "getpass", lambda prompt: prompts.append(prompt) or SECRET)
    keys = cli_register_requester.read_keys(interactive=True)
    assert (keys.access_key_id, keys.secret_access_key) == (KEY_ID, SECRET)
    assert prompts == ["AWS access key id: ", "AWS secret access key (not shown): "]  # the secret via getpass
    assert SECRET not in repr(keys)  # AwsKeys keeps the secret out of its repr (and so out of logs)
    assert capsys.readouterr().out == ""
