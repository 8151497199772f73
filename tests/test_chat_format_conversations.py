"""Chat-format (OpenAI messages) logs read by the shared Conversations reader, the ACUTE pairings builder and the
safety formatter: the role mapping, content parts, the model name, and every bad-input path (exit 2, located
file:line:field, nothing written)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from humaneval.acute.cli_pairings import main as pairings_main
from humaneval.acute.pairings_validation import load_pairings
from humaneval.conversations import CONTEXT_ID, CHAT_SHAPE, PARLAI_SHAPE, iter_conversations, write_conversations
from humaneval.safety_eval.cli_format import main as format_main
from humaneval.input_errors import InputError
from humaneval.safety_eval.formatter import ANNOTATE_ALL_BOT, format_world_logs

REPO = Path(__file__).resolve().parents[1]


def msg(role: str, content: Any, **extra: Any) -> dict[str, Any]:
    return {"role": role, "content": content, **extra}


def chat(model: str, i: int, *, system: str | None = "You are a friendly assistant.", turns: int = 2) -> dict[str, Any]:
    """A chat whose texts say who spoke, in which conversation and turn, so tests can check the mapping."""
    messages = [msg("system", f"{system} ({model} {i})")] if system else []
    for k in range(turns):
        messages += [msg("user", f"USER {model} c{i} t{k}"), msg("assistant", f"BOT {model} c{i} t{k}")]
    return {"messages": messages, "model": f"{model}-served-name"}


def write_lines(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines), encoding="utf-8")
    return path


def chat_file(path: Path, model: str, n: int = 4) -> Path:
    return write_lines(path, [chat(model, i) for i in range(n)])


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *argv], cwd=REPO, capture_output=True, text=True, timeout=120)


# ------------------------------------------------------------------------------------------- the reader
def test_roles_map_to_context_user_and_assistant_turns(tmp_path: Path) -> None:
    line = {
        "id": "chatcmpl-1",
        "messages": [
            msg("system", "You are terse."),
            msg("developer", [{"type": "text", "text": "Answer in English."}]),
            msg("user", [{"type": "text", "text": "hello"}, {"type": "text", "text": "there"}]),
            msg("assistant", "hi", name="bot-7"),
            msg("user", "bye"),
        ],
        "model": "llama-3-8b",
    }
    [conv] = iter_conversations(write_lines(tmp_path / "chat.jsonl", [line]))
    assert conv.shape == CHAT_SHAPE and conv.source_line == 1
    assert [(t.speaker, t.text) for t in conv.context_turns] == [(CONTEXT_ID, "You are terse."), (CONTEXT_ID, "Answer in English.")]
    # text parts are joined with newlines; the chat may end on the user's unanswered message (a one-act pair)
    assert [[(t.speaker, t.text) for t in pair] for pair in conv.dialog] == [[("user", "hello\nthere"), ("assistant", "hi")], [("user", "bye")]]
    assert [t.source_field for t in conv.turns] == ["messages[2]", "messages[3]", "messages[4]"]
    assert conv.dialog[0][1].extra == {"name": "bot-7"}  # other message keys are kept, as act keys are
    assert conv.extra == {"id": "chatcmpl-1", "model": "llama-3-8b"}


def test_a_chat_written_back_is_a_parlai_line_with_the_same_turns(tmp_path: Path) -> None:
    convs = list(iter_conversations(chat_file(tmp_path / "chat.jsonl", "m", 2)))
    write_conversations(tmp_path / "parlai.jsonl", convs)
    again = list(iter_conversations(tmp_path / "parlai.jsonl"))
    assert [c.shape for c in again] == [PARLAI_SHAPE] * 2
    assert [[(t.speaker, t.text) for t in c.turns] for c in again] == [[(t.speaker, t.text) for t in c.turns] for c in convs]
    assert [[t.text for t in c.context_turns] for c in again] == [[t.text for t in c.context_turns] for c in convs]


# ------------------------------------------------------------------------------------------- pairings
def test_chat_logs_become_pairings_that_validate(tmp_path: Path) -> None:
    a = chat_file(tmp_path / "a.jsonl", "alpha", 4)
    b = write_lines(tmp_path / "b.jsonl", [chat("beta", i, system=None) for i in range(3)])
    out = tmp_path / "pairings.jsonl"
    built = run(["humaneval.acute", "pairings", "--conversations", f"alpha={a}", "--conversations", f"beta={b}",
                 "--out", str(out), "--pairs-per-model-pair", "3", "--quiet"])
    assert built.returncode == 0, built.stderr
    assert "alpha: 4 conversations, evaluated speaker id 'assistant' (the assistant messages of a chat-format file)" in built.stdout
    checked = run(["humaneval.acute", "validate", str(out)])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    pairs = load_pairings(out)
    assert len(pairs) == 3
    for pair in pairs:
        assert pair["speakers_to_eval"] == ["alpha", "beta"]
        for model, dialogue in zip(pair["speakers_to_eval"], pair["dialogue_dicts"]):
            i = int(dialogue["id"].split(":")[1])
            # the model's turns are the assistant messages, the user's keep the id `user`
            assert [t["text"] for t in dialogue["dialogue"] if t["id"] == model] == [f"BOT {model} c{i} t{k}" for k in range(2)]
            assert [t["text"] for t in dialogue["dialogue"] if t["id"] == "user"] == [f"USER {model} c{i} t{k}" for k in range(2)]
            assert dialogue["speakers"] == [model, "user"] and dialogue["source"] == {"line": i + 1, "speaker": "assistant"}
            system = [f"You are a friendly assistant. ({model} {i})"] if model == "alpha" else []
            assert [c["text"] for c in dialogue["context"]] == system


def test_speaker_override_and_a_file_naming_several_models(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mixed = [chat("alpha", 0), {**chat("alpha", 1), "model": "other-model"}]
    a = write_lines(tmp_path / "a.jsonl", mixed)
    b = chat_file(tmp_path / "b.jsonl", "beta", 2)
    code = pairings_main(["--conversations", f"alpha={a}", "--conversations", f"beta={b}", "--out", str(tmp_path / "p.jsonl"),
                          "--pairs-per-model-pair", "2", "--speaker-position", "alpha=0"])
    assert code == 0
    out, err = capsys.readouterr()
    assert "alpha: 2 conversations, evaluated act 0 of every pair (given)" in out
    assert "name 2 models (alpha-served-name, other-model); all are judged as alpha" in err
    for pair in load_pairings(tmp_path / "p.jsonl"):
        turns = pair["dialogue_dicts"][0]["dialogue"]
        assert all(t["text"].startswith("USER") for t in turns if t["id"] == "alpha")


# ------------------------------------------------------------------------------------------- safety formatter
def test_chat_logs_become_safety_task_data(tmp_path: Path) -> None:
    logs = chat_file(tmp_path / "alpha.jsonl", "alpha", 2)
    out = tmp_path / "out"
    report = format_world_logs([logs], out / "task_data.jsonl", out / "annotation_indices.jsonl")
    assert (report.lines_read, report.written) == (2, 2)
    data = [json.loads(line) for line in (out / "task_data.jsonl").read_text().splitlines()]
    indices = [json.loads(line) for line in (out / "annotation_indices.jsonl").read_text().splitlines()]
    assert indices == [[3], [3]]  # the last assistant reply; the system message is not shown
    assert data[0] == {
        "dialog": [
            [{"id": "human", "text": "USER alpha c0 t0", "episode_done": False}, {"id": "bot", "text": "BOT alpha c0 t0", "episode_done": False}],
            [{"id": "human", "text": "USER alpha c0 t1", "episode_done": False}, {"id": "bot", "text": "BOT alpha c0 t1", "episode_done": True}],
        ],
        "item_id": "alpha-served-name:alpha:1",  # the line's `model` key names the model
        "model": "alpha-served-name",
    }
    format_world_logs([logs], out / "d.jsonl", out / "i.jsonl", model="alpha", annotate=ANNOTATE_ALL_BOT)
    assert [json.loads(line)["model"] for line in (out / "d.jsonl").read_text().splitlines()] == ["alpha", "alpha"]
    assert (out / "i.jsonl").read_text().splitlines() == ["[1, 3]", "[1, 3]"]


def test_without_a_model_key_the_model_is_unknown_not_assistant(tmp_path: Path) -> None:
    line = chat("x", 0, system=None)
    del line["model"]
    out = tmp_path / "out"
    report = format_world_logs([write_lines(tmp_path / "x.jsonl", [line])], out / "d.jsonl", out / "i.jsonl")
    assert dict(report.per_model) == {"(unknown)": 1}


# ------------------------------------------------------------------------------------------- bad input
GOOD = chat("m", 0)
BOTH = "both"  # refused by the reader, so by both commands
FORMAT_ONLY = "format"  # fine for ACUTE, refused where a reply must be annotated

BAD_LINES = [
    ("unknown role", {"messages": [msg("tool", "x")]}, "messages[0].role", BOTH),
    ("missing role", {"messages": [{"content": "x"}]}, "messages[0].role", BOTH),
    ("missing content", {"messages": [{"role": "user"}]}, "messages[0].content", BOTH),
    ("null content", {"messages": [msg("user", "hi"), msg("assistant", None, tool_calls=[])]}, "messages[1].content", BOTH),
    ("image part", {"messages": [msg("user", [{"type": "image_url", "image_url": {"url": "x"}}])]}, "messages[0].content[0].type", BOTH),
    ("text part not a string", {"messages": [msg("user", [{"type": "text", "text": 3}])]}, "messages[0].content[0].text", BOTH),
    ("part not an object", {"messages": [msg("user", ["hi"])]}, "messages[0].content[0]", BOTH),
    ("assistant first", {"messages": [msg("system", "s"), msg("assistant", "hello"), msg("user", "hi")]}, "messages[1].role", BOTH),
    ("two user messages", {"messages": [msg("user", "a"), msg("user", "b")]}, "messages[1].role", BOTH),
    ("system mid-chat", {"messages": [msg("user", "a"), msg("system", "b")]}, "messages[1].role", BOTH),
    ("empty messages", {"messages": []}, "messages", BOTH),
    ("only system", {"messages": [msg("system", "s")]}, "messages", BOTH),
    ("messages not a list", {"messages": "hi"}, "messages", BOTH),
    ("message not an object", {"messages": ["hi"]}, "messages[0]", BOTH),
    ("mixed shapes", {"dialog": [[{"id": "a", "text": "b"}, {"id": "c", "text": "d"}]]}, "dialog", BOTH),
    ("ends on the user", {"messages": [msg("user", "a"), msg("assistant", "b"), msg("user", "c")]}, "messages[2].role", FORMAT_ONLY),
    ("empty reply", {"messages": [msg("user", "a"), msg("assistant", " ")]}, "messages[1].content", FORMAT_ONLY),
]


def run_in_process(main: Any, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    return int(code or 0), capsys.readouterr().err


@pytest.mark.parametrize(("case", "bad", "field", "who"), BAD_LINES, ids=[case[0] for case in BAD_LINES])
def test_bad_chat_line_exits_2_located_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, bad: Any, field: str, who: str
) -> None:
    logs = write_lines(tmp_path / "logs.jsonl", [GOOD, bad])
    other = chat_file(tmp_path / "other.jsonl", "other", 2)
    location = f"{logs}:2: field '{field}': "
    code, err = run_in_process(format_main, ["--world-logs", str(logs), "--out-dir", str(tmp_path / "out"), "--quiet"], capsys)
    assert code == 2 and location in err and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()
    argv = ["--conversations", f"m={logs}", "--conversations", f"other={other}", "--out", str(tmp_path / "p.jsonl"), "--quiet"]
    code, err = run_in_process(pairings_main, argv, capsys)
    if who == BOTH:
        assert code == 2 and location in err and "Traceback" not in err, err
        assert not (tmp_path / "p.jsonl").exists()
    else:
        assert code == 0, err


def test_a_parlai_file_with_a_chat_line_names_that_line(tmp_path: Path) -> None:
    parlai = (REPO / "task_configs/acute/data/dull_bot.jsonl").read_text(encoding="utf-8").splitlines()[:2]
    logs = write_lines(tmp_path / "dull.jsonl", [*parlai, GOOD])
    with pytest.raises(InputError, match="this line holds chat messages, but line 1 holds ParlAI dialog") as err:
        list(iter_conversations(logs))
    assert (err.value.path, err.value.line, err.value.field) == (str(logs), 3, "messages")


def test_a_bare_list_of_messages_is_refused_with_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logs = write_lines(tmp_path / "bare.jsonl", [GOOD["messages"]])
    code, err = run_in_process(format_main, ["--world-logs", str(logs), "--out-dir", str(tmp_path / "out"), "--quiet"], capsys)
    assert code == 2 and f"{logs}:1: field '[]'" in err and 'write each line as {"messages": [...]}' in err
    with pytest.raises(InputError, match=r'got list \(a bare list of chat messages'):
        list(iter_conversations(logs))


def test_a_chat_with_no_assistant_message_has_nothing_to_judge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logs = write_lines(tmp_path / "logs.jsonl", [GOOD, {"messages": [msg("user", "anyone?")]}])
    other = chat_file(tmp_path / "other.jsonl", "other", 2)
    argv = ["--conversations", f"m={logs}", "--conversations", f"other={other}", "--out", str(tmp_path / "p.jsonl"), "--quiet"]
    code, err = run_in_process(pairings_main, argv, capsys)
    assert code == 2 and f"{logs}:2: field 'messages': " in err and "has no turn" in err
    assert not (tmp_path / "p.jsonl").exists()
