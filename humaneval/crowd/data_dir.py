"""Where Mephisto keeps its database and run data: `./data/mephisto` unless configured.

Mephisto asks for this directory with `input()` when it is not configured, which hangs a headless
launcher or a test; we always decide it ourselves and tell Mephisto before it can ask.

A launch creates the folder and the database; commands that only read or review a finished study use
`open_existing_database`, which creates nothing: a wrong `--data-dir`, or running from another folder,
must say so instead of leaving an empty 135 KB database behind and exporting nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import mephisto.utils.dirs as mephisto_dirs
from humaneval.input_errors import DamagedData, InputError
from mephisto.abstractions.databases.local_database import LocalMephistoDB

DEFAULT_DATA_DIR = Path("data/mephisto")
DATA_DIR_ENV = "HUMANEVAL_DATA_DIR"


def data_dir_path(configured: str | os.PathLike[str] | None = None) -> Path:
    """The configured directory, else $HUMANEVAL_DATA_DIR, else ./data/mephisto; absolute, not created."""
    chosen = configured or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR
    return Path(os.path.abspath(Path(chosen).expanduser()))


def resolve_data_dir(configured: str | os.PathLike[str] | None = None) -> Path:
    """`data_dir_path`, created."""
    path = data_dir_path(configured)
    path.mkdir(parents=True, exist_ok=True)
    return path


def open_database(data_dir: str | os.PathLike[str] | None = None) -> LocalMephistoDB:
    """Open (creating if needed) the Mephisto database in the data directory."""
    path = resolve_data_dir(data_dir)
    mephisto_dirs.loaded_data_dir = str(path)
    return LocalMephistoDB(database_path=str(path / "database.db"))


# Tables every Mephisto 1.1.1 database has; a SQLite file without them is someone else's database.
_MEPHISTO_TABLES = frozenset({"tasks", "task_runs", "assignments", "units", "workers", "agents", "requesters"})


def open_existing_database(data_dir: str | os.PathLike[str] | None = None) -> LocalMephistoDB:
    """Open the Mephisto database of an earlier launch; an `InputError` where there is none, nothing created.

    The file is first opened read-only and checked (readable SQLite, Mephisto's tables), because
    Mephisto's own constructor creates its tables in whatever file it is given.
    """
    chosen = Path(data_dir or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR).expanduser()
    field = "--data-dir"
    if not chosen.exists():
        raise InputError(
            "no Mephisto data folder here; run from the folder you launched in, or pass --data-dir "
            f"(or ${DATA_DIR_ENV})", path=chosen, field=field)
    if not chosen.is_dir():
        raise InputError("is not a folder", path=chosen, field=field)
    db_file = chosen / "database.db"
    if not db_file.is_file():
        raise InputError("no database.db in this folder: is it the data folder of a launch?", path=chosen, field=field)
    try:
        with contextlib.closing(sqlite3.connect(f"{db_file.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as err:
        raise InputError(f"not a readable SQLite database ({err})", path=db_file) from None
    missing = sorted(_MEPHISTO_TABLES - tables)
    if missing:
        raise InputError(f"not a Mephisto database (no {', '.join(missing)} table)", path=db_file)
    return open_database(chosen)


@contextlib.contextmanager
def data_faults_reported(db: LocalMephistoDB) -> Iterator[None]:
    """A damaged database, or a damaged saved agent file, found part-way through a read is reported as
    the user's input error naming it, not as a traceback. (Mephisto reads agent files when it builds an
    agent and its error does not name the file, so the message names the folder they live in.)"""
    try:
        yield
    except sqlite3.DatabaseError as err:
        raise InputError(f"the Mephisto database cannot be read ({err})", path=db.db_path) from None
    except (json.JSONDecodeError, UnicodeDecodeError, DamagedData) as err:
        raise InputError(f"a saved agent data file is damaged ({err})", path=Path(db.db_root) / "data") from None
