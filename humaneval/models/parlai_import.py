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

import copy
import json
import logging
import math
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from humaneval.input_errors import InputError
from humaneval.jsonl import read_json_document
from humaneval.outputs import check_outputs, staged_folder
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

    @property
    def options(self) -> "Opt":
        """The opt with typed readers whose errors name `model.opt`."""
        return Opt(self.opt, Path(f"{self.model_file}.opt"))


class Opt:
    """A model.opt read with its types and ranges checked.

    The opt is a file like any other input: `"n_heads": 0` must be an error naming model.opt and the field,
    not a ZeroDivisionError deep in a model build. Absent and null values take the caller's default.
    """

    def __init__(self, values: dict[str, Any], path: Path) -> None:
        self.values = values
        self.path = path

    def error(self, key: str, problem: str) -> InputError:
        return InputError(problem, path=self.path, field=key)

    def integer(self, key: str, default: int | None, *, minimum: int | None = None) -> int | None:
        value = self.values.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be an integer, not {_describe(value)}")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be >= {minimum}, not {value}")
        return value

    def number(self, key: str, default: float) -> float:
        value = self.values.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.error(key, f"must be a finite number, not {_describe(value)}")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.values.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {_describe(value)}")
        return value

    def text(self, key: str, default: str) -> str:
        value = self.values.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, not {_describe(value)}")
        return value

    def size(self, key: str, actual: int | None, what: str, default: int) -> int:
        """A size the weights also fix: the opt's value must agree with them (absent: the weights decide)."""
        value = self.integer(key, None, minimum=1)
        if value is not None and actual is not None and value != actual:
            raise self.error(key, f"is {value} but the checkpoint has {actual} {what}")
        if value is not None:
            return value
        return actual if actual is not None else default

    def check_kept_options(self) -> None:
        """The input-layout and decoding options copied into the runtime folder must have their JSON types,
        or the model would be imported fine and then fail each time it is loaded."""
        for key, kind in _KEPT_OPTION_TYPES.items():
            if kind is int:
                self.integer(key, None)
            elif kind is float:
                self.number(key, 0.0)
            elif kind is bool:
                self.flag(key, False)
            else:
                self.text(key, "")


# The JSON type of every option in model_input.PARLAI_OPTION_KEYS (a test checks both list the same keys).
_KEPT_OPTION_TYPES: dict[str, type] = {
    "dict_tokenizer": str,
    "dict_lower": bool,
    "delimiter": str,
    "text_truncate": int,
    "label_truncate": int,
    "truncate": int,
    "history_add_global_end_token": str,
    "inference": str,
    "beam_size": int,
    "beam_min_length": int,
    "beam_block_ngram": int,
    "beam_context_block_ngram": int,
    "beam_length_penalty": float,
    "topk": int,
    "topp": float,
    "temperature": float,
}


