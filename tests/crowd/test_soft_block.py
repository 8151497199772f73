"""Soft blocks without a live run: each task's YAML defaults to its own block qualification, review
falls back to the task's own, a soft block is announced once per worker with its reason, and the page
recognises exactly the sentence Mephisto's router sends a worker it refuses."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from omegaconf import OmegaConf

import humaneval.acute.task  # noqa: F401  (registers the acute_eval blueprint with Hydra)
import humaneval.bad_collection.task  # noqa: F401  (bad_chat)
import humaneval.safety_eval.task  # noqa: F401  (safety_annotation)
from humaneval.crowd.data_dir import open_database
from humaneval.crowd.review import TaskReview, default_block_qualification
from humaneval.crowd.task_config import compose_task_config
from humaneval.crowd.work_driven_units import WorkDrivenUnits
from mephisto.operations.datatypes import WorkerFailureReasons
from mephisto.utils.testing import get_mock_requester

REPO = Path(__file__).resolve().parents[2]
TASK_YAMLS = {"acute": "humaneval-acute", "safety": "humaneval-safety", "bad": "humaneval-bad"}


def test_default_block_qualification_is_per_task_name() -> None:
    assert default_block_qualification("humaneval-acute") == "humaneval-acute_soft_block"
    assert default_block_qualification("my-study") != default_block_qualification("my-other-study")


@pytest.mark.parametrize("config_name", sorted(TASK_YAMLS))
def test_each_task_yaml_defaults_to_its_own_qualification_and_can_share_one(config_name: str) -> None:
    """What Mephisto reads (and stores with the run, resolved) is the task's own name, following a
    renamed task; a fixed name shares it."""
    cfg = compose_task_config(config_name)
    assert cfg.mephisto.blueprint.block_qualification == default_block_qualification(TASK_YAMLS[config_name])
    renamed = compose_task_config(config_name, ["mephisto.task.task_name=pilot-2"])
    stored = OmegaConf.create(OmegaConf.to_yaml(renamed.mephisto, resolve=True))  # as Operator stores run args
    assert stored.blueprint.block_qualification == "pilot-2_soft_block"
    shared = compose_task_config(config_name, ["mephisto.blueprint.block_qualification=humaneval_soft_block"])
    assert shared.mephisto.blueprint.block_qualification == "humaneval_soft_block"


def test_review_soft_block_defaults_to_the_tasks_own_qualification(tmp_path: Path) -> None:
    """A task none of whose runs names a block qualification: review grants `<task>_soft_block`."""
    db = open_database(tmp_path / "mephisto")
    requester = get_mock_requester(db)
    task_id = db.new_task("pilot", "mock")
    db.new_task_run(task_id, requester.db_id, json.dumps(OmegaConf.to_yaml({"blueprint": {}})), "mock", "mock", True)
    assert TaskReview(db, "pilot").soft_block_qualification() == "pilot_soft_block"


class _Worker:
    def __init__(self, db_id: str, name: str) -> None:
        self.db_id, self.worker_name = db_id, name
        self.granted: list[tuple[str, int]] = []

    def grant_qualification(self, name: str, value: int = 1) -> bool:
        self.granted.append((name, value))
        return True


class _Blueprint(WorkDrivenUnits):
    def __init__(self) -> None:
        self.task_run = SimpleNamespace(get_task=lambda: SimpleNamespace(task_name="pilot"))  # type: ignore[assignment]
        self._init_work_driven_units(OmegaConf.create({"block_qualification": "pilot_soft_block", "block_list_files": []}))


def test_soft_block_grants_and_announces_once_per_worker(caplog: pytest.LogCaptureFixture) -> None:
    blueprint, ann, bob = _Blueprint(), _Worker("1", "ann_sandbox"), _Worker("2", "bob_sandbox")
    with caplog.at_level(logging.WARNING, logger="humaneval"):
        blueprint.soft_block(ann, "failed onboarding (1/4 right)")
        blueprint.soft_block(ann, "gold accuracy 1/3 below the threshold 0.75")  # a late unit: no second line
        blueprint.soft_block(bob, "failed the labelling quiz (3/6 right)")
    assert ann.granted == [("pilot_soft_block", 1)] and bob.granted == [("pilot_soft_block", 1)]
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "worker ann_sandbox soft-blocked from task pilot: failed onboarding (1/4 right)"),
        (logging.WARNING, "worker bob_sandbox soft-blocked from task pilot: failed the labelling quiz (3/6 right)"),
    ]


def test_soft_block_says_when_the_provider_refused_the_qualification(caplog: pytest.LogCaptureFixture) -> None:
    worker = _Worker("1", "ann")
    worker.grant_qualification = lambda name, value=1: False  # type: ignore[method-assign]  (MTurk refused)
    with caplog.at_level(logging.WARNING, logger="humaneval"):
        _Blueprint().soft_block(worker, "failed onboarding (0/4 right)")
    assert caplog.records[0].getMessage() == (
        "worker ann soft-blocked from task pilot: failed onboarding (0/4 right) "
        "(granted locally, but the crowd provider refused it: see the error above)")


def test_page_recognises_mephistos_not_qualified_sentence() -> None:
    """The page replaces Mephisto's refusal by matching its exact text: a Mephisto upgrade that rewords
    it must fail here, not silently bring the bare sentence back."""
    source = (REPO / "frontend/src/shared/blockedMessage.js").read_text(encoding="utf-8")
    found = re.search(r'export const MEPHISTO_NOT_QUALIFIED = "([^"]*)";', source)
    assert found is not None
    assert found.group(1) == WorkerFailureReasons.NOT_QUALIFIED
