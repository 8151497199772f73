"""What the Prolific tests share: launch overrides for a run against the fake Prolific, and a participant
arriving the way Prolific sends them. The fake itself, with requester `lab` registered against it, is the
`prolific` fixture (tests/crowd/conftest.py)."""

from __future__ import annotations

from pathlib import Path

from humaneval.crowd.launcher import LocalLaunch
from humaneval.crowd.simulated_worker import SimulatedWorker
from tests.prolific_fake import FakeProlific

TOKEN = "tok-0123456789abcdef"


def prolific_overrides(tmp_path: Path, fake: FakeProlific, *more: str) -> list[str]:
    """A smoke (or any study's) launch on the fake Prolific: £0.50 per 2-minute unit, returns noticed in 0.2 s."""
    return [f"humaneval.data_dir={tmp_path / 'mephisto'}", "provider=prolific", "mephisto.provider.requester_name=lab",
            "mephisto.task.task_reward=0.5", "humaneval.pay.estimated_minutes=2",
            f"mephisto.provider.completion_url={fake.completion_url}", "mephisto.provider.poll_seconds=0.2", *more]


def prolific_participant(run: LocalLaunch, fake: FakeProlific, study_id: str, pid: str) -> tuple[str, SimulatedWorker]:
    """A participant who took a place on Prolific (their session) and the page Prolific opens for them."""
    session = fake.participant_starts(study_id, pid)
    return session, SimulatedWorker(run.base_url, pid, provider_type="prolific", provider_extra={"study_id": study_id})
