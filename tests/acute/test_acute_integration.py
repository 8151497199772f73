"""ACUTE end to end with the real local architect and node router and simulated workers: 4 models,
6 pairs per model pair, 2 judgements per pair, 5 comparisons per unit, 1 onboarding pair; a worker
who fails onboarding, one who walks away mid-unit, and a block-listed one. Then the export and the
analysis read the result."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import requests

from humaneval.acute.bundled_data import DEFAULT_ONBOARDING_PATH
from humaneval.acute.task import build_task
from humaneval.crowd.data_dir import open_database
from humaneval.crowd.export import export_to_file
from humaneval.studies import all_exports
from humaneval.crowd.launcher import LaunchSettings, LocalLaunch
from humaneval.crowd.simulated_worker import AgentSession, SimulatedWorker
from humaneval.jsonl import write_jsonl
from mephisto.operations.datatypes import WorkerFailureReasons
from tests.acute.test_work_queue import study_pairings

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
NOT_QUALIFIED = WorkerFailureReasons.NOT_QUALIFIED
JUDGEMENT_KEYS = {"task", "run_id", "unit_id", "worker_id", "pair_id", "model_a", "model_b", "left", "winner", "reason",
                  "question", "is_onboarding", "onboarding_passed", "dialogue_ids", "started_at", "submitted_at"}


def study_files(tmp_path: Path, **kwargs: Any) -> tuple[Path, Path, dict[str, dict[str, Any]]]:
    """The study's pairings file and a one-pair onboarding file (the first bundled pair)."""
    pairs = study_pairings(tmp_path, **kwargs)
    pairings = tmp_path / "pairings.jsonl"
    write_jsonl(pairings, pairs)
    onboarding = tmp_path / "onboarding.jsonl"
    onboarding.write_text(DEFAULT_ONBOARDING_PATH.read_text().splitlines()[0] + "\n")
    return pairings, onboarding, {p["pair_id"]: p for p in pairs}


def onboarding_answers(session: AgentSession, *, correct: bool) -> dict[str, Any]:
    """Answer the onboarding page as a careful (or careless) worker: the good speaker is the one whose
    turns are not all "I don't know"."""
    judgements = []
    for comparison in session.init_task_data["comparisons"]:
        dull = [all("know" in t["text"].lower() for t in c["turns"] if t["role"] == "evaluated")
                for c in comparison["conversations"]]
        good_side = "right" if dull[0] else "left"
        side = good_side if correct else ("left" if good_side == "right" else "right")
        judgements.append({"pair_id": comparison["pair_id"], "choice": side, "reason": "the other one never answers",
                           "started_at": time.time() - 3, "submitted_at": time.time()})
    return {"judgements": judgements}


def unit_answers(session: AgentSession) -> dict[str, Any]:
    """Judge every comparison: prefer the longer conversation (any deterministic rule will do)."""
    judgements = []
    for comparison in session.init_task_data["comparisons"]:
        assert "models" not in comparison and "dialogue_ids" not in comparison  # the page is blind
        lengths = [sum(len(t["text"]) for t in c["turns"]) for c in comparison["conversations"]]
        judgements.append({"pair_id": comparison["pair_id"], "choice": "left" if lengths[0] >= lengths[1] else "right",
                           "reason": f"reason of {comparison['pair_id']}", "started_at": time.time() - 5,
                           "submitted_at": time.time()})
    return {"judgements": judgements}


