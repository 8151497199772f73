"""A registry entry's `control` string (ParlAI's bias bucket " f0m0"): it reaches the input the model really
reads — for a Blender model the encoder's ids (captured inside torch, before the model runs) with the
control after the newest utterance and before the end token, kept whole by truncation; for an
openai_compatible model the request body a real `transformers serve` receives — and it is recorded in world
logs, their sidecar and self-chat metadata, while the entry without it on the same weights stays another
model that records nothing new. Bad values fail when the registry is read, with file and field."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import torch
from generator_fixtures import FAST_RECIPE, read_jsonl, write_registry

from humaneval.input_errors import InputError
from humaneval.models import cli_generate, cli_self_chat
from humaneval.models.blender_generator import BlenderGenerator
from humaneval.models.openai_compatible import to_messages
from humaneval.models.registry import DEFAULT_REGISTRY_PATH, MAX_CONTROL_CHARS, load_registry
from humaneval.models.reply_model import DialogueContext
from tests.openai_peer import FailingFront, TransformersServePeer

CONTROL = " f0m0"  # ParlAI's BiasAgentTrait appends ' ' + bias_class
DEMO = "pkg:models/demo_bot"  # byte-level BPE, text_truncate 128, global end token: the 2.7B's layout in small


def demo_entry(**extra: Any) -> dict[str, Any]:
    return {"path": DEMO, "max_batch_size": 4, "recipe": dict(FAST_RECIPE), **extra}


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> tuple[BlenderGenerator, BlenderGenerator]:
    """The demo bot with and without the control, loaded through the registry like every command does."""
    path = write_registry(tmp_path_factory.mktemp("twins") / "models.yaml",
                          {"plain": demo_entry(), "degendered": demo_entry(control=CONTROL)})
    registry = load_registry(path)
    return registry.load("degendered"), registry.load("plain")  # type: ignore[return-value]


@contextmanager
def encoder_inputs(model: BlenderGenerator) -> Iterator[list[list[int]]]:
    """Every input row the model's encoder is called with, padding removed (a forward pre-hook in torch)."""
    seen: list[list[int]] = []

    def hook(_module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        ids, mask = kwargs.get("input_ids", args[0] if args else None), kwargs["attention_mask"]
        seen.extend([token for token, keep in zip(row.tolist(), keep_row.tolist()) if keep]
                    for row, keep_row in zip(ids, mask))

    handle = model.model.get_encoder().register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield seen
    finally:
        handle.remove()


def fed_to_encoder(model: BlenderGenerator, context: DialogueContext) -> list[int]:
    """The ids the encoder read while the model answered `context`."""
    with encoder_inputs(model) as seen:
        model.generate_batch([context])
    return seen[0]


def test_the_control_reaches_the_encoder_after_the_newest_turn_and_before_the_end_token(
        twins: tuple[BlenderGenerator, BlenderGenerator]) -> None:
    controlled, plain = twins
    control_ids = controlled.tokenizer(CONTROL, add_special_tokens=False)["input_ids"]  # tokenized on its own
    assert control_ids and controlled.control == CONTROL and plain.control is None
    context = DialogueContext(turns=("hello there", "how are you?"), persona=("your persona: i ski.",))
    fed, fed_plain = fed_to_encoder(controlled, context), fed_to_encoder(plain, context)
    assert fed == [*fed_plain[:-1], *control_ids, fed_plain[-1]] and fed_plain[-1] == 2  # 2: the end token
    assert controlled.tokenizer.decode(fed).endswith("how are you? f0m0</s>")


def test_truncation_drops_old_tokens_and_never_the_control(twins: tuple[BlenderGenerator, BlenderGenerator]) -> None:
    controlled, plain = twins
    control_ids = controlled.tokenizer(CONTROL, add_special_tokens=False)["input_ids"]
    limit = controlled.encoder.context_limit
    assert limit == 128
    long_turn = " ".join(f"word{i}" for i in range(400))  # ~1000 tokens: far past text_truncate
    context = DialogueContext(turns=("an old turn", long_turn))
    fed = controlled.encoder.encode(context)
    fed_plain = plain.encoder.encode(context)
    assert len(fed) == len(fed_plain) == limit
    assert fed[-len(control_ids) - 1:] == [*control_ids, 2]
    # the same newest utterance tokens, fewer of them: the control's room came out of the oldest end
    kept = limit - len(control_ids) - 1
    assert fed[:kept] == fed_plain[:-1][-kept:]
    assert fed_to_encoder(controlled, context) == fed  # what generate feeds is what encode built


def test_generate_records_the_control_and_the_uncontrolled_twin_is_another_model(tmp_path: Path) -> None:
    registry = write_registry(tmp_path / "models.yaml",
                              {"demo_plain": demo_entry(), "demo_f0m0": demo_entry(control=CONTROL)})
    contexts = tmp_path / "contexts.jsonl"
    contexts.write_text(json.dumps({"text": "hi there\nhow are you?", "id": "bad"}) + "\n", encoding="utf-8")
    outputs = {}
    for name in ("demo_f0m0", "demo_plain"):
        out = tmp_path / f"{name}.jsonl"
        assert cli_generate.main([str(contexts), "--out", str(out), "--registry", str(registry), "--model", name,
                                  "--no-progress"]) == 0
        [line] = read_jsonl(out)
        meta = json.loads(out.with_suffix(".metadata").read_text(encoding="utf-8"))
        outputs[name] = (line["dialog"][0][1], meta["opt"], meta["speakers"])
    act, opt, speakers = outputs["demo_f0m0"]
    assert act["id"] == "demo_f0m0" and act["control"] == CONTROL and opt["control"] == CONTROL
    assert speakers[-1] == "demo_f0m0"
    plain_act, plain_opt, plain_speakers = outputs["demo_plain"]
    assert set(plain_act) == {"id", "text", "episode_done"} and "control" not in plain_opt  # as before
    assert plain_speakers[-1] == "demo_plain" and opt["model_path"] == plain_opt["model_path"]  # same weights


def test_self_chat_metadata_records_the_control(tmp_path: Path) -> None:
    registry = write_registry(tmp_path / "models.yaml", {"demo_f0m0": demo_entry(control=CONTROL)})
    out = tmp_path / "chats.jsonl"
    assert cli_self_chat.main(["--out", str(out), "--registry", str(registry), "--num-chats", "2", "--turns", "1",
                               "--no-progress"]) == 0
    meta = json.loads(out.with_suffix(".metadata").read_text(encoding="utf-8"))
    assert meta["opt"]["control"] == CONTROL and meta["speakers"] == ["demo_f0m0", "demo_f0m0_partner"]


@pytest.mark.parametrize(("control", "problem"), [
    (5, "must be a string, got int"),
    ("   ", "non-space text"),
    ("x" * (MAX_CONTROL_CHARS + 1), f"at most {MAX_CONTROL_CHARS}"),
    (" f0m0\nsecond line", "U+000A at position 5"),
    ("\x1b[31m f0m0", "U+001B at position 0"),
    ("f0m0\u2028", "U+2028"),
    ("\u200b", "U+200B at position 0"),  # invisible: looks empty in every log, yet names another model
    (" f0m0\u202e", "U+202E"),
])
def test_bad_controls_fail_when_the_registry_is_read(tmp_path: Path, control: Any, problem: str) -> None:
    path = write_registry(tmp_path / "models.yaml", {"bot": demo_entry(control=control)})
    with pytest.raises(InputError, match=re.escape(problem)) as caught:
        load_registry(path)
    assert caught.value.path == str(path) and caught.value.field == "models.bot.control"


def test_a_bad_control_exits_2_naming_file_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_registry(tmp_path / "models.yaml", {"bot": demo_entry(control=" f0m0\n")})
    contexts = tmp_path / "contexts.jsonl"
    contexts.write_text('{"text": "hi"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    with pytest.raises(SystemExit) as caught:
        cli_generate.main([str(contexts), "--out", str(out), "--registry", str(path), "--no-progress"])
    err = capsys.readouterr().err
    assert caught.value.code == 2 and str(path) in err and "models.bot.control" in err and "Traceback" not in err
    assert not out.exists()


def test_a_classifier_takes_no_control_and_a_control_filling_the_context_fails_at_load(tmp_path: Path) -> None:
    path = write_registry(tmp_path / "models.yaml", {"bot": demo_entry(kind="classifier", control=CONTROL)})
    with pytest.raises(InputError, match="only chat models") as caught:
        load_registry(path)
    assert caught.value.field == "models.bot.control"
    path = write_registry(tmp_path / "models.yaml", {"bot": demo_entry(control=CONTROL * 40)})  # ~160 tokens > 128
    registry = load_registry(path)  # within the character bound: only the model knows its token count
    with pytest.raises(InputError, match="leaves no room for the dialogue in this model's 128-token") as caught:
        registry.load("bot")
    assert caught.value.path == str(path) and caught.value.field == "models.bot.control"


def test_the_shipped_registry_documents_the_key() -> None:
    lines = DEFAULT_REGISTRY_PATH.read_text().splitlines()
    line = next(line for line in lines if line.strip().startswith("# control:"))
    assert "#" in line.strip()[1:], "the control example has no comment"


def test_openai_messages_carry_the_control_on_the_last_message() -> None:
    turns = DialogueContext(turns=("hi", "how are you?"), persona=("your persona: i ski.",))
    assert to_messages(turns, "{persona}", CONTROL)[-1] == {"role": "user", "content": "how are you? f0m0"}
    assert to_messages(turns, "{persona}", CONTROL)[:-1] == to_messages(turns, "{persona}")[:-1]
    opening = DialogueContext(turns=(), persona=("topic: skiing",))  # a self-chat opening: the system only
    assert to_messages(opening, "{persona}", CONTROL) == [{"role": "system", "content": "topic: skiing f0m0"}]
    assert to_messages(DialogueContext(turns=()), "{persona}", CONTROL) == []  # nothing to steer, nothing sent


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TransformersServePeer]:
    with TransformersServePeer.start(tmp_path_factory.mktemp("peer") / "tiny") as running:
        yield running


def test_openai_compatible_request_and_world_log_carry_the_control(tmp_path: Path,
                                                                   peer: TransformersServePeer) -> None:
    def remote(base_url: str, **extra: Any) -> dict[str, Any]:  # a fresh dict each: no YAML aliases
        return {"kind": "openai_compatible", "base_url": base_url, "model": peer.model,
                "sampling": {"temperature": 0, "seed": 1}, "max_tokens": 8, "retries": 0, **extra}

    contexts = tmp_path / "contexts.jsonl"
    contexts.write_text(json.dumps({"dialog": [[{"id": "t", "text": "do you ski?"}], [{"id": "t", "text": "why?"}]],
                                    "context": [{"id": "context", "text": "your persona: i ski."}]}) + "\n",
                        encoding="utf-8")
    with FailingFront(peer.base_url) as front:
        registry = write_registry(tmp_path / "models.yaml", {
            "remote_f0m0": remote(front.base_url, control=CONTROL), "remote": remote(front.base_url)})
        out = tmp_path / "world_logs.jsonl"
        assert cli_generate.main([str(contexts), "--out", str(out), "--registry", str(registry),
                                  "--model", "remote_f0m0", "--no-progress"]) == 0
        controlled = [r.body["messages"] for r in front.requests if r.path.endswith("/chat/completions")]
        plain_out = tmp_path / "plain.jsonl"
        assert cli_generate.main([str(contexts), "--out", str(plain_out), "--registry", str(registry),
                                  "--model", "remote", "--no-progress"]) == 0
        plain = [r.body["messages"] for r in front.requests if r.path.endswith("/chat/completions")][2:]
    [line] = read_jsonl(out)
    first, second = (pair[1] for pair in line["dialog"])
    assert controlled[0] == [{"role": "system", "content": "your persona: i ski."},
                             {"role": "user", "content": "do you ski? f0m0"}]
    assert controlled[1] == [{"role": "system", "content": "your persona: i ski."},
                             {"role": "user", "content": "do you ski?"},  # history holds the turn as said
                             {"role": "assistant", "content": first["text"]},
                             {"role": "user", "content": "why? f0m0"}]
    assert [m[-1]["content"] for m in plain] == ["do you ski?", "why?"]
    assert first["control"] == second["control"] == CONTROL and first["id"] == "remote_f0m0"
    opt = json.loads(out.with_suffix(".metadata").read_text(encoding="utf-8"))["opt"]
    assert opt["control"] == CONTROL and opt["served_model"] == peer.model
    [plain_line] = read_jsonl(plain_out)
    assert all("control" not in pair[1] for pair in plain_line["dialog"])
    assert "control" not in json.loads(plain_out.with_suffix(".metadata").read_text(encoding="utf-8"))["opt"]
