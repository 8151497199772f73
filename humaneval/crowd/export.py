"""Finished units of a task → JSONL records (docs/formats.md, "Exports"), nothing lost, nothing partial.

Mephisto keeps each submission as `agent_data.json` under the run directory; the DataBrowser finds
them through the database. Every record carries the common fields (task, run_id, unit_id,
worker_id, started_at, submitted_at); each study says how its units become records in a
`StudyExport` for its blueprint type, declared next to its task (`humaneval.studies`). A task whose
blueprint type has none is refused with its type named, never exported as nothing; a task of one of
ParlAI's crowdsourcing blueprints is refused with the `python -m analysis import` command that reads its
results where Mephisto (or ParlAI) left them (`parlai_import_command`).
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from humaneval.input_errors import InputError
from humaneval.jsonl import write_jsonl
from humaneval.crowd.mephisto_api import AssignmentState, MephistoDB, Unit, Worker

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FinishedUnit:
    """One submitted unit with everything an exporter needs, independent of Mephisto's classes."""

    task_name: str
    task_run_id: str
    unit_id: str
    assignment_id: str
    worker_name: str
    mephisto_worker_id: str
    status: str
    inputs: Any
    outputs: Any
    started_at: float | None
    submitted_at: float | None

    def common_fields(self, task: str) -> dict[str, Any]:
        """The fields every exported record starts with (docs/formats.md, "Exports")."""
        return {
            "task": task,
            "run_id": self.task_name,
            "task_run_id": self.task_run_id,
            "unit_id": self.unit_id,
            "worker_id": self.worker_name,
            "started_at": self.started_at,
            "submitted_at": self.submitted_at,
        }


RecordBuilder = Callable[[FinishedUnit], Iterable[dict[str, Any]]]
# Records that need the whole task, not one unit (onboarding answers, a verdict over all of a worker's units).
TaskRecordSource = Callable[[MephistoDB, str], Iterable[dict[str, Any]]]


@dataclass(frozen=True)
class StudyExport:
    """How one study's tasks become records: per submitted unit, and (optionally) per task first."""

    blueprint_type: str
    unit_records: RecordBuilder
    task_records: TaskRecordSource | None = None


def raw_records(unit: FinishedUnit) -> Iterable[dict[str, Any]]:
    """For a task whose units need no reading (the smoke task): their inputs and outputs as submitted."""
    yield {**unit.common_fields("raw"), "status": unit.status, "inputs": unit.inputs, "outputs": unit.outputs}


def _task_named(db: MephistoDB, task_name: str) -> Any:
    tasks = db.find_tasks(task_name=task_name)
    if not tasks:
        known = ", ".join(sorted(t.task_name for t in db.find_tasks())) or "none"
        raise InputError(f"no task named '{task_name}' in {db.db_path} (tasks there: {known})", field="task_name")
    return tasks[0]


def finished_units(db: MephistoDB, task_name: str) -> Iterator[FinishedUnit]:
    """Every completed (or already reviewed) unit of every run of the task, oldest first."""
    task = _task_named(db, task_name)
    workers: dict[str, Worker] = {}
    for task_run in db.find_task_runs(task_id=task.db_id):
        for assignment in task_run.get_assignments():
            for unit in assignment.get_units():
                if unit.get_status() not in AssignmentState.completed():
                    continue
                yield _finished_unit(db, task_name, task_run.db_id, unit, workers)


def _finished_unit(db: MephistoDB, task_name: str, run_id: str, unit: Unit, workers: dict[str, Worker]) -> FinishedUnit:
    agent = unit.get_assigned_agent()
    assert agent is not None, f"completed unit {unit.db_id} has no agent"
    if agent.worker_id not in workers:
        workers[agent.worker_id] = Worker.get(db, agent.worker_id)
    data = agent.state.get_parsed_data() or {}
    return FinishedUnit(
        task_name=task_name,
        task_run_id=str(run_id),
        unit_id=str(unit.db_id),
        assignment_id=str(unit.assignment_id),
        worker_name=workers[agent.worker_id].worker_name,
        mephisto_worker_id=str(agent.worker_id),
        status=agent.get_status(),
        inputs=data.get("inputs"),
        outputs=data.get("outputs"),
        started_at=agent.state.get_task_start(),
        submitted_at=agent.state.get_task_end(),
    )


@dataclass(frozen=True)
class CheckedOnboarding:
    """One onboarding that the blueprint checked: its stored inputs carry `onboarding_passed`."""

    task_run_id: str
    agent_id: str
    worker_name: str
    inputs: dict[str, Any]
    outputs: Any
    started_at: float | None
    submitted_at: float | None

    def common_fields(self, task: str, run_id: str) -> dict[str, Any]:
        """The fields every exported record starts with, plus the onboarding outcome."""
        return {
            "task": task,
            "run_id": run_id,
            "task_run_id": self.task_run_id,
            "unit_id": self.agent_id,
            "worker_id": self.worker_name,
            "is_onboarding": True,
            "onboarding_passed": bool(self.inputs["onboarding_passed"]),
        }


