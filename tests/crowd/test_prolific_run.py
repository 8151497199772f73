"""A whole Prolific run against the fake Prolific API (tests/prolific_fake.py), with the real local
architect and node router: the study is created, published and grows with the units offered;
participants come with Prolific's URL parameters; one returns and their work goes to someone else; the
run's end stops the study; review approves one submission, rejects another with a category, pays a bonus
once, blocks a participant. Every call to Prolific is asserted, payloads included."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest

from humaneval.crowd.cli_review import main as review_main
from humaneval.crowd.data_dir import open_database
from humaneval.crowd.launcher import LaunchError, LaunchSettings, LocalLaunch
from humaneval.crowd.prolific.records import study_of_run
from humaneval.crowd.prolific.study import StudyKeeper
from humaneval.crowd.review import TaskReview
from humaneval.crowd.simulated_worker import SimulatedWorker
from humaneval.crowd.smoke_task import build_task
from tests.crowd.conftest import BackgroundRun, completed_units, wait_for
from tests.crowd.prolific_support import prolific_overrides, prolific_participant
from tests.prolific_fake import FakeProlific

pytestmark = pytest.mark.integration

REJECTION = ("Your answer does not address the question you were shown; the study asked for a city or a colour "
             "and the answer names neither.")





def _lifecycle(prolific: FakeProlific) -> list[str]:
    """The study calls, in order, without the reads."""
    ids = re.compile(r"^/(studies|workspaces)/[^/]+/")
    return [c.method + " " + ids.sub(r"/\1/ID/", c.path) for c in prolific.calls
            if c.method != "GET" and c.status < 400 and not c.path.startswith("/submissions/")]


def test_a_whole_prolific_run(tmp_path: Path, prolific: FakeProlific) -> None:
    cfg, state = build_task(prolific_overrides(tmp_path, prolific))
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=tmp_path / "mephisto")) as run:
        db = run.db
        assert db is not None
        # the smoke task offers its two units at once: published, then grown to two places
        assert wait_for(lambda: getattr(study_of_run(db, run.run_id), "places", 0) == 2, timeout=30)
        study = study_of_run(db, run.run_id)
        assert study is not None and study.published
        created = prolific.calls_to("POST", r"/studies/")[0].body
        assert created is not None
        code = study.completion_code
        assert re.fullmatch(r"[0-9A-F]{8}", code)
        assert created["completion_codes"] == [{"code": code, "code_type": "COMPLETED",
                                                "actions": [{"action": "MANUALLY_REVIEW"}]}]
        assert created["external_study_url"] == (f"{run.base_url}/?PROLIFIC_PID={{{{%PROLIFIC_PID%}}}}"
                                                 "&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}")
        assert created["prolific_id_option"] == "url_parameters"
        assert (created["reward"], created["estimated_completion_time"], created["total_available_places"]) == (50, 2, 1)
        assert created["name"] == "Answer one short question" and created["device_compatibility"] == ["desktop"]
        [block_filter] = created["filters"]
        assert block_filter["filter_id"] == "participant_group_blocklist"
        assert prolific.groups[block_filter["selected_values"][0]]["name"] == "humaneval-blocked"
        assert prolific.studies[study.study_id]["status"] == "ACTIVE"
        assert prolific.studies[study.study_id]["total_available_places"] == 2

        # participant A does the work and is redirected with the code
        session_a, worker_a = prolific_participant(run, prolific, study.study_id, "pidA")
        agent_a = worker_a.request_agent(assignment_id=session_a)
        assert agent_a.agent_id is not None, agent_a.failure_reason
        worker_a.submit_task(agent_a.agent_id, {"answer": "Lisbon"})
        prolific.participant_completes(session_a, code)

        # participant B takes the other unit and returns the study on Prolific: the unit goes back
        session_b, worker_b = prolific_participant(run, prolific, study.study_id, "pidB")
        agent_b = worker_b.request_agent(assignment_id=session_b)
        assert agent_b.agent_id is not None, agent_b.failure_reason
        with pytest.raises(ValueError, match="no place left"):
            prolific.participant_starts(study.study_id, "pidX")  # both places are taken
        prolific.participant_returns(session_b)
        assert wait_for(lambda: db.get_agent(agent_b.agent_id)["status"] == "returned", timeout=30)

        # C takes the freed place and the unit B returned
        session_c, worker_c = prolific_participant(run, prolific, study.study_id, "pidC")
        agent_c = worker_c.request_agent(assignment_id=session_c)
        assert agent_c.agent_id is not None, agent_c.failure_reason
        worker_c.submit_task(agent_c.agent_id, {"answer": "blue, no, wait"})
        prolific.participant_completes(session_c, code)
        assert wait_for(lambda: completed_units(run) == 2, timeout=60)
        assert wait_for(run.is_done, timeout=60)
    assert prolific.studies[study.study_id]["status"] == "COMPLETED" or any(
        c.path == f"/studies/{study.study_id}/transition/" and c.body == {"action": "STOP"} for c in prolific.calls)
    assert _lifecycle(prolific) == [
        "POST /workspaces/", "POST /workspaces/ID/projects/",  # the account had none: ours, once
        "POST /participant-groups/",  # the requester's block group, created once
        "POST /studies/",
        "POST /studies/ID/transition/",  # PUBLISH with the first unit
        "PATCH /studies/ID/",  # two places for the second
        "POST /studies/ID/transition/",  # STOP at the end of the run
    ]
    assert [c.body for c in prolific.calls if c.method != "GET" and c.status < 400 and "transition" in c.path] == [
        {"action": "PUBLISH"}, {"action": "STOP"}]
    assert [c.body for c in prolific.calls if c.method == "PATCH"] == [{"total_available_places": 2}]

    # review: approve A, reject C with a category; Prolific sees exactly those transitions
    db = open_database(tmp_path / "mephisto")
    review = TaskReview(db, "humaneval-smoke")
    assert not review.unfinished_runs()
    units = {u.worker_name: u for u in review.units()}
    assert set(units) == {"pidA", "pidC"}
    [approved] = review.approve([units["pidA"]])
    assert approved.ok, approved.describe()
    [rejected] = review.reject([units["pidC"]], REJECTION, category="LOW_EFFORT")
    assert rejected.ok, rejected.describe()
    transitions = [(c.path, c.body) for c in prolific.calls if c.method == "POST" and c.path.startswith("/submissions/")]
    assert transitions == [
        (f"/submissions/{session_a}/transition/", {"action": "APPROVE"}),
        (f"/submissions/{session_c}/transition/",
         {"action": "REJECT", "message": REJECTION, "rejection_category": "LOW_EFFORT"}),
    ]
    assert prolific.submissions[session_a]["status"] == "APPROVED"
    assert prolific.submissions[session_c]["status"] == "REJECTED"
    again = review.approve([units["pidA"]])
    assert again[0].skipped and len(prolific.calls_to("POST", r"/submissions/.*/transition/")) == 2  # paid once

    # a bonus for A: set up and paid once; asking again pays nothing
    bonus = ["bonus", "--task-name", "humaneval-smoke", "--data-dir", str(tmp_path / "mephisto"), "--worker", "pidA",
             "--amount", "1.50", "--reason", "Thank you for a careful answer"]
    assert review_main(bonus) == 0
    assert review_main(bonus) == 0
    [created] = [c.body for c in prolific.calls_to("POST", r"/submissions/bonus-payments/")]
    assert created == {"study_id": study.study_id, "csv_bonuses": "pidA,1.50\n"}
    assert len(prolific.calls_to("POST", r"/bulk-bonus-payments/[^/]+/pay/")) == 1
    assert prolific.paid_bonuses("pidA") == ["1.50"]

    # block C: into the requester's block group, which the next study of ours excludes
    [blocked] = review.block(["pidC"], "answered off-topic twice")
    assert blocked.ok, blocked.describe()
    assert "pidC" in prolific.groups[block_filter["selected_values"][0]]["participant_ids"]


def test_a_rejection_prolific_would_refuse_is_refused_before_any_call(tmp_path: Path, prolific: FakeProlific) -> None:
    cfg, state = build_task(prolific_overrides(tmp_path, prolific))
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=tmp_path / "mephisto")) as run:
        assert wait_for(lambda: getattr(study_of_run(run.db, run.run_id), "places", 0) == 2, timeout=30)
        study = study_of_run(run.db, run.run_id)
        session, worker = prolific_participant(run, prolific, study.study_id, "pidA")
        agent = worker.request_agent(assignment_id=session)
        worker.submit_task(agent.agent_id, {"answer": "Rome"})
        prolific.participant_completes(session, study.completion_code)
        assert wait_for(lambda: completed_units(run) == 1, timeout=60)
    review = TaskReview(open_database(tmp_path / "mephisto"), "humaneval-smoke")
    before = len(prolific.calls)
    with pytest.raises(Exception, match="100 characters"):
        review.reject(review.units(), "too short")
    with pytest.raises(Exception, match="category"):
        review.reject(review.units(), REJECTION, category="RUDE")
    assert len(prolific.calls) == before


def test_pages_with_forged_prolific_ids_get_no_unit_and_the_unit_stays_free(tmp_path: Path, prolific: FakeProlific) -> None:
    """Anyone can open the study URL and type ids. Markup as an id, a made-up session, someone else's session,
    a session of another study: none gets a unit (Prolific is asked before one is handed out), and the
    units are still there for the real participant."""
    cfg, state = build_task(prolific_overrides(tmp_path, prolific))
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=tmp_path / "mephisto")) as run:
        assert wait_for(lambda: getattr(study_of_run(run.db, run.run_id), "places", 0) == 2, timeout=30)
        study = study_of_run(run.db, run.run_id)
        victim_session = prolific.participant_starts(study.study_id, "pidVictim")
        other_study = prolific.calls_to("POST", r"/studies/")[0].body
        other = prolific.handle("POST", "/api/v1/studies/", {"Authorization": f"Token {prolific.token}"},
                                json.dumps({**other_study, "completion_codes": [{"code": "X", "code_type": "COMPLETED",
                                                                                 "actions": []}]}).encode())[1]["id"]
        prolific.handle("POST", f"/api/v1/studies/{other}/transition/", {"Authorization": f"Token {prolific.token}"},
                        b'{"action": "PUBLISH"}')
        other_session = prolific.participant_starts(other, "pidMallory")
        forged = [("<script>", "s1", study.study_id), ("pidMallory", "madeUpSession1", study.study_id),
                  ("pidMallory", victim_session, study.study_id), ("pidMallory", other_session, other),
                  ("pidMallory", other_session, study.study_id)]
        # a refused page waits out its 3 s for an answer: the five wait together
        answers = {attempt: _forged_page_load(run, *attempt) for attempt in forged}
        for thread in answers.values():
            thread.join(6)
        for attempt, thread in answers.items():
            assert not thread.is_alive() and not getattr(thread.answer, "agent_id", None), (attempt, thread.answer)
        assert not run.db.find_agents(task_run_id=run.run_id), run.db.find_agents(task_run_id=run.run_id)
        assert run.db.find_workers(worker_name="<script>") == []
        # both units are still free: the victim and another real participant each get one
        for pid, session in (("pidVictim", victim_session), ("pidReal", prolific.participant_starts(study.study_id, "pidReal"))):
            worker = SimulatedWorker(run.base_url, pid, provider_type="prolific", provider_extra={"study_id": study.study_id})
            agent = worker.request_agent(session)
            assert agent.agent_id is not None, agent.failure_reason
        assert len(run.db.find_agents(task_run_id=run.run_id)) == 2


class _PageLoad(threading.Thread):
    """A page asking for a unit on its own thread; `answer` is the session, or the error (the router answers
    nothing useful to a refused registration)."""

    def __init__(self, worker: SimulatedWorker, session: str) -> None:
        super().__init__(daemon=True)
        self.worker, self.session = worker, session
        self.answer: object = None

    def run(self) -> None:
        try:
            self.answer = self.worker.request_agent(self.session)
        except Exception as err:
            self.answer = err


def _forged_page_load(run: LocalLaunch, pid: str, session: str, study_id: str) -> _PageLoad:
    worker = SimulatedWorker(run.base_url, pid, provider_type="prolific", provider_extra={"study_id": study_id}, timeout=3)
    load = _PageLoad(worker, session)
    load.start()
    return load


def test_prolific_launch_below_the_pay_floor_is_refused_before_any_call(tmp_path: Path, prolific: FakeProlific) -> None:
    cfg, state = build_task(prolific_overrides(tmp_path, prolific, "mephisto.task.task_reward=0.1"))  # 0.10 per 2 min = £3.00/h
    before = len(prolific.calls)
    with pytest.raises(LaunchError, match=r"£3\.00/h"):
        with LocalLaunch(cfg, state, LaunchSettings(data_dir=tmp_path / "mephisto")):
            pass
    assert len(prolific.calls) == before and not prolific.studies


def test_a_relaunch_stops_the_study_a_killed_launcher_left_running(tmp_path: Path, prolific: FakeProlific,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """kill -9 skips the launcher's cleanup (played here by a STOP that does nothing): the next launch of the
    task stops the orphaned study before it creates its own."""
    cfg, state = build_task(prolific_overrides(tmp_path, prolific))
    with monkeypatch.context() as patch:
        patch.setattr(StudyKeeper, "stop", lambda self, client, task_run_id, attempts=3: False)
        with BackgroundRun(cfg, state, LaunchSettings(data_dir=tmp_path / "mephisto")) as run:
            assert wait_for(lambda: getattr(study_of_run(run.db, run.run_id), "places", 0) == 2, timeout=30)
            orphan = study_of_run(run.db, run.run_id).study_id
    assert prolific.studies[orphan]["status"] == "ACTIVE"
    cfg, state = build_task(prolific_overrides(tmp_path, prolific))
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=tmp_path / "mephisto")) as run:
        assert wait_for(lambda: study_of_run(run.db, run.run_id) is not None, timeout=30)
        assert prolific.studies[orphan]["status"] != "ACTIVE"
        assert [c.body for c in prolific.calls if c.path == f"/studies/{orphan}/transition/"][-1] == {"action": "STOP"}


def test_the_launch_cli_refuses_a_too_cheap_prolific_study_with_exit_2_and_the_rate(tmp_path: Path,
                                                                                      prolific: FakeProlific) -> None:
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "humaneval.launch", "smoke", *prolific_overrides(tmp_path, prolific, "mephisto.task.task_reward=0.1")],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HUMANEVAL_PROLIFIC_CREDENTIALS": str(tmp_path / "prolific_credentials")})
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: mephisto.task.task_reward: ") and "£3.00/h" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not prolific.studies and not prolific.calls_to("POST", r"/studies/")


def test_a_worker_soft_blocked_in_our_database_cannot_take_the_study(tmp_path: Path, prolific: FakeProlific) -> None:
    """Blocked before the launch (an earlier study's onboarding, `review soft-block`) or during it: either way
    the participant is in the study's blocklist group, so Prolific never lets them start."""
    db = open_database(tmp_path / "mephisto")
    from humaneval.crowd.prolific.worker import ProlificWorker
    from mephisto.utils.qualifications import find_or_create_qualification

    find_or_create_qualification(db, "smoke_soft_block")
    earlier = ProlificWorker.new(db, "pidEarlier")
    earlier.grant_qualification("smoke_soft_block", 1, skip_crowd=True)  # no group existed yet
    cfg, state = build_task(prolific_overrides(tmp_path, prolific, "mephisto.blueprint.block_qualification=smoke_soft_block"))
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=tmp_path / "mephisto")) as run:
        assert wait_for(lambda: getattr(study_of_run(run.db, run.run_id), "places", 0) == 2, timeout=30)
        study = study_of_run(run.db, run.run_id)
        with pytest.raises(ValueError, match="blocklist"):
            prolific.participant_starts(study.study_id, "pidEarlier")
        session, worker = prolific_participant(run, prolific, study.study_id, "pidLater")
        agent = worker.request_agent(assignment_id=session)
        assert agent.agent_id is not None, agent.failure_reason
        worker.submit_task(agent.agent_id, {"answer": "no idea"})
        assert wait_for(lambda: completed_units(run) == 1, timeout=30)
    [action] = TaskReview(open_database(tmp_path / "mephisto"), "humaneval-smoke").soft_block(["pidLater"], "smoke_soft_block")
    assert action.ok, action.describe()
    groups = {g["name"]: g for g in prolific.groups.values()}
    assert groups["smoke_soft_block"]["participant_ids"] == ["pidEarlier", "pidLater"]
    created = prolific.calls_to("POST", r"/studies/")[0].body
    assert {"filter_id": "participant_group_blocklist",
            "selected_values": [groups["humaneval-blocked"]["id"], groups["smoke_soft_block"]["id"]]} in created["filters"]


