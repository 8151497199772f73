"""Shared file IO: bad lines are located, outputs appear whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from humaneval.input_errors import InputError, exit_on_input_error
from humaneval.jsonl import iter_jsonl_objects, read_json_document, write_jsonl
from humaneval.strict_json import FLOAT_RANGE_DIGITS, MAX_DEPTH, PYTHON_INT_DIGITS, NotStrictJSON, strict_loads


def test_bad_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2\n')
    with pytest.raises(InputError) as err:
        list(iter_jsonl_objects(path))
    assert str(err.value).startswith(f"{path}:3: invalid JSON")


@pytest.mark.parametrize(("document", "kind", "convert"), [
    ([{"speakerChoice": "model_a"}, {"speakerChoice": "model_b"}], "a list of 2 value(s)", "for v in json.load"),
    ({"inputs": {"task_specs": []}, "outputs": {}}, "an object", "print(json.dumps(json.load"),
])
def test_a_pretty_printed_json_document_is_named_as_such_with_the_conversion(
        document: object, kind: str, convert: str, tmp_path: Path) -> None:
    """ParlAI writes its unit data and results as indented JSON documents: say so and how to convert,
    not merely "line 1: invalid JSON"; the file itself is left alone."""
    import json

    path = tmp_path / "agent_data.json"
    path.write_text(json.dumps(document, indent=2))
    before = path.read_bytes()
    with pytest.raises(InputError) as err:
        list(iter_jsonl_objects(path))
    message = str(err.value)
    assert message.startswith(f"{path}:1: this is one JSON document ({kind}), not JSONL (one JSON value per line)")
    assert convert in message and "< agent_data.json > agent_data.jsonl" in message
    assert path.read_bytes() == before
    converted = tmp_path / "agent_data.jsonl"  # the printed conversion works
    command = message.split("python -c ", 1)[1].split(" < ", 1)[0].strip("'")
    import subprocess
    import sys
    with path.open() as source, converted.open("w") as target:
        subprocess.run([sys.executable, "-c", command], stdin=source, stdout=target, check=True)
    values = [value for _, value in iter_jsonl_objects(converted)]
    assert values == (document if isinstance(document, list) else [document])


def test_a_bad_first_line_that_is_no_document_keeps_the_jsonl_hint(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"a": 1\n{"a": 2}\n')
    with pytest.raises(InputError, match=r":1: invalid JSON \(.*; a JSONL file holds one complete JSON value per line"):
        list(iter_jsonl_objects(path))


def test_non_object_line_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"a": 1}\n[1, 2]\n')
    with pytest.raises(InputError, match=r":2: expected a JSON object, got list"):
        list(iter_jsonl_objects(path))


def test_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")

    def records():
        yield {"a": 1}
        raise RuntimeError("crash mid-way")

    with pytest.raises(RuntimeError):
        write_jsonl(out, records())
    assert out.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_written_file_honours_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_jsonl(tmp_path / "out.jsonl", [{"a": 1}])
    finally:
        os.umask(old)
    assert (tmp_path / "out.jsonl").stat().st_mode & 0o777 == 0o644


def test_cli_wrapper_turns_input_error_into_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    @exit_on_input_error
    def main() -> int:
        raise InputError("speaker 'x' not in dialogue", path="p.jsonl", line=4, field="speakers_to_eval")

    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip() == "error: p.jsonl:4: field 'speakers_to_eval': speaker 'x' not in dialogue"


def test_json_document_errors_are_located(tmp_path: Path) -> None:
    path = tmp_path / "onboarding.json"
    path.write_text('[\n  {"a": 1},\n  {"a": }\n]')
    with pytest.raises(InputError) as err:
        read_json_document(path)
    assert str(err.value).startswith(f"{path}:3: invalid JSON")
    path.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(InputError, match="not UTF-8 text"):
        read_json_document(path)
    with pytest.raises(InputError, match="file not found"):
        read_json_document(tmp_path / "missing.json")
    path.write_text('{"a": [1, 2]}')
    assert read_json_document(path) == {"a": [1, 2]}


def test_strict_json_refuses_what_python_json_lets_through() -> None:
    for text in ('{"a": NaN}', "[Infinity]", "[-1e999]", '["a\\ud800"]', "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)):
        with pytest.raises(NotStrictJSON):
            strict_loads(text, max_int_digits=PYTHON_INT_DIGITS)
    assert strict_loads('["\\ud83d\\ude00", 1.5e300]', max_int_digits=FLOAT_RANGE_DIGITS) == ["\U0001F600", 1.5e300]


def test_only_brackets_outside_strings_count_towards_the_depth() -> None:
    inner = '"]]}\\\\", "\\"[[{"'  # brackets, an escaped backslash and an escaped quote, all inside strings
    at_limit = "[" * MAX_DEPTH + inner + "]" * MAX_DEPTH
    value = strict_loads(at_limit, max_int_digits=FLOAT_RANGE_DIGITS)
    for _ in range(MAX_DEPTH - 1):
        value = value[0]
    assert value == ["]]}\\", '"[[{']
    with pytest.raises(NotStrictJSON, match=f"deeper than {MAX_DEPTH} levels"):
        strict_loads("[" + at_limit + "]", max_int_digits=FLOAT_RANGE_DIGITS)


def test_integer_length_is_the_callers_rule(tmp_path: Path) -> None:
    huge = "1" + "0" * FLOAT_RANGE_DIGITS  # one digit more than a float can hold
    assert strict_loads(huge, max_int_digits=PYTHON_INT_DIGITS) == 10**FLOAT_RANGE_DIGITS
    with pytest.raises(NotStrictJSON, match=f"{FLOAT_RANGE_DIGITS + 1} digits"):
        strict_loads(huge, max_int_digits=FLOAT_RANGE_DIGITS)
    path = tmp_path / "in.jsonl"  # the file readers keep to numbers a float can hold
    path.write_text(f'{{"a": 1}}\n{{"a": {huge}}}\n')
    with pytest.raises(InputError, match=r":2: invalid JSON \(the integer"):
        list(iter_jsonl_objects(path))


@pytest.mark.parametrize("kind", ["fifo", "symlink"])
def test_an_output_that_is_no_regular_file_is_refused_and_left_alone(kind: str, tmp_path: Path) -> None:
    """Outputs are renamed into place, which would replace a device (as root, /dev/null became a file), a
    pipe or a link instead of writing into it: refused with exit 2, and the path is unchanged."""
    import stat
    import subprocess
    import sys

    from humaneval.outputs import check_outputs

    target = tmp_path / "out.jsonl"
    if kind == "fifo":
        os.mkfifo(target)
    else:
        (tmp_path / "real.jsonl").write_text("keep\n")
        target.symlink_to(tmp_path / "real.jsonl")
    with pytest.raises(InputError, match="symbolic link|not a regular file"):
        check_outputs([target], field="--out")
    with pytest.raises(InputError):
        write_jsonl(target, [{"a": 1}])
    data = Path(__file__).resolve().parents[1] / "task_configs" / "acute" / "data"
    done = subprocess.run([sys.executable, "-m", "humaneval.acute", "pairings", "--conversations",
                           f"dull={data / 'dull_bot.jsonl'}", "--conversations", f"persona={data / 'persona_bot.jsonl'}",
                           "--out", str(target)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert stat.S_ISFIFO(os.lstat(target).st_mode) if kind == "fifo" else target.is_symlink()
    if kind == "symlink":
        assert (tmp_path / "real.jsonl").read_text() == "keep\n"


def test_read_json_document_refuses_a_file_over_its_size_cap_before_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_text('{"text": "' + "x" * 2000 + '"}', encoding="utf-8")
    with pytest.raises(InputError, match="larger than 1,024 bytes") as err:
        read_json_document(path, max_bytes=1024)
    assert err.value.path == str(path)
    assert read_json_document(path, max_bytes=path.stat().st_size)["text"] == "x" * 2000  # the cap itself is fine
    assert read_json_document(path)["text"] == "x" * 2000  # no cap unless asked


@pytest.mark.parametrize("text", ['{"winner": "A", "winner": "B"}', '[{"x": 1}, {"y": {"k": 1, "k": 2}}]'])
def test_a_key_given_twice_in_one_object_is_refused(text: str, tmp_path: Path) -> None:
    """Python keeps the last value and other tools the first: the same file would mean two things."""
    with pytest.raises(NotStrictJSON, match="appears twice"):
        strict_loads(text, max_int_digits=FLOAT_RANGE_DIGITS)
    path = tmp_path / "dup.jsonl"
    path.write_text('{"ok": 1}\n' + text + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"dup.jsonl:2: .*appears twice"):
        list(iter_jsonl_objects(path))
    assert strict_loads('[{"k": 1}, {"k": 2}]', max_int_digits=FLOAT_RANGE_DIGITS) == [{"k": 1}, {"k": 2}]
