"""The ParlAI importer against ParlAI's own outputs: teacher-forced logits and tokenizer ids."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import sys
import types
from pathlib import Path

import pytest
import torch
from generator_fixtures import FIXTURES, GENERATOR_FIXTURES, imported_generator

from humaneval.input_errors import InputError
from humaneval.models.model_input import ContextEncoder, InputOptions, read_parlai_options
from humaneval.models.parlai_import import ZooFolder, import_parlai, read_dict_tokens, write_tokenizer
from humaneval.models.parlai_unpickler import load_parlai_state_dict
from humaneval.models.reply_model import DialogueContext

os.environ["HF_HUB_OFFLINE"] = "1"


@pytest.mark.parametrize(
    ("layout", "hf_class"),
    [("xlm", "BlenderbotSmallForConditionalGeneration"), ("prelayernorm", "BlenderbotForConditionalGeneration")],
)
def test_teacher_forced_logits_match_parlai(layout: str, hf_class: str) -> None:
    from transformers import AutoModelForSeq2SeqLM

    model = AutoModelForSeq2SeqLM.from_pretrained(str(imported_generator(layout)), local_files_only=True).eval()
    assert type(model).__name__ == hf_class
    ref = torch.load(GENERATOR_FIXTURES[layout] / "ref.pt", weights_only=True)
    xs, ys, scores = ref["xs"], ref["ys"], ref["scores"]
    decoder_input = torch.cat([torch.ones(ys.shape[0], 1, dtype=torch.long), ys[:, :-1]], dim=1)
    with torch.no_grad():
        logits = model(input_ids=xs, decoder_input_ids=decoder_input).logits
    assert logits.shape == scores.shape
    keep = torch.ones_like(scores, dtype=torch.bool)
    keep[..., 1] = False  # ParlAI masks __start__ to -inf in its scores
    diff = (logits[keep] - scores[keep]).abs().max().item()
    assert diff < 1e-4, f"{layout}: max |logit diff| {diff}"
    # and the logits are not trivially equal to something else: the argmax agrees everywhere
    assert torch.equal(logits.masked_fill(~keep, -1e9).argmax(-1), scores.argmax(-1))


def _dict_fixture_zoo(name: str) -> ZooFolder:
    root = FIXTURES / name
    opt = json.loads((root / "d.dict.opt").read_text())
    return ZooFolder(root=root, model_file=root / "d", opt=opt, dict_file=root / "d.dict")


@pytest.mark.parametrize("name", ["dict_bpe", "dict_bbpe"])
def test_converted_tokenizer_gives_parlai_ids(name: str, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    zoo = _dict_fixture_zoo(name)
    write_tokenizer(zoo, tmp_path)
    tokenizer = AutoTokenizer.from_pretrained(str(tmp_path), local_files_only=True)
    encoder = ContextEncoder(tokenizer, InputOptions.from_parlai_opt(zoo.opt))
    expected = json.loads((FIXTURES / name / "parlai_tok.json").read_text())["tests"]
    assert len(expected) >= 5
    for sentence, ids in expected.items():
        assert encoder.tokenize(sentence) == ids, sentence
        # the plain HF tokenizer alone (no humaneval code) agrees too
        assert list(tokenizer(sentence, add_special_tokens=False)["input_ids"]) == ids, sentence


def test_bpe_presplit_follows_parlai_on_punctuation_hf_misses(tmp_path: Path) -> None:
    """HF's BlenderbotSmall tokenizer keeps "well-known" whole; ParlAI splits it at '-': we must too."""
    from transformers import AutoTokenizer

    zoo = _dict_fixture_zoo("dict_bpe")
    write_tokenizer(zoo, tmp_path)
    tokenizer = AutoTokenizer.from_pretrained(str(tmp_path), local_files_only=True)
    encoder = ContextEncoder(tokenizer, InputOptions.from_parlai_opt(zoo.opt))
    joined = encoder.tokenize("you-are")
    assert joined == encoder.tokenize("you") + encoder.tokenize("-") + encoder.tokenize("are")


def test_runtime_dir_records_parlai_options_and_loads_offline() -> None:
    out = imported_generator("xlm")
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "parlai_options.json"} <= names
    opt = read_parlai_options(out)
    assert opt["beam_size"] == 10 and opt["beam_min_length"] == 20 and opt["delimiter"] == "\n"
    assert opt["dict_tokenizer"] == "split"
    config = json.loads((out / "config.json").read_text())
    assert config["vocab_size"] == 1000 and config["scale_embedding"] is True and config["d_model"] == 64


