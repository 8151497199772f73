"""Units that follow the work left, and block lists: what every queue-driven blueprint shares.

Mephisto's blueprints fix their units when the run starts. Our tasks (ACUTE, safety annotation, BAD
collection) instead keep a queue of work and decide a unit's content when a worker takes it, so the
number of units must follow the queue: whenever fewer units are open than the unreserved work
needs, one more is offered; when the work is done the open units are expired and the run ends.

`WorkDrivenUnits` is a mixin for a Mephisto `Blueprint` subclass. The blueprint provides its
`WorkPool` (`work`) and how much work one unit holds (`per_unit`); the mixin runs the unit generator,
checks the task arguments every such study shares, and handles block lists and soft blocks.

A soft block is Mephisto's `block_qualification`: Mephisto refuses every worker holding it, so it is
the one thing that keeps a failed worker out (on MTurk too, where it becomes a qualification the HIT
requires the worker not to have). Each task has its own by default (the YAMLs set
`${mephisto.task.task_name}_soft_block`), so failing one study's practice never closes another.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Protocol

from humaneval.crowd.mephisto_api import AgentState, AssignmentState, InitializationData, SharedTaskState, Worker
from humaneval.crowd.mephisto_internals import assert_blueprint_args, driving_task_launcher
from humaneval.crowd.work_pool import WorkPool
from humaneval.input_errors import InputError
from humaneval.page_images import DEFAULT_MAX_MB

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from humaneval.crowd.mephisto_api import Agent, MephistoDB, TaskRun


class RunningUnits(Protocol):
    """What the generator reads of the task runner: Mephisto's `TaskRunner.running_units`
    (unit id -> `RunningUnit(unit, agent, thread)`), whose agents are the live ones."""

    running_units: dict[str, Any]

logger = logging.getLogger(__name__)

SANDBOX_SUFFIX = "_sandbox"
_IDLE_POLL_SECONDS = 0.25


def read_block_list(paths: list[str]) -> set[str]:
    """Worker ids, one per line (blank lines and `#` comments ignored)."""
    names: set[str] = set()
    for path in paths:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as err:
            raise InputError(f"cannot read block list ({err.strerror})", path=path) from None
        names |= {line.split("#", 1)[0].strip() for line in lines} - {""}
    return names


@dataclass
class WorkDrivenUnitsArgs:
    """Blueprint arguments every work-driven task has; list it before Mephisto's Args class."""

    # Mephisto declares this a required str, so "null = no onboarding" could not be said in YAML.
    onboarding_qualification: Optional[str] = field(default=None, metadata={"help": "earned by passing onboarding; None = no onboarding"})
    block_list_files: list[str] = field(default_factory=list, metadata={"help": "files of worker ids never given work"})
    max_image_mb: float = field(default=DEFAULT_MAX_MB, metadata={"help": "largest image a conversation may show, in MB"})


