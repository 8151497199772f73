"""The ParlAI importer against ParlAI's own outputs: teacher-forced logits and tokenizer ids."""

from __future__ import annotations

import collections
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
from humaneval.models.parlai_import import import_parlai
from humaneval.models.parlai_tokenizer import read_dict_tokens, write_tokenizer
from humaneval.models.parlai_unpickler import load_parlai_state_dict
from humaneval.models.parlai_zoo import ZooFolder
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


# ------------------------------------------------------------------------- hostile zoo folders and outputs
def _zoo_copy(tmp_path: Path, name: str = "zoo", **opt_changes: object) -> Path:
    """A writable copy of the xlm fixture, its opt patched with `opt_changes`."""
    zoo = tmp_path / name
    shutil.copytree(GENERATOR_FIXTURES["xlm"], zoo)
    for path in zoo.iterdir():
        path.chmod(0o644)
    if opt_changes:
        opt = json.loads((zoo / "model.opt").read_text())
        (zoo / "model.opt").write_text(json.dumps({**opt, **opt_changes}))
    return zoo


def _fixture_state() -> dict[str, torch.Tensor]:
    return dict(torch.load(GENERATOR_FIXTURES["xlm"] / "model", weights_only=True)["model"])


def _files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_zoo_named_like_a_staging_folder_survives(tmp_path: Path) -> None:
    """The old importer cleared `.OUT.importing` before use: a zoo folder of that name was deleted."""
    zoo = _zoo_copy(tmp_path, ".victim.importing")
    before = _files_under(zoo)
    import_parlai(zoo, tmp_path / "victim")
    assert _files_under(zoo) == before
    assert (tmp_path / "victim" / "model.safetensors").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".victim.importing", "victim"]


