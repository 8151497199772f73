"""Convert a ParlAI zoo folder into our runtime format, without ParlAI.

Researchers own ParlAI checkpoints (Blender 90M/400M/2.7B/9.4B, the BAD and sensitive-topics classifiers)
but ParlAI no longer runs on a current Python/torch stack. A generator becomes a plain Hugging Face
directory (`BlenderbotSmall` for the `xlm` 90M layout, `Blenderbot` for `prelayernorm`), loadable with
`from_pretrained(dir, local_files_only=True)`; a classifier becomes our own small module
(`parlai_classifier.py`), because no HF class has its segment embeddings and pooling. Either way the ParlAI
options that decide input layout and decoding are kept in `parlai_options.json` so the model is fed and
decoded as ParlAI did. The key mapping is the one measured in ../shared/MODELS.md and checked in the tests
against ParlAI's own logits.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from humaneval.input_errors import InputError
from humaneval.jsonl import read_json_document
from humaneval.outputs import check_outputs
from humaneval.models.model_input import write_parlai_options
from humaneval.models.parlai_unpickler import load_parlai_state_dict

log = logging.getLogger(__name__)

PARLAI_SPECIALS = ("__null__", "__start__", "__end__", "__unk__")  # ids 0..3 = pad, bos, eos, unk
BYTELEVEL_SPECIALS = {"__null__": "<pad>", "__start__": "<s>", "__end__": "</s>", "__unk__": "<unk>"}
GENERATOR_MODELS = ("transformer/generator",)
CLASSIFIER_MODELS = ("transformer/classifier",)


@dataclass
class ZooFolder:
    """The three things a ParlAI zoo folder holds: options, weights, dictionary."""

    root: Path
    model_file: Path
    opt: dict[str, Any]
    dict_file: Path
    state_dict: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)

    @property
    def kind(self) -> str:
        return str(self.opt.get("model", ""))


@dataclass(frozen=True)
class ImportResult:
    """What the importer wrote, for the CLI to report."""

    out_dir: Path
    kind: str  # "generator" or "classifier"
    architecture: str
    vocab_size: int
    n_parameters: int


def read_opt(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError("no model.opt in the zoo folder", path=path)
    opt = read_json_document(path)
    if not isinstance(opt, dict):
        raise InputError("model.opt must hold a JSON object", path=path)
    return opt


def read_dict_tokens(path: Path) -> list[str]:
    """Tokens of a ParlAI `.dict` in id order (ParlAI escapes tab/newline/CR inside tokens)."""
    if not path.is_file():
        raise InputError("dictionary file not found", path=path)
    tokens: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for lineno, raw in enumerate(handle, start=1):
            line = raw.rstrip("\n").rstrip("\r")
            if not line:
                continue
            token = line.rsplit("\t", 1)[0] if "\t" in line else line
            token = token.replace("\\t", "\t").replace("\\n", "\n").replace("\\r", "\r")
            tokens.append(token)
    if tuple(tokens[:4]) != PARLAI_SPECIALS:
        raise InputError(f"expected the first four tokens to be {', '.join(PARLAI_SPECIALS)}", path=path, line=1)
    return tokens


def open_zoo_folder(zoo_dir: str | Path, model_name: str = "model") -> ZooFolder:
    """Locate `model`, `model.opt`, `model.dict` (a path to the model file itself also works)."""
    zoo = Path(zoo_dir)
    if zoo.is_file():
        model_file, zoo = zoo, zoo.parent
    else:
        model_file = zoo / model_name
    if not zoo.is_dir():
        raise InputError("zoo folder not found", path=zoo)
    if not model_file.is_file():
        raise InputError(f"no '{model_file.name}' weights file in the zoo folder", path=zoo)
    opt = read_opt(Path(f"{model_file}.opt"))
    dict_file = Path(f"{model_file}.dict")
    if not dict_file.is_file() and opt.get("dict_file"):
        dict_file = zoo / Path(str(opt["dict_file"])).name
    return ZooFolder(root=zoo, model_file=model_file, opt=opt, dict_file=dict_file)


# ----------------------------------------------------------------------------------------------- weights
_LAYER_RENAMES = (
    (".self_attention.", ".self_attn."),
    (".encoder_attention.", ".encoder_attn."),
    (".attention.", ".self_attn."),
    (".q_lin.", ".q_proj."),
    (".k_lin.", ".k_proj."),
    (".v_lin.", ".v_proj."),
    (".out_lin.", ".out_proj."),
    (".ffn.lin1.", ".fc1."),
    (".ffn.lin2.", ".fc2."),
)
_ENCODER_NORMS = {"norm1": "self_attn_layer_norm", "norm2": "final_layer_norm"}
_DECODER_NORMS = {"norm1": "self_attn_layer_norm", "norm2": "encoder_attn_layer_norm", "norm3": "final_layer_norm"}


def map_generator_key(key: str, variant: str) -> str | None:
    """ParlAI generator parameter name -> HF Blenderbot(Small) name; None for parameters HF ties or lacks."""
    if key == "START" or key in ("encoder.embeddings.weight", "decoder.embeddings.weight"):
        return None  # START is a constant; the per-stack embeddings are the shared one (checked by the caller)
    if key == "embeddings.weight":
        return "model.shared.weight"
    match = re.match(r"(encoder|decoder)\.position_embeddings\.weight$", key)
    if match:
        return f"model.{match.group(1)}.embed_positions.weight"
    match = re.match(r"(encoder|decoder)\.norm_embeddings\.(weight|bias)$", key)
    if match:
        stack, param = match.groups()
        name = "layernorm_embedding" if variant == "xlm" else "layer_norm"
        return f"model.{stack}.{name}.{param}"
    match = re.match(r"(encoder|decoder)\.layers\.(\d+)\.(norm\d)\.(weight|bias)$", key)
    if match:
        stack, index, norm, param = match.groups()
        table = _ENCODER_NORMS if stack == "encoder" else _DECODER_NORMS
        if norm not in table:
            raise KeyError(key)
        return f"model.{stack}.layers.{index}.{table[norm]}.{param}"
    if re.match(r"(encoder|decoder)\.layers\.\d+\.", key):
        mapped = "." + key
        for old, new in _LAYER_RENAMES:
            mapped = mapped.replace(old, new)
        return "model" + mapped
    raise KeyError(key)


def _int_opt(opt: dict[str, Any], key: str, default: int) -> int:
    value = opt.get(key)
    return default if value is None else int(value)


def generator_config(opt: dict[str, Any], vocab_size: int) -> Any:
    """The HF config for a ParlAI generator opt (unsupported layouts are bad input, not a crash later)."""
    from transformers import BlenderbotConfig, BlenderbotSmallConfig

    variant = opt.get("variant", "aiayn")
    if variant not in ("xlm", "prelayernorm"):
        raise InputError(f"variant '{variant}' is not a Blender layout (expected xlm or prelayernorm)", field="variant")
    if _int_opt(opt, "n_segments", 0) > 0:
        raise InputError("generators with segment embeddings (n_segments > 0) are not supported", field="n_segments")
    if float(opt.get("output_scaling", 1.0) or 1.0) != 1.0:
        raise InputError("output_scaling != 1 is not supported for generators", field="output_scaling")
    if opt.get("share_word_embeddings", True) is False:
        raise InputError("unshared encoder/decoder embeddings are not supported", field="share_word_embeddings")
    activation = str(opt.get("activation", "relu"))
    if activation not in ("relu", "gelu"):
        raise InputError(f"activation '{activation}' is not supported", field="activation")
    n_layers = _int_opt(opt, "n_layers", 2)
    n_enc = _int_opt(opt, "n_encoder_layers", -1)
    n_dec = _int_opt(opt, "n_decoder_layers", -1)
    common = dict(
        vocab_size=vocab_size,
        d_model=_int_opt(opt, "embedding_size", 300),
        encoder_layers=n_enc if n_enc > 0 else n_layers,
        decoder_layers=n_dec if n_dec > 0 else n_layers,
        encoder_attention_heads=_int_opt(opt, "n_heads", 2),
        decoder_attention_heads=_int_opt(opt, "n_heads", 2),
        encoder_ffn_dim=_int_opt(opt, "ffn_size", 300),
        decoder_ffn_dim=_int_opt(opt, "ffn_size", 300),
        max_position_embeddings=_int_opt(opt, "n_positions", 1024),
        activation_function=activation,
        scale_embedding=bool(opt.get("embeddings_scale", True)),
        dropout=0.0,
        attention_dropout=0.0,
        activation_dropout=0.0,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=1,
        forced_eos_token_id=None,
        tie_word_embeddings=True,
    )
    return (BlenderbotSmallConfig if variant == "xlm" else BlenderbotConfig)(**common)


def convert_generator_weights(state: dict[str, torch.Tensor], variant: str) -> dict[str, torch.Tensor]:
    """Rename every ParlAI tensor to its HF name; refuse anything we do not know how to place."""
    shared = state.get("embeddings.weight")
    if shared is None:
        raise InputError("checkpoint has no 'embeddings.weight' (not a ParlAI transformer generator?)", field="model")
    for stack in ("encoder", "decoder"):
        own = state.get(f"{stack}.embeddings.weight")
        if own is not None and not torch.equal(own, shared):
            raise InputError(f"{stack}.embeddings differ from the shared embeddings; not supported", field="model")
    out: dict[str, torch.Tensor] = {}
    unknown: list[str] = []
    for key, tensor in state.items():
        try:
            name = map_generator_key(key, variant)
        except KeyError:
            unknown.append(key)
            continue
        if name is not None:
            out[name] = tensor.contiguous()
    if unknown:
        raise InputError(f"unexpected parameters in the checkpoint: {', '.join(sorted(unknown)[:8])}", field="model")
    out["final_logits_bias"] = torch.zeros(1, shared.shape[0], dtype=shared.dtype)
    return out


def write_generator(zoo: ZooFolder, out_dir: Path) -> ImportResult:
    from safetensors.torch import save_file

    state = zoo.state_dict
    variant = str(zoo.opt.get("variant", "aiayn"))
    weights = convert_generator_weights(state, variant)
    vocab_size = int(weights["model.shared.weight"].shape[0])
    config = generator_config(zoo.opt, vocab_size)
    # Check every expected parameter is there before writing anything.
    expected = _expected_generator_keys(config)
    missing = sorted(expected - set(weights))
    if missing:
        raise InputError(f"checkpoint lacks parameters the layout needs: {', '.join(missing[:8])}", field="model")
    extra = sorted(set(weights) - expected)
    if extra:
        raise InputError(f"checkpoint has parameters the layout does not: {', '.join(extra[:8])}", field="model")
    config.dtype = str(weights["model.shared.weight"].dtype).replace("torch.", "")
    config.save_pretrained(str(out_dir))
    save_file(weights, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    _write_generation_config(out_dir)
    write_tokenizer(zoo, out_dir)
    write_parlai_options(out_dir, zoo.opt, source=f"imported from ParlAI zoo folder {zoo.root.name}")
    n_params = sum(t.numel() for k, t in weights.items() if k != "final_logits_bias")
    arch = config.architectures[0] if getattr(config, "architectures", None) else type(config).__name__
    return ImportResult(out_dir, "generator", arch, vocab_size, n_params)


def _expected_generator_keys(config: Any) -> set[str]:
    """Parameter names of the HF model for `config`, built on the meta device (no memory for 9.4B)."""
    from transformers import BlenderbotConfig, BlenderbotForConditionalGeneration, BlenderbotSmallForConditionalGeneration

    cls = BlenderbotForConditionalGeneration if isinstance(config, BlenderbotConfig) else BlenderbotSmallForConditionalGeneration
    config.architectures = [cls.__name__]
    with torch.device("meta"):
        model = cls(config)
    tied = {"model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight"}
    return set(model.state_dict()) - tied


def _write_generation_config(out_dir: Path) -> None:
    """Plain-HF users get ParlAI's ids; our generator passes the full recipe itself."""
    payload = {"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0, "decoder_start_token_id": 1}
    (out_dir / "generation_config.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------------- tokenizer
def write_tokenizer(zoo: ZooFolder, out_dir: Path) -> str:
    """Write HF tokenizer files that give ParlAI's ids; returns the dictionary kind."""
    kind = str(zoo.opt.get("dict_tokenizer") or "re")
    tokens = read_dict_tokens(zoo.dict_file)
    lower = bool(zoo.opt.get("dict_lower", False))
    if kind == "bpe":
        codecs = Path(f"{zoo.dict_file}.codecs")
        if not codecs.is_file():
            raise InputError("dict_tokenizer is bpe but the .codecs file is missing", path=codecs)
        _write_json(out_dir / "vocab.json", {tok: i for i, tok in enumerate(tokens)})
        shutil.copyfile(codecs, out_dir / "merges.txt")
        _write_json(
            out_dir / "tokenizer_config.json",
            {
                "tokenizer_class": "BlenderbotSmallTokenizer",
                "pad_token": "__null__",
                "bos_token": "__start__",
                "eos_token": "__end__",
                "unk_token": "__unk__",
                "model_max_length": _int_opt(zoo.opt, "text_truncate", 512),
            },
        )
    elif kind == "bytelevelbpe":
        vocab_file = Path(f"{zoo.dict_file}-vocab.json")
        merges_file = Path(f"{zoo.dict_file}-merges.txt")
        for needed in (vocab_file, merges_file):
            if not needed.is_file():
                raise InputError("dict_tokenizer is bytelevelbpe but this file is missing", path=needed)
        vocab = {BYTELEVEL_SPECIALS.get(tok, tok): i for i, tok in enumerate(tokens)}
        bpe_vocab = read_json_document(vocab_file)
        absent = [tok for tok in bpe_vocab if tok not in vocab]
        if absent:
            # The BPE can produce these but ParlAI's dictionary maps them to __unk__; HF would fail instead.
            raise InputError(
                f"{len(absent)} BPE tokens are missing from the dictionary (e.g. {absent[:3]})", path=zoo.dict_file
            )
        _write_json(out_dir / "vocab.json", vocab)
        shutil.copyfile(merges_file, out_dir / "merges.txt")
        prefix_space = zoo.opt.get("bpe_add_prefix_space")
        _write_json(
            out_dir / "tokenizer_config.json",
            {
                "tokenizer_class": "BlenderbotTokenizer",
                "add_prefix_space": True if prefix_space is None else bool(prefix_space),
                "bos_token": "<s>",
                "eos_token": "</s>",
                "pad_token": "<pad>",
                "unk_token": "<unk>",
                "model_max_length": _int_opt(zoo.opt, "text_truncate", 128),
            },
        )
    elif kind == "split":
        _write_split_tokenizer(tokens, lower, out_dir, _int_opt(zoo.opt, "text_truncate", 512))
    else:
        raise InputError(
            f"dict_tokenizer '{kind}' is not supported (bpe, bytelevelbpe or split)", path=zoo.dict_file, field="dict_tokenizer"
        )
    return kind


def _write_split_tokenizer(tokens: list[str], lower: bool, out_dir: Path, max_len: int) -> None:
    """ParlAI's `split` tokenizer (pad . , ; : ! ? with spaces, split on whitespace) as a word-level tokenizer.json."""
    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordLevel

    tokenizer = Tokenizer(WordLevel(vocab={tok: i for i, tok in enumerate(tokens)}, unk_token="__unk__"))
    if lower:
        tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(r"[.,;:!?]"), behavior="isolated"), pre_tokenizers.WhitespaceSplit()]
    )
    tokenizer.save(str(out_dir / "tokenizer.json"))
    _write_json(
        out_dir / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "pad_token": "__null__",
            "bos_token": "__start__",
            "eos_token": "__end__",
            "unk_token": "__unk__",
            "model_max_length": max_len,
        },
    )


