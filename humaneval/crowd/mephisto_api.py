"""The Mephisto names the studies build on, from one door.

Study packages (`humaneval.acute`, `safety_eval`, `bad_collection`) import Mephisto's classes from here,
never from `mephisto` itself: importing this module loads Mephisto through the compat layer first (it
lives in `humaneval.crowd`, whose `__init__` does that), so no study module needs an import-order
guard, and this file is the whole list of what the studies use of Mephisto's public API.
"""

from __future__ import annotations

from mephisto.abstractions.blueprint import AgentState, Blueprint, SharedTaskState
from mephisto.abstractions.blueprints.abstract.static_task.static_agent_state import StaticAgentState
from mephisto.abstractions.blueprints.abstract.static_task.static_blueprint import SharedStaticTaskState
from mephisto.abstractions.blueprints.abstract.static_task.static_task_runner import StaticTaskRunner
from mephisto.abstractions.blueprints.remote_procedure.remote_procedure_agent_state import RemoteProcedureAgentState
from mephisto.abstractions.blueprints.remote_procedure.remote_procedure_blueprint import (
    RemoteProcedureBlueprint,
    RemoteProcedureBlueprintArgs,
    SharedRemoteProcedureTaskState,
)
from mephisto.abstractions.blueprints.remote_procedure.remote_procedure_task_runner import RemoteProcedureTaskRunner
from mephisto.abstractions.blueprints.static_react_task.static_react_blueprint import (
    StaticReactBlueprint,
    StaticReactBlueprintArgs,
)
from mephisto.abstractions.database import MephistoDB
from mephisto.data_model.agent import Agent, OnboardingAgent
from mephisto.data_model.assignment import InitializationData
from mephisto.data_model.constants.assignment_state import AssignmentState
from mephisto.data_model.exceptions import AgentDisconnectedError
from mephisto.data_model.task_run import TaskRun
from mephisto.data_model.unit import Unit
from mephisto.data_model.worker import Worker
from mephisto.operations.registry import get_blueprint_from_type, register_mephisto_abstraction

__all__ = [
    "Agent", "AgentDisconnectedError", "AgentState", "AssignmentState", "Blueprint", "InitializationData", "MephistoDB", "OnboardingAgent",
    "RemoteProcedureAgentState", "RemoteProcedureBlueprint", "RemoteProcedureBlueprintArgs",
    "RemoteProcedureTaskRunner", "SharedRemoteProcedureTaskState", "SharedStaticTaskState", "SharedTaskState",
    "StaticAgentState", "StaticReactBlueprint", "StaticReactBlueprintArgs", "StaticTaskRunner", "TaskRun", "Unit",
    "Worker", "get_blueprint_from_type", "register_mephisto_abstraction",
]
