"""Convert a ParlAI zoo folder into our runtime format, without ParlAI.

Researchers own ParlAI checkpoints (Blender 90M/400M/2.7B/9.4B, the BAD and sensitive-topics classifiers)
but ParlAI no longer runs on a current Python/torch stack. A generator becomes a plain Hugging Face
directory (`BlenderbotSmall` for the `xlm` 90M layout, `Blenderbot` for `prelayernorm`), loadable with
`from_pretrained(dir, local_files_only=True)`; a classifier becomes our own small module
(`parlai_classifier.py`), because no HF class has its segment embeddings and pooling. Either way the ParlAI
options that decide input layout and decoding are kept in `parlai_options.json` so the model is fed and
decoded as ParlAI did. The key mapping is the one measured in ../shared/MODELS.md and checked in the tests
against ParlAI's own logits.

Here: the generator conversion and `import_parlai`, which dispatches on the opt's model. What both
conversions share lives below them: `parlai_zoo` (the folder and its opt), `parlai_weights` (checkpoint
checks) and `parlai_tokenizer` (tokenizer files).
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
from pathlib import Path
from typing import Any

import torch

from humaneval.input_errors import InputError
from humaneval.models.model_input import write_parlai_options
from humaneval.models.parlai_classifier import write_classifier
from humaneval.models.parlai_tokenizer import write_tokenizer
from humaneval.models.parlai_unpickler import load_parlai_state_dict
from humaneval.models.parlai_weights import (
    check_parameters,
    dim,
    embedding_matrix,
    expand_layers,
    heads,
    layer_count,
    owned_tensors,
)
from humaneval.models.parlai_zoo import ImportResult, Opt, ZooFolder, open_zoo_folder
from humaneval.outputs import check_outputs, staged_folder

log = logging.getLogger(__name__)

GENERATOR_MODELS = ("transformer/generator",)
CLASSIFIER_MODELS = ("transformer/classifier",)


# ------------------------------------------------------------------------------------------- generators
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


def _write_generation_config(out_dir: Path) -> None:
    """Plain-HF users get ParlAI's ids; our generator passes the full recipe itself."""
    payload = {"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0, "decoder_start_token_id": 1}
    (out_dir / "generation_config.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


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
                result = write_classifier(zoo, staging)
    except InputError as err:
        raise err.at(path=zoo.model_file) from None
    log.info("imported %s (%s, %d parameters) into %s", zoo.root, result.architecture, result.n_parameters, out)
    return ImportResult(out, result.kind, result.architecture, result.vocab_size, result.n_parameters)
