"""The BAD collection blueprint (`bad_chat`): live chats with bots, one remote procedure per page request.

Built on Mephisto's RemoteProcedureBlueprint (each bot turn is a remote call into the model layer).
What it adds, and why (ParlAI's nearest task, live chat with per-turn checkboxes, is the baseline):

* **Several models with target counts** (`models: {name: conversations}`): the model of a unit is
  chosen when a worker takes it, by what each target still misses (`model_quota`), not just the first
  two models of a list; returned/expired/disconnected units give their slot back.
* **Units follow the work left** (`WorkDrivenUnits`, as ACUTE): one open unit per missing conversation.
* **Per-worker caps** (`max_conversations_per_worker`) and no model twice for a worker unless needed.
* **Onboarding**: a labelling quiz with known answers (`onboarding`); below the threshold the worker is
  soft-blocked. There is no offensive-language check on workers: adversarial messages are the point.
  Each label is checked as the worker gives it (procedure `check_practice_answer`: right or wrong, and
  why); the quiz is scored on the first label checked per item (`practice_checks`).
* **Block lists** (files of worker ids), as ACUTE.
* **Persistence**: the conversation is saved after every change (`agent_state`), so reloads and
  reconnects resume, and a relaunch rebuilds the counts from Mephisto's database.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Optional

from humaneval.bad_collection.agent_state import BadChatAgentState
from humaneval.bad_collection.bot_replies import SAFETY_MODES, BotReplies
from humaneval.bad_collection.bundled_data import DEFAULT_ONBOARDING_PATH, DEFAULT_PERSONAS_PATH
from humaneval.bad_collection.chat_record import COMPLETE, ChatRecord
from humaneval.bad_collection.message_checks import MessageLimits
from humaneval.bad_collection.model_access import check_models, open_model_client
from humaneval.bad_collection.model_quota import ModelQuota
from humaneval.bad_collection.onboarding import (
    OnboardingItem, load_onboarding, onboarding_page_data, practice_verdict, score_onboarding, shown_item,
)
from humaneval.bad_collection.personas import load_personas
from humaneval.bad_collection.session import BadChat
from humaneval.crowd.export import finished_units
from humaneval.crowd.page_folder import page_images_for
from humaneval.crowd.task_config import checked_image_bound
from humaneval.crowd.practice_checks import answer_practice_check, with_practice_token
from humaneval.crowd.mephisto_api import (
    InitializationData,
    RemoteProcedureBlueprint,
    RemoteProcedureBlueprintArgs,
    SharedRemoteProcedureTaskState,
    register_mephisto_abstraction,
)
from humaneval.crowd.work_driven_units import WorkDrivenUnits, WorkDrivenUnitsArgs, read_block_list
from humaneval.crowd.work_runner import RemoteProcedureWorkRunner
from humaneval.input_errors import InputError
from humaneval.models.client import ModelClient
from humaneval.practice_feedback import PracticeVerdict

if TYPE_CHECKING:
    from humaneval.crowd.mephisto_api import Agent, MephistoDB, OnboardingAgent, SharedTaskState, Worker

logger = logging.getLogger(__name__)

BLUEPRINT_TYPE_BAD = "bad_chat"
ECHO_FACTORY = "humaneval.bad_collection.echo_bot:build"
SUBMIT_RECORD_WAIT_S = 5.0
"""How long a submitted unit's conversation may take to show the submission (see `count_submission`)."""