def _auth(prolific: FakeProlific) -> dict[str, str]:
    return {"Authorization": f"Token {prolific.token}"}


def test_prolific_down_at_publish_and_at_stop_costs_a_retry_not_the_run(tmp_path: Path, prolific: FakeProlific) -> None:
    """A 503 on PUBLISH (and on the places PATCH) leaves the units offered here; the run's watcher publishes
    and grows the study once Prolific answers. A 503 on STOP at the end is retried after reading the study."""
    prolific.fail_next("POST", r"/studies/[^/]+/transition/", 503, times=1)
    prolific.fail_next("PATCH", r"/studies/[^/]+/", 503, times=5)
    cfg, state = build_task(prolific_overrides(tmp_path, prolific))
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=tmp_path / "mephisto")) as run:
        assert wait_for(lambda: getattr(study_of_run(run.db, run.run_id), "places", 0) == 2, timeout=30)
        study = study_of_run(run.db, run.run_id)
        assert prolific.studies[study.study_id]["status"] == "ACTIVE"
        assert prolific.studies[study.study_id]["total_available_places"] == 2
        prolific.fail_next("POST", r"/studies/[^/]+/transition/", 503, times=1)
    assert prolific.studies[study.study_id]["status"] == "COMPLETED"
    assert study_of_run(open_database(tmp_path / "mephisto"), "1").stopped


