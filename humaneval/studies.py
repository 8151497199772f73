"""The studies this toolkit runs, in one table: how each is launched and how its records are exported.

`python -m humaneval.launch TASK` builds a study from `task_module`; `python -m humaneval.crowd export` and
the end of every run write records with the study's `export` (a `crowd.export.StudyExport` for its
Mephisto blueprint type); `review serve` shows a unit's work with its `review_view`. The table names
modules as strings and imports one only when it is used,
so `launch --help` never pays for Mephisto and the crowd runtime below never imports a study.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from humaneval.crowd.bonus_rules import UnitCounter
    from humaneval.crowd.export import StudyExport
    from humaneval.review_page.unit_blocks import UnitView


@dataclass(frozen=True)
class Study:
    task_module: str  # has `build_task(overrides) -> (cfg, shared_state)`
    summary: str  # one line for `launch --help`
    export: str  # "module:NAME" of the study's StudyExport, declared next to its task
    bonus_events: str = ""  # "module:NAME" of its counter of what `humaneval.bonus` rules pay per (none: no rules)
    review_view: str = ""  # "module:NAME" of how the review page shows a unit's work (none: its raw data)

    def load_export(self) -> "StudyExport":
        return _load(self.export)  # type: ignore[no-any-return]


# task name (also its YAML in task_configs/) -> the study
STUDIES: dict[str, Study] = {
    "smoke": Study("humaneval.crowd.smoke_task", "a one-question task that checks the sandbox works on this machine",
                   "humaneval.crowd.smoke_task:EXPORT"),
    "acute": Study("humaneval.acute.task", "ACUTE-Eval: two conversations side by side, one question (docs/acute.md)",
                   "humaneval.acute.export:EXPORT", "humaneval.acute.bonus_events:count_events",
                   "humaneval.acute.review_view:unit_view"),
    "bad": Study("humaneval.bad_collection.task",
                 "bot-adversarial dialogue: live chats with per-turn safety labels (docs/bad_collection.md)",
                 "humaneval.bad_collection.export:EXPORT", "humaneval.bad_collection.bonus_events:count_events",
                 "humaneval.bad_collection.review_view:unit_view"),
    "safety": Study("humaneval.safety_eval.task",
                    "safety annotation: is the bot's last message OK to send? (docs/safety_task.md)",
                    "humaneval.safety_eval.export:EXPORT", "humaneval.safety_eval.bonus_events:count_events",
                    "humaneval.safety_eval.review_view:unit_view"),
}


def all_exports() -> dict[str, "StudyExport"]:
    """Every study's export, by the blueprint type it reads (what `crowd.export.export_records` takes)."""
    exports = [study.load_export() for study in STUDIES.values()]
    return {export.blueprint_type: export for export in exports}


def bonus_event_counters() -> dict[str, "UnitCounter"]:
    """Each study's bonus event counter, by the blueprint type its runs are stored under."""
    return {study.load_export().blueprint_type: _load(study.bonus_events)
            for study in STUDIES.values() if study.bonus_events}


def review_views() -> dict[str, "UnitView"]:
    """Each study's view of a unit's work for the review page, by the blueprint type its runs are stored under."""
    return {study.load_export().blueprint_type: _load(study.review_view)
            for study in STUDIES.values() if study.review_view}


def _load(reference: str) -> Any:
    module, name = reference.split(":")
    return getattr(importlib.import_module(module), name)
