"""Reading BAD turn labels: valid records become bot turns; every bad record names file, line and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from analysis.bad.records import load_bad_labels
from humaneval.input_errors import InputError


def bad_turn(**overrides: Any) -> dict[str, Any]:
    """One valid BAD turn-label record (docs/formats.md, section 'Exports'), with fields replaced by `overrides`."""
    rec: dict[str, Any] = {
        "task": "bad", "run_id": "run1", "unit_id": "u1", "worker_id": "w1", "conversation_id": "c1",
        "turn_index": 1, "model": "alpha", "text": "hello there", "label": "__ok__",
        "safety": {"string_matcher": {"unsafe": False, "score": 0.0, "reason": ""},
                   "classifier": {"unsafe": False, "score": 0.1, "reason": ""}},
        "started_at": 1795260000.0, "submitted_at": 1795260100.0,
    }
    rec.update(overrides)
    return rec


def test_bot_turns_are_numbered_by_turn_index_or_by_the_exporter(write_records) -> None:
    path = write_records([
        bad_turn(turn_index=5, label="__notok__", text="third"),
        bad_turn(turn_index=1, text="first"),
        bad_turn(turn_index=3, text="second", safety={"classifier": {"unsafe": True, "score": 0.9, "reason": "x"}}),
        # the exporter's numbers win when every record of a conversation has one (a skipped bot turn)
        bad_turn(conversation_id="c2", turn_index=1, bot_turn_number=1),
        bad_turn(conversation_id="c2", turn_index=7, bot_turn_number=4),
    ])
    labels = load_bad_labels([path])
    t = labels.turns
    assert t.loc[t["conversation_id"] == "c1", "text"].tolist() == ["first", "second", "third"]
    assert t.loc[t["conversation_id"] == "c1", "bot_turn"].tolist() == [1, 2, 3]
    assert t.loc[t["conversation_id"] == "c2", "bot_turn"].tolist() == [1, 4]
    assert t.loc[t["conversation_id"] == "c1", "notok"].tolist() == [False, False, True]
    assert t.loc[t["conversation_id"] == "c1", "flagged"].tolist() == [False, True, False]
    assert labels.checks == ["classifier", "string_matcher"]
    # the second record judged only the classifier: string_matcher is missing there, not "safe"
    assert labels.verdicts["string_matcher"].isna().tolist() == [False, True, False, False, False]
    assert labels.n_conversations == 2 and labels.models == ["alpha"]


def test_a_check_that_could_not_run_judges_nothing(write_records) -> None:
    not_run = {"unsafe": False, "score": None, "reason": "Classifier: not configured"}
    path = write_records([
        bad_turn(turn_index=1, safety={"clf": not_run, "sm": {"unsafe": False, "score": 0.0, "reason": ""}}),
        bad_turn(turn_index=3, safety={"clf": {"unsafe": True, "score": None, "reason": "blocked"}}),
    ])
    v = load_bad_labels([path]).verdicts
    assert v["clf"].tolist()[1] == 1.0 and v["clf"].isna().tolist() == [True, False]
    assert v["sm"].tolist()[0] == 0.0


def test_same_conversation_id_in_two_runs_is_two_conversations(write_records) -> None:
    labels = load_bad_labels([write_records([bad_turn()]), write_records([bad_turn(run_id="run2")])])
    assert labels.n_conversations == 2 and labels.runs == ["run1", "run2"]


def test_incomplete_conversations_are_left_out_unless_asked(write_records) -> None:
    path = write_records([
        bad_turn(conversation_status="complete"),
        bad_turn(conversation_id="c2", conversation_status="incomplete"),
        bad_turn(conversation_id="c2", turn_index=3, conversation_status="incomplete"),
    ])
    default = load_bad_labels([path])
    assert default.n_conversations == 1 and (default.excluded_conversations, default.excluded_turns) == (1, 2)
    everything = load_bad_labels([path], include_incomplete=True)
    assert everything.n_conversations == 2 and everything.excluded_conversations == 0
    assert sorted(everything.turns["conv"].unique()) == [0, 1]


def test_only_incomplete_conversations_is_an_error(write_records) -> None:
    path = write_records([bad_turn(conversation_status="incomplete")])
    with pytest.raises(InputError, match="--include-incomplete") as err:
        load_bad_labels([path])
    assert err.value.field == "conversation_status"


@pytest.mark.parametrize(
    ("overrides", "field", "problem"),
    [
        ({"task": "acute"}, "task", "expected 'bad'"),
        ({"label": "__maybe__"}, "label", "must be"),
        ({"label": "NOT OK"}, "label", "must be"),
        ({"turn_index": -1}, "turn_index", "integer >= 0"),
        ({"turn_index": "3"}, "turn_index", "integer >= 0"),
        ({"turn_index": True}, "turn_index", "integer >= 0"),
        ({"model": ""}, "model", "non-empty string"),
        ({"worker_id": 7}, "worker_id", "non-empty string"),
        ({"conversation_id": None}, "conversation_id", "id"),
        ({"text": None}, "text", "string"),
        ({"safety": []}, "safety", "object"),
        ({"safety": {"clf": True}}, "safety.clf", "object"),
        ({"safety": {"clf": {"unsafe": "yes", "score": 0.5, "reason": ""}}}, "safety.clf.unsafe", "true or false"),
        ({"safety": {"clf": {"unsafe": True, "score": "high", "reason": ""}}}, "safety.clf.score", "number or null"),
        ({"safety": {"clf": {"unsafe": True, "score": 0.5, "reason": 3}}}, "safety.clf.reason", "string"),
        ({"started_at": "yesterday"}, "started_at", "Unix seconds"),
        ({"submitted_at": 1795259999.0}, "submitted_at", "earlier"),
        ({"bot_turn_number": 0}, "bot_turn_number", ">= 1"),
        ({"conversation_status": "done"}, "conversation_status", "'complete' or 'incomplete'"),
        ({"rating": 7}, "rating", "1 to 5"),
        ({"safety_action": 1}, "safety_action", "string"),
    ],
)
def test_bad_field_names_file_line_and_field(write_records, overrides, field, problem) -> None:
    path = write_records([bad_turn(turn_index=1), bad_turn(**{"turn_index": 3, **overrides})])
    with pytest.raises(InputError, match=problem) as err:
        load_bad_labels([path])
    assert (err.value.path, err.value.line, err.value.field) == (str(path), 2, field)


def test_missing_field_is_named(write_records) -> None:
    rec = bad_turn()
    del rec["safety"]
    path = write_records([rec])
    with pytest.raises(InputError, match="missing") as err:
        load_bad_labels([path])
    assert (err.value.line, err.value.field) == (1, "safety")


@pytest.mark.parametrize(
    ("second", "field", "problem"),
    [
        ({"model": "beta", "turn_index": 3}, "model", "model 'alpha'"),
        ({"worker_id": "w2", "turn_index": 3}, "worker_id", "worker 'w1'"),
        ({"turn_index": 1}, "turn_index", r"same conversation and turn_index as the record at \S+:1\b"),
        ({"conversation_status": "incomplete", "turn_index": 3}, "conversation_status", "is 'complete'"),
    ],
)
def test_inconsistent_conversation_names_the_second_record(write_records, second, field, problem) -> None:
    path = write_records([bad_turn(conversation_status="complete"), bad_turn(**second)])
    with pytest.raises(InputError, match=problem) as err:
        load_bad_labels([path])
    assert (err.value.line, err.value.field) == (2, field)


def test_bot_turn_numbers_must_grow_with_turn_index(write_records) -> None:
    path = write_records([bad_turn(turn_index=1, bot_turn_number=2), bad_turn(turn_index=3, bot_turn_number=2)])
    with pytest.raises(InputError, match="must grow") as err:
        load_bad_labels([path])
    assert (err.value.line, err.value.field) == (2, "bot_turn_number")


def test_broken_json_and_empty_files(write_records, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="invalid JSON") as err:
        load_bad_labels([write_records([bad_turn(), "{not json"])])
    assert err.value.line == 2
    with pytest.raises(InputError, match="no BAD turn records"):
        load_bad_labels([write_records([])])
    with pytest.raises(InputError, match="file not found"):
        load_bad_labels([tmp_path / "missing.jsonl"])