def _describe(value: Any) -> str:
    """A short, safe description of an opt value for a message (a hostile value may be huge)."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        text = json.dumps(value) if not isinstance(value, int) or abs(value) < 10**30 else "a huge integer"
        return text if len(text) <= 40 else text[:40] + "…"
    return {list: "a list", dict: "an object", bool: "a boolean"}.get(type(value), type(value).__name__)


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
        try:
            for raw in handle:
                line = raw.rstrip("\n").rstrip("\r")
                if not line:
                    continue
                token = line.rsplit("\t", 1)[0] if "\t" in line else line
                token = token.replace("\\t", "\t").replace("\\n", "\n").replace("\\r", "\r")
                tokens.append(token)
        except UnicodeDecodeError:
            raise InputError(f"is not UTF-8 text (after token {len(tokens):,})", path=path) from None
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


def layer_count(state: dict[str, torch.Tensor], prefix: str, what: str) -> int:
    """How many layers `prefix.N.` the weights hold; they must be numbered 0..N-1.

    Counted from the weights, never taken from the opt: the opt's number only has to agree, so a hostile
    `n_layers` of ten million cannot make us build ten million layers.
    """
    pattern = re.compile(rf"{re.escape(prefix)}\.([0-9]{{1,6}})\.")
    indices = {int(match.group(1)) for key in state if (match := pattern.match(key))}
    if not indices:
        raise InputError(f"checkpoint has no {what} ({prefix}.0...)", field="model")
    if indices != set(range(len(indices))):
        raise InputError(f"{what} are not numbered 0..{len(indices) - 1} ({prefix}.N)", field="model")
    return len(indices)


def dim(state: dict[str, torch.Tensor], key: str, axis: int) -> int | None:
    """One dimension of a weight, if the weight is there with enough dimensions (else the shape check reports it)."""
    tensor = state.get(key)
    return int(tensor.shape[axis]) if tensor is not None and tensor.dim() > axis else None


def embedding_matrix(state: dict[str, torch.Tensor], key: str) -> torch.Tensor:
    """The word embeddings, which fix the vocabulary and model width every other check compares with."""
    tensor = state.get(key)
    if tensor is None:
        raise InputError(f"checkpoint has no '{key}' (not a ParlAI transformer of this kind?)", field="model")
    if tensor.dim() != 2 or tensor.shape[0] < len(PARLAI_SPECIALS) or tensor.shape[1] < 1:
        raise InputError(
            f"must be a vocabulary x width matrix with at least the {len(PARLAI_SPECIALS)} special tokens, "
            f"not of shape {_shape(tensor.shape)}",
            field=key,
        )
    return tensor


def heads(opt: Opt, width: int) -> int:
    """`n_heads`, which must split the model width evenly (attention cuts each vector into n_heads pieces)."""
    n_heads = opt.integer("n_heads", 2, minimum=1)
    if width % n_heads:
        raise opt.error("n_heads", f"{n_heads} does not divide the embedding size {width}")
    return n_heads


def generator_config(opt: Opt, state: dict[str, torch.Tensor]) -> Any:
    """The HF config for a ParlAI generator opt, checked against the weights before anything is built.

    Every size the weights fix (vocabulary, width, layers, ffn, positions) is compared with the opt here,
    so a wrong or hostile opt is a message naming its field, not a giant model or a crash in HF.
    """
    from transformers import BlenderbotConfig, BlenderbotSmallConfig

    variant = opt.text("variant", "aiayn")
    if variant not in ("xlm", "prelayernorm"):
        raise opt.error("variant", f"variant '{variant}' is not a Blender layout (expected xlm or prelayernorm)")
    if opt.integer("n_segments", 0, minimum=0) > 0:
        raise opt.error("n_segments", "generators with segment embeddings (n_segments > 0) are not supported")
    if opt.number("output_scaling", 1.0) != 1.0:
        raise opt.error("output_scaling", "output_scaling != 1 is not supported for generators")
    if not opt.flag("share_word_embeddings", True):
        raise opt.error("share_word_embeddings", "unshared encoder/decoder embeddings are not supported")
    activation = opt.text("activation", "relu")
    if activation not in ("relu", "gelu"):
        raise opt.error("activation", f"activation '{activation}' is not supported")
    shared = embedding_matrix(state, "embeddings.weight")
    vocab_size, width = (int(n) for n in shared.shape)
    layers = {}
    for stack in ("encoder", "decoder"):
        actual = layer_count(state, f"{stack}.layers", f"{stack} layers")
        own = opt.integer(f"n_{stack}_layers", -1, minimum=-1)
        key = f"n_{stack}_layers" if own > 0 else "n_layers"
        layers[stack] = opt.size(key, actual, f"{stack} layers", actual)
    common = dict(
        vocab_size=vocab_size,
        d_model=opt.size("embedding_size", width, "embedding columns (embeddings.weight)", width),
        encoder_layers=layers["encoder"],
        decoder_layers=layers["decoder"],
        encoder_attention_heads=heads(opt, width),
        decoder_attention_heads=heads(opt, width),
        encoder_ffn_dim=opt.size("ffn_size", dim(state, "encoder.layers.0.ffn.lin1.weight", 0), "ffn units", 300),
        decoder_ffn_dim=opt.size("ffn_size", dim(state, "decoder.layers.0.ffn.lin1.weight", 0), "ffn units", 300),
        max_position_embeddings=opt.size(
            "n_positions", dim(state, "encoder.position_embeddings.weight", 0), "positions", 1024
        ),
        activation_function=activation,
        scale_embedding=opt.flag("embeddings_scale", True),
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


def convert_generator_weights(state: dict[str, torch.Tensor], variant: str) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Rename every ParlAI tensor to its HF name; refuse anything we do not know how to place.

    Returns the renamed tensors (still views on the checkpoint's storages: nothing is copied before the
    shape checks) and, for messages, the ParlAI name each HF name came from.
    """
    shared = embedding_matrix(state, "embeddings.weight")
    for stack in ("encoder", "decoder"):
        own = state.get(f"{stack}.embeddings.weight")
        if own is not None and not (own.shape == shared.shape and torch.equal(own, shared)):
            raise InputError(f"{stack}.embeddings differ from the shared embeddings; not supported", field="model")
    out: dict[str, torch.Tensor] = {}
    sources: dict[str, str] = {}
    unknown: list[str] = []
    for key, tensor in state.items():
        try:
            name = map_generator_key(key, variant)
        except KeyError:
            unknown.append(key)
            continue
        if name is not None:
            out[name] = tensor
            sources[name] = key
    if unknown:
        raise InputError(f"unexpected parameters in the checkpoint: {', '.join(sorted(unknown)[:8])}", field="model")
    return out, sources


