"""Where Mephisto keeps its database and run data: `./data/mephisto` unless configured.

Mephisto asks for this directory with `input()` when it is not configured, which hangs a headless
launcher or a test; we always decide it ourselves and tell Mephisto before it can ask.
"""

from __future__ import annotations

import os
from pathlib import Path

import mephisto.utils.dirs as mephisto_dirs
from mephisto.abstractions.databases.local_database import LocalMephistoDB

DEFAULT_DATA_DIR = Path("data/mephisto")
DATA_DIR_ENV = "HUMANEVAL_DATA_DIR"


def resolve_data_dir(configured: str | os.PathLike[str] | None = None) -> Path:
    """The configured directory, else $HUMANEVAL_DATA_DIR, else ./data/mephisto; absolute and created."""
    chosen = configured or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR
    path = Path(chosen).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def open_database(data_dir: str | os.PathLike[str] | None = None) -> LocalMephistoDB:
    """Open (creating if needed) the Mephisto database in the data directory."""
    path = resolve_data_dir(data_dir)
    mephisto_dirs.loaded_data_dir = str(path)
    return LocalMephistoDB(database_path=str(path / "database.db"))