def test_a_participant_arriving_the_moment_the_study_is_published_finds_the_unit(tmp_path: Path,
                                                                                  prolific: FakeProlific) -> None:
    """Publishing is the moment participants can come. The unit must already be offered here then, or the
    first participant is told there is no work (a CI flake of the bonus tests, whose fixture arrives as soon
    as the study is ACTIVE). The publish reply is held, so the run is caught between the two."""
    prolific.hold_after("POST", r"/studies/[^/]+/transition/")
    # the run's watcher would publish too, from its own thread: slowed, so the unit's launch publishes
    cfg, state = build_task(prolific_overrides(tmp_path, prolific, "mephisto.provider.poll_seconds=60"))
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=tmp_path / "mephisto")) as run:
        try:
            assert wait_for(lambda: any(s["status"] == "ACTIVE" for s in prolific.studies.values()), timeout=30)
            [study_id] = prolific.studies
            session, worker = prolific_participant(run, prolific, study_id, "pidFirst")
            agent = worker.request_agent(assignment_id=session)
            assert agent.agent_id is not None, agent.failure_reason
        finally:
            prolific.release()


def test_a_study_stopped_by_hand_on_prolific_blocks_no_relaunch(tmp_path: Path, prolific: FakeProlific) -> None:
    cfg, state = build_task(prolific_overrides(tmp_path, prolific))
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=tmp_path / "mephisto")) as run:
        assert wait_for(lambda: getattr(study_of_run(run.db, run.run_id), "places", 0) == 2, timeout=30)
        first = study_of_run(run.db, run.run_id).study_id
        prolific.handle("POST", f"/api/v1/studies/{first}/transition/", _auth(prolific), b'{"action": "STOP"}')
        assert wait_for(lambda: study_of_run(run.db, run.run_id).stopped, timeout=30)  # the watcher notices
    cfg, state = build_task(prolific_overrides(tmp_path, prolific))
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=tmp_path / "mephisto")) as run:
        assert wait_for(lambda: getattr(study_of_run(run.db, run.run_id), "places", 0) == 2, timeout=30)
        assert study_of_run(run.db, run.run_id).study_id != first


