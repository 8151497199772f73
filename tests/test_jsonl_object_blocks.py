"""The block reader (`iter_jsonl_object_blocks`) gives what `iter_jsonl_objects` gives, or says it is not sure.

It is only ever allowed to be too careful: on every file it reads it must yield exactly the objects, types
included, that the line-by-line reader yields, and on every file the line-by-line reader refuses, or reads
through its strict parser, it must raise `NotPlainJSONL` (the caller then reads line by line for the error).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from humaneval import jsonl
from humaneval.input_errors import InputError
from tests.test_bad_input_corpus import CONTENT_CASES, _acute_records, _content
from tests.test_jsonl_fast_reader import ORJSON_ACCEPTS_STRICT_REFUSES, _corruptions

pytest.importorskip("orjson")


def _blocks(path: Path) -> str:
    """repr of every object the block reader yields, or "not sure"."""
    try:
        return repr([value for block in jsonl.iter_jsonl_object_blocks(path) for value in block])
    except jsonl.NotPlainJSONL:
        return "not sure"


def _lines(path: Path) -> str:
    """repr of every object `iter_jsonl_objects` yields, or "error"."""
    try:
        return repr([value for _, value in jsonl.iter_jsonl_objects(path)])
    except InputError:
        return "error"


def test_records_read_in_blocks_are_the_records_read_line_by_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl, "BLOCK_BYTES", 1000)  # many blocks, lines cut across reads
    lines = _acute_records()
    path = tmp_path / "acute.jsonl"
    path.write_text("\n".join(lines) + "\n\n" + lines[0], encoding="utf-8")  # an empty line, no final newline
    assert _blocks(path) != "not sure"
    assert _blocks(path) == _lines(path)


@pytest.mark.parametrize("case", CONTENT_CASES)
def test_every_corpus_case_is_refused_or_read_the_same(case: str, tmp_path: Path) -> None:
    path = tmp_path / "input.jsonl"
    path.write_bytes(_content(case, _acute_records(), json.dumps({"task": "acute", "winner": 3})))
    blocks, lines = _blocks(path), _lines(path)
    assert blocks in ("not sure", lines)
    if lines == "error":
        assert blocks == "not sure"


@pytest.mark.parametrize("name", [*ORJSON_ACCEPTS_STRICT_REFUSES, "bom", "blank spaces", "array", "two values"])
def test_what_only_the_strict_parser_may_read_is_left_to_it(name: str, tmp_path: Path) -> None:
    line = {"bom": '\ufeff{"a": 1}', "blank spaces": "   ", "array": "[1]", "two values": '{"a": 1} {"b": 2}'}.get(
        name) or ORJSON_ACCEPTS_STRICT_REFUSES[name]
    path = tmp_path / "input.jsonl"
    path.write_text('{"ok": 1}\n' + line + '\n{"ok": 2}\n', encoding="utf-8")
    assert _blocks(path) == "not sure"


def test_corrupted_lines_are_refused_or_read_the_same(tmp_path: Path) -> None:
    lines = _acute_records()
    for i, bad in enumerate(_corruptions(lines, 150, seed=5)):
        path = tmp_path / f"c{i}.jsonl"
        path.write_text("\n".join([lines[0], bad, lines[1]]) + "\n", encoding="utf-8", errors="surrogatepass")
        blocks, read = _blocks(path), _lines(path)
        assert blocks in ("not sure", read), bad
        assert read != "error" or blocks == "not sure", bad


def test_missing_files_and_long_lines_are_left_to_the_line_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _blocks(tmp_path / "nope.jsonl") == "not sure"
    monkeypatch.setattr(jsonl, "MAX_LINE_BYTES", 50)
    path = tmp_path / "long.jsonl"
    path.write_text('{"ok": 1}\n{"text": "' + "x" * 60 + '"}\n', encoding="utf-8")
    assert _blocks(path) == "not sure"


def test_a_file_read_in_parts_cut_at_line_starts_is_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`line_start_after` finds where a part may begin (after a newline, never inside a line), and the parts
    `iter_jsonl_object_blocks` reads between two such offsets make the whole file, wherever the cut is asked for."""
    monkeypatch.setattr(jsonl, "BLOCK_BYTES", 64)  # cuts and parts across many reads
    path = tmp_path / "parts.jsonl"
    path.write_text("".join(json.dumps({"i": i, "pad": "é" * (i % 7)}) + "\n" for i in range(60)), encoding="utf-8")
    data, size = path.read_bytes(), path.stat().st_size
    whole = [value for block in jsonl.iter_jsonl_object_blocks(path) for value in block]
    for asked in range(0, size + 3):
        cut = jsonl.line_start_after(path, asked)
        assert min(asked, size) <= cut <= size and (cut in (0, size) or data[cut - 1:cut] == b"\n")
        assert b"\n" not in data[max(asked - 1, 0):max(cut - 1, 0)]  # the first line start at or after `asked`
        first = [value for block in jsonl.iter_jsonl_object_blocks(path, 0, cut) for value in block]
        rest = [value for block in jsonl.iter_jsonl_object_blocks(path, cut) for value in block]
        assert first + rest == whole
