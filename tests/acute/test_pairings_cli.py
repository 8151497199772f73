"""The CLI verbs `pairings` and `validate`: exit codes, messages naming file and line, nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from humaneval.acute.__main__ import main
from humaneval.acute.bundled_data import EXAMPLE_PAIRINGS_PATH

REPO = Path(__file__).resolve().parents[2]
DATA = EXAMPLE_PAIRINGS_PATH.parent


def chat_line(bot: str, i: int) -> str:
    return json.dumps({"dialog": [[{"id": "human", "text": f"hi {i}"}, {"id": bot, "text": f"hello {i}"}]],
                       "context": [{"id": "context", "text": f"your persona: {bot} {i}"}]})


def write_chats(path: Path, bot: str, n: int = 3, bad_line: str | None = None) -> Path:
    lines = [chat_line(bot, i) for i in range(n)]
    if bad_line is not None:
        lines.insert(1, bad_line)  # becomes line 2
    path.write_text("\n".join(lines) + "\n")
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_pairings_verb_builds_a_valid_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = write_chats(tmp_path / "a.jsonl", "a"), write_chats(tmp_path / "b.jsonl", "b")
    out = tmp_path / "out" / "pairings.jsonl"
    out.parent.mkdir()
    code, stdout, stderr = run(["pairings", "--conversations", f"a={a}", "--conversations", f"b={b}",
                                "--out", str(out), "--pairs-per-model-pair", "3", "--seed", "4"], capsys)
    assert code == 0, stderr
    assert "wrote 3 pairs" in stdout and "a vs b: 3 pairs" in stdout
    assert "evaluated speaker id 'a'" in stdout
    assert "scanning" in stderr  # progress goes to stderr
    code, stdout, _ = run(["validate", str(out)], capsys)
    assert code == 0 and "OK, 3 pairs" in stdout


BAD_CONVERSATIONS = {
    "invalid JSON": ('{"dialog": [[', [], "invalid JSON"),
    "missing key": ('{"context": []}', [], "missing key 'dialog'"),
    "evaluated speaker absent": (json.dumps({"dialog": [[{"id": "human", "text": "anyone there?"}]]}), ["--speaker", "a=a"],
                                 "has no turn in this conversation"),
}


@pytest.mark.parametrize("case", list(BAD_CONVERSATIONS))
def test_bad_conversations_exit_2_naming_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    bad_line, extra, problem = BAD_CONVERSATIONS[case]
    a = write_chats(tmp_path / "a.jsonl", "a", bad_line=bad_line)
    b = write_chats(tmp_path / "b.jsonl", "b")
    out = tmp_path / "pairings.jsonl"
    code, stdout, stderr = run(["pairings", "--conversations", f"a={a}", "--conversations", f"b={b}", "--out", str(out), *extra], capsys)
    assert code == 2
    assert f"error: {a}:2" in stderr and problem in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "b.jsonl"]  # no output, no temp file


@pytest.mark.parametrize(
    ("argv_tail", "problem"),
    [
        (["--model-pairs", "a:a"], "identical models in model pair a:a"),
        (["--speaker", "zz=x"], "model 'zz' has no --conversations file"),
        (["--speaker-position", "a=2"], "position must be 0 or 1"),
    ],
)
def test_bad_options_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv_tail: list[str], problem: str) -> None:
    a, b = write_chats(tmp_path / "a.jsonl", "a"), write_chats(tmp_path / "b.jsonl", "b")
    out = tmp_path / "pairings.jsonl"
    code, _, stderr = run(["pairings", "--conversations", f"a={a}", "--conversations", f"b={b}", "--out", str(out), *argv_tail], capsys)
    assert code == 2 and problem in stderr
    assert not out.exists()


def test_same_model_twice_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = write_chats(tmp_path / "a.jsonl", "a"), write_chats(tmp_path / "b.jsonl", "b")
    out = tmp_path / "pairings.jsonl"
    code, _, stderr = run(["pairings", "--conversations", f"a={a}", "--conversations", f"a={b}", "--out", str(out)], capsys)
    assert code == 2 and "model named twice: a" in stderr
    assert not out.exists()


@pytest.mark.parametrize("name", ["tie", "both_bad"])
def test_a_model_named_like_a_tie_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    """Judgements use these names as the winner of a tie: a file with such a model would be refused at launch."""
    a, b = write_chats(tmp_path / "a.jsonl", "a"), write_chats(tmp_path / "b.jsonl", "b")
    out = tmp_path / "pairings.jsonl"
    code, _, stderr = run(["pairings", "--conversations", f"a={a}", "--conversations", f"{name}={b}", "--out", str(out)],
                          capsys)
    assert code == 2 and f"field '--conversations': {name!r} cannot name a model" in stderr and "Traceback" not in stderr
    assert not out.exists()


def test_existing_output_is_untouched_on_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write_chats(tmp_path / "a.jsonl", "a", bad_line="not json")
    b = write_chats(tmp_path / "b.jsonl", "b")
    out = tmp_path / "pairings.jsonl"
    out.write_text("previous run\n")
    code, _, _ = run(["pairings", "--conversations", f"a={a}", "--conversations", f"b={b}", "--out", str(out)], capsys)
    assert code == 2 and out.read_text() == "previous run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "b.jsonl", "pairings.jsonl"]  # no temp files left


def good_pair() -> dict:
    return json.loads((DATA / "example_pairings.jsonl").read_text().splitlines()[0])


BAD_PAIRINGS = {
    "invalid JSON": (lambda line: line[:-3], "invalid JSON"),
    "missing key": (lambda line: json.dumps({k: v for k, v in json.loads(line).items() if k != "dialogue_dicts"}),
                    "missing key 'dialogue_dicts'"),
    "evaluated speaker absent": (lambda line: json.dumps({**json.loads(line), "speakers_to_eval": ["ghost", json.loads(line)["speakers_to_eval"][1]]}),
                                 "evaluated speaker 'ghost' is absent"),
    "identical models": (lambda line: json.dumps({**json.loads(line), "speakers_to_eval": ["x", "x"]}), "identical evaluated models"),
}


@pytest.mark.parametrize("case", list(BAD_PAIRINGS))
def test_validate_verb_exits_2_naming_file_line_and_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    corrupt, problem = BAD_PAIRINGS[case]
    lines = (DATA / "example_pairings.jsonl").read_text().splitlines()
    lines[2] = corrupt(lines[2])
    path = tmp_path / "user_pairings.jsonl"
    path.write_text("\n".join(lines) + "\n")
    code, stdout, stderr = run(["validate", str(path)], capsys)
    assert code == 2 and stdout == ""
    assert stderr.startswith(f"error: {path}:3") and problem in stderr


def test_validate_onboarding_mode(capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run(["validate", "--onboarding", str(DATA / "onboarding.jsonl")], capsys)
    assert code == 0 and "4 onboarding" in stdout
    code, _, stderr = run(["validate", "--onboarding", str(DATA / "example_pairings.jsonl")], capsys)
    assert code == 2 and "not an onboarding pair" in stderr


def test_unknown_verb_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["frobnicate"], capsys)[0] == 2
    code, stdout, _ = run(["--help"], capsys)
    assert code == 0 and "pairings" in stdout and "validate" in stdout


def test_real_process_exit_code_and_message(tmp_path: Path) -> None:
    a = write_chats(tmp_path / "a.jsonl", "a", bad_line="{oops")
    b = write_chats(tmp_path / "b.jsonl", "b")
    out = tmp_path / "p.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "humaneval.acute", "pairings", "--conversations", f"a={a}", "--conversations", f"b={b}", "--out", str(out)],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )
    assert proc.returncode == 2
    assert f"{a}:2: invalid JSON" in proc.stderr
    assert not out.exists()


def test_validate_empty_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n")
    code, _, stderr = run(["validate", str(path)], capsys)
    assert code == 2 and f"{path}: no pairs" in stderr
