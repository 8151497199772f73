"""The JSONL reader's orjson path gives exactly what the strict path gives: the same values (types included:
1 is not 1.0, -0.0 is not 0.0) on valid files, and the same located error (message, file, line) on every bad
input of the CLI corpus, on what orjson accepts but strict JSON refuses, and on random corruptions of real lines.

The strict path is the reader with orjson switched off (`humaneval.jsonl.orjson = None`), which runs every line
through `jsonlines` and `strict_loads` as the reader always did; valid files are also checked against a plain
`jsonlines.Reader` over the whole file with `strict_loads`.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import jsonlines
import pytest

from humaneval import jsonl
from humaneval.input_errors import InputError
from humaneval.strict_json import FLOAT_RANGE_DIGITS, MAX_DEPTH, strict_loads
from tests.test_bad_input_corpus import CONTENT_CASES, _acute_records, _content

pytest.importorskip("orjson")

REPO = Path(__file__).resolve().parents[1]
DATA_FILES = sorted((REPO / "task_configs").glob("*/data/*.jsonl"))


def _outcome(path: Path) -> tuple[str, str]:
    """What `iter_jsonl` makes of a file: the repr of every (line, value), exact types shown, or its error."""
    try:
        return "values", repr(list(jsonl.iter_jsonl(path)))
    except InputError as err:
        return "error", f"{err} (path {err.path}, line {err.line})"


def _both_paths(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple[str, str], tuple[str, str]]:
    fast = _outcome(path)
    with monkeypatch.context() as patch:
        patch.setattr(jsonl, "orjson", None)
        strict = _outcome(path)
    return fast, strict


def _jsonlines_reference(path: Path) -> list[object]:
    """The values a plain `jsonlines.Reader` over the whole file gives with our strict `loads`."""
    with path.open("rb") as handle:
        reader = jsonlines.Reader(handle, loads=lambda text: strict_loads(text, max_int_digits=FLOAT_RANGE_DIGITS))
        return list(reader.iter(allow_none=True, skip_empty=True))


EDGE_LINES = [
    '{"int": 9223372036854775807, "neg": -9223372036854775808, "big": 18446744073709551615}',  # 19-20 digits
    '{"ints": [123456789012345678, -123456789012345678, 0, -0], "floats": [-0.0, 1e308, 1e-400, 0.1, 1E5]}',
    '{"text": "caf\\u00e9 \\ud83d\\ude00 \\" \\\\ \\/ \\n", "raw": "café 😀", "colon": "12:30 a:b"}',
    '{"nested": {"a": {"b": [{"c": null}]}}, "empty": {}, "list": [], "t": true, "f": false}',
    "null",
    '"a string"',
    "[" * MAX_DEPTH + "]" * MAX_DEPTH,  # the deepest value strict JSON reads
    '{"escaped colon": "\\u003a", "id": "12345678901234567890"}',  # both make orjson unsure: the strict path reads it
]


def _edge_file(tmp_path: Path) -> Path:
    path = tmp_path / "edge.jsonl"
    body = "\n".join(EDGE_LINES) + "\n\n   \n\x0b\n"
    path.write_bytes(b"\xef\xbb\xbf" + body.replace("\n", "\r\n", 2).encode() + "\x1e[1]\n".encode())
    return path


def test_valid_files_read_the_same_on_both_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    acute = tmp_path / "acute.jsonl"
    acute.write_text("".join(line + "\n" for line in _acute_records()), encoding="utf-8")
    for path in [acute, _edge_file(tmp_path), *DATA_FILES]:
        fast, strict = _both_paths(path, monkeypatch)
        assert fast[0] == "values", f"{path}: {fast[1]}"
        assert fast == strict, path
        assert repr([value for _, value in jsonl.iter_jsonl(path)]) == repr(_jsonlines_reference(path)), path


def test_the_fast_path_reads_ordinary_records(tmp_path: Path) -> None:
    """The orjson path is really taken for records like ours (else the comparisons above would be vacuous)."""
    lines = [line.encode() for line in _acute_records()]
    assert all(jsonl._fast_value(line) is not jsonl._UNSURE for line in lines)
    assert [jsonl._fast_value(line) for line in lines] == [json.loads(line) for line in lines]


@pytest.mark.parametrize("case", CONTENT_CASES)
def test_every_corpus_case_gives_the_same_outcome(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    valid = _acute_records()
    path = tmp_path / "input.jsonl"
    path.write_bytes(_content(case, valid, json.dumps({"task": "acute", "winner": 3})))
    fast, strict = _both_paths(path, monkeypatch)
    assert fast == strict


ORJSON_ACCEPTS_STRICT_REFUSES = {
    "key twice": '{"winner": "A", "winner": "B"}',
    "key twice, nested": '{"a": [1, {"k": 1, "k": {"x": 2}}]}',
    "key twice, colons in strings": '{"t": "12:30", "t": "a:b:c"}',
    "key twice, hidden by an escaped colon": '{"k": "\\u003a", "k": 1}',
    "integer of 309 digits": '{"n": 1' + "0" * FLOAT_RANGE_DIGITS + "}",
    "integer past 64 bits": '{"n": -99999999999999999999}',  # orjson: a float; strict: an int
    "nested 65 levels": "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
    "nested 1000 levels": '{"v": ' + "[" * 1000 + "]" * 1000 + "}",
    "byte order mark after line 1": '\ufeff{"a": 1}',
}


@pytest.mark.parametrize("name", ORJSON_ACCEPTS_STRICT_REFUSES)
def test_what_orjson_reads_differently_takes_the_strict_path(
        name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    line = ORJSON_ACCEPTS_STRICT_REFUSES[name]
    assert jsonl._fast_value(line.encode()) is jsonl._UNSURE
    path = tmp_path / "input.jsonl"
    path.write_text('{"ok": 1}\n' + line + '\n{"ok": 2}\n', encoding="utf-8")
    fast, strict = _both_paths(path, monkeypatch)
    assert fast == strict


def _corruptions(lines: list[str], count: int, seed: int) -> list[str]:
    """Real lines with a few characters replaced, inserted or deleted from JSON's own alphabet and beyond."""
    alphabet = list('{}[]:,"\\ 0123456789.eE+-tnfaluN\x00\x1f\x7f') + ["\\u003a", "\\ud800", "é", "NaN", "1e999"]
    rng = random.Random(seed)
    corrupted = []
    for _ in range(count):
        text = list(rng.choice(lines))
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text) + 1)
            kind = rng.random()
            if kind < 0.4:
                text.insert(at, rng.choice(alphabet))
            elif kind < 0.7 and at < len(text):
                text[at] = rng.choice(alphabet)
            elif at < len(text):
                del text[at]
        corrupted.append("".join(text))
    return corrupted


def test_random_corruptions_of_real_lines_give_the_same_outcome(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _acute_records()[:4] + EDGE_LINES + [(REPO / "task_configs/safety/data/contexts.jsonl").read_text().splitlines()[0]]
    path = tmp_path / "input.jsonl"
    differ = []
    for line in _corruptions(lines, 1500, seed=22):
        path.write_text('{"ok": 1}\n' + line + "\n", encoding="utf-8")
        fast, strict = _both_paths(path, monkeypatch)
        if fast != strict:
            differ.append((line, fast, strict))
    assert not differ, differ[:3]


def test_the_cycle_collector_is_paused_only_while_a_file_is_read() -> None:
    import gc

    assert gc.isenabled()
    with pytest.raises(InputError), jsonl.cycle_collection_paused():
        assert not gc.isenabled()
        raise InputError("a bad line", path="x.jsonl", line=3)
    assert gc.isenabled()  # back on after an error too
    gc.disable()
    try:
        with jsonl.cycle_collection_paused():
            pass
        assert not gc.isenabled()  # a caller's own choice is left as it was
    finally:
        gc.enable()
