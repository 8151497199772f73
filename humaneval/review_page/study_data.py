"""Everything the review page shows of one task, read from the same places the CLI reads.

Statuses come fresh from Mephisto's database on every read (`TaskReview.units`), so the page never shows an
approval that did not happen; a unit's work, times and pay, and the analysis's flags (`worker_flags`, over
the same records `crowd export` writes) are read once and again whenever a new unit has been submitted.
"""

from __future__ import annotations

import logging
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from humaneval.crowd.bonus_ledger import BonusLedger, BonusRow
from humaneval.crowd.export import FinishedUnit, export_records, finished_units
from humaneval.crowd.mephisto_api import MephistoDB
from humaneval.crowd.prolific.provider import ProlificProviderArgs
from humaneval.crowd.prolific.provider_type import PROVIDER_TYPE as PROLIFIC
from humaneval.crowd.review import ReviewUnit, TaskReview
from humaneval.review_page.unit_blocks import UnitView, failed_view, raw_view
from humaneval.review_page.worker_flags import StudyFlags, WorkerQuality, study_flags
from humaneval.studies import all_exports, review_views

logger = logging.getLogger(__name__)

DEFAULT_CURRENCY = "USD"  # MTurk pays dollars; the mock provider pretends to


@dataclass(frozen=True)
class UnitRow:
    """One submitted unit in a worker's row."""

    unit_id: str
    run: str
    status: str  # the agent's: completed (awaiting review) / approved / rejected / soft_rejected
    seconds: float | None
    reward: float
    currency: str


@dataclass
class WorkerRow:
    """One worker of the task: their units and what the analysis says about them."""

    name: str
    provider: str
    units: list[UnitRow] = field(default_factory=list)
    quality: WorkerQuality = field(default_factory=WorkerQuality)
    bonuses: list[BonusRow] = field(default_factory=list)  # from the bonus ledger, oldest first

    def to_json(self) -> dict[str, Any]:
        times = [u.seconds for u in self.units if u.seconds is not None]
        counts: dict[str, int] = defaultdict(int)
        for unit in self.units:
            counts[unit.status] += 1
        return {
            "name": self.name,
            "provider": self.provider,
            "units": [vars(u) for u in self.units],
            "runs": sorted({u.run for u in self.units}, key=int),
            "awaiting": counts["completed"],
            "approved": counts["approved"],
            "rejected": counts["rejected"] + counts["soft_rejected"],
            "median_seconds": statistics.median(times) if times else None,
            "flags": list(self.quality.flags),
            "reasons": list(self.quality.reasons),
            "untested": list(self.quality.untested),
            "bonuses": [{"amount": str(b.amount), "reason": b.reason, "state": b.state} for b in self.bonuses],
            "onboarding": self.quality.onboarding,
            "gold": self.quality.gold,
            "accuracy": self.quality.accuracy,
        }


class StudyData:
    """The review of one task name, for the page: workers, their work and their flags."""

    def __init__(self, db: MephistoDB, task_name: str) -> None:
        self.review = TaskReview(db, task_name)  # refuses an unknown task name (InputError)
        self.db = db
        self.task_name = task_name
        task = db.find_tasks(task_name=task_name)[0]
        self._view: UnitView = review_views().get(task.task_type, raw_view)
        self._units: dict[str, FinishedUnit] = {}
        self._records: dict[str, list[dict[str, Any]]] = {}
        self._reward: dict[str, float] = {}
        self.flags = StudyFlags({})
        self.reload()

    def reload(self) -> None:
        """Read every finished unit, its records and reward, and run the analysis again."""
        self.review = TaskReview(self.db, self.task_name)  # picks up runs launched since
        self._units = {u.unit_id: u for u in finished_units(self.db, self.task_name)}
        records = list(export_records(self.db, self.task_name, all_exports()))
        by_unit: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for record in records:
            by_unit[str(record.get("unit_id"))].append(record)
        self._records = dict(by_unit)
        self._reward = {unit_id: float(self.db.get_unit(unit_id)["pay_amount"]) for unit_id in self._units}
        self.flags = study_flags(records)
        logger.info("review of %s: %d units, %d workers flagged", self.task_name, len(self._units),
                    sum(bool(q.flags) for q in self.flags.workers.values()))

    def units(self) -> list[ReviewUnit]:
        """Submitted units with their current statuses; new ones since the last read trigger a reload."""
        units = self.review.units(include_reviewed=True)
        if any(u.unit_id not in self._units for u in units):
            self.reload()
            units = self.review.units(include_reviewed=True)
        return units

    def workers(self) -> list[WorkerRow]:
        """One row per worker with a submitted unit, in order of their first unit."""
        rows: dict[str, WorkerRow] = {}
        currencies = self._currencies()
        bonuses = self._bonuses()
        for unit in self.units():
            row = rows.setdefault(unit.worker_name, WorkerRow(
                unit.worker_name, unit.provider_type, quality=self.flags.workers.get(unit.worker_name, WorkerQuality()),
                bonuses=[b for b in bonuses if b.worker == unit.worker_name]))
            row.units.append(UnitRow(unit.unit_id, unit.task_run_id, unit.agent_status, self._seconds(unit.unit_id),
                                     self._reward.get(unit.unit_id, 0.0), currencies.get(unit.task_run_id,
                                                                                         DEFAULT_CURRENCY)))
        return list(rows.values())

    def work_of(self, worker: str) -> list[dict[str, Any]]:
        """Each of the worker's units as the worker saw it: `{"unit_id", "status", "blocks"}`, oldest first."""
        shown = []
        for unit in self.units():
            if unit.worker_name != worker:
                continue
            finished = self._units[unit.unit_id]
            try:
                blocks = self._view(finished, self._records.get(unit.unit_id, []))
            except Exception as err:  # a study view must never take the page down over one odd unit
                logger.exception("cannot show unit %s", unit.unit_id)
                blocks = failed_view(err)
            shown.append({"unit_id": unit.unit_id, "status": unit.agent_status, "blocks": blocks})
        return shown

    def _seconds(self, unit_id: str) -> float | None:
        """The unit's working time: from the first decision's start to the last one's submission by the
        page's clock (what the analysis times), else Mephisto's own start and end of the unit."""
        known = [(float(r["started_at"]), float(r["submitted_at"])) for r in self._records.get(unit_id, [])
                 if isinstance(r.get("started_at"), (int, float)) and isinstance(r.get("submitted_at"), (int, float))]
        if known:
            return max(0.0, max(end for _, end in known) - min(start for start, _ in known))
        finished = self._units.get(unit_id)
        if finished and finished.started_at is not None and finished.submitted_at is not None:
            return max(0.0, float(finished.submitted_at) - float(finished.started_at))
        return None

    def bonuses_of(self, worker: str) -> list[BonusRow]:
        """The worker's bonuses in this task from the bonus ledger."""
        return [r for r in self._bonuses() if r.worker == worker]

    def _bonuses(self) -> list[BonusRow]:
        """Every bonus of this task in the bonus ledger (none without a ledger file: reading creates none)."""
        ledger = BonusLedger.existing(self.db.db_root)
        return ledger.rows(self.task_name) if ledger is not None else []

    def _currencies(self) -> dict[str, str]:
        """Each run's currency: Prolific's from the run's settings (its provider's default if none), else USD."""
        return {str(run.db_id): str(run.args.get("provider", {}).get("currency", ProlificProviderArgs.currency))
                if run.provider_type == PROLIFIC else DEFAULT_CURRENCY for run in self.review.task_runs}
