"""The review audit log: one line per action outcome, whole lines under concurrent writers, and `once` acting
once per request id even when two processes (two review pages, a page and a retry) deliver it together."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from humaneval.crowd.review import ReviewAction
from humaneval.crowd.review_audit import ReviewAudit


def _deliver(log: Path, effects: Path, request: str, start_at: float) -> None:
    """One delivery of `request`: its action takes a while and leaves a mark in `effects` each time it runs."""
    def act() -> list[ReviewAction]:
        with effects.open("a") as handle:
            handle.write("acted\n")
        time.sleep(0.3)  # the other delivery arrives while this one is acting
        return [ReviewAction("approve", "unit 1 (worker w, mock)", True, "unit now accepted")]

    time.sleep(max(0.0, start_at - time.time()))
    ReviewAudit(log).once(request, act, who="p", via="page", task_name="t")


def test_two_processes_delivering_one_request_act_once(tmp_path: Path) -> None:
    log, effects = tmp_path / "audit.jsonl", tmp_path / "effects.txt"
    start_at = time.time() + 1.0
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_deliver, args=(log, effects, "same-request", start_at)) for _ in range(3)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(30)
        assert process.exitcode == 0
    assert effects.read_text() == "acted\n"
    assert [(line.request, line.action) for line in ReviewAudit(log).lines()] == [("same-request", "approve")]


def test_lines_keep_who_what_when_and_the_answer_and_a_repeat_returns_them(tmp_path: Path) -> None:
    audit = ReviewAudit(tmp_path / "audit.jsonl")
    outcomes = [ReviewAction("reject", "unit 3 (worker s, mock)", True, "unit now rejected; reason: '<b>x</b>'"),
                ReviewAction("reject", "unit 4 (worker s, mock)", True, "already rejected", skipped=True)]
    lines, acted = audit.once("r-1", lambda: outcomes, who="alice", via="page", task_name="t")
    assert acted and [(x.action, x.ok, x.skipped, x.detail) for x in lines] == [
        ("reject", True, False, "unit now rejected; reason: '<b>x</b>'"), ("reject", True, True, "already rejected")]
    assert {x.who for x in lines} == {"alice"} and lines[0].at.endswith("Z")
    again, acted = audit.once("r-1", lambda: pytest.fail("acted twice"), who="alice", via="page", task_name="t")
    assert not acted and again == lines
    audit.record([ReviewAction("block", "worker s (mock)", False, "the provider refused")], who="bob", via="cli",
                 request="r-2", task_name="t")
    assert [x.request for x in audit.lines()] == ["r-1", "r-1", "r-2"] and audit.lines("r-2")[0].ok is False
    assert oct((tmp_path / "audit.jsonl").stat().st_mode & 0o777) == "0o600"


def test_a_damaged_line_is_skipped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    audit = ReviewAudit(path)
    audit.record([ReviewAction("approve", "unit 1", True, "ok")], who="a", via="cli", request="r-1", task_name="t")
    with path.open("a") as handle:
        handle.write('{"half a line\n')
    audit.record([ReviewAction("approve", "unit 2", True, "ok")], who="a", via="cli", request="r-2", task_name="t")
    assert [x.target for x in audit.lines()] == ["unit 1", "unit 2"]


def test_a_damaged_byte_spoils_one_line_not_the_log(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    audit = ReviewAudit(path)
    audit.record([ReviewAction("approve", "unit 1", True, "ok")], who="a", via="cli", request="r-1", task_name="t")
    with path.open("ab") as handle:
        handle.write(b"\xff\xfe garbage\n")
    lines, acted = audit.once("r-2", lambda: [ReviewAction("approve", "unit 2", True, "ok")], who="a", via="page",
                              task_name="t")
    assert acted and [x.target for x in audit.lines()] == ["unit 1", "unit 2"]
