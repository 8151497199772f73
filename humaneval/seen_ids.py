"""Find the first id met twice in a stream of millions, in bounded memory.

A writer that refuses a repeated id (the safety formatter: annotations are keyed on item ids) used to keep
every id in a Python `set`, about 95 bytes per id: 113 MB at 1M world-log lines, past its budget near
3.5M. Here the most recent `ids_in_memory` ids stay in a dict, checked at once as before; when it is
full they move to an on-disk SQLite table of (64-bit hash, id, where), and the ids on disk are checked
together at the end, or when a bad line stops the run early.

Why SQLite and this shape: appending rows to a plain table (no index kept up while writing) runs at C
speed, about 1 µs a row; one `GROUP BY hash` at the end lets SQLite's external sorter find the repeated
hashes in bounded memory at any size (about 1 s per million ids), and only those hashes are compared on
their exact ids, so two ids sharing a hash are never taken for a repeat. A hash index kept up on every
insert was 3x slower to fill (random B-tree inserts); a hand-written external sort would redo what
SQLite's sorter already does. The table lives in a hidden temporary file in a folder the caller picks
(beside the outputs, which are far larger), with no journal and a small page cache, and is removed when
the check closes; SQLite's own sort files are unlinked as soon as they are opened. Inputs that fit in
memory never touch the disk.

The answer is what a single pass with a set gives: the id whose second occurrence comes first in input
order, located at that second occurrence.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

IDS_IN_MEMORY = 100_000
"""Ids kept in memory (about 20 MB) before they move to disk; inputs up to this size never touch it."""

_CACHE_KIB = 4096  # SQLite page cache and sorter memory (KiB): the memory bound of the on-disk part

_hash = hash  # CPython's str hash: 64 bits, cached on the string; a module name so tests can force collisions


@dataclass(frozen=True, slots=True)
class Repeat:
    """An id met a second time, and where: the source (a file path) and its 1-based line."""

    item_id: str
    source: str
    line: int


class SeenIds:
    """The ids met so far, in input order; `add` each one, then ask `first_repeat` at the end.

    A context manager: leaving it removes the on-disk table, whatever happened.
    """

    def __init__(self, spill_folder: str | Path, *, ids_in_memory: int = IDS_IN_MEMORY) -> None:
        if ids_in_memory < 1:
            raise ValueError(f"ids_in_memory must be at least 1, got {ids_in_memory}")
        self._spill_folder = Path(spill_folder)
        self._ids_in_memory = ids_in_memory
        self._recent: dict[str, tuple[int, int]] = {}  # id -> (source number, line), in input order
        self._sources: dict[str, int] = {}
        self._db: sqlite3.Connection | None = None
        self._db_path: Path | None = None

    def __enter__(self) -> SeenIds:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def add(self, item_id: str, source: str, line: int) -> Repeat | None:
        """Record one id; the first repeat in input order when it is known now, else None.

        A repeat among the recent ids is returned at once (after checking the ids on disk, whose repeats
        come earlier if there are any); a repeat of an id already on disk is found by `first_repeat`.
        """
        where = (self._sources.setdefault(source, len(self._sources)), line)
        if item_id in self._recent:
            if self._db is None:  # every earlier id is in memory, so no repeat came before this one
                return Repeat(item_id, source, line)
            self._spill()
            self._insert([(_hash(item_id), *where, item_id)])
            return self.first_repeat()
        if len(self._recent) >= self._ids_in_memory:
            self._spill()
        self._recent[item_id] = where
        return None

    def first_repeat(self) -> Repeat | None:
        """The id whose second occurrence comes first among all ids added, located there; None if none.

        Checks the ids on disk (a sort of all their hashes, about 1 s per million), so call it at the end,
        or when the run stops on another error (a repeat before that error is then the first problem).
        """
        if self._db is None:  # `add` has returned every repeat among ids held in memory only
            return None
        self._spill()
        row = self._db.execute(
            """
            SELECT item_id, source, line FROM (
                SELECT item_id, source, line, rowid AS position,
                       row_number() OVER (PARTITION BY item_id ORDER BY rowid) AS occurrence
                FROM seen
                WHERE hash IN (SELECT hash FROM seen GROUP BY hash HAVING count(*) > 1)
            )
            WHERE occurrence = 2
            ORDER BY position
            LIMIT 1
            """
        ).fetchone()
        if row is None:
            return None
        names = {number: name for name, number in self._sources.items()}
        return Repeat(row[0], names[row[1]], row[2])

    def close(self) -> None:
        """Drop the on-disk table (its file included); the recent ids go too."""
        self._recent.clear()
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._db_path is not None:
            with contextlib.suppress(FileNotFoundError):
                self._db_path.unlink()
            self._db_path = None

    def _spill(self) -> None:
        """Move the recent ids to disk, in input order (the table's rowid order is input order)."""
        if not self._recent:
            return
        self._insert([(_hash(item_id), source, line, item_id) for item_id, (source, line) in self._recent.items()])
        self._recent.clear()

    def _insert(self, rows: list[tuple[int, int, int, str]]) -> None:
        db = self._db if self._db is not None else self._open()
        with db:  # one transaction per batch
            db.executemany("INSERT INTO seen (hash, source, line, item_id) VALUES (?, ?, ?, ?)", rows)

    def _open(self) -> sqlite3.Connection:
        fd, name = tempfile.mkstemp(prefix=".seen-ids.", suffix=".sqlite", dir=self._spill_folder)
        os.close(fd)
        self._db_path = Path(name)
        db = sqlite3.connect(name)
        self._db = db
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "locking_mode = EXCLUSIVE",
                       f"cache_size = -{_CACHE_KIB}", "temp_store = FILE"):
            db.execute(f"PRAGMA {pragma}")
        db.execute("CREATE TABLE seen (hash INTEGER NOT NULL, source INTEGER NOT NULL, line INTEGER NOT NULL, "
                   "item_id TEXT NOT NULL)")
        return db