class Crowd:
    """Simulated workers on their own thread while the test thread drives Mephisto's loop."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.sessions: dict[str, list[AgentSession]] = defaultdict(list)  # worker -> units received
        self.failures: dict[str, list[str]] = defaultdict(list)

    def take_unit(self, name: str, *, onboarding_correct: bool = True) -> AgentSession | None:
        worker = SimulatedWorker(self.base_url, name)
        session = worker.request_agent()
        if session.is_onboarding:
            session = worker.submit_onboarding(session.agent_id, onboarding_answers(session, correct=onboarding_correct))
        if session.agent_id is None:
            self.failures[name].append(session.failure_reason or "")
            return None
        self.sessions[name].append(session)
        return session

    def work(self, name: str, *, onboarding_correct: bool = True) -> bool:
        session = self.take_unit(name, onboarding_correct=onboarding_correct)
        if session is None:
            return False
        SimulatedWorker(self.base_url, name).submit_task(session.agent_id, unit_answers(session))
        return True


def test_acute_study_end_to_end(tmp_path: Path) -> None:
    pairings, onboarding, pairs = study_files(tmp_path)
    block_list = tmp_path / "blocked.txt"
    block_list.write_text("# never again\nblocked_worker\n")
    data_dir = tmp_path / "mephisto"
    cfg, state = build_task([
        f"humaneval.data_dir={data_dir}",
        f"mephisto.blueprint.pairings_file={pairings}",
        f"mephisto.blueprint.onboarding_file={onboarding}",
        f"mephisto.blueprint.block_list_files=[{block_list}]",
        "mephisto.blueprint.annotations_per_pair=2",
        "mephisto.blueprint.subtasks_per_unit=5",
        "mephisto.task.task_name=acute-it",
        "mephisto.task.assignment_duration_in_seconds=6",
    ])
    ghost_pairs: list[str] = []
    with LocalLaunch(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        crowd = Crowd(run.base_url)

        def scenario() -> None:
            try:
                ghost = None
                deadline = time.monotonic() + 20
                while ghost is None and time.monotonic() < deadline:  # units are offered within a second or two
                    ghost = crowd.take_unit("ghost")  # takes a unit and disappears
                    time.sleep(0.2)
                assert ghost is not None, crowd.failures["ghost"]
                ghost_pairs.extend(c["pair_id"] for c in ghost.init_task_data["comparisons"])
                assert not crowd.work("careless", onboarding_correct=False)  # fails onboarding
                assert crowd.failures["careless"] == [NOT_QUALIFIED]
                assert not crowd.work("careless")  # and stays out
                assert not crowd.work("blocked_worker")
                # Workers come back for more until they have seen too much; then newcomers are needed.
                names = [f"worker{i}" for i in range(6)]
                idle_since = time.monotonic()
                while not crowd.stop.is_set():
                    if any([crowd.work(name) for name in names]):
                        idle_since = time.monotonic()
                        continue
                    if time.monotonic() - idle_since > 40:
                        live = run.operator.get_running_task_runs().get(run.run_id)
                        queue = live.blueprint.queue if live else None
                        raise AssertionError(
                            f"no unit for anybody for 40 s: {run.task_run.get_assignment_statuses()}, missing "
                            f"{queue and queue.missing()}, unreserved {queue and queue.unreserved()}, held "
                            f"{queue and queue.held()}, last failures {[v[-1] for v in crowd.failures.values()][-3:]}, "
                            f"judged by {queue and queue.answers_by_item()}")
                    if len(names) < 20:
                        names.append(f"worker{len(names)}")
                    time.sleep(0.5)
            except requests.ConnectionError:
                pass  # the run ended and its router is gone (checked below)
            except BaseException as err:
                crowd.errors.append(err)

        thread = threading.Thread(target=scenario, daemon=True)
        thread.start()
        finished = run.wait_until(lambda: run.is_done() or bool(crowd.errors), timeout=150)
        crowd.stop.set()
        thread.join(30)
        assert not crowd.errors, crowd.errors
        assert finished, run.task_run.get_assignment_statuses()

        db = open_database(data_dir)
        careless = db.find_workers(worker_name="careless_sandbox")[0]
        assert careless.get_granted_qualification("acute-it_soft_block") is not None
        assert careless.is_disqualified("acute_eval_onboarded")

    out = tmp_path / "judgements.jsonl"
    export_to_file(open_database(data_dir), "acute-it", out, all_exports())
    records = [json.loads(line) for line in out.read_text().splitlines()]
    for record in records:
        assert JUDGEMENT_KEYS <= set(record), JUDGEMENT_KEYS - set(record)
        assert record["task"] == "acute" and record["run_id"] == "acute-it"
        assert record["question"] == "Who would you prefer to talk to for a long conversation?"
        assert record["submitted_at"] >= record["started_at"] > 0
        assert record["winner"] in (record["model_a"], record["model_b"]) and record["left"] in (record["model_a"], record["model_b"])

    judged = [r for r in records if not r["is_onboarding"]]
    onboarding_records = [r for r in records if r["is_onboarding"]]
    # Every pair: exactly 2 judgements from 2 different workers; nothing else.
    per_pair: dict[str, list[str]] = defaultdict(list)
    for r in judged:
        per_pair[r["pair_id"]].append(r["worker_id"])
        pair = pairs[r["pair_id"]]
        assert [r["model_a"], r["model_b"]] == pair["speakers_to_eval"] and r["dialogue_ids"] == pair["dialogue_ids"]
        assert r["onboarding_passed"] is True and r["reason"] == f"reason of {r['pair_id']}"
    assert set(per_pair) == set(pairs)
    assert all(len(ws) == 2 and len(set(ws)) == 2 for ws in per_pair.values()), per_pair
    assert len(judged) == 72
    # Each worker judged what the simulated page said, and never saw a conversation twice.
    submitted = {(f"{name}_sandbox", c["pair_id"]) for name, sessions in crowd.sessions.items() if name != "ghost"
                 for s in sessions for c in s.init_task_data["comparisons"]}
    assert {(r["worker_id"], r["pair_id"]) for r in judged} == submitted
    for worker in {r["worker_id"] for r in judged}:
        convs = [str(d) for r in judged if r["worker_id"] == worker for d in r["dialogue_ids"]]
        assert len(convs) == len(set(convs)), worker
    # The walk-away and the careless worker count for nothing; the ghost's pairs were finished by others.
    assert {"careless_sandbox", "ghost_sandbox", "blocked_worker_sandbox"}.isdisjoint(r["worker_id"] for r in judged)
    assert ghost_pairs and all(len(per_pair[p]) == 2 for p in ghost_pairs)
    assert "blocked_worker" not in crowd.sessions and crowd.failures["blocked_worker"]
    # Onboarding answers are exported, with their outcome.
    outcome = {r["worker_id"]: r["onboarding_passed"] for r in onboarding_records}
    assert outcome.pop("careless_sandbox") is False
    assert outcome.pop("ghost_sandbox") is True
    # Everyone who judged had passed; a newcomer may pass and then find all work taken (more so on a busy machine).
    assert set(outcome.values()) == {True} and {r["worker_id"] for r in judged} <= set(outcome)
    assert all(r["model_a"] == "good_speaker" for r in onboarding_records)
    # Left/right drawn per annotation: each pair was shown both ways round.
    sides = Counter((r["pair_id"], r["left"]) for r in judged)
    assert all(n == 1 for n in sides.values()) and len(sides) == 72

    # The export feeds the analysis as is.
    result = subprocess.run([sys.executable, "-m", "analysis", "acute", "--judgements", str(out), "--out",
                             str(tmp_path / "report")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary  # written
