"""Reading other tools' files for the importers: folder inputs, CSV rows and JSONL objects with their lines.

Importers take files or folders (Mephisto keeps one `agent_data.json` per unit, ParlAI's analysis writes a
folder of CSVs), so `files_in` expands folders to the files a source reads, in a stable order. Rows of a
CSV and objects of a JSONL file come with the line they start on, so every problem an importer finds
is an `InputError` naming file, line and column, like every reader here.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from humaneval.input_errors import InputError
from humaneval.jsonl import MAX_LINE_BYTES, iter_jsonl_objects, open_input, read_json_document

#: a cell longer than this is refused (csv's own limit, 128 KiB, would end in a located error too, but in
#: csv's words); ParlAI's full CSV holds both conversations of a pair in one cell
MAX_CELL_CHARS = 4 * 1024 * 1024
#: a CSV row (over all its lines) longer than a JSONL line is refused: no record of ours is that long, and a
#: row of many cells, each under `MAX_CELL_CHARS`, would otherwise be held whole at any size
MAX_ROW_BYTES = MAX_LINE_BYTES
#: ParlAI's whole-file JSON documents (a unit's agent_data.json, a model_chat conversation) are kilobytes to a
#: few megabytes; a larger one is refused before it is read (parsed JSON takes several times its size)
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


def files_in(paths: Iterable[Path], patterns: tuple[str, ...], *, exclude: Path | None = None,
             named_by_folder: tuple[str, ...] = ()) -> list[Path]:
    """The files given, and under each folder given every file matching one of `patterns` (sorted,
    recursively), leaving out `exclude` (the command's own output, which may lie in an input folder).

    A file met twice (given twice, or inside a folder also given) and two files with the same content (a
    backup copy beside the original) are refused, naming both: every record would count twice. Files named
    in `named_by_folder` are exempt from the content rule: Mephisto's agent folder, not the content, says
    whose they are, and two workers of one assignment may well give byte-identical answers."""
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
            continue
        matches = sorted({m for pattern in patterns for m in path.rglob(pattern) if m.is_file()})
        if not matches:
            raise InputError(f"no {' or '.join(patterns)} files in this folder", path=path)
        found.extend(matches)
    files = [f for f in found if exclude is None or not _same(f, exclude)]
    _refuse_twice(files, named_by_folder)
    return files


def _refuse_twice(files: list[Path], named_by_folder: tuple[str, ...]) -> None:
    seen: dict[tuple[int, int], Path] = {}
    contents: dict[tuple[int, bytes], Path] = {}
    for path in files:
        try:
            info = path.stat()
        except OSError:
            continue  # the reader reports it, in its words
        first = seen.setdefault((info.st_dev, info.st_ino), path)
        if first is not path:
            raise InputError(f"is the same file as {first}: given twice, its records would count twice", path=path)
        if path.name in named_by_folder or not path.is_file():
            continue
        with open_input(path) as handle:
            digest = hashlib.file_digest(handle, "sha256").digest()
        first = contents.setdefault((info.st_size, digest), path)
        if first is not path:
            raise InputError(f"has the same content as {first}: a copy of an input would count every record twice; "
                             "leave one of them out", path=path)


def read_document(path: Path) -> object:
    """A ParlAI JSON document, refused above `MAX_DOCUMENT_BYTES` before it is read."""
    return read_json_document(path, max_bytes=MAX_DOCUMENT_BYTES)


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def iter_csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line the row starts on, {column: cell}) for every row after the header; columns without a name
    (pandas' index column) are left out. A row with more or fewer cells than the header, a repeated or
    missing header, text that is not UTF-8 and a cell over `MAX_CELL_CHARS` are `InputError`s."""
    previous = csv.field_size_limit(MAX_CELL_CHARS)
    try:
        with open_input(path, "rb") as handle:
            lines = _DecodedLines(handle, path)
            reader = csv.reader(lines, strict=True)  # a quoted cell cut off at the end (a truncated file) is an error, not a short cell
            start = 1
            try:
                header = next(reader, None)
                if not header:
                    raise InputError("empty first line: expected a header with column names", path=path, line=1)
                names = [h.strip() for h in header]
                repeated = sorted({n for n in names if n and names.count(n) > 1})
                if repeated:
                    raise InputError(f"column {repeated[0]!r} appears twice in the header", path=path, line=1)
                start = lines.row_start = reader.line_num + 1
                lines.row_bytes = 0
                for cells in reader:
                    if cells:  # not a blank line
                        if len(cells) != len(names):
                            raise InputError(f"has {len(cells)} cells, the header has {len(names)} columns",
                                             path=path, line=start)
                        yield start, {n: c for n, c in zip(names, cells) if n}
                    start = lines.row_start = reader.line_num + 1
                    lines.row_bytes = 0
            except csv.Error as err:
                raise InputError(f"not a readable CSV row ({err})", path=path, line=start) from None
    finally:
        csv.field_size_limit(previous)


class _DecodedLines:
    """The file's lines as text, each decoded on its own so a byte that is not UTF-8 is reported on its line
    (a byte order mark, as Excel writes, is dropped). `row_bytes` counts the bytes handed out since the row
    that began on `row_start` (the reader resets both), so a row of many lines is capped as a whole."""

    def __init__(self, handle: IO[bytes], path: Path) -> None:
        self.handle, self.path = handle, path
        self.row_start, self.row_bytes = 1, 0

    def __iter__(self) -> Iterator[str]:
        number = 0
        while raw := self.handle.readline(MAX_LINE_BYTES + 1):
            number += 1
            if len(raw) > MAX_LINE_BYTES:  # refused before a hostile endless line is held whole
                raise InputError(f"line longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB", path=self.path, line=number)
            self.row_bytes += len(raw)
            if self.row_bytes > MAX_ROW_BYTES:
                raise InputError(f"row longer than {MAX_ROW_BYTES // (1024 * 1024)} MiB in all (no record of ours is "
                                 "that long)", path=self.path, line=self.row_start)
            try:
                yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as err:
                raise InputError(f"not UTF-8 text ({err.reason} at byte {err.start})", path=self.path,
                                 line=number) from None


def iter_table(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows of a CSV file, or objects of a JSONL file (`.jsonl`, `.json`), with their lines."""
    if path.suffix.lower() in (".jsonl", ".json"):
        return iter_jsonl_objects(path)
    return iter_csv_rows(path)
