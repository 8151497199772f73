"""Agent state of BAD chats: Mephisto's remote-procedure state plus the conversation, saved after every change.

Mephisto's `RemoteProcedureAgentState` keeps the requests in memory and writes them only when the unit
starts and when it is submitted, so a crash of the launcher would lose the whole chat. Here the
conversation (`chat_record.ChatRecord`) lives in the same `state.json` and is written after every turn and
label (`save_conversation`); a reload or reconnect resumes from it and the export reads it even for
units that never completed. The submit records the worker's rating on the conversation.

Those saves lie on the bot turn's path (the worker's message before the model is asked, the reply
before the page sees it), so they are kept cheap: the file is encoded in one `json.dumps` (C encoder)
instead of Mephisto's streaming `json.dump` (the pure-Python encoder, a write per token) and written
with three system calls (`write_file`), the same bytes as Mephisto's; and a turn rewrites only
`state.json`, not Mephisto's metadata file, which no turn changes (its start and end times are saved
by Mephisto when they are set).

An onboarding's state keeps the first label the server checked for each quiz item (`practice_checks`,
saved at once: a reload or a second check cannot replace it) and the quiz's result as scored.

The page's init data (`task_data`) never names the model; the conversation record does.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from humaneval.bad_collection.chat_record import ChatRecord
from humaneval.crowd.mephisto_api import RemoteProcedureAgentState
from humaneval.crowd.practice_checks import CHECKS_KEY


def write_file(path: str, data: bytes) -> None:
    """Replace the file's contents with `data` as Mephisto's `write_text` does (truncate, write; its folder
    made on the first save), in three system calls instead of about ten (folder checks, `open`'s fstat,
    isatty and seek): each call lets go of the GIL, and taking it back behind the model layer's and the
    other units' threads cost milliseconds per call while eight chats were answered at once."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        rest = memoryview(data)
        while rest:
            rest = rest[os.write(fd, rest):]
    finally:
        os.close(fd)


class BadChatAgentState(RemoteProcedureAgentState):
    """Remote-procedure state + `conversation` (units) or `practice_checks` and `onboarding_result` (onboardings)."""

    def _load_data(self) -> None:
        if not hasattr(self, "lock"):  # procedures run on the unit thread, the submit on the event loop
            self.lock = threading.RLock()
        super()._load_data()
        self.conversation: ChatRecord | None = None
        self.onboarding_result: dict[str, Any] | None = None
        self.practice_checks: dict[str, str] = {}
        self.last_request_at: float | None = None  # the page's last request (in memory: for idle units only)
        path = self._get_expected_data_file()
        if self.agent.db.key_exists(path):
            stored = self.agent.db.read_dict(path)
            if stored.get("conversation"):
                self.conversation = ChatRecord.from_dict(stored["conversation"])
            self.onboarding_result = stored.get("onboarding_result")
            self.practice_checks = dict(stored.get(CHECKS_KEY) or {})

    def get_data(self) -> dict[str, Any]:
        data = super().get_data()
        data["conversation"] = self.conversation.to_dict() if self.conversation else None
        data["onboarding_result"] = self.onboarding_result
        data[CHECKS_KEY] = self.practice_checks
        return data

    def _save_data(self) -> None:
        """The same file Mephisto's `_save_data` writes (`write_dict`: `json.dump` of `get_data`), encoded at once."""
        write_file(self._get_expected_data_file(), json.dumps(self.get_data()).encode())

    def get_parsed_data(self) -> dict[str, Any]:
        """What the export's `FinishedUnit` reads: the conversation as inputs, the submission as outputs."""
        return {"inputs": self.conversation.to_dict() if self.conversation else None, "outputs": self.final_submission}

    def start_conversation(self, conversation: ChatRecord, task_data: dict[str, Any]) -> None:
        """Store a new unit's conversation and the page's init data (saved at once)."""
        with self.lock:
            self.conversation = conversation
            if not self.set_init_state(task_data):
                self.save_data()

    def save_conversation(self) -> None:
        """Write the conversation (with the requests); the metadata file is left as it is (see module docstring)."""
        with self.lock:
            self._save_data()

    def first_answer(self, item: str, answer: str) -> str:
        """The first label checked for quiz `item`: `answer` if this is the first check (saved at once)."""
        with self.lock:
            if item not in self.practice_checks:
                self.practice_checks[item] = answer
                self.save_data()
            return self.practice_checks[item]

    def store_onboarding_result(self, result: dict[str, Any]) -> None:
        with self.lock:
            self.onboarding_result = result
            self.save_data()

    def _update_submit(self, submitted_data: dict[str, Any]) -> None:
        with self.lock:
            super()._update_submit(submitted_data)
            if self.conversation is not None and not self.conversation.submitted:
                self.conversation.record_submission(submitted_data)
