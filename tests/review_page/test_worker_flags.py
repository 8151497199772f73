"""The page's flags are the analysis's: the same workers as `analysis acute` flags, for the same reasons, and one
worker's huge text cannot switch them off for everybody."""

from __future__ import annotations

from pathlib import Path

from humaneval.crowd.data_dir import open_database
from humaneval.crowd.export import export_records
from humaneval.review_page.worker_flags import study_flags
from humaneval.studies import all_exports
from tests.review_page.support import SPAMMER, TASK


def test_a_five_megabyte_reason_leaves_the_flags_on(study_dir: Path) -> None:
    records = list(export_records(open_database(study_dir), TASK, all_exports()))
    records[-1] = {**records[-1], "reason": "x" * 5_000_000}  # over the analysis's 4 MiB line limit
    flags = study_flags(records)
    assert flags.note == ""
    assert flags.workers[f"{SPAMMER}_sandbox"].flags == ("too fast",)
    assert len(records[-1]["reason"]) == 5_000_000  # the caller's records are not touched


def test_without_records_or_with_mixed_tasks_the_page_says_why(study_dir: Path) -> None:
    assert study_flags([]).note == "no submitted work yet"
    records = list(export_records(open_database(study_dir), TASK, all_exports()))
    assert study_flags([*records, {**records[0], "task": "safety"}]).note.startswith("no analysis flags for records")