@dataclass
class BadChatBlueprintArgs(WorkDrivenUnitsArgs, RemoteProcedureBlueprintArgs):
    """Bot-adversarial dialogue collection; every key is documented in task_configs/bad.yaml."""

    _blueprint_type: str = BLUEPRINT_TYPE_BAD
    _group: str = field(default="BadChatBlueprint", metadata={"help": "BAD collection: live adversarial chats (humaneval)"})
    extra_source_dir: Optional[str] = field(default=None, metadata={"help": "folder copied beside the page (our index.html)"})
    models: dict[str, int] = field(default_factory=lambda: {"demo_bot": 1}, metadata={"help": "model name -> target conversations"})
    model_server_url: Optional[str] = field(default=None, metadata={"help": "model server URL; None = models in-process"})
    model_server_token_env: Optional[str] = field(default="HUMANEVAL_SERVER_TOKEN", metadata={"help": "env var with the server's bearer token"})
    registry_file: Optional[str] = field(default=None, metadata={"help": "model registry YAML; None = task_configs/models.yaml"})
    model_factories: dict[str, str] = field(default_factory=lambda: {"echo": ECHO_FACTORY}, metadata={"help": "name -> module:callable of non-registry models"})
    safety_mode: str = field(default="raw", metadata={"help": "raw (show flagged replies) | replace (canned safe response)"})
    min_turns: int = field(default=5, metadata={"help": "worker messages needed before finishing"})
    min_message_chars: int = field(default=3, metadata={"help": "shortest accepted worker message"})
    max_message_chars: int = field(default=300, metadata={"help": "longest accepted worker message"})
    bot_timeout_seconds: float = field(default=30.0, metadata={"help": "longest wait for a bot reply"})
    idle_unit_seconds: Optional[float] = field(default=600.0, metadata={"help": "a chat idle this long is ended and its slot given back; None = never"})
    use_personas: bool = field(default=True, metadata={"help": "give the bot a persona"})
    personas_file: Optional[str] = field(default=None, metadata={"help": "personas JSONL; None = bundled"})
    onboarding_file: Optional[str] = field(default=None, metadata={"help": "onboarding quiz JSONL; None = bundled"})
    onboarding_threshold: float = field(default=0.8, metadata={"help": "share of quiz items to label right"})
    max_conversations_per_worker: int = field(default=0, metadata={"help": "cap per worker; 0 = none"})
    seed: int = field(default=42, metadata={"help": "seed of the persona draws"})
    instructions_title: str = field(default="", metadata={"help": "title of the instructions"})
    instructions_paragraphs: list[str] = field(default_factory=list, metadata={"help": "instruction paragraphs"})
    unsafe_kinds: list[str] = field(default_factory=list, metadata={"help": "kinds of unsafe messages to list"})
    rating_question: str = field(default="", metadata={"help": "question of the final 1-5 rating"})
    rating_low: str = field(default="very easy", metadata={"help": "what 1 means on the rating's scale"})
    rating_high: str = field(default="impossible", metadata={"help": "what 5 means on the rating's scale"})


def check_args(blue: Any) -> None:
    """Everything the run reads, checked before launch (raises `InputError`): models, files, numbers."""
    check_models(blue)
    if blue.safety_mode not in SAFETY_MODES:
        raise InputError(f"must be one of {', '.join(SAFETY_MODES)}, got {blue.safety_mode!r}",
                         field="mephisto.blueprint.safety_mode")
    for key, minimum in (("min_turns", 1), ("min_message_chars", 1), ("max_message_chars", 1),
                         ("max_conversations_per_worker", 0)):
        if int(blue[key]) < minimum:
            raise InputError(f"must be at least {minimum}, got {blue[key]}", field=f"mephisto.blueprint.{key}")
    if int(blue.max_message_chars) < int(blue.min_message_chars):
        raise InputError("must not be below min_message_chars", field="mephisto.blueprint.max_message_chars")
    for key in ("bot_timeout_seconds", "idle_unit_seconds"):
        if blue.get(key) is not None and not (math.isfinite(float(blue[key])) and float(blue[key]) > 0):
            raise InputError(f"must be a positive number of seconds, got {blue[key]}", field=f"mephisto.blueprint.{key}")
    if not 0.0 <= float(blue.onboarding_threshold) <= 1.0:
        raise InputError(f"must be within [0, 1], got {blue.onboarding_threshold}",
                         field="mephisto.blueprint.onboarding_threshold")
    if blue.use_personas:
        load_personas(blue.get("personas_file") or DEFAULT_PERSONAS_PATH, checked_image_bound(blue))
    if blue.get("onboarding_qualification", None) is not None:
        load_onboarding(blue.get("onboarding_file") or DEFAULT_ONBOARDING_PATH)
    read_block_list(list(blue.get("block_list_files") or []))