def test_a_code_typed_in_without_the_work_does_not_take_the_last_place(tmp_path: Path, prolific: FakeProlific,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """The completion code is visible to anyone who loads the page's config. A participant who enters it
    without working holds a place on Prolific until reviewed; the run adds a place, so the work still gets done,
    and `review list` names those submissions for rejection."""
    cfg, state = build_task(prolific_overrides(tmp_path, prolific))
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=tmp_path / "mephisto")) as run:
        assert wait_for(lambda: getattr(study_of_run(run.db, run.run_id), "places", 0) == 2, timeout=30)
        study = study_of_run(run.db, run.run_id)
        for pid in ("pidLazy1", "pidLazy2"):
            prolific.participant_completes(prolific.participant_starts(study.study_id, pid), study.completion_code)
        assert wait_for(lambda: prolific.studies[study.study_id]["total_available_places"] == 4, timeout=30)
        session, worker = prolific_participant(run, prolific, study.study_id, "pidWorker")
        agent = worker.request_agent(assignment_id=session)
        assert agent.agent_id is not None, agent.failure_reason
        worker.submit_task(agent.agent_id, {"answer": "Lisbon"})
        prolific.participant_completes(session, study.completion_code)
        assert wait_for(lambda: completed_units(run) == 1, timeout=30)
    # review list shows the two code-only submissions (Prolific would pay them after 21 days), not the real work
    assert review_main(["list", "--task-name", "humaneval-smoke", "--data-dir", str(tmp_path / "mephisto")]) == 0
    out = capsys.readouterr().out
    assert "Prolific: 2 submission(s) reached the completion URL with no work here" in out
    listed = [line.split()[1] for line in out.splitlines() if line.startswith("  participant ")]
    assert listed == ["pidLazy1", "pidLazy2"]
