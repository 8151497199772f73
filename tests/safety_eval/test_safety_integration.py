"""Safety annotation end to end with the real local architect and node router and simulated workers:
6 items, 2 per unit + 1 hidden gold item, 3 labels per item, onboarding on. A careless worker fails
onboarding; a "liar" passes onboarding and their first gold item, then fails the second: they are
soft-blocked, get no further unit, and every label of theirs is excluded in the export and collected
again from others. A relaunch resumes labels, gold statistics and exclusions from the database."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import requests

from humaneval.crowd.data_dir import open_database
from humaneval.crowd.export import export_to_file
from humaneval.studies import all_exports
from humaneval.crowd.launcher import LaunchSettings, LocalLaunch
from humaneval.crowd.simulated_worker import AgentSession, SimulatedWorker
from humaneval.jsonl import write_jsonl
from humaneval.safety_eval.blueprint import DEFAULT_GOLD_PATH, DEFAULT_ONBOARDING_PATH
from humaneval.safety_eval.task import build_task
from mephisto.operations.datatypes import WorkerFailureReasons
from tests.crowd.conftest import BackgroundRun, completed_units, wait_for

pytestmark = pytest.mark.integration

LABEL_KEYS = {"task", "run_id", "unit_id", "worker_id", "item_id", "model", "label", "is_gold", "gold_label", "reason",
              "started_at", "submitted_at", "excluded", "excluded_reason", "conversation_id", "annotation_index",
              "is_onboarding"}


def write_study(tmp_path: Path, n_items: int = 6, *, first_bot_text: str | None = None) -> tuple[Path, Path]:
    """task_data.jsonl + annotation_indices.jsonl (docs/formats.md, "Safety annotation task data") of `n_items` two-pair conversations
    from two models, the last bot reply annotated."""
    lines, indices = [], []
    for i in range(n_items):
        model = "model_a" if i % 2 == 0 else "model_b"
        reply = first_bot_text if (first_bot_text is not None and i == 0) else f"reply {i} of {model}"
        lines.append({"dialog": [[{"id": "human", "text": f"your persona: i like tea.\nhello {i}", "episode_done": False},
                                  {"id": "bot", "text": f"hi there {i}", "episode_done": False}],
                                 [{"id": "human", "text": f"question {i}?", "episode_done": False},
                                  {"id": "bot", "text": reply, "episode_done": True}]],
                      "model": model, "context_id": f"ctx{i}", "item_id": f"{model}:ctx{i}"})
        indices.append([3])
    task_data, indices_file = tmp_path / "task_data.jsonl", tmp_path / "annotation_indices.jsonl"
    write_jsonl(task_data, lines)
    write_jsonl(indices_file, indices)
    return task_data, indices_file


def known_answers(path: Path) -> dict[str, str]:
    """judged reply text -> gold label, read straight from a gold/onboarding file (what a worker who
    knows the answers would say)."""
    answers = {}
    for line in path.read_text().splitlines():
        item = json.loads(line)
        answers[item["dialog"][-1][1]["text"]] = item["gold_label"]
    return answers


GOLD = known_answers(DEFAULT_GOLD_PATH)
ONBOARDING = known_answers(DEFAULT_ONBOARDING_PATH)
WRONG = {"ok": "not_ok_most", "not_ok_most": "ok"}


def answers(session: AgentSession, known: dict[str, str], *, wrong_gold: bool = False) -> dict[str, Any]:
    labels = []
    for item in session.init_task_data["items"]:
        assert set(item) == {"slot", "turns"}  # no id, model or gold flag reaches the page
        judged = item["turns"][-1]
        assert judged["speaker"] == "THEM"
        label = known.get(judged["text"], "not_ok_some" if judged["text"].endswith("model_b") else "ok")
        if wrong_gold and judged["text"] in known:
            label = WRONG[label]
        labels.append({"slot": item["slot"], "label": label, "reason": f"because {judged['text']}",
                       "started_at": time.time() - 2, "submitted_at": time.time()})
    return {"labels": labels}


class Crowd:
    """Simulated workers on their own thread while the test thread drives Mephisto's loop."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.sessions: dict[str, list[AgentSession]] = defaultdict(list)
        self.failures: dict[str, list[str]] = defaultdict(list)

    def take_unit(self, name: str, *, onboarding_correct: bool = True) -> AgentSession | None:
        worker = SimulatedWorker(self.base_url, name)
        session = worker.request_agent()
        if session.is_onboarding:
            assert all(set(i) == {"slot", "turns"} for i in session.init_task_data["items"])
            session = worker.submit_onboarding(session.agent_id, answers(session, ONBOARDING, wrong_gold=not onboarding_correct))
        if session.agent_id is None:
            self.failures[name].append(session.failure_reason or "")
            return None
        self.sessions[name].append(session)
        return session

    def work(self, name: str, *, wrong_gold: bool = False, onboarding_correct: bool = True) -> bool:
        session = self.take_unit(name, onboarding_correct=onboarding_correct)
        if session is None:
            return False
        SimulatedWorker(self.base_url, name).submit_task(session.agent_id, answers(session, GOLD, wrong_gold=wrong_gold))
        return True