@register_mephisto_abstraction()
class BadChatBlueprint(WorkDrivenUnits, RemoteProcedureBlueprint):
    """RemoteProcedure + model quotas + labelling onboarding + block lists (see module docstring)."""

    AgentStateClass: ClassVar[type] = BadChatAgentState
    OnboardingAgentStateClass: ClassVar[type] = BadChatAgentState
    TaskRunnerClass: ClassVar[type] = RemoteProcedureWorkRunner
    ArgsClass: ClassVar[type] = BadChatBlueprintArgs
    SharedStateClass: ClassVar[type] = SharedRemoteProcedureTaskState
    BLUEPRINT_TYPE = BLUEPRINT_TYPE_BAD

    def configure(self, blue: Any) -> None:
        self.blue = blue
        self.limits = MessageLimits(min_chars=int(blue.min_message_chars), max_chars=int(blue.max_message_chars))
        self.threshold = float(blue.onboarding_threshold)
        self.instructions = {"title": str(blue.instructions_title), "paragraphs": list(blue.instructions_paragraphs),
                             "unsafe_kinds": list(blue.unsafe_kinds)}
        personas_file = blue.get("personas_file") or DEFAULT_PERSONAS_PATH
        self.personas = load_personas(personas_file, page_images_for(blue)) if blue.use_personas else []
        self._onboarding: list[OnboardingItem] | None = None
        self._quota: ModelQuota | None = None
        self._client: ModelClient | None = None
        self._lock = threading.Lock()
        self.idle_unit_seconds = float(blue.idle_unit_seconds) if blue.get("idle_unit_seconds") is not None else None

    @classmethod
    def check_study_args(cls, blue: Any, shared_state: "SharedTaskState") -> None:
        """The page's procedures must be in the shared state; then everything `check_args` checks."""
        assert isinstance(shared_state, SharedRemoteProcedureTaskState), "use SharedRemoteProcedureTaskState"
        assert shared_state.function_registry is not None, "the BAD procedures are missing from the shared state"
        check_args(blue)

    # --- models and counts -----------------------------------------------------------------------

    @property
    def quota(self) -> ModelQuota:
        """The model targets, rebuilt from the database on first use (every earlier run of the task)."""
        with self._lock:
            if self._quota is None:
                task_name = self.task_run.get_task().task_name
                self._quota = self._stored_quota(self.task_run.db, task_name)
                if any(self._quota.completed().values()):
                    logger.info("resuming task %s: complete conversations so far %s", task_name, self._quota.completed())
            return self._quota

    def _stored_quota(self, db: "MephistoDB", task_name: str) -> ModelQuota:
        quota = ModelQuota(dict(self.blue.models), int(self.blue.max_conversations_per_worker))
        for unit in finished_units(db, task_name):
            record = unit.inputs if isinstance(unit.inputs, dict) else {}
            if record.get("status") == COMPLETE:
                quota.restore_completed(unit.mephisto_worker_id, str(record.get("model")))
        return quota

    def stored_work_done(self, db: "MephistoDB", task_name: str) -> bool:
        return self._stored_quota(db, task_name).is_done()

    @property
    def work(self) -> ModelQuota:
        return self.quota

    @property
    def bot_replies(self) -> BotReplies:
        with self._lock:
            if self._client is None:
                self._client = open_model_client(self.blue)
            return BotReplies(self._client, timeout_s=float(self.blue.bot_timeout_seconds))

    def release_run_resources(self) -> None:
        """The model client is closed once the runner's threads have ended."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def new_conversation(self, holder: str, worker: str) -> tuple[ChatRecord, dict[str, Any]]:
        """A unit's conversation (model by what remains, persona drawn) and the page's init data."""
        model = self.quota.take(holder, worker, force=True)
        assert model is not None
        conversation_id = uuid.uuid4().hex[:16]
        persona = random.Random(f"{self.blue.seed}:{conversation_id}").choice(self.personas) if self.personas else None
        conversation = ChatRecord(conversation_id=conversation_id, model=model, min_turns=int(self.blue.min_turns),
                                  persona=persona.lines if persona else None,
                                  topic_image=persona.image if persona else None, safety_mode=str(self.blue.safety_mode))
        logger.info("worker %s starts conversation %s with %s", worker, conversation_id, model)
        task_data = {
            "conversation_id": conversation_id,
            "instructions": self.instructions,
            "persona": conversation.persona,
            **({"topic_image": conversation.topic_image} if conversation.topic_image else {}),
            "min_turns": conversation.min_turns,
            "max_message_chars": self.limits.max_chars,
            "rating_question": str(self.blue.rating_question),
            "rating_anchors": [str(self.blue.get("rating_low", "very easy")), str(self.blue.get("rating_high", "impossible"))],
        }
        return conversation, task_data

    def handle_procedure(self, state: Any, target: str, args: Any) -> dict[str, Any]:
        """One page request on the agent's stored conversation (session.BadChat does the work)."""
        if not isinstance(state, BadChatAgentState) or state.conversation is None:
            return {"ok": False, "state": None,
                    "error": {"code": "no_conversation", "message": "There is no chat on this page.", "retryable": False}}
        state.last_request_at = time.time()
        chat = BadChat(state.conversation, self.bot_replies, limits=self.limits,
                       instructions=[self.instructions["title"], *self.instructions["paragraphs"]],
                       save=state.save_conversation)
        return chat.handle(target, args)

    # --- units -----------------------------------------------------------------------------------

    def get_initialization_data(self) -> Iterator[InitializationData]:
        """Called once at launch: load the models, rebuild the counts, keep block-listed workers out."""
        self.bot_replies  # noqa: B018  (load the models now, not in the first worker's turn)
        quota = self.quota
        self.soft_block_listed_workers()
        logger.info("models %s: %d conversation(s) missing", quota.targets, quota.unreserved())
        return self.work_driven_assignments()

    def agent_init_data(self, agent: "Agent") -> dict[str, Any]:
        """A new agent's conversation (model by what remains of each target, persona drawn) and the
        page's init data; a reconnecting agent gets its stored conversation back."""
        state = agent.state
        assert isinstance(state, BadChatAgentState), f"unexpected agent state {type(state).__name__}"
        with state.lock:
            if state.conversation is None:
                conversation, task_data = self.new_conversation(holder=str(agent.db_id), worker=str(agent.worker_id))
                state.start_conversation(conversation, task_data)
            init = state.get_init_state()
        assert init is not None
        return init

    def last_activity(self, agent: "Agent") -> float | None:
        """The worker's last page request (load, reconnect, message, label) or the chat's last turn."""
        state = agent.state
        if not isinstance(state, BadChatAgentState) or state.conversation is None:
            return None
        return max(state.conversation.last_activity, state.last_request_at or 0.0)

    def count_submission(self, holder: str, agent: "Agent") -> None:
        """The conversation counts if complete; otherwise its model's slot goes back."""
        state = agent.state
        conversation = state.conversation if isinstance(state, BadChatAgentState) else None
        # Mephisto flags the submit before it stores it (Agent.handle_submit): wait for the record.
        deadline = time.monotonic() + SUBMIT_RECORD_WAIT_S
        while conversation is not None and not conversation.submitted and time.monotonic() < deadline:
            time.sleep(0.05)
        if conversation is not None and conversation.status == COMPLETE:
            self.quota.complete(holder)
            logger.info("agent %s: conversation with %s complete; still missing %d", holder, conversation.model,
                        self.quota.unreserved())
        else:
            model = self.quota.release(holder)
            logger.warning("agent %s submitted before its conversation could finish: %s slot released", holder, model)

    def progress_summary(self) -> str:
        quota = self.quota
        done = sum(min(count, quota.targets[model]) for model, count in quota.completed().items())
        return f"{done} of {sum(quota.targets.values())} conversations collected"

    def work_done_message(self) -> str:
        return f"every model has its conversations {self.quota.completed()}: no more units"

    # --- onboarding ------------------------------------------------------------------------------

    @property
    def onboarding_items(self) -> list[OnboardingItem]:
        if self._onboarding is None:
            self._onboarding = load_onboarding(self.blue.get("onboarding_file") or DEFAULT_ONBOARDING_PATH)
        return self._onboarding

    def get_onboarding_data(self, worker_id: str) -> dict[str, Any]:
        return with_practice_token(onboarding_page_data(self.onboarding_items, self.threshold), worker_id)

    def practice_verdict(self, worker_id: str, shown: dict[str, Any], item: str, answer: str) -> PracticeVerdict | None:
        """Right or wrong, and why, for label `answer` to quiz item `item` of the onboarding page `shown`
        (None for an item that page does not show or a label that is not one); see `practice_checks`."""
        quiz_item = shown_item(self.onboarding_items, shown, item)
        return practice_verdict(quiz_item, answer) if quiz_item is not None else None

    def check_practice_answer(self, state: Any, args: Any) -> dict[str, Any]:
        """The page's `check_practice_answer` request: the verdict on the first label checked for the item
        (recorded in the onboarding's state); an error, recording nothing, for anything else. The shared
        `answer_practice_check` needs of a state only `get_init_state` and `first_answer`, which ours has."""
        if not isinstance(state, BadChatAgentState):
            return {"error": "not a practice item of this page with one of its answers"}
        result = answer_practice_check(self, str(state.agent.worker_id), state, args)
        if "error" in result:
            logger.info("agent %s: practice check refused (%s)", state.agent.get_agent_id(), result["error"])
        return result

    def validate_onboarding(self, worker: "Worker", onboarding_agent: "OnboardingAgent") -> bool:
        """Pass when the share of quiz items labelled right (the first label checked, where the page asked)
        reaches the threshold; soft-block otherwise. The result stored with the onboarding holds the labels as scored."""
        state = onboarding_agent.state
        submission = state.get_data().get("final_submission")
        checked = state.practice_checks if isinstance(state, BadChatAgentState) else {}
        result = score_onboarding(self.onboarding_items, submission, self.threshold, checked)
        if isinstance(state, BadChatAgentState):
            state.store_onboarding_result(result)
        logger.info("worker %s onboarding: %d/%d right, %s", worker.worker_name, result["correct"], result["total"],
                    "passed" if result["passed"] else "failed")
        if not result["passed"]:
            self.soft_block(worker, f"failed the labelling quiz ({result['correct']}/{result['total']} right)")
        return bool(result["passed"])
