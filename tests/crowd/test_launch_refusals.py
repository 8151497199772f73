"""Launches refused before a run exists: a task name another study holds, and a run that cannot start (an
address this machine does not have, a crowd provider that refuses) — one line, exit 2, nothing left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from humaneval.launch import main
from tests.test_launch_cli import assert_one_error_line


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_a_task_name_held_by_another_study_is_refused_before_anything_starts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Mephisto keys a task by its name alone: a second study under the same name would mix its units into
    the first one's, and neither could be exported or resumed again."""
    from humaneval.crowd.data_dir import open_database

    open_database(tmp_path).new_task("shared-name", "acute_eval")
    code, out, err = run(["safety", f"humaneval.data_dir={tmp_path}", "mephisto.task.task_name=shared-name"], capsys)
    assert code == 2 and out == ""
    assert err.strip() == (f"error: mephisto.task.task_name: 'shared-name' already holds a acute_eval task in {tmp_path}, "
                           "and this launch is a safety_annotation task; choose another task name")


def test_a_run_that_cannot_start_says_why_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An address this machine does not have (or a crowd provider that refuses): one line, exit 2, the
    data folder's lock released (a second attempt gets the same answer, not "already running"), no traceback."""
    for _ in range(2):
        code, _, err = run(["smoke", f"humaneval.data_dir={tmp_path}", "humaneval.router_host=10.255.255.1"], capsys)
        assert_one_error_line(code, err)
        assert err.startswith("error: the run could not start: OSError:") and "-v shows the details" in err


@pytest.mark.parametrize("provider", ["mturk_sandbox", "prolific"])
def test_a_provider_without_a_registered_requester_is_refused_with_nothing_written(
        provider: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A real provider's launch needs a requester registered in the data folder; in a folder with no database
    there is none: the command to register one, exit 2, and no data folder created."""
    data_dir = tmp_path / "data"
    code, _, err = run(["smoke", f"provider={provider}", "mephisto.provider.requester_name=me",
                        f"humaneval.data_dir={data_dir}", "humaneval.pay.estimated_minutes=5"], capsys)
    assert code == 2 and "Traceback" not in err
    assert err.startswith(f"error: no {provider} requester named 'me' in {data_dir / 'database.db'}; register one first")
    assert f"register-requester --provider {provider} --name me\n" in err
    assert not data_dir.exists()
