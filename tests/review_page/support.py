"""A finished ACUTE sandbox study to review: real Mephisto (local architect, node router, mock provider),
simulated workers, one of them a spammer the analysis flags as too fast, whose reasons are markup; every
conversation opens with a message of markup too.

Built once per test session (about 10 s) and copied into each test's own folder, since reviewing changes it.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

from humaneval.acute.task import build_task
from humaneval.crowd.launcher import LaunchSettings, LocalLaunch
from humaneval.crowd.simulated_worker import SimulatedWorker
from humaneval.jsonl import write_jsonl
from tests.acute.test_work_queue import study_pairings

TASK = "acute-review"
CAREFUL = ("careful_a", "careful_b")
SPAMMER = "spammer"
XSS = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>"
XSS_CHAT = "<b>hi</b><img src=x onerror=\"document.title='pwned'\">"  # the first message of every conversation


def answers(session: Any, *, seconds: float, always_left: bool, reason: str) -> dict[str, Any]:
    """Judge every comparison of the unit, each taking `seconds` by the page's clock."""
    judgements = []
    now = time.time()
    for i, comparison in enumerate(session.init_task_data["comparisons"]):
        lengths = [sum(len(t["text"]) for t in c["turns"]) for c in comparison["conversations"]]
        choice = "left" if always_left or lengths[0] >= lengths[1] else "right"
        started = now - (len(session.init_task_data["comparisons"]) - i) * seconds
        judgements.append({"pair_id": comparison["pair_id"], "choice": choice, "reason": reason,
                           "started_at": started, "submitted_at": started + seconds})
    return {"judgements": judgements}


def build_study(folder: Path) -> Path:
    """Run the study to completion in `folder`; return its Mephisto data dir."""
    pairings = folder / "pairings.jsonl"
    pairs = study_pairings(folder, pairs_per_model_pair=1)  # 6 pairs of 4 models
    for pair in pairs:
        for dialogue in pair["dialogue_dicts"]:
            dialogue["dialogue"][0]["text"] = XSS_CHAT
    write_jsonl(pairings, pairs)
    data_dir = folder / "mephisto"
    cfg, state = build_task([
        f"humaneval.data_dir={data_dir}", f"mephisto.blueprint.pairings_file={pairings}",
        "mephisto.blueprint.onboarding_qualification=null", "mephisto.blueprint.annotations_per_pair=1",
        "mephisto.blueprint.subtasks_per_unit=2", f"mephisto.task.task_name={TASK}", "mephisto.task.task_reward=0.75",
    ])
    errors: list[BaseException] = []
    with LocalLaunch(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        def crowd() -> None:
            try:
                plan = [(CAREFUL[0], 40.0, False, "the left one asks questions back"),
                        (CAREFUL[1], 35.0, False, "more engaging and on topic"), (SPAMMER, 1.0, True, XSS)]
                for name, seconds, left, reason in plan:
                    worker = SimulatedWorker(run.base_url, name)
                    session = worker.request_agent()
                    deadline = time.monotonic() + 20
                    while session.agent_id is None and time.monotonic() < deadline:  # units come within seconds
                        time.sleep(0.2)
                        session = worker.request_agent()
                    assert session.agent_id is not None, session.failure_reason
                    worker.submit_task(session.agent_id, answers(session, seconds=seconds, always_left=left,
                                                                 reason=reason))
            except BaseException as err:  # re-raised on the test's thread
                errors.append(err)

        thread = threading.Thread(target=crowd, daemon=True)
        thread.start()
        done = run.wait_until(lambda: run.is_done() or bool(errors), timeout=120)
        thread.join(10)
    assert not errors, errors
    assert done, "the review study did not finish"
    return data_dir


def copy_study(source: Path, folder: Path) -> Path:
    """A private copy of a built study's data dir (Mephisto finds agent files relative to it)."""
    target = folder / "mephisto"
    shutil.copytree(source, target)
    return target