def test_split_dictionary_matches_parlai_split_rule() -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(imported_generator("xlm")), local_files_only=True)
    tokens = read_dict_tokens(GENERATOR_FIXTURES["xlm"] / "model.dict")
    ids = tokenizer("w5 w6.w7,w8\nw9 nope", add_special_tokens=False)["input_ids"]
    # ParlAI split: pad . , ; : ! ? with spaces, split on whitespace; unknown -> __unk__ (3)
    words = ["w5", "w6", ".", "w7", ",", "w8", "w9", "nope"]
    assert ids == [tokens.index(w) if w in tokens else 3 for w in words]


def test_context_encoder_builds_parlai_history() -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(imported_generator("xlm")), local_files_only=True)
    opts = InputOptions(dict_tokenizer="split", delimiter="w0", text_truncate=6, global_end_token=True)
    encoder = ContextEncoder(tokenizer, opts)
    w = {f"w{i}": i + 4 for i in range(20)}  # w0 is id 4 in the fixture dictionary
    ctx = DialogueContext(turns=("w1 w2", "w3"), persona=("w9",))
    # persona joined to the first utterance by a newline (dropped by `split`), delimiter between turns,
    # end token last, then only the newest 6 tokens kept
    full = [w["w9"], w["w1"], w["w2"], w["w0"], w["w3"], 2]
    assert encoder.encode(ctx) == full
    short = ContextEncoder(tokenizer, InputOptions(dict_tokenizer="split", delimiter="w0", text_truncate=3, global_end_token=True))
    assert short.encode(ctx) == full[-3:]


def test_truncate_option_fills_in_unset_text_truncate() -> None:
    assert InputOptions.from_parlai_opt({"truncate": 64, "text_truncate": None}).text_truncate == 64
    assert InputOptions.from_parlai_opt({"truncate": -1}).text_truncate is None
    assert InputOptions.from_parlai_opt({"history_add_global_end_token": "end"}).global_end_token is True


# ------------------------------------------------------------------------------ restricted unpickling
def _checkpoint_with_foreign_objects(path: Path, state: dict[str, torch.Tensor], marker: Path) -> None:
    """A checkpoint that pickles a class from a module the loader cannot import, and a code-running reduce."""
    module = types.ModuleType("apex_fake_optimizers")

    class FP16Optimizer:
        def __init__(self) -> None:
            self.loss_scale = 1024.0

    class Evil:
        def __reduce__(self) -> tuple:
            return (os.system, (f"touch {marker}",))

    FP16Optimizer.__module__ = module.__name__
    FP16Optimizer.__qualname__ = "FP16Optimizer"
    module.FP16Optimizer = FP16Optimizer
    sys.modules[module.__name__] = module
    try:
        torch.save({"model": state, "optimizer": FP16Optimizer(), "hook": Evil(), "number_training_updates": 7}, path)
    finally:
        del sys.modules[module.__name__]


def test_restricted_unpickler_stubs_unknown_classes_and_runs_no_code(tmp_path: Path) -> None:
    state = {"embeddings.weight": torch.randn(4, 3), "x": torch.arange(5)}
    marker = tmp_path / "pwned"
    _checkpoint_with_foreign_objects(tmp_path / "model", state, marker)
    with pytest.raises(Exception):  # the safe loader refuses this file ...
        torch.load(tmp_path / "model", weights_only=True)
    loaded = load_parlai_state_dict(tmp_path / "model")  # ... ours keeps the weights
    assert set(loaded) == set(state)
    assert all(torch.equal(loaded[k], state[k]) for k in state)
    assert not marker.exists(), "a pickled os.system call was executed"


def test_import_of_pickled_foreign_checkpoint_gives_same_model(tmp_path: Path) -> None:
    zoo = tmp_path / "zoo"
    shutil.copytree(GENERATOR_FIXTURES["xlm"], zoo)
    (zoo / "model").chmod(0o644)
    state = torch.load(zoo / "model", weights_only=True)["model"]
    state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}  # old zoo files are fp16
    _checkpoint_with_foreign_objects(zoo / "model", state, tmp_path / "marker")
    out = import_parlai(zoo, tmp_path / "out").out_dir
    from safetensors.torch import load_file

    weights = load_file(str(out / "model.safetensors"))
    assert weights["model.shared.weight"].dtype == torch.float16
    assert torch.equal(weights["model.shared.weight"], state["embeddings.weight"])