def test_interrupted_import_removes_only_its_own_staging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C mid-write leaves no output and no staging folder, and a folder we did not make is untouched."""
    unrelated = tmp_path / ".out.importing"
    unrelated.mkdir()
    (unrelated / "notes.txt").write_text("someone else's")
    zoo = _zoo_copy(tmp_path)

    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("humaneval.models.parlai_import._write_generation_config", interrupt)
    with pytest.raises(KeyboardInterrupt):
        import_parlai(zoo, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.importing", "zoo"]
    assert (unrelated / "notes.txt").read_text() == "someone else's"


def test_failed_overwrite_keeps_the_old_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    zoo = _zoo_copy(tmp_path, n_heads=3)
    with pytest.raises(InputError, match="n_heads"):
        import_parlai(zoo, out, overwrite=True)
    assert _files_under(out) == {"keep.txt": b"mine"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "zoo"]


def test_symlinked_out_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--out LINK --overwrite` used to fail in rmtree with a traceback and leave the staging folder behind."""
    from humaneval.models.__main__ import main

    target = tmp_path / "models" / "real"
    target.mkdir(parents=True)
    (target / "keep.txt").write_text("mine")
    link = tmp_path / "models" / "link"
    link.symlink_to(target)
    zoo = _zoo_copy(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["import-parlai", str(zoo), "--out", str(link), "--overwrite"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "symbolic link" in err and str(link) in err
    assert link.is_symlink() and _files_under(target) == {"keep.txt": b"mine"}
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["link", "real"]


# Opt values that disagree with the weights or have the wrong type: each an InputError naming model.opt and
# the field, raised before any model is built (n_layers 10,000,000 used to build for minutes).
OPT_FIELD_CASES = {
    "huge n_layers": ({"n_layers": 10_000_000}, "n_layers", "checkpoint has 2 encoder layers"),
    "n_decoder_layers off": ({"n_decoder_layers": 3}, "n_decoder_layers", "checkpoint has 2 decoder layers"),
    "embedding_size off": ({"embedding_size": 128}, "embedding_size", "checkpoint has 64"),
    "ffn_size off": ({"ffn_size": 64}, "ffn_size", "checkpoint has 128"),
    "n_positions off": ({"n_positions": 4096}, "n_positions", "checkpoint has 128"),
    "n_heads 0": ({"n_heads": 0}, "n_heads", "must be >= 1"),
    "n_heads 3": ({"n_heads": 3}, "n_heads", "does not divide the embedding size 64"),
    "n_layers text": ({"n_layers": "abc"}, "n_layers", "must be an integer"),
    "embedding_size list": ({"embedding_size": [1]}, "embedding_size", "must be an integer, not a list"),
    "output_scaling text": ({"output_scaling": "x"}, "output_scaling", "must be a finite number"),
    "embeddings_scale text": ({"embeddings_scale": "false"}, "embeddings_scale", "true or false"),
    "beam_size text": ({"beam_size": "ten"}, "beam_size", "must be an integer"),
    "text_truncate float": ({"text_truncate": 1.5}, "text_truncate", "must be an integer"),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", sorted(OPT_FIELD_CASES))
def test_bad_opt_values_are_refused_before_building(case: str, tmp_path: Path) -> None:
    changes, field, problem = OPT_FIELD_CASES[case]
    zoo = _zoo_copy(tmp_path, **changes)
    with pytest.raises(InputError) as err:
        import_parlai(zoo, tmp_path / "out")
    assert (err.value.path, err.value.field) == (str(zoo / "model.opt"), field)
    assert problem in err.value.problem
    assert sorted(p.name for p in tmp_path.iterdir()) == ["zoo"]


def test_kept_option_types_cover_every_kept_option() -> None:
    from humaneval.models.model_input import PARLAI_OPTION_KEYS
    from humaneval.models.parlai_zoo import _KEPT_OPTION_TYPES

    assert set(_KEPT_OPTION_TYPES) == set(PARLAI_OPTION_KEYS)


def _import_state(tmp_path: Path, state: object) -> InputError:
    """Import the xlm fixture with `state` as its `model` entry; the InputError it must raise."""
    zoo = _zoo_copy(tmp_path)
    torch.save({"model": state}, zoo / "model")
    with pytest.raises(InputError) as err:
        import_parlai(zoo, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["zoo"], "a refused import left files"
    assert err.value.path == str(zoo / "model")
    return err.value


def test_zero_stride_tensor_is_refused(tmp_path: Path) -> None:
    """4 bytes of storage claiming to be 512 MiB: the old importer wrote all of it (from a 1 MB file)."""
    state = _fixture_state()
    state["encoder.layers.0.ffn.lin1.weight"] = torch.zeros(1).expand(16384, 8192)
    err = _import_state(tmp_path, state)
    assert err.field == "encoder.layers.0.ffn.lin1.weight" and "storage of 4 bytes" in err.problem


def test_parameters_viewing_one_storage_are_refused(tmp_path: Path) -> None:
    """Each view fits its storage, but writing every one would multiply the file's data."""
    state = _fixture_state()
    one = state["encoder.layers.0.attention.q_lin.weight"]
    for layer in range(2):
        for lin in ("q_lin", "k_lin", "v_lin", "out_lin"):
            state[f"encoder.layers.{layer}.attention.{lin}.weight"] = one
    err = _import_state(tmp_path, state)
    assert err.field == "model" and "views of the same data" in err.problem


def test_wrong_shaped_and_non_float_tensors_are_refused(tmp_path: Path) -> None:
    state = _fixture_state()
    state["encoder.layers.1.attention.q_lin.bias"] = torch.zeros(3)
    err = _import_state(tmp_path / "shape", state)
    assert err.field == "encoder.layers.1.attention.q_lin.bias" and "has shape 3, the model needs 64" in err.problem
    state = _fixture_state()
    state["decoder.layers.0.ffn.lin2.bias"] = torch.zeros(64, dtype=torch.long)
    err = _import_state(tmp_path / "dtype", state)
    assert err.field == "decoder.layers.0.ffn.lin2.bias" and "floating point" in err.problem


def test_non_string_parameter_name_is_refused(tmp_path: Path) -> None:
    state: dict[object, torch.Tensor] = dict(_fixture_state())
    state[1] = torch.zeros(1)
    err = _import_state(tmp_path, state)
    assert err.field == "model" and "strings" in err.problem


class _OrderedDictWithAttributes:
    """Pickles as an OrderedDict whose BUILD step sets instance attributes (here one shadowing `items`)."""

    def __init__(self, items: dict[str, torch.Tensor], attributes: dict[str, object]) -> None:
        self.items, self.attributes = items, attributes

    def __reduce__(self) -> tuple:
        return (collections.OrderedDict, (), self.attributes, None, iter(self.items.items()))


class _TrainerState:
    """Any pickled class of the training code: the weights_only loader refuses the whole file for it."""


@pytest.mark.parametrize("loader", ["weights_only", "restricted"])
def test_ordered_dict_with_shadowing_attribute_still_gives_its_weights(loader: str, tmp_path: Path) -> None:
    """An `items` attribute on the pickled state dict used to crash the loader (TypeError, exit 1)."""
    state = _fixture_state()
    zoo = _zoo_copy(tmp_path)
    payload: dict[str, object] = {"model": _OrderedDictWithAttributes(state, {"items": torch.float32})}
    if loader == "restricted":
        payload["optimizer"] = _TrainerState()  # a class torch's safe loader refuses: ours stubs it
    torch.save(payload, zoo / "model")
    loaded = load_parlai_state_dict(zoo / "model")
    assert set(loaded) == set(state) and all(torch.equal(loaded[k], state[k]) for k in state)
    assert (import_parlai(zoo, tmp_path / "out").out_dir / "model.safetensors").is_file()


@pytest.mark.timeout(60)
def test_many_layers_repeating_one_tensor_are_refused_quickly(tmp_path: Path) -> None:
    """2,000 layers per stack, each naming layer 0's tensors again: a 5 MB file for which the old importer
    built a 4,000-layer model and wrote 0.7 GB. Refused, and no model of that size is ever built."""
    import time

    state = _fixture_state()
    for stack in ("encoder", "decoder"):
        layer0 = {key[len(f"{stack}.layers.0."):]: t for key, t in state.items() if key.startswith(f"{stack}.layers.0.")}
        for index in range(1, 2000):
            state.update({f"{stack}.layers.{index}.{rest}": t for rest, t in layer0.items()})
    zoo = _zoo_copy(tmp_path, n_layers=2000)
    torch.save({"model": state}, zoo / "model")
    assert (zoo / "model").stat().st_size < 6_000_000
    started = time.monotonic()
    with pytest.raises(InputError, match="views of the same data"):
        import_parlai(zoo, tmp_path / "out")
    assert time.monotonic() - started < 20
