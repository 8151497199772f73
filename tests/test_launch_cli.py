"""`python -m humaneval.launch`: the messages for bad overrides.

All in process through `main(argv)`. None of these paths may start Mephisto: `run_until_done` (the one
way to a server) fails the test if reached, and the data folder given must stay unwritten.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import humaneval.crowd.run_session
from humaneval.launch import main


@pytest.fixture(autouse=True)
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> int:
        raise AssertionError("a Mephisto run was started")

    monkeypatch.setattr(humaneval.crowd.run_session, "run_until_done", refuse)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(code: int, err: str) -> None:
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "<input>" not in err and "Traceback" not in err


# --- bad overrides ------------------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "suggestion"), [
    (["acute", "mephisto.blueprint.annotation_per_pair=3"], "mephisto.blueprint.annotations_per_pair"),
    (["acute", "mephisto.bluprint.seed=3"], "mephisto.blueprint.seed"),
    (["smoke", "humaneval.prompt=[a]"], "humaneval.prompts"),
    (["safety", "provider=mturk_sandbox", "mephisto.provider.requester_nam=me"], "mephisto.provider.requester_name"),
])
def test_a_misspelt_key_gets_the_nearest_real_one(argv: list[str], suggestion: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run([*argv, f"humaneval.data_dir={tmp_path / 'data'}"], capsys)
    assert_one_error_line(code, err)
    assert f"did you mean {suggestion}?" in err
    assert "+" not in err  # not Hydra's advice to add a key nothing reads
    assert not (tmp_path / "data").exists()


def test_a_key_like_no_other_points_to_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["acute", "mephisto.blueprint.zzz=3"], capsys)
    assert_one_error_line(code, err)
    assert "did you mean" not in err and "acute --help" in err


@pytest.mark.parametrize(("arg", "expected"), [
    ("--verbose", "error: --verbose: not an override KEY=VALUE"),
    ("mephisto.blueprint.seed", "error: mephisto.blueprint.seed: not an override KEY=VALUE (missing EQUAL"),
    ("mephisto.blueprint.seed=many", "error: mephisto.blueprint.seed: Value 'many' of type 'str' could not be"),
])
def test_unreadable_overrides_are_one_line(arg: str, expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["acute", arg], capsys)
    assert_one_error_line(code, err)
    assert err.startswith(expected)


# --- errors named by the override -------------------------------------------------------------


@pytest.mark.parametrize(("task", "key", "content", "location"), [
    ("acute", "pairings_file", '{"is_onboarding": false}\n', ":1: field 'speakers_to_eval'"),
    ("acute", "onboarding_file", "not json\n", ":1: invalid JSON"),
    ("safety", "task_data_file", '{"dialog": "nope"}\n', ":1: field 'dialog'"),
    ("bad", "personas_file", '{"persona": []}\n', ":1: field 'persona'"),
])
def test_a_bad_file_names_the_override_that_gave_it(task: str, key: str, content: str, location: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    code, _, err = run([task, f"mephisto.blueprint.{key}={bad}", f"humaneval.data_dir={tmp_path / 'data'}"], capsys)
    assert_one_error_line(code, err)
    assert err.startswith(f"error: mephisto.blueprint.{key}: {bad}{location}")
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(("argv", "expected"), [
    (["acute", "mephisto.blueprint.question=funny"], "error: mephisto.blueprint.question: unknown question preset"),
    (["acute", "mephisto.blueprint.question_text=Who?"], "error: mephisto.blueprint.question_choice: a custom choice"),
    (["safety", "mephisto.blueprint.items_per_unit=0"], "error: mephisto.blueprint.items_per_unit: must be at least 1"),
    (["bad", "provider=mturk_live"], "error: provider: unknown provider 'mturk_live'"),
])
def test_a_bad_value_is_named_by_its_key(argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(argv, capsys)
    assert_one_error_line(code, err)
    assert err.startswith(expected)

