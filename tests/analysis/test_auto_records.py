"""`analysis auto` reads the right replies under the right model from every log shape, matches the word lists as
whole words in any case, and refuses bad input naming file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.auto.records import BAD_DIALOGUES, BAD_LABELS, CHAT_LOG, SELF_CHAT, WORLD_LOG, load_replies
from analysis.auto.word_lists import FEMALE_WORDS, MALE_WORDS, WordMatcher
from humaneval.input_errors import InputError


def _jsonl(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def _act(speaker: str, text: str, **extra: object) -> dict:
    return {"id": speaker, "text": text, "episode_done": False, **extra}


def test_world_log_replies_are_each_pairs_second_act_named_by_its_speaker(tmp_path: Path) -> None:
    logs = _jsonl(tmp_path / "w.jsonl", [
        {"dialog": [[_act("teacher", "hi he said"), _act("bot_a", "hello", control=" f0m0")],
                    [_act("teacher", "and?"), _act("bot_a", "bye")], [_act("teacher", "unanswered")]],
         "context": [_act("context", "your persona: i am a man.")]},
        {"dialog": [[_act("human", "hi"), _act("bot_b", "yo")]]},
    ])
    replies = load_replies([logs])
    r = replies.replies
    assert r["text"].tolist() == ["hello", "bye", "yo"] and r["model"].tolist() == ["bot_a", "bot_a", "bot_b"]
    assert r["where"].tolist() == ["dialog[0][1]", "dialog[1][1]", "dialog[0][1]"]
    assert r["source"].tolist() == [f"{logs}:1", f"{logs}:1", f"{logs}:2"]
    assert r["control"].tolist() == [" f0m0", "", ""]
    # what a safety check sees: the conversation's earlier turns, never its persona
    assert r["context"].tolist() == [("hi he said",), ("hi he said", "hello", "and?"), ("hi",)]
    assert replies.files[0]["format"] == WORLD_LOG and replies.models == ["bot_a", "bot_b"]


def test_self_chat_takes_both_acts_under_the_sidecars_model(tmp_path: Path) -> None:
    logs = _jsonl(tmp_path / "s.jsonl", [{"dialog": [[_act("A", "one"), _act("B", "two")], [_act("A", "three")]]}])
    (tmp_path / "s.metadata").write_text(json.dumps({"self_chat": True, "speakers": ["A", "B"],
                                                     "opt": {"model": "blender_degendered", "control": " f0m0"}}))
    replies = load_replies([logs])
    assert replies.replies["text"].tolist() == ["one", "two", "three"]
    assert replies.replies["context"].tolist() == [(), ("one",), ("one", "two")]
    assert set(replies.replies["model"]) == {"blender_degendered"} and set(replies.replies["control"]) == {" f0m0"}
    assert replies.files[0]["format"] == SELF_CHAT
    (tmp_path / "s.metadata").write_text(json.dumps({"self_chat": True, "opt": {}}))
    assert load_replies([logs]).replies["model"].tolist() == ["A", "B", "A"]


def test_chat_format_takes_assistant_messages_under_the_lines_model_else_the_file_name(tmp_path: Path) -> None:
    logs = _jsonl(tmp_path / "llama_run.jsonl", [
        {"messages": [{"role": "system", "content": "be a man"}, {"role": "user", "content": "hi"},
                      {"role": "assistant", "content": "hello"}], "model": "llama"},
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yes"}]},
    ])
    replies = load_replies([logs])
    assert replies.replies["model"].tolist() == ["llama", "llama_run"]
    assert replies.replies["where"].tolist() == ["messages[2]", "messages[1]"] and replies.files[0]["format"] == CHAT_LOG
    assert replies.replies["context"].tolist() == [("hi",), ("hi",)]  # the system message is not a turn


def _label(i: int, **extra: object) -> dict:
    return {"task": "bad", "run_id": "r", "conversation_id": "c", "turn_index": i, "model": "m", "text": "shown",
            "label": "__ok__", "safety": {}, **extra}


def test_bad_turn_labels_measure_the_generated_reply_with_the_recorded_verdicts(tmp_path: Path) -> None:
    labels = _jsonl(tmp_path / "bad.jsonl", [
        _label(1, generated="his own reply", text="[replaced]",
               safety={"sm": {"unsafe": True, "score": 1.0}, "clf": {"unsafe": None, "score": None, "reason": "not configured"}}),
        _label(3, safety={"sm": {"unsafe": False, "score": 0.0}, "clf": {"unsafe": False, "score": None}}),
    ])
    replies = load_replies([labels])
    assert replies.replies["text"].tolist() == ["his own reply", "shown"]
    assert replies.recorded_checks == ["sm (recorded)"]  # clf never ran: not a check that found all safe
    assert replies.recorded["sm (recorded)"].tolist() == [1.0, 0.0] and replies.files[0]["format"] == BAD_LABELS


def test_bad_dialogues_take_the_bot_turns(tmp_path: Path) -> None:
    turns = [{"speaker": "human", "text": "hi"},
             {"speaker": "bot", "text": "hey", "model_id": "m2", "generated": "hey", "classifier_scores": None},
             {"speaker": "bot", "text": "x", "model_id": None, "generated": None,
              "classifier_scores": {"sm": {"unsafe": True, "score": 1.0}}}]
    logs = _jsonl(tmp_path / "dialogues.jsonl", [{"task": "bad", "run_id": "r", "conversation_id": "c", "model": "m",
                                                  "turns": turns}])
    replies = load_replies([logs])
    assert replies.replies["model"].tolist() == ["m2", "m"] and replies.replies["text"].tolist() == ["hey", "x"]
    assert replies.replies["context"].tolist() == [("hi",), ("hi", "hey")]  # the turns as the worker saw them
    assert replies.recorded["sm (recorded)"].isna().tolist() == [True, False]
    assert replies.files[0]["format"] == BAD_DIALOGUES


def test_model_filter_keeps_the_named_models_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    logs = _jsonl(tmp_path / "w.jsonl", [{"dialog": [[_act("t", "a"), _act(m, "b")]]} for m in ("x", "y", "z")])
    assert load_replies([logs], ["x", "z"]).models == ["x", "z"]
    with pytest.raises(InputError, match="no reply of 'typo'") as err:
        load_replies([logs], ["typo"])
    assert err.value.field == "--model"


@pytest.mark.parametrize(("lines", "line", "field"), [
    ([{"dialog": [[_act("t", "a"), {"id": "m", "text": 5}]]}], 1, "dialog[0][1].text"),
    ([_label(1), _label(2, model="")], 2, "model"),
    ([_label(1), _label(2, safety={"sm": {"unsafe": "yes"}})], 2, "safety.sm.unsafe"),
    ([_label(1), _label(1)], 2, "turn_index"),  # the same bot turn twice would be counted twice
    ([_label(1), {"dialog": [[_act("t", "a"), _act("m", "b")]]}], 2, "task"),
    ([{"task": "bad", "run_id": "r", "conversation_id": "c", "turns": [{"speaker": "robot"}]}], 1, "turns[0].speaker"),
    ([{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}], "model": 7}], 1, "model"),
])
def test_bad_input_names_file_line_and_field(tmp_path: Path, lines: list[dict], line: int, field: str) -> None:
    path = _jsonl(tmp_path / "in.jsonl", lines)
    with pytest.raises(InputError) as err:
        load_replies([path])
    assert (err.value.path, err.value.line, err.value.field) == (str(path), line, field)


def test_a_log_without_model_replies_is_refused(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "in.jsonl", [{"dialog": [[_act("t", "only the teacher")]]}])
    with pytest.raises(InputError, match="holds no model replies"):
        load_replies([path])


def test_words_match_whole_and_in_any_case() -> None:
    male, female = WordMatcher(MALE_WORDS), WordMatcher(FEMALE_WORDS)
    assert male.find("He's HERE with his Step-Father; the shell, Mrs. Hemsworth") == ["he", "his", "father"]
    assert female.find("SHE said: hers! Sherlock, mother-in-law, 'her'") == ["she", "hers", "mother", "her"]
    assert male.find("themselves other sonnet") == [] and female.find("sheer hermit ashes") == []
    assert not set(MALE_WORDS) & set(FEMALE_WORDS)
    assert all(w == w.lower() and w.isalpha() for w in MALE_WORDS + FEMALE_WORDS)
