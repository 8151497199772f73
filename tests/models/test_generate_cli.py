"""`generate` and `self-chat` CLIs on a tiny imported model: output shape, metadata, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from generator_fixtures import read_jsonl, tiny_registry

from humaneval.conversations import read_conversations, read_metadata
from humaneval.models.__main__ import main


def _bad_style_contexts(path: Path) -> Path:
    lines = [
        {"id": "bad_eval", "text": "w1 w2\nw3 w4 w5\nw6", "episode_done": True, "human_eval_turn_range": "0|1",
         "labels": ["__ok__"]},
        {"text": "w7 w8 w9"},
        {"dialog": [[{"id": "teacher", "text": "w10 w11"}, {"id": "old_model", "text": "w12"}],
                    [{"id": "teacher", "text": "w13"}, {"id": "old_model", "text": "w14"}]],
         "context": [{"id": "context", "text": "w15 w16", "episode_done": False}]},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return path


def test_generate_writes_world_logs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    registry = tiny_registry(tmp_path, max_batch_size=2)
    out = tmp_path / "out" / "logs.jsonl"
    out.parent.mkdir()
    code = main(["generate", str(_bad_style_contexts(tmp_path / "in.jsonl")), "--out", str(out), "--registry", str(registry), "--no-progress"])
    assert code == 0
    assert "wrote 4 replies of tiny" in capsys.readouterr().out
    convs = read_conversations(out)
    assert [len(c.dialog) for c in convs] == [1, 1, 2]
    first = convs[0].dialog[0]
    teacher, model = first[0].to_act(), first[1].to_act()
    # the teacher act is kept whole (keys the safety formatter needs), the model act follows it
    assert teacher["id"] == "bad_eval" and teacher["human_eval_turn_range"] == "0|1" and teacher["labels"] == ["__ok__"]
    assert teacher["text"] == "w1 w2\nw3 w4 w5\nw6"
    assert model["id"] == "tiny" and model["text"] and all(w.startswith("w") or not w.isalnum() for w in model["text"].split())
    assert convs[1].dialog[0][0].speaker == "teacher"  # id filled in when absent
    assert [t.text for t in convs[2].context] == ["w15 w16"]
    assert convs[2].dialog[1][1].speaker == "tiny" and convs[2].dialog[1][1].text != "w14"
    meta = read_metadata(out)
    assert meta is not None and meta.self_chat is False and meta.speakers == ["teacher", "tiny"]
    assert meta.opt["model"] == "tiny" and meta.opt["recipe"]["inference"] == "greedy"
    assert all(line["metadata_path"].endswith("logs.metadata") for line in read_jsonl(out))


def test_generate_split_lines_changes_the_model_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from humaneval.models.cli_generate import Episode, history_for

    episode = Episode(1, [{"text": "a\nb"}, {"text": "c"}], [{"text": "your persona: x"}], replies=["r1"])
    assert history_for(episode, 0, split_lines=False) == (("your persona: x",), ("a\nb",))
    assert history_for(episode, 1, split_lines=True) == (("your persona: x",), ("a", "b", "r1", "c"))


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('{"text": ""}', "act.text"),
        ('{"id": "t"}', "act.text"),
        ('{"dialog": [[{"id": "t", "text": 5}]]}', "dialog[0][0].text"),
        ('{"dialog": []}', "dialog"),
        ('["not", "an", "object"]', None),
        ("{not json", None),
    ],
)
def test_generate_bad_line_exits_2_naming_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, field: str | None
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "w1 w2"}\n' + line + "\n")
    out = tmp_path / "logs.jsonl"
    with pytest.raises(SystemExit) as exc:
        main(["generate", str(src), "--out", str(out), "--registry", str(tiny_registry(tmp_path)), "--no-progress"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"{src}:2" in err
    if field:
        assert f"field '{field}'" in err
    assert not out.exists() and not list(tmp_path.glob(".logs*")), "partial output left behind"


def test_generate_unknown_model_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "w1"}\n')
    with pytest.raises(SystemExit) as exc:
        main(["generate", str(src), "--out", str(tmp_path / "o.jsonl"), "--registry", str(tiny_registry(tmp_path)), "--model", "nope"])
    assert exc.value.code == 2 and "unknown model 'nope'" in capsys.readouterr().err


def test_self_chat_writes_conversations_with_speaker_metadata(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(
        json.dumps({"persona_a": ["w1 w2"], "persona_b": ["w3 w4"], "topic": "w5"}) + "\n"
        + json.dumps({"opening": "w9 w8 w7"}) + "\n"
    )
    out = tmp_path / "self.jsonl"
    code = main(["self-chat", "--out", str(out), "--registry", str(tiny_registry(tmp_path, max_batch_size=2)),
                 "--num-chats", "3", "--turns", "2", "--seeds", str(seeds), "--no-progress"])
    assert code == 0
    convs = read_conversations(out)
    assert len(convs) == 3
    for conv in convs:
        assert len(conv.dialog) == 2 and all(len(pair) == 2 for pair in conv.dialog)
        assert [t.speaker for t in conv.turns] == ["tiny", "tiny_partner"] * 2
        assert all(t.text for t in conv.turns)
    assert [t.text for t in convs[0].context] == ["w1 w2", "w3 w4", "w5"]
    assert convs[1].turns[0].text == "w9 w8 w7"  # seed opening used verbatim
    assert convs[2].turns[0].text == convs[0].turns[0].text  # chat 2 reuses seed 0: same greedy chat
    meta = read_metadata(out)
    assert meta is not None and meta.self_chat is True and meta.speakers == ["tiny", "tiny_partner"]


def test_self_chat_bad_seed_and_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text('{"persona_a": ["ok"]}\n{"persona_a": [3]}\n')
    registry = str(tiny_registry(tmp_path))
    with pytest.raises(SystemExit) as exc:
        main(["self-chat", "--out", str(tmp_path / "o.jsonl"), "--registry", registry, "--seeds", str(seeds)])
    assert exc.value.code == 2 and f"{seeds}:2: field 'persona_a'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["self-chat", "--out", str(tmp_path / "o.jsonl"), "--registry", registry, "--turns", "0"])
    assert exc.value.code == 2
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize("verb", ["import-parlai", "generate", "self-chat"])
def test_help_explains_every_option(verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([verb, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "exit codes" in text and "example" in text
    if verb != "import-parlai":
        assert "--model" in text and "--registry" in text and "demo bot" in text