def _write_json(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------------------------- entry
def import_parlai(zoo_dir: str | Path, out_dir: str | Path, *, model_name: str = "model", overwrite: bool = False) -> ImportResult:
    """Convert a generator or classifier zoo folder; writes into a temp dir first so failures leave nothing."""
    zoo = open_zoo_folder(zoo_dir, model_name)
    out = Path(out_dir)
    check_outputs([], inputs=[zoo.root], folders=[out], field="--out")
    if zoo.root.resolve().is_relative_to(out.resolve()):  # --overwrite would delete the zoo folder with it
        raise InputError(f"holds the zoo folder {zoo.root}; choose another output folder", path=out, field="--out")
    if out.exists() and out.is_dir() and any(out.iterdir()) and not overwrite:
        raise InputError("output directory exists and is not empty (use --overwrite)", path=out)
    if zoo.kind not in GENERATOR_MODELS + CLASSIFIER_MODELS:
        raise InputError(
            f"model '{zoo.kind}' is not supported (transformer/generator or transformer/classifier)",
            path=Path(f"{zoo.model_file}.opt"),
            field="model",
        )
    zoo.state_dict = load_parlai_state_dict(zoo.model_file)
    staging = out.parent / f".{out.name}.importing"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        if zoo.kind in GENERATOR_MODELS:
            result = write_generator(zoo, staging)
        else:
            from humaneval.models.parlai_classifier import write_classifier

            result = write_classifier(zoo, staging)
    except InputError as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise err.at(path=zoo.model_file)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    log.info("imported %s (%s, %d parameters) into %s", zoo.root, result.architecture, result.n_parameters, out)
    return ImportResult(out, result.kind, result.architecture, result.vocab_size, result.n_parameters)
