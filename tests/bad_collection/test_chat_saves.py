"""The saves on a bot turn's path: `ChatRecord.to_dict` and `BadChatAgentState`'s `state.json` write must
give exactly what `dataclasses.asdict` and Mephisto's own `write_dict` gave before they were made cheap,
a reload must get the conversation back, and a short system write must not cut the file."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from humaneval.bad_collection.agent_state import BadChatAgentState, write_file
from humaneval.bad_collection.chat_record import BOT, HUMAN, OK, SAFETY_FLAGGED, ChatRecord, ChatTurn
from mephisto.abstractions.databases.local_database import LocalMephistoDB


def full_record() -> ChatRecord:
    """A record with every field set, nested values included."""
    record = ChatRecord("c1", "demo_bot", min_turns=2, persona=["your persona: i like cats.", "i live by the sea."],
                        topic_image={"url": "cat.png", "alt": "a cat"}, safety_mode="raw", started_at=1.0)
    record.turns.append(ChatTurn(speaker=HUMAN, text="hello there, cat person", created_at=2.0))
    record.turns.append(ChatTurn(speaker=BOT, text="hi!", created_at=3.0, model_id="demo_bot", label=OK,
                                 classifier_scores={"offensive": {"unsafe": True, "score": 0.91, "reason": "word",
                                                                  "spans": [[0, 3]]}},
                                 safety_action=SAFETY_FLAGGED, generated="hi!", latency_s=0.25))
    record.record_submission({"rating": 4, "comment": "fine"}, at=9.0)
    return record


def test_to_dict_is_asdict_in_the_same_key_order() -> None:
    record = full_record()
    assert record.to_dict() == dataclasses.asdict(record)
    assert json.dumps(record.to_dict()) == json.dumps(dataclasses.asdict(record))  # key order too
    assert ChatRecord.from_dict(json.loads(json.dumps(record.to_dict()))) == record


def test_to_dict_shares_nothing_mutable_with_the_record() -> None:
    record = full_record()
    data = record.to_dict()
    data["persona"].append("changed")
    data["topic_image"]["alt"] = "changed"
    data["turns"][1]["classifier_scores"]["offensive"]["spans"][0][0] = 99
    data["turns"][1]["classifier_scores"]["offensive"]["unsafe"] = False
    assert record == full_record()


class StubAgent:
    """What an agent state asks of its agent: the database and the agent's data folder."""

    def __init__(self, db: LocalMephistoDB, folder: Path) -> None:
        self.db = db
        self.folder = folder

    def get_data_dir(self) -> str:
        return str(self.folder)


def test_state_file_is_what_mephisto_writes_and_reloads(tmp_path: Path) -> None:
    db = LocalMephistoDB(database_path=str(tmp_path / "database.db"))
    agent = StubAgent(db, tmp_path / "run" / "assignment" / "agent")  # folders not there yet: the first save makes them
    state = BadChatAgentState(agent)
    record = full_record()
    state.start_conversation(record, {"conversation_id": "c1"})
    state.update_data({"request_id": "r1", "target": "send_message", "args": json.dumps({"text": "hello"})})
    state.save_conversation()

    saved = Path(state._get_expected_data_file())
    mephisto_written = tmp_path / "mephisto.json"
    db.write_dict(str(mephisto_written), state.get_data())
    assert saved.read_bytes() == mephisto_written.read_bytes()

    reloaded = BadChatAgentState(agent)
    assert reloaded.conversation == record
    assert reloaded.get_init_state()["task_data"] == {"conversation_id": "c1"}
    assert list(reloaded.requests) == ["r1"]
    assert reloaded.metadata.task_start == state.metadata.task_start  # written when the conversation started


def test_write_file_writes_everything_when_the_system_writes_less(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`os.write` may write part of what it is given (a full disk, a signal): the rest follows."""
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data[:7])))
    target = tmp_path / "new folder" / "state.json"
    write_file(str(target), b'{"a": "' + b"x" * 100 + b'"}')
    write_file(str(target), b'{"b": 1}')  # shorter: what was there before is gone
    assert target.read_bytes() == b'{"b": 1}'