def _pickle_str(text: str) -> bytes:
    data = text.encode()
    return b"\x8c" + bytes([len(data)]) + data  # SHORT_BINUNICODE


def _legacy_checkpoint(path: Path, payload: bytes) -> None:
    """A pre-1.6 (non-zip) torch checkpoint whose main pickle is `payload`: what an old ParlAI zoo file is."""
    from torch.serialization import MAGIC_NUMBER, PROTOCOL_VERSION

    with path.open("wb") as handle:
        for header in (MAGIC_NUMBER, PROTOCOL_VERSION, {"protocol_version": PROTOCOL_VERSION, "little_endian": True}):
            pickle.dump(header, handle, protocol=2)
        handle.write(payload)
        pickle.dump([], handle, protocol=2)  # storage keys


def _call(callable_ops: bytes, argument: str) -> bytes:
    """Pickle opcodes that call what `callable_ops` pushes with one string argument (TUPLE1, REDUCE)."""
    return callable_ops + _pickle_str(argument) + b"\x85R"


# Two crafted checkpoints from the hostile-user probe: both pass the old prefix allow-list.
ATTACKS = {
    # torch._utils._import_dotted_name("os.system") returns os.system, which is then called.
    "import_dotted_name": lambda cmd: b"\x80\x04"
    + _call(_call(_pickle_str("torch._utils") + _pickle_str("_import_dotted_name") + b"\x93", "os.system"), cmd)
    + b".",
    # protocol 4 resolves dotted names: `os.system` is an attribute of torch.serialization's `os`.
    "serialization_os_system": lambda cmd: b"\x80\x04"
    + _call(_pickle_str("torch.serialization") + _pickle_str("os.system") + b"\x93", cmd)
    + b".",
    # torch.serialization's own, unrestricted `pickle.loads`, on a nested pickle that calls os.system.
    "serialization_pickle_loads": lambda cmd: b"\x80\x04"
    + _pickle_str("torch.serialization") + _pickle_str("pickle.loads") + b"\x93"
    + b"C" + bytes([len(inner := b"\x80\x04" + _call(_pickle_str("os") + _pickle_str("system") + b"\x93", cmd) + b".")])
    + inner + b"\x85R.",
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_crafted_checkpoint_runs_no_code(attack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The file is refused (exit 2) and the planted command never runs, through the loader and the CLI."""
    from humaneval.models.__main__ import main

    marker = tmp_path / "pwned"
    zoo = tmp_path / "zoo"
    shutil.copytree(GENERATOR_FIXTURES["xlm"], zoo)
    (zoo / "model").chmod(0o644)
    _legacy_checkpoint(zoo / "model", ATTACKS[attack](f"touch {marker}"))
    # Sanity: the same bytes do run the command when unpickled without restriction.
    probe = tmp_path / "probe"
    _legacy_checkpoint(tmp_path / "unrestricted", ATTACKS[attack](f"touch {probe}"))
    torch.load(tmp_path / "unrestricted", weights_only=False)
    assert probe.exists(), "the crafted file is not an attack; the test proves nothing"
    with pytest.raises(InputError):
        load_parlai_state_dict(zoo / "model")
    with pytest.raises(SystemExit) as exc:
        main(["import-parlai", str(zoo), "--out", str(tmp_path / "out")])
    assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err
    assert not marker.exists(), f"{attack}: a crafted checkpoint ran a command"
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------ bad input
def test_bad_zoo_folders_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="zoo folder not found|weights file"):
        import_parlai(tmp_path / "nope", tmp_path / "out")
    zoo = tmp_path / "zoo"
    shutil.copytree(GENERATOR_FIXTURES["xlm"], zoo)
    for p in zoo.iterdir():
        p.chmod(0o644)
    opt = json.loads((zoo / "model.opt").read_text())
    (zoo / "model.opt").write_text(json.dumps({**opt, "variant": "aiayn"}))
    with pytest.raises(InputError, match="variant 'aiayn'") as err:
        import_parlai(zoo, tmp_path / "out")
    assert err.value.field == "variant"
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.*")), "a failed import left files"
    (zoo / "model.opt").write_text(json.dumps({**opt, "model": "transformer/ranker"}))
    with pytest.raises(InputError, match="transformer/ranker"):
        import_parlai(zoo, tmp_path / "out")
    (zoo / "model.opt").write_text('{\n  "variant": "xlm",\n  "n_layers": \n}')
    with pytest.raises(InputError, match="invalid JSON") as err:
        import_parlai(zoo, tmp_path / "out")
    assert (err.value.path, err.value.line) == (str(zoo / "model.opt"), 4)  # the stray "}"
    (zoo / "model.opt").write_text(json.dumps(opt))
    (zoo / "model.dict").unlink()
    with pytest.raises(InputError, match="dictionary file not found"):
        import_parlai(zoo, tmp_path / "out")


def test_refuses_to_overwrite_without_flag(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        import_parlai(GENERATOR_FIXTURES["prelayernorm"], out)
    assert (out / "keep.txt").read_text() == "mine"
    import_parlai(GENERATOR_FIXTURES["prelayernorm"], out, overwrite=True)
    assert not (out / "keep.txt").exists() and (out / "config.json").is_file()


def test_cli_import_and_bad_input_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from humaneval.models.__main__ import main

    assert main(["import-parlai", str(GENERATOR_FIXTURES["prelayernorm"]), "--out", str(tmp_path / "m")]) == 0
    assert "BlenderbotForConditionalGeneration" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["import-parlai", str(tmp_path / "missing"), "--out", str(tmp_path / "m2")])
    assert exc.value.code == 2
    assert "missing" in capsys.readouterr().err


def test_pickle_module_is_not_used_for_safe_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fresh ParlAI saves take the weights_only path; the restricted unpickler is only the fallback."""
    calls = []
    original = pickle.Unpickler
    monkeypatch.setattr("humaneval.models.parlai_unpickler._RestrictedUnpickler.find_class", lambda *a: calls.append(a) or original.find_class(*a))
    state = load_parlai_state_dict(GENERATOR_FIXTURES["xlm"] / "model")
    assert "embeddings.weight" in state and calls == []


@pytest.mark.parametrize(("dict_name", "kind"), [("dict_bpe", "bpe"), ("dict_bbpe", "bytelevelbpe")])
def test_generator_with_subword_dictionary_imports_and_talks(dict_name: str, kind: str, tmp_path: Path) -> None:
    """A zoo folder with a bpe / bytelevelbpe dictionary (the 90M / 2.7B kinds) end to end."""
    from humaneval.models.blender_generator import BlenderGenerator

    src = FIXTURES / dict_name
    n_tokens = len(read_dict_tokens(src / "d.dict"))
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    state = torch.load(GENERATOR_FIXTURES["xlm"] / "model", weights_only=True)["model"]
    for key in ("embeddings.weight", "encoder.embeddings.weight", "decoder.embeddings.weight"):
        state[key] = state[key][:n_tokens].clone()
    torch.save({"model": state}, zoo / "model")
    opt = json.loads((GENERATOR_FIXTURES["xlm"] / "model.opt").read_text())
    dict_opt = json.loads((src / "d.dict.opt").read_text())
    opt.update(dict_tokenizer=kind, dict_lower=dict_opt["dict_lower"], history_add_global_end_token="end")
    (zoo / "model.opt").write_text(json.dumps(opt))
    shutil.copyfile(src / "d.dict", zoo / "model.dict")
    for suffix in (".codecs", "-vocab.json", "-merges.txt"):
        if (src / f"d.dict{suffix}").exists():
            shutil.copyfile(src / f"d.dict{suffix}", zoo / f"model.dict{suffix}")
    out = import_parlai(zoo, tmp_path / "out").out_dir
    gen = BlenderGenerator.load(out, recipe={"inference": "greedy", "min_length": 3, "max_length": 5})
    expected = json.loads((src / "parlai_tok.json").read_text())["tests"]["Hello, how are you?"]
    assert gen.encoder.encode(DialogueContext(turns=("Hello, how are you?",))) == [*expected, 2]
    reply = gen.generate_batch([DialogueContext(turns=("Hello, how are you?",))])[0]
    assert reply and "__" not in reply and "<" not in reply  # no special tokens leak into the text
