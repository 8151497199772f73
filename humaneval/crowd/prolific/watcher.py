"""The live run's eye on its study: returned submissions give their work back, and the study is kept in
step with the units.

A participant who returns a study on Prolific (or runs out of its maximum time) frees the place there,
but our page may never say so: a static page talks to the server only to submit. So a thread of the
live run lists the study's submissions every `poll_seconds` and marks the agents of returned or
timed-out ones; the runner waiting on such an agent wakes, the work goes back to the queue and
Mephisto offers the unit again. The same thread then syncs the study (`StudyKeeper.sync`): places a
Prolific outage kept from being added are added, places held by submissions without work are made up.
"""

from __future__ import annotations

import logging
import threading

from humaneval.crowd.prolific.agent import update_from_submission
from humaneval.crowd.prolific.api import ProlificClient, ProlificError
from humaneval.crowd.prolific.datastore import ProlificDatastore
from humaneval.crowd.prolific.study import StudyKeeper
from mephisto.abstractions.database import MephistoDB

logger = logging.getLogger(__name__)

ENDED_ON_PROLIFIC = ("RETURNED", "TIMED-OUT")


class SubmissionWatcher:
    def __init__(self, db: MephistoDB, datastore: ProlificDatastore, client: ProlificClient, task_run_id: str,
                 poll_seconds: float) -> None:
        self.db, self.datastore, self.client = db, datastore, client
        self.task_run_id = task_run_id
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"prolific-watch-{task_run_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.poll_seconds + 5)

    def give_back_returned(self, submissions: list[dict]) -> int:
        """Agents whose submission Prolific lists as returned or timed out end; returns how many did."""
        ended = {str(s["id"]): str(s.get("status")) for s in submissions if s.get("status") in ENDED_ON_PROLIFIC}
        changed = 0
        for record in self.datastore.submissions_of_run(self.task_run_id):
            status = ended.get(record.submission_id)
            if status and update_from_submission(self.db, record.agent_id, status):
                changed += 1
        return changed

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            study = self.datastore.study(self.task_run_id)
            if study is not None and study.stopped:
                return  # stopped (at the run's end, by hand on Prolific, by a later launch): nothing to watch
            try:
                # one listing serves both: returns end their agents first, then places are counted
                submissions = self.client.list_submissions(study.study_id) if study and study.published else None
                if submissions is not None:
                    self.give_back_returned(submissions)
                StudyKeeper(self.db, self.datastore).sync(self.client, self.task_run_id, submissions)
            except ProlificError as err:  # Prolific unreachable for a moment: look again next time
                logger.warning("could not bring the Prolific study in step with the run yet: %s", err)
            except Exception:
                logger.exception("the Prolific submission watcher failed; returned submissions are now noticed "
                                 "only when their unit times out")
                return
