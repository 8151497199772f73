"""What the Prolific provider remembers between processes: studies, places, submissions, groups.

Mephisto keeps a per-provider datastore next to its database (`<data dir>/prolific/`); ours is one
SQLite file there. It maps Mephisto's ids to Prolific's — a task run to its study (and completion code
and the places it has asked for), an agent to the participant's submission (`SESSION_ID`), a
qualification or block list to a participant group — so a review or bonus run in another process, days
later, knows what to call. Each call opens its own connection: the launcher's threads, the review CLI
and a bonus run may all use it at once.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS studies (
    task_run_id TEXT PRIMARY KEY,
    requester_name TEXT NOT NULL,
    study_id TEXT NOT NULL,
    completion_code TEXT NOT NULL,
    places INTEGER NOT NULL,          -- what the study asks Prolific for now (only ever grows)
    published INTEGER NOT NULL DEFAULT 0,
    stopped INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS launched_units (
    unit_id TEXT PRIMARY KEY,
    task_run_id TEXT NOT NULL,
    expired INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS submissions (
    agent_id TEXT PRIMARY KEY,
    unit_id TEXT NOT NULL,
    task_run_id TEXT NOT NULL,
    study_id TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    participant_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS participant_groups (
    requester_name TEXT NOT NULL,
    name TEXT NOT NULL,               -- a qualification name, or the requester-wide block list
    group_id TEXT NOT NULL,
    PRIMARY KEY (requester_name, name)
);
"""


@dataclass(frozen=True)
class StudyRecord:
    task_run_id: str
    requester_name: str
    study_id: str
    completion_code: str
    places: int
    published: bool
    stopped: bool


@dataclass(frozen=True)
class SubmissionRecord:
    agent_id: str
    unit_id: str
    task_run_id: str
    study_id: str
    submission_id: str
    participant_id: str


class ProlificDatastore:
    """The provider's SQLite file (`prolific.db` in Mephisto's datastore folder for the provider)."""

    def __init__(self, datastore_root: str | Path) -> None:
        self.path = Path(datastore_root) / "prolific.db"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.row_factory = sqlite3.Row
        try:
            with conn:  # one transaction, committed on success
                yield conn
        finally:
            conn.close()

    # --- studies ---------------------------------------------------------------------------------

    def add_study(self, task_run_id: str, requester_name: str, study_id: str, completion_code: str, places: int) -> None:
        with self._connect() as conn:
            conn.execute("INSERT INTO studies (task_run_id, requester_name, study_id, completion_code, places) "
                         "VALUES (?, ?, ?, ?, ?)", (task_run_id, requester_name, study_id, completion_code, places))

    def study(self, task_run_id: str) -> StudyRecord | None:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM studies WHERE task_run_id = ?", (task_run_id,)).fetchone()
        return _study(row) if row else None

    def study_by_id(self, study_id: str) -> StudyRecord | None:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM studies WHERE study_id = ?", (study_id,)).fetchone()
        return _study(row) if row else None

    def set_study_places(self, task_run_id: str, places: int, *, published: bool) -> None:
        with self._connect() as conn:
            conn.execute("UPDATE studies SET places = ?, published = ? WHERE task_run_id = ?",
                         (places, int(published), task_run_id))

    def set_study_stopped(self, task_run_id: str) -> None:
        with self._connect() as conn:
            conn.execute("UPDATE studies SET stopped = 1 WHERE task_run_id = ?", (task_run_id,))

    # --- units -----------------------------------------------------------------------------------

    def note_launched(self, unit_id: str, task_run_id: str) -> None:
        """Record a unit as offered (once, however often Mephisto relaunches it)."""
        with self._connect() as conn:
            conn.execute("INSERT OR IGNORE INTO launched_units (unit_id, task_run_id) VALUES (?, ?)", (unit_id, task_run_id))
            conn.execute("UPDATE launched_units SET expired = 0 WHERE unit_id = ?", (unit_id,))

    def units_offered(self, task_run_id: str) -> int:
        """How many distinct units of the run have been offered: a place each."""
        with self._connect() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM launched_units WHERE task_run_id = ?", (task_run_id,)).fetchone()[0])

    def set_unit_expired(self, unit_id: str) -> None:
        with self._connect() as conn:
            conn.execute("UPDATE launched_units SET expired = 1 WHERE unit_id = ?", (unit_id,))

    def unit_expired(self, unit_id: str) -> bool:
        with self._connect() as conn:
            row = conn.execute("SELECT expired FROM launched_units WHERE unit_id = ?", (unit_id,)).fetchone()
        return bool(row and row[0])

    # --- submissions -----------------------------------------------------------------------------

    def add_submission(self, record: SubmissionRecord) -> None:
        with self._connect() as conn:
            conn.execute("INSERT OR REPLACE INTO submissions VALUES (?, ?, ?, ?, ?, ?)",
                         (record.agent_id, record.unit_id, record.task_run_id, record.study_id,
                          record.submission_id, record.participant_id))

    def submission_of_agent(self, agent_id: str) -> SubmissionRecord | None:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM submissions WHERE agent_id = ?", (agent_id,)).fetchone()
        return SubmissionRecord(**dict(row)) if row else None

    def submissions_of_run(self, task_run_id: str) -> list[SubmissionRecord]:
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM submissions WHERE task_run_id = ?", (task_run_id,)).fetchall()
        return [SubmissionRecord(**dict(row)) for row in rows]

    # --- participant groups ----------------------------------------------------------------------

    def group_id(self, requester_name: str, name: str) -> str | None:
        with self._connect() as conn:
            row = conn.execute("SELECT group_id FROM participant_groups WHERE requester_name = ? AND name = ?",
                               (requester_name, name)).fetchone()
        return str(row[0]) if row else None

    def add_group(self, requester_name: str, name: str, group_id: str) -> None:
        with self._connect() as conn:
            conn.execute("INSERT OR REPLACE INTO participant_groups VALUES (?, ?, ?)", (requester_name, name, group_id))

    def groups_named(self, name: str) -> list[tuple[str, str]]:
        """(requester name, group id) of every group kept for `name` (one per requester that launched)."""
        with self._connect() as conn:
            rows = conn.execute("SELECT requester_name, group_id FROM participant_groups WHERE name = ?", (name,)).fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]


def _study(row: sqlite3.Row) -> StudyRecord:
    return StudyRecord(str(row["task_run_id"]), str(row["requester_name"]), str(row["study_id"]),
                       str(row["completion_code"]), int(row["places"]), bool(row["published"]), bool(row["stopped"]))
