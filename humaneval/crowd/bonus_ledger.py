"""The bonus ledger: one SQLite row per bonus, so a bonus is paid once even across crashes and parallel CLIs.

It is our own file next to Mephisto's database (`<data dir>/humaneval_payments.db`), not a Mephisto table:
Mephisto 1.1.1 keeps no record of bonuses at all. The primary key is the bonus's idempotency key
(`manual:<task>:<worker>:<amount>:<sha of reason>`, `--key K`, or `rule:<task>:<rule>:<unit>`), so asking
for the same bonus twice finds the first row instead of adding a second payment.

States, each written before the step it announces:

* `requested` — the row exists; nothing was sent.
* `created` — Prolific only: a bulk bonus was set up (an unpaid draft; `bulk_id` kept). Nothing moved yet.
* `paying` — written BEFORE the call that moves money. A row found here later may or may not have been paid.
* `paid` — the provider confirmed (or a person did, with `review bonus --confirm`).
* `failed` — the provider refused; `detail` keeps its message. Nothing moved, so a later run tries again.

Every change is a compare-and-set inside `BEGIN IMMEDIATE` (SQLite's write lock, WAL journal), so two
CLIs paying the same task at once cannot both move a row into `paying`: the second sees it already there.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

LEDGER_FILE = "humaneval_payments.db"
LOCK_WAIT_S = 30.0  # how long a CLI waits for another one's transaction (each lasts milliseconds)

REQUESTED, CREATED, PAYING, PAID, FAILED = "requested", "created", "paying", "paid", "failed"
STATES = (REQUESTED, CREATED, PAYING, PAID, FAILED)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bonuses (
    key TEXT PRIMARY KEY,          -- the idempotency key
    task_name TEXT NOT NULL,
    provider TEXT NOT NULL,        -- Mephisto provider type of the unit: mturk, mturk_sandbox, prolific, mock
    worker TEXT NOT NULL,          -- Mephisto worker name
    unit_id TEXT NOT NULL,         -- the unit the bonus is paid against (MTurk assignment, Prolific submission)
    amount TEXT NOT NULL,          -- decimal string, "1.50"
    reason TEXT NOT NULL,          -- what the worker reads
    token TEXT NOT NULL,           -- MTurk UniqueRequestToken of the current attempt
    state TEXT NOT NULL,
    bulk_id TEXT,                  -- Prolific bulk bonus id, once set up
    detail TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class BonusRow:
    """One bonus as the ledger holds it."""

    key: str
    task_name: str
    provider: str
    worker: str
    unit_id: str
    amount: Decimal
    reason: str
    token: str
    state: str
    bulk_id: str | None
    detail: str
    created_at: float
    updated_at: float


def new_token() -> str:
    """A fresh MTurk `UniqueRequestToken` (at most 64 characters; MTurk remembers it for 24 hours)."""
    return uuid.uuid4().hex


class BonusLedger:
    """The ledger file of one data folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._transaction() as conn:
            conn.execute(_SCHEMA)

    @classmethod
    def in_data_dir(cls, data_dir: str | Path) -> "BonusLedger":
        return cls(Path(data_dir) / LEDGER_FILE)

    @classmethod
    def existing(cls, data_dir: str | Path) -> "BonusLedger | None":
        """The data folder's ledger if it has one, else None: for readers (previews, listings), which must
        not create the file."""
        path = Path(data_dir) / LEDGER_FILE
        return cls(path) if path.exists() else None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=LOCK_WAIT_S, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # a row written before a payment must survive a power cut
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def get(self, key: str) -> BonusRow | None:
        with self._transaction() as conn:
            return _row(conn, key)

    def rows(self, task_name: str) -> list[BonusRow]:
        """Every bonus of a task, oldest first."""
        with self._transaction() as conn:
            found = conn.execute("SELECT * FROM bonuses WHERE task_name = ? ORDER BY created_at, key", (task_name,))
            return [_from_sql(r) for r in found.fetchall()]

    def rows_of_unit(self, unit_id: str) -> list[BonusRow]:
        """Every bonus paid (or being paid) against one unit, whatever its task."""
        with self._transaction() as conn:
            found = conn.execute("SELECT * FROM bonuses WHERE unit_id = ? ORDER BY created_at, key", (unit_id,))
            return [_from_sql(r) for r in found.fetchall()]

    def request(self, *, key: str, task_name: str, provider: str, worker: str, unit_id: str, amount: Decimal,
                reason: str) -> tuple[BonusRow, bool]:
        """The row of `key`, created in `requested` if new; (row, created). An existing row is returned as it
        is, whatever it says: the caller compares it with what was asked (`differs_from`)."""
        with self._transaction() as conn:
            existing = _row(conn, key)
            if existing is not None:
                return existing, False
            now = time.time()
            conn.execute(
                "INSERT INTO bonuses (key, task_name, provider, worker, unit_id, amount, reason, token, state, "
                "bulk_id, detail, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, '', ?, ?)",
                (key, task_name, provider, worker, unit_id, str(amount), reason, new_token(), REQUESTED, now, now),
            )
            row = _row(conn, key)
            assert row is not None
            return row, True

    def move(self, key: str, from_states: Collection[str], to_state: str, *, detail: str | None = None,
             bulk_id: str | None = None, token: str | None = None) -> BonusRow | None:
        """Compare-and-set: move the row to `to_state` only if it is in one of `from_states`.

        Returns the updated row, or None when the row was elsewhere (another CLI got there first): the
        caller re-reads it and reports what it finds, and never makes the call the move would have announced.
        """
        assert to_state in STATES
        with self._transaction() as conn:
            current = _row(conn, key)
            if current is None or current.state not in from_states:
                return None
            conn.execute(
                "UPDATE bonuses SET state = ?, detail = ?, bulk_id = ?, token = ?, updated_at = ? WHERE key = ?",
                (to_state, current.detail if detail is None else detail,
                 current.bulk_id if bulk_id is None else bulk_id,
                 current.token if token is None else token, time.time(), key),
            )
            return _row(conn, key)


def _row(conn: sqlite3.Connection, key: str) -> BonusRow | None:
    found = conn.execute("SELECT * FROM bonuses WHERE key = ?", (key,)).fetchone()
    return _from_sql(found) if found is not None else None


def _from_sql(row: sqlite3.Row) -> BonusRow:
    return BonusRow(
        key=row["key"], task_name=row["task_name"], provider=row["provider"], worker=row["worker"],
        unit_id=row["unit_id"], amount=Decimal(row["amount"]), reason=row["reason"], token=row["token"],
        state=row["state"], bulk_id=row["bulk_id"], detail=row["detail"], created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