class WorkDrivenUnits:
    """Mixin: a unit generator driven by the blueprint's work, plus block lists.

    Listed before the Mephisto blueprint class, its `__init__` runs Mephisto's, then the study's
    `configure(args.blueprint)` (which sets `per_unit`), then reads the `block_qualification` and
    `block_list_files` keys. The study provides `work` and `progress_summary`."""

    task_run: "TaskRun"
    per_unit: int = 1  # pieces of work one unit holds
    idle_unit_seconds: float | None = None  # a unit idle this long is ended (needs `last_activity`); None = never

    @classmethod
    def assert_task_args(cls, args: "DictConfig", shared_state: SharedTaskState) -> None:
        """Mephisto's check before launch: our units come from the work, not from the data sources its
        static and remote-procedure blueprints insist on; the study adds its own (`check_study_args`)."""
        assert_blueprint_args(cls, args, shared_state)
        task_source = Path(args.blueprint.task_source).expanduser()
        assert task_source.exists(), f"task_source {args.blueprint.task_source} does not exist"
        cls.check_study_args(args.blueprint, shared_state)

    @classmethod
    def check_study_args(cls, blueprint_args: Any, shared_state: SharedTaskState) -> None:
        """The study's own checks of its arguments (its `task.build_task` has checked the inputs)."""

    def __init__(self, task_run: "TaskRun", args: "DictConfig", shared_state: SharedTaskState) -> None:
        """Mephisto's blueprint first (this mixin comes before it), then the study's settings, then ours."""
        super().__init__(task_run, args, shared_state)  # type: ignore[call-arg]
        self.task_run = task_run
        self.configure(args.blueprint)
        self.load_page_data()
        self._init_work_driven_units(args.blueprint)

    def _init_work_driven_units(self, blueprint_args: "DictConfig") -> None:
        # Mephisto's structured config makes this a required string; the YAMLs default it per task.
        self.block_qualification: str = str(blueprint_args.block_qualification)
        self.block_list = read_block_list(list(blueprint_args.get("block_list_files") or []))
        self._stop_generating = threading.Event()
        self._soft_blocked: set[str] = set()  # worker ids already soft-blocked (and announced) by this run
        self._soft_block_lock = threading.Lock()

    # --- the work, also without a live run -------------------------------------------------------

    @classmethod
    def work_done_in(cls, blueprint_args: Any, db: "MephistoDB", task_name: str) -> bool:
        """Whether everything `blueprint_args` ask for is already collected in `db` (every run of the
        task), decided before anything is launched: relaunching a complete study then starts no server.
        The study is configured without Mephisto (`configure`) and rebuilds its work from the stored
        units, as a live run would (`stored_work_done`)."""
        study = cls.__new__(cls)
        study.configure(blueprint_args)
        return study.stored_work_done(db, task_name)

    def configure(self, blueprint_args: Any) -> None:
        """The study's own settings from its arguments (no Mephisto: also used by `work_done_in`)."""

    def load_page_data(self) -> None:
        """Read now what the pages show from files: Mephisto builds the task server right after making the
        blueprint, and the images a study shows must be in the page folder by then (`crowd.page_folder`)."""

    def stored_work_done(self, db: "MephistoDB", task_name: str) -> bool:
        """Whether the units stored in `db` for the task already complete the work."""
        raise NotImplementedError

    # --- what the host blueprint answers ---------------------------------------------------------

    @property
    def work(self) -> WorkPool:
        """The study's work (rebuilt from the database on first use)."""
        raise NotImplementedError

    def progress_summary(self) -> str:
        """What the study has collected, in its own unit ("12 of 24 judgements collected")."""
        raise NotImplementedError

    def work_done_message(self) -> str:
        return "all work collected: no more units"

    def units_still_needed(self) -> int:
        """Units needed so that every piece of unreserved work has a place."""
        return math.ceil(self.work.unreserved() / self.per_unit)

    def work_is_done(self) -> bool:
        return self.work.is_done()

    def release_run_resources(self) -> None:
        """Called by the runner after its threads ended (BAD closes its model client)."""

    # --- the unit generator ----------------------------------------------------------------------

    def work_driven_assignments(self) -> Iterator[InitializationData]:
        """Offer one more unit whenever the open units cannot hold the unreserved work; end when done.

        Return this from `get_initialization_data`. Mephisto runs the generator on its
        assignment-generator thread and counts the run as unfinished until it ends, which is what we
        want. We do not yield assignments through it, though: Mephisto's unit launcher iterates its
        dict of unlaunched units without the lock the assignment thread holds when adding to it, and
        a burst of new units kills the launcher thread ("dictionary changed size during iteration"),
        silently leaving units unlaunched. So each unit is created and launched here, through the
        launcher's own `launch_evaluation_unit` (what Mephisto uses for screening units), and the
        generator never yields. The launcher driving us (the caller of `next`) is watched, so that a
        shutdown ends us too.

        Once the work is done the generator stays until no unit is in progress, because units still
        come back: a worker who disconnects or idles out (`end_idle_units`) returns their unit to
        Mephisto, which offers it again. Those are expired at once, so a run whose work is done ends
        with its last unit instead of waiting for units nobody needs."""
        launcher = driving_task_launcher()
        if launcher is None:
            raise RuntimeError("a work-driven unit generator must be driven by Mephisto's TaskLauncher")
        while launcher.launch_url is None:  # set right after the generator thread starts
            if self._stop_generating.is_set() or launcher.finished_generators:
                return
            time.sleep(0.05)
        announced = False
        while not (self._stop_generating.is_set() or launcher.finished_generators):
            done = self.work_is_done()
            self.end_idle_units(work_done=done)
            if done:
                if not announced:
                    logger.info("%s", self.work_done_message())
                    announced = True
                self._expire_open_units()
                if not self.units_in_progress():
                    return
            else:
                for _ in range(max(0, self.units_still_needed() - self.open_units())):
                    launcher.launch_evaluation_unit({}, 0)
            time.sleep(_IDLE_POLL_SECONDS)
        return
        yield  # a generator (Mephisto runs generators on their own thread), but it never yields

    def stop_generating(self) -> None:
        """Called by the task runner's shutdown."""
        self._stop_generating.set()

    def units_in_progress(self) -> int:
        return len(self.task_run.db.find_units(task_run_id=self.task_run.db_id, status=AssignmentState.ASSIGNED))

    # --- idle units ------------------------------------------------------------------------------

    def last_activity(self, agent: "Agent") -> float | None:
        """When the agent's worker last did something we can see (None: the study cannot tell, e.g. a
        static page that talks to the server only to submit; such units end at Mephisto's
        `assignment_duration_in_seconds`)."""
        return None

    def attach_runner(self, runner: "RunningUnits") -> None:
        """The task runner announces itself: it knows the units in progress and their live agents."""
        self._runner = runner

    def end_idle_units(self, work_done: bool) -> int:
        """End the units whose worker has been idle for `idle_unit_seconds`: the agent is marked
        disconnected (Mephisto frees the unit and our runner gives its work back); when the work is
        already done the unit is expired first, so nobody is offered it again. Returns how many."""
        runner = getattr(self, "_runner", None)
        if self.idle_unit_seconds is None or runner is None:
            return 0
        now, ended = time.time(), 0
        for running in list(runner.running_units.values()):
            agent = running.agent
            last = self.last_activity(agent)
            if last is None or now - last < self.idle_unit_seconds or agent.get_status() in AgentState.complete():
                continue
            logger.warning("worker %s idle for %.0f s: unit %s ended%s", agent.get_worker().worker_name, now - last,
                           running.unit.db_id, "" if work_done else ", its work goes to others")
            if work_done:
                running.unit.expire()
            agent.update_status(AgentState.STATUS_DISCONNECT)
            ended += 1
        return ended

    def open_units(self) -> int:
        db, run_id = self.task_run.db, self.task_run.db_id
        return sum(len(db.find_units(task_run_id=run_id, status=s)) for s in (AssignmentState.CREATED, AssignmentState.LAUNCHED))

    def _expire_open_units(self) -> None:
        """Units nobody took are not needed any more: expire them so the run can end."""
        db, run_id = self.task_run.db, self.task_run.db_id
        deadline = time.monotonic() + 10
        while db.find_units(task_run_id=run_id, status=AssignmentState.CREATED) and time.monotonic() < deadline:
            time.sleep(0.1)  # let the launcher launch them first, or it would relaunch an expired unit
        for unit in db.find_units(task_run_id=run_id, status=AssignmentState.LAUNCHED):
            unit.expire()

    # --- block lists -----------------------------------------------------------------------------

    def accepts_worker(self, worker: "Worker") -> bool:
        """Whether the worker may be given units at all (tasks with more reasons to refuse extend it)."""
        return not self.is_block_listed(worker.worker_name)

    def soft_block(self, worker: Worker, reason: str) -> None:
        """Give the worker the soft-block qualification and say on the console who and why, once.

        `reason` is what the worker failed, for the requester ("failed onboarding (1/4 right)"):
        Mephisto only tells the worker they are not qualified, so without this line nobody running the
        study could tell a blocked worker from one who left. The line is a warning so that it shows at
        the launcher's default level. A worker can come here twice (a unit still open when gold
        excluded them is submitted later), hence the once-per-worker set."""
        with self._soft_block_lock:
            if str(worker.db_id) in self._soft_blocked:
                return
            self._soft_blocked.add(str(worker.db_id))
        granted = worker.grant_qualification(self.block_qualification, 1)
        refused = " (granted locally, but the crowd provider refused it: see the error above)" if granted is False else ""
        logger.warning("worker %s soft-blocked from task %s: %s%s", worker.worker_name,
                       self.task_run.get_task().task_name, reason, refused)

    def is_block_listed(self, worker_name: str) -> bool:
        name = worker_name[: -len(SANDBOX_SUFFIX)] if worker_name.endswith(SANDBOX_SUFFIX) else worker_name
        return name in self.block_list or worker_name in self.block_list

    def soft_block_listed_workers(self) -> None:
        """Give every block-listed worker the soft-block qualification (creating Mephisto's worker row
        if they never came before), so Mephisto turns them away on arrival, before onboarding; the
        runner's filter is a second line. Local only: nothing is sent to the crowd provider."""
        if not self.block_list:
            return
        db = self.task_run.db
        provider_type = self.task_run.provider_type
        sandbox = self.task_run.get_requester().is_sandbox()
        for name in sorted(self.block_list):
            stored = name if not sandbox or name.endswith(SANDBOX_SUFFIX) else name + SANDBOX_SUFFIX
            workers = db.find_workers(worker_name=stored)
            worker = workers[0] if workers else Worker.get(db, db.new_worker(stored, provider_type))
            worker.grant_qualification(self.block_qualification, 1, skip_crowd=True)
