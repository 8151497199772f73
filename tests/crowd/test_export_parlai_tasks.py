"""ParlAI's own crowdsourcing tasks in a Mephisto data folder: `crowd export` refuses each by name (exit 2,
nothing written, never zero records) and names the `python -m analysis import` command and the folder
its results are in, so a lab migrating from ParlAI knows how to carry them over.

`parlai_unit` builds a real Mephisto database (Mephisto's own tables, through its LocalMephistoDB) holding
one submitted unit of a given blueprint type, with its agent_data.json where Mephisto keeps it; the
importer tests (tests/analysis/test_import_acute.py) use it too.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf

from humaneval.crowd.data_dir import open_database
from humaneval.crowd.export import PARLAI_TASKS
from mephisto.data_model.agent import Agent
from mephisto.utils.testing import get_mock_requester


@dataclass(frozen=True)
class ParlaiUnit:
    data_dir: Path
    run_dir: Path
    unit_file: Path
    unit_id: str
    task_run_id: str


def parlai_unit(data_dir: Path, task_type: str, state: dict[str, Any] | None, *, task_name: str = "parlai-task",
                worker: str = "MOCK_WORKER_0", status: str = "completed", blueprint: dict[str, Any] | None = None,
                meta: dict[str, Any] | None = None) -> ParlaiUnit:
    """A Mephisto data folder with one unit of `task_type` done by `worker`, its agent state `state` written
    as agent_data.json (and `meta` as agent_meta.json) in the agent's folder. Calling it again with the same
    folder adds another unit (another task name gives another task)."""
    db = open_database(data_dir)
    requester = get_mock_requester(db)
    found = db.find_tasks(task_name=task_name)
    task_id = found[0].db_id if found else db.new_task(task_name, task_type)
    run_id = db.new_task_run(task_id, requester.db_id, json.dumps(OmegaConf.to_yaml({"blueprint": blueprint or {}})),
                             "mock", task_type, True)
    assignment = db.new_assignment(task_id, run_id, requester.db_id, task_type, "mock", True)
    unit_id = db.new_unit(task_id, run_id, requester.db_id, assignment, 0, 1.0, "mock", task_type, True)
    workers = db.find_workers(worker_name=worker)
    worker_id = workers[0].db_id if workers else db.new_worker(worker, "mock")
    agent_id = db.new_agent(worker_id, unit_id, task_id, run_id, assignment, task_type, "mock")
    db.update_agent(agent_id, status=status)
    db.update_unit(unit_id, agent_id=agent_id, status=status if status == "completed" else "assigned")
    agent_dir = Path(Agent.get(db, agent_id).get_data_dir())
    agent_dir.mkdir(parents=True, exist_ok=True)
    if state is not None:
        (agent_dir / "agent_data.json").write_text(json.dumps(state, indent=2), encoding="utf-8")
    if meta is not None:
        (agent_dir / "agent_meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return ParlaiUnit(data_dir, agent_dir.parents[1], agent_dir / "agent_data.json", str(unit_id), str(run_id))


#: a submitted static unit as ParlAI's static tasks store it (a list of specs in, answers out)
STATIC_STATE = {"inputs": [{"pair_id": 0}], "outputs": {"final_data": [{"speakerChoice": "a", "textReason": "r"}]}}


#: each ParlAI blueprint's run options as ParlAI stores them (the parts the export looks at)
PARLAI_OPTIONS = {"acute_eval": {"pairings_filepath": "/lab/pairings.jsonl", "subtasks_per_unit": 5},
                  "fast_acute": {"pairings_filepath": "/lab/pairings.jsonl"},
                  "model_chat_blueprint": {"chat_data_folder": "placeholder"},
                  "model_image_chat_blueprint": {"chat_data_folder": "placeholder"},
                  "turn_annotations_static_blueprint": {"data_jsonl": "/lab/turns.jsonl"},
                  "turn_annotations_static_inflight_qa_blueprint": {"data_jsonl": "/lab/turns.jsonl"}}


@pytest.mark.parametrize("task_type", sorted(PARLAI_TASKS))
def test_each_parlai_task_is_refused_by_name_with_the_import_command(
        task_type: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from humaneval.cli_export import main

    chats = tmp_path / "model chats"  # a space: the command must stay one argument per folder
    options = {**PARLAI_OPTIONS[task_type], **({"chat_data_folder": str(chats)} if "chat_data_folder" in
                                                PARLAI_OPTIONS[task_type] else {})}
    unit = parlai_unit(tmp_path / "mephisto", task_type, STATIC_STATE, blueprint=options)
    out = tmp_path / "out.jsonl"
    with pytest.raises(SystemExit) as exit_info:
        main(["--task-name", "parlai-task", "--out", str(out), "--data-dir", str(tmp_path / "mephisto")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    source = PARLAI_TASKS[task_type].source
    folder = chats if "chat_data_folder" in options else unit.run_dir
    assert f"python -m analysis import {source} {shlex.quote(str(folder))} --out parlai-task.jsonl" in err
    assert f"with ParlAI's '{task_type}' blueprint" in err  # refused by its type's name
    assert not out.exists()


def test_the_command_names_every_run_of_the_task(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from humaneval.cli_export import main

    first = parlai_unit(tmp_path / "m", "fast_acute", STATIC_STATE)
    second = parlai_unit(tmp_path / "m", "fast_acute", STATIC_STATE)
    never_started = parlai_unit(tmp_path / "m", "fast_acute", None)  # a run with no unit data: its folder still named
    with pytest.raises(SystemExit):
        main(["--task-name", "parlai-task", "--out", str(tmp_path / "o.jsonl"), "--data-dir", str(tmp_path / "m")])
    assert f"parlai-acute {first.run_dir} {second.run_dir} {never_started.run_dir} --out" in capsys.readouterr().err


def test_a_parlai_acute_task_with_no_finished_unit_is_refused_not_exported_as_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """ParlAI's acute_eval shares our type name: its runs' `pairings_filepath` option tells it apart, so it is
    refused even before any unit was submitted (our own acute_eval tasks export as before)."""
    from humaneval.cli_export import main

    parlai_unit(tmp_path / "m", "acute_eval", None, status="returned", blueprint=PARLAI_OPTIONS["acute_eval"])
    parlai_unit(tmp_path / "m", "acute_eval", None, task_name="ours", status="returned",
                blueprint={"pairings_file": None, "subtasks_per_unit": 5})
    out = tmp_path / "o.jsonl"
    with pytest.raises(SystemExit):
        main(["--task-name", "parlai-task", "--out", str(out), "--data-dir", str(tmp_path / "m")])
    assert "import its results with: python -m analysis import parlai-acute" in capsys.readouterr().err
    assert not out.exists()
    assert main(["--task-name", "ours", "--out", str(out), "--data-dir", str(tmp_path / "m")]) == 0
    assert out.read_text() == ""  # our own task with nothing finished: nothing to export, and no ParlAI hint