def test_safety_study_end_to_end(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="humaneval")
    task_data, indices = write_study(tmp_path)
    data_dir = tmp_path / "mephisto"
    cfg, state = build_task([
        f"humaneval.data_dir={data_dir}",
        f"mephisto.blueprint.task_data_file={task_data}",
        f"mephisto.blueprint.annotation_indices_file={indices}",
        "mephisto.blueprint.items_per_unit=2",
        "mephisto.blueprint.gold_per_unit=1",
        "mephisto.blueprint.gold_threshold=0.75",
        "mephisto.blueprint.gold_min_answers=2",
        "mephisto.task.task_name=safety-it",
        "mephisto.task.assignment_duration_in_seconds=10",
    ])
    with LocalLaunch(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        crowd = Crowd(run.base_url)
        blueprint = run.operator.get_running_task_runs()[run.run_id].blueprint

        def scenario() -> None:
            try:
                assert wait_for(lambda: run.task_run.get_assignment_statuses().get("launched", 0) > 0, 20)
                assert not crowd.work("careless", onboarding_correct=False)
                assert crowd.failures["careless"] == [WorkerFailureReasons.NOT_QUALIFIED]
                # The liar: first unit honest (1/1 gold right), second with the gold answer flipped.
                assert crowd.work("liar")
                assert wait_for(lambda: completed_units(run) == 1, 20)  # (Mephisto: one unit at a time)
                assert blueprint.queue.missing() == 18 - 2
                assert crowd.work("liar", wrong_gold=True)
                assert wait_for(lambda: completed_units(run) == 2, 20)
                liar_id = str(open_database(data_dir).find_workers(worker_name="liar_sandbox")[0].db_id)
                assert blueprint.is_excluded(liar_id)
                assert blueprint.queue.missing() == 18  # both units' labels revoked
                assert not crowd.work("liar")  # and no further unit although 2 items are new to them
                names = ["w0", "w1", "w2", "w3"]
                idle_since = time.monotonic()
                while not crowd.stop.is_set():
                    if any([crowd.work(name) for name in names]):
                        idle_since = time.monotonic()
                        continue
                    assert time.monotonic() - idle_since < 40, (
                        f"no unit for anybody for 40 s: {run.task_run.get_assignment_statuses()}, judged by "
                        f"{blueprint.queue.answers_by_item()}, held {blueprint.queue.held()}, last failures "
                        f"{ {k: v[-1] for k, v in crowd.failures.items()} }")
                    time.sleep(0.3)
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
        for name in ("careless", "liar"):
            assert db.find_workers(worker_name=f"{name}_sandbox")[0].get_granted_qualification("safety-it_soft_block")
        assert db.find_workers(worker_name="w0_sandbox")[0].get_granted_qualification("safety-it_soft_block") is None
    # The console says once per worker who was soft-blocked and why.
    blocked = [r.getMessage() for r in caplog.records if " soft-blocked from task " in r.getMessage()]
    assert sorted(blocked) == [
        "worker careless_sandbox soft-blocked from task safety-it: failed onboarding (0/4 right)",
        "worker liar_sandbox soft-blocked from task safety-it: gold accuracy 1/2 below the threshold 0.75",
    ], blocked

    out = tmp_path / "labels.jsonl"
    export_to_file(open_database(data_dir), "safety-it", out, all_exports())
    records = [json.loads(line) for line in out.read_text().splitlines()]
    for r in records:
        assert LABEL_KEYS <= set(r), LABEL_KEYS - set(r)
        assert r["task"] == "safety" and r["run_id"] == "safety-it"
        assert r["submitted_at"] >= r["started_at"] > 0
    onboarding = [r for r in records if r["is_onboarding"]]
    labels = [r for r in records if not r["is_onboarding"]]
    assert {(r["worker_id"], r["onboarding_passed"]) for r in onboarding} >= {("careless_sandbox", False), ("liar_sandbox", True)}
    assert len([r for r in onboarding if r["worker_id"] == "careless_sandbox"]) == 4  # every practice item exported

    # The liar: 2 units of 2 items + 1 gold each, all excluded with the reason; gold 1 right then 1 wrong.
    liar = [r for r in labels if r["worker_id"] == "liar_sandbox"]
    assert len(liar) == 6 and all(r["excluded"] for r in liar)
    assert {r["excluded_reason"] for r in liar} == {"gold accuracy 1/2 below the threshold 0.75"}
    assert sorted(r["gold_correct"] for r in liar if r["is_gold"]) == [False, True]
    # Everyone else is trusted; every item ends with 3 labels from 3 distinct trusted workers.
    kept = [r for r in labels if not r["excluded"]]
    assert all(r["excluded_reason"] is None and r["worker_id"] != "liar_sandbox" for r in kept)
    per_item: dict[str, list[str]] = defaultdict(list)
    for r in kept:
        if not r["is_gold"]:
            per_item[r["item_id"]].append(r["worker_id"])
    assert set(per_item) == {f"{m}:ctx{i}" for i, m in enumerate(["model_a", "model_b"] * 3)}
    assert all(len(ws) == 3 == len(set(ws)) for ws in per_item.values()), per_item
    assert {i for r in liar if not r["is_gold"] for i in [r["item_id"]]} <= set(per_item)
    for r in kept:
        if not r["is_gold"]:
            assert r["model"] == r["item_id"].split(":")[0] and r["annotation_index"] == 3
            assert r["conversation_id"] == r["item_id"].split(":")[1] and r["gold_label"] is None
            assert r["label"] == ("not_ok_some" if r["model"] == "model_b" else "ok")
    # One hidden gold item per unit, always answered right by the trusted workers.
    units = defaultdict(list)
    for r in kept:
        units[r["unit_id"]].append(r)
    assert all(sum(r["is_gold"] for r in u) == 1 and len(u) == 3 for u in units.values())
    assert all(r["gold_correct"] and r["model"] == "gold" for r in kept if r["is_gold"])
    assert len({r["position"] for r in kept if r["is_gold"]}) > 1  # gold is not always in the same place

    # The export is what the analysis reads: the excluded worker is left out, the rates follow the labels.
    report = tmp_path / "report"
    done = subprocess.run([sys.executable, "-m", "analysis", "safety", "--labels", str(out), "--out", str(report)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads((report / "summary.json").read_text())
    rates = {m["model"]: (m["n"], m["unsafe_rate"]) for m in summary["models"]}
    assert rates == {"model_a": (9, 0.0), "model_b": (9, 1.0)}
    assert "liar_sandbox" in json.dumps(summary["excluded_workers"])
    assert kept[0]["text"] and kept[0]["context"]  # what the worker read travels with the label


def test_relaunch_resumes_labels_gold_statistics_and_exclusions(tmp_path: Path) -> None:
    task_data, indices = write_study(tmp_path)
    data_dir = tmp_path / "mephisto"
    overrides = [f"humaneval.data_dir={data_dir}", f"mephisto.blueprint.task_data_file={task_data}",
                 f"mephisto.blueprint.annotation_indices_file={indices}", "mephisto.blueprint.items_per_unit=2",
                 "mephisto.blueprint.gold_min_answers=2", "mephisto.blueprint.onboarding_qualification=null",
                 "mephisto.task.task_name=safety-resume"]
    cfg, state = build_task(overrides)
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        crowd = Crowd(run.base_url)
        assert wait_for(lambda: run.task_run.get_assignment_statuses().get("launched", 0) > 0, 20)
        for name, wrong in (("liar", False), ("liar", True), ("honest", False)):
            assert wait_for(lambda: crowd.work(name, wrong_gold=wrong), 20), dict(crowd.failures)  # noqa: B023
        assert wait_for(lambda: completed_units(run) == 3, 20)
    cfg, state = build_task(overrides)
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        blueprint = run.operator.get_running_task_runs()[run.run_id].blueprint
        db = open_database(data_dir)
        liar, honest = (str(db.find_workers(worker_name=f"{n}_sandbox")[0].db_id) for n in ("liar", "honest"))
        assert blueprint.queue.missing() == 18 - 2  # only the honest unit counts
        assert blueprint.is_excluded(liar) and not blueprint.is_excluded(honest)
        assert (blueprint.quality.correct[liar], blueprint.quality.answered[liar]) == (1, 2)
        assert (blueprint.quality.correct[honest], blueprint.quality.answered[honest]) == (1, 1)
        crowd = Crowd(run.base_url)
        assert wait_for(lambda: crowd.work("honest"), 20), dict(crowd.failures)  # units are offered again
        assert not crowd.work("liar") and crowd.failures["liar"][-1] == WorkerFailureReasons.NOT_QUALIFIED

