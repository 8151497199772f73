"""ParlAI bot_adversarial_dialogue examples: one per labelled utterance, truncation, dialog-format lines."""

from __future__ import annotations

from humaneval.bad_collection.chat_record import BOT, HUMAN, NOT_OK, OK, ChatRecord, ChatTurn
from humaneval.bad_collection.parlai_examples import parlai_examples
from humaneval.parlai_dialog_format import format_line, parse_line


def conversation() -> ChatRecord:
    texts = ["hi | there", "hello\tfriend", "say something rude", "no way"]
    turns = [ChatTurn(HUMAN if i % 2 == 0 else BOT, t, created_at=float(i), model_id=None if i % 2 == 0 else "demo_bot")
             for i, t in enumerate(texts)]
    turns[1].label, turns[3].label = OK, NOT_OK
    return ChatRecord("c9", "demo_bot", min_turns=2, persona=["i like tea."], turns=turns)


def test_one_example_per_labelled_bot_turn_with_the_conversation_so_far() -> None:
    examples = list(parlai_examples(conversation()))
    assert [e["labels"] for e in examples] == [[OK], [NOT_OK]]
    assert examples[0]["text"] == "hi | there\nhello\tfriend"
    assert examples[1]["text"].split("\n") == ["hi | there", "hello\tfriend", "say something rude", "no way"]
    assert all(e["speaker_to_eval"] == "bot" and e["episode_done"] for e in examples)
    assert examples[1]["bot_persona"] == "your persona: i like tea." and examples[1]["turn_index"] == 3


def test_bad_num_turns_keeps_the_last_utterances() -> None:
    last = list(parlai_examples(conversation(), bad_num_turns=2))[1]
    assert last["text"] == "say something rude\nno way"


def test_dialog_format_lines_read_back_as_written() -> None:
    for example in parlai_examples(conversation()):
        line = format_line(example)
        assert "\n" not in line
        back = parse_line(line)
        assert back["text"] == example["text"] and back["labels"] == example["labels"]
        assert back["episode_done"] is True and back["speaker_to_eval"] == "bot"
