"""The whole sandbox path with the real local architect and node router: simulated workers complete
two units, which are then read back from Mephisto's database and exported."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
from pathlib import Path

import pytest

from humaneval.crowd.data_dir import open_database
from humaneval.crowd.export import export_to_file
from humaneval.studies import all_exports
from humaneval.crowd.launcher import LocalLaunch
from humaneval.crowd.simulated_worker import SimulatedWorker
from tests.crowd.conftest import completed_units

pytestmark = pytest.mark.integration


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a LISTEN socket on `port`, read from /proc (IPv4 and IPv6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_two_simulated_workers_complete_two_units_that_are_read_back(smoke_run: LocalLaunch, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    run = smoke_run
    answers: dict[str, str] = {}
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            worker = SimulatedWorker(run.base_url, name)
            session = worker.request_agent()
            assert session.agent_id is not None, session.failure_reason
            answer = f"{name} says: {session.init_task_data['prompt'][:12]}"
            worker.submit_task(session.agent_id, {"answer": answer})
            answers[name] = answer
        except BaseException as err:  # surfaced in the main thread below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(f"sim_worker_{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    assert run.wait_until(lambda: completed_units(run) == 2, timeout=60), run.task_run.get_assignment_statuses()
    for thread in threads:
        thread.join(10)
    assert not errors, errors

    # The router listens on loopback only, and Mephisto's metrics port stayed closed.
    assert _listening_addresses(run.port) == {"0100007F"}
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", 3031)) != 0

    out = tmp_path / "export.jsonl"
    assert export_to_file(open_database(tmp_path / "mephisto"), "humaneval-smoke", out, all_exports()) == 2
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["worker_id"] for r in records} == {f"{name}_sandbox" for name in answers}  # mock provider suffix
    assert {r["worker_id"]: r["outputs"]["answer"] for r in records} == {
        f"{name}_sandbox": answer for name, answer in answers.items()
    }
    assert {r["inputs"]["prompt"] for r in records} == {
        "What is your favourite colour?",
        "Name a city you would like to visit.",
    }
    for record in records:
        assert record["task"] == "raw" and record["run_id"] == "humaneval-smoke"
        assert record["submitted_at"] >= record["started_at"] > 0
    assert run.wait_until(run.is_done, timeout=30), "the run should finish once both units are done"
    _foreign_tasks_are_refused_by_name(tmp_path, capsys)


def _foreign_tasks_are_refused_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same finished units, as if another toolkit had run them in this data folder: a blueprint type
    humaneval has no export for, and ParlAI's own `acute_eval` (same type name as ours, other inputs),
    exit 2 naming the type and write nothing, instead of exporting zero records."""
    from humaneval.cli_export import main

    db_path = open_database(tmp_path / "mephisto").db_path
    out = tmp_path / "foreign.jsonl"
    for task_type, expected in (("parlai_chat", "blueprint type 'parlai_chat', which humaneval cannot export"),
                                ("acute_eval", "was not made by humaneval's ACUTE task (ParlAI's ACUTE blueprint"),
                                ("safety_annotation", "was not made by humaneval's safety task"),
                                ("bad_chat", "a saved agent data file is damaged")):
        with sqlite3.connect(db_path) as connection:
            connection.execute("UPDATE tasks SET task_type = ? WHERE task_name = ?", (task_type, "humaneval-smoke"))
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            main(["--task-name", "humaneval-smoke", "--out", str(out), "--data-dir", str(tmp_path / "mephisto")])
        assert exit_info.value.code == 2
        assert expected in capsys.readouterr().err
        assert not out.exists()


def test_export_of_unknown_task_names_the_known_ones(tmp_path: Path) -> None:
    from humaneval.cli_export import main

    db = open_database(tmp_path)
    db.new_task("some-task", "static_react_task")
    with pytest.raises(SystemExit) as exit_info:
        main(["--task-name", "nope", "--out", str(tmp_path / "x.jsonl"), "--data-dir", str(tmp_path)])
    assert exit_info.value.code == 2
    assert not (tmp_path / "x.jsonl").exists()
