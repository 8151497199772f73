"""The files an importer reads: the files given, and the matching files anywhere under the folders given.

ParlAI and Mephisto leave one small JSON file per conversation or unit in nested folders
(`<date>/<time>_live.json`, `<task run>/<assignment>/<agent>/agent_data.json`), so researchers pass folders;
a folder holding no matching file is an error, not an empty result.
"""

from __future__ import annotations

from pathlib import Path

from humaneval.input_errors import InputError


def files_in(paths: list[Path], pattern: str) -> list[Path]:
    """Each file given as is, and every file matching `pattern` under each folder (sorted, so output is stable)."""
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
            continue
        matches = sorted(p for p in path.rglob(pattern) if p.is_file())
        if not matches:
            raise InputError(f"holds no {pattern} file (searched every folder under it)", path=path)
        found.extend(matches)
    return found