def checked_onboardings(db: MephistoDB, task_name: str) -> Iterator[CheckedOnboarding]:
    """Every onboarding of the task (all runs) that was submitted and checked: their answers are
    exported too, because whether a worker passed decides which of their work counts."""
    workers: dict[str, str] = {}
    for task in db.find_tasks(task_name=task_name):
        for agent in db.find_onboarding_agents(task_id=task.db_id):
            data = agent.state.get_data()
            inputs = data.get("inputs") or {}
            if "onboarding_passed" not in inputs:
                continue  # never submitted, or not checked (the run stopped first)
            if agent.worker_id not in workers:
                workers[agent.worker_id] = Worker.get(db, agent.worker_id).worker_name
            yield CheckedOnboarding(
                task_run_id=str(agent.task_run_id),
                agent_id=agent.get_agent_id(),
                worker_name=workers[agent.worker_id],
                inputs=inputs,
                outputs=data.get("outputs"),
                started_at=agent.state.get_task_start(),
                submitted_at=agent.state.get_task_end(),
            )


@dataclass(frozen=True)
class ParlaiTask:
    """How to carry over the results of one of ParlAI's crowdsourcing blueprints."""

    source: str  # the `python -m analysis import` source that reads its results
    folder_option: str | None = None  # the blueprint option naming where ParlAI saved them, if not Mephisto's run folder
    signature: str | None = None  # a blueprint option only ParlAI's runs have, for a type name we share


#: blueprint types ParlAI registered for its crowdsourcing tasks. `acute_eval` is also our ACUTE task's type name:
#: ParlAI's runs are told apart by their `pairings_filepath` option (ours is `pairings_file`).
PARLAI_TASKS: dict[str, ParlaiTask] = {
    "acute_eval": ParlaiTask("parlai-acute", signature="pairings_filepath"),
    "fast_acute": ParlaiTask("parlai-acute"),
    "model_chat_blueprint": ParlaiTask("parlai-model-chat", folder_option="chat_data_folder"),
    "model_image_chat_blueprint": ParlaiTask("parlai-model-chat", folder_option="chat_data_folder"),
    "turn_annotations_static_blueprint": ParlaiTask("parlai-turn-annotations"),
    "turn_annotations_static_inflight_qa_blueprint": ParlaiTask("parlai-turn-annotations"),
}


def parlai_import_command(db: MephistoDB, task: Any) -> str | None:
    """The command that imports the results of a task run with one of ParlAI's blueprints, naming the folders
    its runs' data is in (Mephisto's `<db root>/data/runs/<project>/<run id>`, or the folder the run's
    ParlAI options name); None for any other task."""
    parlai = PARLAI_TASKS.get(task.task_type)
    if parlai is None:
        return None
    runs = db.find_task_runs(task_id=task.db_id)
    options = [run.args.get("blueprint", {}) for run in runs]
    if parlai.signature and not any(parlai.signature in blueprint for blueprint in options):
        return None
    runs_root = Path(db.db_root) / "data" / "runs"
    folders: list[str] = []
    for run, blueprint in zip(runs, options):
        saved = blueprint.get(parlai.folder_option) if parlai.folder_option else None
        here = [str(p) for p in sorted(runs_root.glob(f"*/{run.db_id}")) if p.is_dir()]
        for folder in [str(saved)] if saved else here or [str(runs_root / "NO_PROJECT" / str(run.db_id))]:
            if folder not in folders:
                folders.append(folder)
    ins = " ".join(shlex.quote(f) for f in folders) or shlex.quote(str(runs_root))
    return f"python -m analysis import {parlai.source} {ins} --out {shlex.quote(task.task_name + '.jsonl')}"


def export_records(db: MephistoDB, task_name: str, exports: Mapping[str, StudyExport]) -> Iterator[dict[str, Any]]:
    """All records of a task, built by the export of its blueprint type (`exports`: type -> export).

    Raises `InputError` for a task name the database does not hold, a task of one of ParlAI's blueprints
    (naming the command that imports its results instead) or a blueprint type with no export (e.g. a task
    run by another toolkit in the same data folder)."""
    task = _task_named(db, task_name)
    command = parlai_import_command(db, task)
    if command is not None:
        raise InputError(f"task '{task_name}' was run with ParlAI's '{task.task_type}' blueprint, whose units humaneval "
                         f"does not export; import its results with: {command}", field="task_name")
    study = exports.get(task.task_type)
    if study is None:
        raise InputError(f"task '{task_name}' was run with blueprint type '{task.task_type}', which humaneval cannot "
                         f"export (it exports {', '.join(sorted(exports))})", field="task_name")
    if study.task_records is not None:
        yield from study.task_records(db, task_name)
    for unit in finished_units(db, task_name):
        yield from study.unit_records(unit)


def export_to_file(db: MephistoDB, task_name: str, out: str | Path, exports: Mapping[str, StudyExport]) -> int:
    """Write every record atomically; return how many were written."""
    count = write_jsonl(out, export_records(db, task_name, exports))
    logger.info("exported %d record(s) of task '%s' to %s", count, task_name, out)
    return count
