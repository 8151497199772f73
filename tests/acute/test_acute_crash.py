"""`python -m humaneval.launch acute` is SIGKILLed mid-run (one unit submitted, one in a worker's
hands) and relaunched with the same task name: the study resumes, and the final export holds every
required judgement exactly once, the ones collected before the crash included."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import pytest
import requests

from humaneval.crowd.data_dir import open_database
from humaneval.crowd.export import export_records
from humaneval.studies import all_exports
from humaneval.crowd.simulated_worker import SimulatedWorker
from humaneval.jsonl import write_jsonl
from tests.acute.test_acute_integration import onboarding_answers, study_files, unit_answers
from tests.acute.test_work_queue import study_pairings
from tests.crowd.conftest import wait_for
from tests.crowd.test_launch_signals import LaunchProcess

pytestmark = pytest.mark.integration

TASK = "acute-crash"


def work_one_unit(base_url: str, name: str, *, submit: bool = True) -> list[str]:
    """Take one unit (onboarding first if needed); return its pair ids ([] if no unit was given)."""
    worker = SimulatedWorker(base_url, name)
    session = worker.request_agent()
    if session.is_onboarding:
        session = worker.submit_onboarding(session.agent_id, onboarding_answers(session, correct=True))
    if session.agent_id is None:
        return []
    if submit:
        worker.submit_task(session.agent_id, unit_answers(session))
    return [c["pair_id"] for c in session.init_task_data["comparisons"]]


def judged_records(data_dir: Path) -> list[dict]:
    try:
        return [r for r in export_records(open_database(data_dir), TASK, all_exports()) if not r["is_onboarding"]]
    except Exception:  # the task is not in the database yet
        return []


def test_killed_launch_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    _, onboarding, _ = study_files(tmp_path)
    pairs = study_pairings(tmp_path, pairs_per_model_pair=2)
    pairings = tmp_path / "pairings.jsonl"
    write_jsonl(pairings, pairs)
    data_dir = tmp_path / "mephisto"
    overrides = [f"mephisto.blueprint.pairings_file={pairings}",
                 f"mephisto.blueprint.onboarding_file={onboarding}", "mephisto.blueprint.annotations_per_pair=2",
                 "mephisto.blueprint.subtasks_per_unit=3", f"mephisto.task.task_name={TASK}"]

    first = LaunchProcess(data_dir, *overrides, task="acute")
    try:
        _, port = first.wait_for_router()
        base = f"http://localhost:{port}"
        assert wait_for(lambda: bool(work_one_unit(base, "alice")), timeout=30)
        assert work_one_unit(base, "bob")
        held = work_one_unit(base, "carol", submit=False)  # in carol's hands when the launcher dies
        assert held
        assert wait_for(lambda: len(judged_records(data_dir)) == 6, timeout=30)
        before = {(r["worker_id"], r["pair_id"]) for r in judged_records(data_dir)}
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(30)
    finally:
        first.stop()

    second = LaunchProcess(data_dir, *overrides, task="acute")
    try:
        _, port = second.wait_for_router()
        base = f"http://localhost:{port}"
        carol_again: list[str] = []
        names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
        deadline = time.monotonic() + 90
        while second.proc.poll() is None and time.monotonic() < deadline:
            for name in names:
                try:
                    got = work_one_unit(base, name)
                except requests.RequestException:
                    break  # the run is complete and its router going away (the process exit tells)
                if name == "carol":
                    carol_again += got
            time.sleep(0.3)
        try:
            code = second.proc.wait(60)
        except subprocess.TimeoutExpired:
            code = None
        judged_now = judged_records(data_dir)
        assert code == 0, (f"{len(judged_now)} judged, carol {carol_again}\n" + "".join(second.output))
    finally:
        second.stop()
    output = "".join(second.output)
    assert f"record(s) exported to {data_dir / 'exports' / (TASK + '.jsonl')}" in output

    records = [json.loads(line) for line in (data_dir / "exports" / f"{TASK}.jsonl").read_text().splitlines()]
    judged = [r for r in records if not r["is_onboarding"]]
    per_pair: dict[str, list[str]] = defaultdict(list)
    for r in judged:
        per_pair[r["pair_id"]].append(r["worker_id"])
    assert set(per_pair) == {p["pair_id"] for p in pairs}
    assert all(len(ws) == 2 and len(set(ws)) == 2 for ws in per_pair.values()), per_pair
    assert len(judged) == 2 * len(pairs)
    assert before <= {(r["worker_id"], r["pair_id"]) for r in judged}  # nothing collected before the crash lost
    assert not set(held) & set(carol_again)  # carol is never shown a pair twice
    # Onboarding is done once per worker, across the relaunch.
    onboarded = [r["worker_id"] for r in records if r["is_onboarding"]]
    assert len(onboarded) == len(set(onboarded))
