"""The folder Mephisto serves beside a study's page: our public files, plus the images the study shows.

Mephisto copies the blueprint's `extra_source_dir` into the task server's static folder when it builds the
server, after the blueprint is made; the node router serves it from the page's own origin. Each launch
gets its own copy (a temporary folder removed when the launcher exits), so the images a study adds are
never written into the installed package and two launches never share one.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from humaneval.page_images import DEFAULT_MAX_MB, PageImages
from humaneval.shipped_files import PUBLIC_DIR

MARKER = ".humaneval-page-folder"  # tells a launch's own folder from one a user pointed at
PREFIX = "humaneval-page-"


def new_page_folder() -> Path:
    """A fresh copy of our public files, removed when this process exits (and, should it be killed outright,
    by the next launch: `remove_orphaned_page_folders`)."""
    remove_orphaned_page_folders()
    folder = Path(tempfile.mkdtemp(prefix=PREFIX))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    shutil.copytree(PUBLIC_DIR, folder, dirs_exist_ok=True)
    (folder / MARKER).write_text(f"{os.getpid()}\n", encoding="utf-8")  # the launch it belongs to
    return folder


def remove_orphaned_page_folders() -> None:
    """Remove the page folders of launches that no longer run (a SIGKILL skips `atexit`): only folders
    carrying our marker, and only when the process it names is gone."""
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int((folder / MARKER).read_text(encoding="utf-8").strip())
            os.kill(owner, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (OSError, ValueError):  # not ours, not readable, or its owner runs as someone else
            continue


def page_images_for(blueprint_args: Any) -> PageImages:
    """The study's images, copied into its launch's page folder (only checked when the blueprint runs
    without one, e.g. deciding before a launch whether the work is already done)."""
    raw = blueprint_args.get("extra_source_dir", None)
    folder = Path(raw) if raw else None
    staged = folder is not None and (folder / MARKER).is_file()
    return PageImages(folder if staged else None, float(blueprint_args.get("max_image_mb", DEFAULT_MAX_MB)))