def write_generator(zoo: ZooFolder, out_dir: Path) -> ImportResult:
    from safetensors.torch import save_file

    opt = zoo.options
    config = generator_config(opt, zoo.state_dict)
    weights, sources = convert_generator_weights(zoo.state_dict, opt.text("variant", "aiayn"))
    check_parameters(weights, _expected_generator_shapes(config), sources)
    shared = weights["model.shared.weight"]
    weights = owned_tensors(weights)
    weights["final_logits_bias"] = torch.zeros(1, config.vocab_size, dtype=shared.dtype)
    config.dtype = str(shared.dtype).replace("torch.", "")
    config.save_pretrained(str(out_dir))
    save_file(weights, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    _write_generation_config(out_dir)
    write_tokenizer(zoo, out_dir, vocab_size=config.vocab_size)
    write_parlai_options(out_dir, zoo.opt, source=f"imported from ParlAI zoo folder {zoo.root.name}")
    n_params = sum(t.numel() for k, t in weights.items() if k != "final_logits_bias")
    return ImportResult(out_dir, "generator", config.architectures[0], config.vocab_size, n_params)


def _expected_generator_shapes(config: Any) -> dict[str, tuple[int, ...]]:
    """Parameter names and shapes of the HF model for `config` (and its class, set on `config`)."""
    from transformers import BlenderbotConfig, BlenderbotForConditionalGeneration, BlenderbotSmallForConditionalGeneration

    cls = BlenderbotForConditionalGeneration if isinstance(config, BlenderbotConfig) else BlenderbotSmallForConditionalGeneration
    config.architectures = [cls.__name__]
    one_layer = copy.deepcopy(config)
    one_layer.encoder_layers = one_layer.decoder_layers = 1
    with torch.device("meta"):
        shapes = {name: tuple(t.shape) for name, t in cls(one_layer).state_dict().items()}
    # tied to model.shared, or (final_logits_bias) zeros we add: not read from the checkpoint
    for name in ("model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight", "final_logits_bias"):
        shapes.pop(name, None)
    return expand_layers(shapes, {"model.encoder.layers": config.encoder_layers, "model.decoder.layers": config.decoder_layers})


def expand_layers(shapes: dict[str, tuple[int, ...]], stacks: dict[str, int]) -> dict[str, tuple[int, ...]]:
    """The shapes of a model with `stacks[prefix]` layers per stack, from the same model built with one.

    Building a model, even on the meta device, costs ~2.5 ms and ~50 KB a layer, and a checkpoint of a few
    MB can name 10,000 layers by repeating one tensor under many names (25 s, 500 MB before any check
    could refuse it). Every layer of a stack has the same parameters, so building one is enough.
    """
    expanded: dict[str, tuple[int, ...]] = {}
    for name, shape in shapes.items():
        stack = next((prefix for prefix in stacks if name.startswith(f"{prefix}.0.")), None)
        if stack is None:
            expanded[name] = shape
            continue
        rest = name[len(stack) + len(".0.") :]
        expanded.update({f"{stack}.{i}.{rest}": shape for i in range(stacks[stack])})
    return expanded


def check_parameters(
    weights: dict[str, torch.Tensor], expected: dict[str, tuple[int, ...]], sources: dict[str, str] | None = None
) -> None:
    """Every parameter the model needs is there, nothing else, each a float tensor of the model's shape.

    A 3x3 matrix where the model has 128x64 would be written and only fail (or worse, broadcast) at load.
    Messages use the checkpoint's own names (`sources` maps converted names back to them).
    """
    sources = sources or {}
    missing = sorted(sources.get(name, name) for name in set(expected) - set(weights))
    if missing:
        raise InputError(f"checkpoint lacks parameters the layout needs: {', '.join(missing[:8])}", field="model")
    extra = sorted(sources.get(name, name) for name in set(weights) - set(expected))
    if extra:
        raise InputError(f"checkpoint has parameters the layout does not: {', '.join(extra[:8])}", field="model")
    for name, shape in expected.items():
        tensor = weights[name]
        if tuple(tensor.shape) != shape:
            raise InputError(f"has shape {_shape(tensor.shape)}, the model needs {_shape(shape)}", field=sources.get(name, name))
        if not tensor.is_floating_point():
            raise InputError(f"is a {tensor.dtype} tensor; weights must be floating point", field=sources.get(name, name))


def owned_tensors(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Each tensor as a contiguous tensor with its own memory, ready for safetensors.

    Refused first: tensors that together need more bytes than the storages they view hold. Each tensor
    fits its storage (checked at load), but many tensors can view one storage, and copying each of them
    would turn a small file into a huge one. Tensors that do not own their whole storage are copied; the
    check bounds those copies by the checkpoint's size.
    """
    storages: dict[int, int] = {}
    for tensor in weights.values():
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
    needed = sum(t.numel() * t.element_size() for t in weights.values())
    if needed > sum(storages.values()):
        raise InputError(
            f"the weights describe {needed:,} bytes but the checkpoint holds {sum(storages.values()):,} "
            "(several parameters are views of the same data)",
            field="model",
        )
    owned: dict[str, torch.Tensor] = {}
    used: set[int] = set()
    for name, tensor in weights.items():
        storage = tensor.untyped_storage()
        whole = tensor.is_contiguous() and tensor.storage_offset() == 0 and storage.nbytes() == tensor.numel() * tensor.element_size()
        if whole and storage.data_ptr() not in used:
            used.add(storage.data_ptr())
            owned[name] = tensor
        else:
            owned[name] = tensor.clone(memory_format=torch.contiguous_format)
    return owned


def _shape(shape: Any) -> str:
    return "x".join(str(n) for n in shape) or "scalar"


def _write_generation_config(out_dir: Path) -> None:
    """Plain-HF users get ParlAI's ids; our generator passes the full recipe itself."""
    payload = {"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0, "decoder_start_token_id": 1}
    (out_dir / "generation_config.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------------- tokenizer
def write_tokenizer(zoo: ZooFolder, out_dir: Path, *, vocab_size: int | None = None) -> str:
    """Write HF tokenizer files that give ParlAI's ids; returns the dictionary kind.

    With `vocab_size` (the rows of the embedding matrix), a dictionary with more tokens than that is
    refused: those ids have no embedding and the model would fail on the first text that uses one.
    """
    opt = zoo.options
    kind = opt.text("dict_tokenizer", "") or "re"
    tokens = read_dict_tokens(zoo.dict_file)
    if vocab_size is not None and len(tokens) > vocab_size:
        raise InputError(f"has {len(tokens):,} tokens but the embeddings only {vocab_size:,} rows", path=zoo.dict_file)
    lower = opt.flag("dict_lower", False)
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
                "model_max_length": opt.integer("text_truncate", 512),
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
        if not isinstance(bpe_vocab, dict):
            raise InputError("must hold a JSON object (token -> id)", path=vocab_file)
        absent = [tok for tok in bpe_vocab if tok not in vocab]
        if absent:
            # The BPE can produce these but ParlAI's dictionary maps them to __unk__; HF would fail instead.
            raise InputError(
                f"{len(absent)} BPE tokens are missing from the dictionary (e.g. {absent[:3]})", path=zoo.dict_file
            )
        _write_json(out_dir / "vocab.json", vocab)
        shutil.copyfile(merges_file, out_dir / "merges.txt")
        prefix_space = opt.flag("bpe_add_prefix_space", True)
        _write_json(
            out_dir / "tokenizer_config.json",
            {
                "tokenizer_class": "BlenderbotTokenizer",
                "add_prefix_space": prefix_space,
                "bos_token": "<s>",
                "eos_token": "</s>",
                "pad_token": "<pad>",
                "unk_token": "<unk>",
                "model_max_length": opt.integer("text_truncate", 128),
            },
        )
    elif kind == "split":
        _write_split_tokenizer(tokens, lower, out_dir, opt.integer("text_truncate", 512))
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
    if out.is_symlink():
        # Replacing it would either delete the link's target folder or swap the link for a folder; the
        # user should say which folder they mean.
        raise InputError(f"is a symbolic link (to {os.readlink(out)}); give the folder itself", path=out, field="--out")
    # replaces_folders: --overwrite replaces `out` whole, so the zoo may not lie anywhere inside it
    check_outputs([], inputs=[zoo.root], folders=[out], field="--out", replaces_folders=True)
    if out.exists() and out.is_dir() and any(out.iterdir()) and not overwrite:
        raise InputError("output directory exists and is not empty (use --overwrite)", path=out)
    if zoo.kind not in GENERATOR_MODELS + CLASSIFIER_MODELS:
        raise InputError(
            f"model '{zoo.kind}' is not supported (transformer/generator or transformer/classifier)",
            path=zoo.options.path,
            field="model",
        )
    zoo.options.check_kept_options()
    zoo.state_dict = load_parlai_state_dict(zoo.model_file)
    try:
        with staged_folder(out, suffix=".importing") as staging:
            if zoo.kind in GENERATOR_MODELS:
                result = write_generator(zoo, staging)
            else:
                from humaneval.models.parlai_classifier import write_classifier

                result = write_classifier(zoo, staging)
    except InputError as err:
        raise err.at(path=zoo.model_file) from None
    log.info("imported %s (%s, %d parameters) into %s", zoo.root, result.architecture, result.n_parameters, out)
    return ImportResult(out, result.kind, result.architecture, result.vocab_size, result.n_parameters)
