"""ParlAI Conversations JSONL: exact round trips, world logs, self-chats, context, metadata, bad lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from humaneval.conversations import (
    Conversation,
    Metadata,
    Turn,
    iter_conversations,
    metadata_path_for,
    read_conversations,
    read_metadata,
    write_conversations,
)
from humaneval.input_errors import InputError

# Shaped like ParlAI's self-chat output (key order id, episode_done, text, beam_texts; context top-level).
SELF_CHAT_LINE = {
    "dialog": [
        [
            {"id": "TransformerGenerator_1", "episode_done": False, "text": "do you like to hike ?", "beam_texts": [["do you like to hike ?", -5.9]]},
            {"id": "TransformerGenerator_2", "episode_done": False, "text": "i do , every weekend .", "metrics": {"ppl": 12.5}},
        ],
        [{"id": "TransformerGenerator_1", "episode_done": True, "text": "nice !"}],
    ],
    "context": [
        {"text": "your persona: i like hiking.\nyour persona: i have a dog.", "episode_done": False, "id": "context"},
        {"text": "your persona: i am a nurse.", "episode_done": False, "id": "context"},
    ],
    "metadata_path": "/somewhere/selfchat.metadata",
}

# Shaped like `eval_model --world-logs`: [teacher act, model act] with labels and extra keys.
WORLD_LOG_LINE = {
    "dialog": [
        [
            {"id": "blended_skill_talk", "text": "your persona: i fish.\nhello!", "episode_done": False,
             "eval_labels": ["hi there"], "label_candidates": None},
            {"id": "TransformerGenerator", "text": "hi ! how are you ?", "episode_done": False, "metrics": {"f1": 0.4}},
        ]
    ],
    "context": [],
    "metadata_path": "logs.metadata",
}


def write_lines(path: Path, lines: list[object]) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def test_round_trip_is_byte_identical_for_parlai_lines(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_lines(src, [SELF_CHAT_LINE, WORLD_LOG_LINE])
    assert write_conversations(dst, iter_conversations(src)) == 2
    assert dst.read_bytes() == src.read_bytes()


def test_world_log_pairs_keep_teacher_and_model_acts(tmp_path: Path) -> None:
    src = tmp_path / "world.jsonl"
    write_lines(src, [WORLD_LOG_LINE])
    [conv] = read_conversations(src)
    teacher, model = conv.dialog[0]
    assert (teacher.speaker, model.speaker) == ("blended_skill_talk", "TransformerGenerator")
    assert teacher.extra["eval_labels"] == ["hi there"]
    assert model.extra["metrics"] == {"f1": 0.4}
    assert conv.speakers == ["blended_skill_talk", "TransformerGenerator"]
    assert conv.source_line == 1 and conv.source_path == str(src)


def test_context_acts_inside_dialog_are_not_turns(tmp_path: Path) -> None:
    line = {"dialog": [[{"id": "context", "text": "your persona: i sing."}, {"id": "bot", "text": "hi"}],
                       [{"id": "human", "text": "hello"}, {"id": "bot", "text": "how are you"}]],
            "context": [{"id": "context", "text": "topic: music"}]}
    src = tmp_path / "c.jsonl"
    write_lines(src, [line])
    [conv] = read_conversations(src)
    assert [t.text for t in conv.turns] == ["hi", "hello", "how are you"]
    assert [t.text for t in conv.context_turns] == ["topic: music", "your persona: i sing."]
    assert conv.to_json() == line


def test_missing_and_null_text_survive_a_round_trip() -> None:
    line = {"dialog": [[{"id": "a", "episode_done": False}, {"id": "b", "text": None}]]}
    conv = Conversation.from_json(line)
    assert [t.text for t in conv.turns] == ["", ""]
    assert conv.to_json() == line


def test_from_pairs_builds_what_parlai_writes(tmp_path: Path) -> None:
    conv = Conversation.from_pairs(
        [({"id": "teacher", "text": "hi"}, Turn("bot", "hello", {"episode_done": True}))],
        context=["your persona: i like tea."],
    )
    out = tmp_path / "gen.jsonl"
    write_conversations(out, [conv], metadata=Metadata.new(opt={"model": "x"}))
    line = json.loads(out.read_text().splitlines()[0])
    assert list(line) == ["dialog", "context", "metadata_path"]
    assert line["dialog"] == [[{"id": "teacher", "text": "hi"}, {"id": "bot", "text": "hello", "episode_done": True}]]
    assert line["context"] == [{"id": "context", "text": "your persona: i like tea.", "episode_done": False}]
    assert line["metadata_path"] == str(metadata_path_for(out))
    meta = read_metadata(out)
    assert meta is not None and meta.speakers == ["teacher", "bot"] and meta.opt == {"model": "x"}
    assert list(json.loads(metadata_path_for(out).read_text())) == ["date", "opt", "self_chat", "speakers", "version"]


def test_metadata_sidecar_is_optional_and_checked(tmp_path: Path) -> None:
    src = tmp_path / "logs.jsonl"
    write_lines(src, [WORLD_LOG_LINE])
    assert read_metadata(src) is None
    metadata_path_for(src).write_text('{"date": "d", "opt": {}, "self_chat": true, "speakers": ["a", "b"], "version": "0.1", "extra": 1}')
    meta = read_metadata(src)
    assert meta is not None and meta.self_chat and meta.speakers == ["a", "b"] and meta.extra == {"extra": 1}
    metadata_path_for(src).write_text('{"speakers": "a"}')
    with pytest.raises(InputError, match="speakers") as err:
        read_metadata(src)
    assert err.value.path == str(metadata_path_for(src))
    metadata_path_for(src).write_text("{not json")
    with pytest.raises(InputError, match="invalid JSON"):
        read_metadata(src)


@pytest.mark.parametrize(
    ("line", "field", "problem"),
    [
        ('{"context": []}', "dialog", "missing key 'dialog'"),
        ('{"dialog": {"a": 1}}', "dialog", "must be a list"),
        ('{"dialog": [{"id": "a"}]}', "dialog[0]", "list of acts"),
        ('{"dialog": [[{"text": "no id"}]]}', "dialog[0][0].id", "speaker id"),
        ('{"dialog": [[{"id": "a", "text": "x"}, {"id": "b", "text": 3}]]}', "dialog[0][1].text", "must be a string"),
        ('{"dialog": [], "context": [{"id": 4}]}', "context[0].id", "speaker id"),
        ('{"dialog": [], "context": "persona"}', "context", "list of acts"),
        ("[1, 2]", None, "expected a JSON object"),
        ('{"dialog": [', None, "invalid JSON"),
    ],
)
def test_bad_lines_name_file_line_and_field(tmp_path: Path, line: str, field: str | None, problem: str) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text(json.dumps(WORLD_LOG_LINE) + "\n\n" + line + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        list(iter_conversations(src))
    assert err.value.path == str(src)
    assert err.value.line == 3
    assert err.value.field == field
    assert problem in err.value.problem


def test_failed_write_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"

    def convs():
        yield Conversation.from_json(WORLD_LOG_LINE)
        raise RuntimeError("generator died")

    with pytest.raises(RuntimeError):
        write_conversations(out, convs(), metadata=Metadata.new())
    assert list(tmp_path.iterdir()) == []


# --- property tests -------------------------------------------------------------------------------

json_leaf = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
extra_keys = st.text(min_size=1, max_size=8).filter(lambda k: k not in ("id", "text"))


@st.composite
def acts(draw: st.DrawFn) -> dict:
    keys = draw(st.lists(extra_keys, max_size=4, unique=True))
    act = {k: draw(json_value) for k in keys}
    items = list(act.items())
    position = draw(st.integers(0, len(items)))
    items.insert(position, ("id", draw(st.text(min_size=1, max_size=10))))
    text_choice = draw(st.sampled_from(["str", "missing", "null"]))
    if text_choice != "missing":
        items.insert(draw(st.integers(0, len(items))), ("text", None if text_choice == "null" else draw(st.text(max_size=30))))
    return dict(items)


@st.composite
def lines(draw: st.DrawFn) -> dict:
    line: dict = {"dialog": draw(st.lists(st.lists(acts(), min_size=1, max_size=2), max_size=4))}
    if draw(st.booleans()):
        line["context"] = draw(st.lists(acts(), max_size=2))
    for key in draw(st.lists(st.text(min_size=1, max_size=6).filter(lambda k: k not in ("dialog", "context")), max_size=2, unique=True)):
        line[key] = draw(json_value)
    return line


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(lines(), min_size=1, max_size=4))
def test_any_valid_file_round_trips_byte_for_byte(tmp_path: Path, batch: list[dict]) -> None:
    src, dst = tmp_path / "p.jsonl", tmp_path / "q.jsonl"
    src.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in batch), encoding="utf-8")
    convs = read_conversations(src)
    assert [c.to_json() for c in convs] == batch
    write_conversations(dst, convs)
    assert dst.read_bytes() == src.read_bytes()
