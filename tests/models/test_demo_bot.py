"""The bundled demo bot: small enough to commit, sensible enough to be the sandbox default."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from humaneval.conversations import read_conversations, read_metadata
from humaneval.models.__main__ import main
from humaneval.models.registry import DEMO_BOT_PATH, load_registry
from humaneval.models.reply_model import DialogueContext, ReplyModel

ENGLISH_REPLY = re.compile(r"^[A-Za-z0-9 ,.;:'!?\-\"]+$")


@pytest.fixture(scope="module")
def demo_bot() -> ReplyModel:
    return load_registry().load()  # the default registry's default model, as on a fresh machine


def test_bundle_is_small_labelled_and_reproducible() -> None:
    weights = DEMO_BOT_PATH / "model.safetensors"
    assert weights.is_file() and weights.stat().st_size <= 15 * 1024 * 1024
    card = (DEMO_BOT_PATH / "MODEL_CARD.md").read_text()
    assert "not BlenderBot" in card and "chatterbot-corpus" in card and "scripts/train_demo_bot.py" in card
    info = json.loads((DEMO_BOT_PATH / "training_info.json").read_text())
    assert info["seed"] == 1234 and info["parameters"] < 10_000_000


def test_demo_bot_answers_how_are_you_sensibly(demo_bot: ReplyModel) -> None:
    assert demo_bot.name == "demo_bot"
    replies = demo_bot.generate_batch([DialogueContext(turns=("How are you?",)), DialogueContext(turns=("Hello",))])
    how_are_you, hello = replies
    for reply in replies:
        assert ENGLISH_REPLY.match(reply), reply
        assert len(reply.split()) >= 1 and len(reply) <= 200
    words = {w.lower() for w in re.findall(r"[A-Za-z']+", how_are_you)}
    assert len(words) >= 2, how_are_you
    assert words & {"fine", "good", "well", "great", "okay", "doing", "thanks", "thank", "am", "i'm"}, how_are_you
    assert {w.lower() for w in re.findall(r"[A-Za-z']+", hello)} & {"hi", "hello", "greetings", "hey", "how"}, hello


def test_generate_and_self_chat_run_with_the_default_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUMANEVAL_MODELS", raising=False)
    contexts = tmp_path / "contexts.jsonl"
    contexts.write_text('{"text": "Hi there\\nHello, how are you?\\nWhat do you like to do?"}\n{"text": "Do you like music?"}\n')
    logs = tmp_path / "logs.jsonl"
    assert main(["generate", str(contexts), "--out", str(logs), "--no-progress"]) == 0
    replies = [c.dialog[0][1] for c in read_conversations(logs)]
    assert [r.speaker for r in replies] == ["demo_bot", "demo_bot"] and all(r.text for r in replies)

    chats = tmp_path / "selfchat.jsonl"
    assert main(["self-chat", "--out", str(chats), "--num-chats", "2", "--turns", "2", "--no-progress"]) == 0
    convs = read_conversations(chats)
    assert len(convs) == 2 and all(len(c.turns) == 4 and all(t.text for t in c.turns) for c in convs)
    meta = read_metadata(chats)
    assert meta is not None and meta.self_chat and meta.speakers == ["demo_bot", "demo_bot_partner"]
