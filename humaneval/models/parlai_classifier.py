"""ParlAI `transformer/classifier` checkpoints (BAD multi-turn, sensitive topics, single-turn safety) in plain torch.

No Hugging Face class matches these models: a ParlAI TransformerEncoder (with optional segment embeddings,
`output_scaling` and first/mean/max pooling) under one linear layer. Rather than bending an HF encoder, this
is a small native module that keeps ParlAI's parameter names, so conversion is a filtered copy of the
weights and a wrong mapping cannot hide. Predictions follow ParlAI's TorchClassifierAgent exactly,
including its threshold rule: at threshold 0.5 the argmax class; otherwise `classes[0]` iff its probability
is above the threshold (that is how the safety classifiers were tuned to be cautious).

Runtime directory: `classifier_config.json`, `model.safetensors` (ParlAI names), tokenizer files and
`parlai_options.json`, written by `import-parlai`.
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from humaneval.input_errors import InputError
from humaneval.jsonl import read_json_document
from humaneval.models.model_input import ContextEncoder, InputOptions, read_parlai_options, write_parlai_options
from humaneval.models.parlai_tokenizer import write_tokenizer
from humaneval.models.parlai_weights import (
    check_parameters,
    dim,
    embedding_matrix,
    expand_layers,
    heads,
    layer_count,
    owned_tensors,
)
from humaneval.models.parlai_zoo import ImportResult, Opt, ZooFolder

log = logging.getLogger(__name__)

CONFIG_FILE = "classifier_config.json"
FORMAT = "humaneval-parlai-classifier/1"
REDUCTIONS = ("first", "mean", "max")


@dataclass(frozen=True)
class ClassifierConfig:
    """The ParlAI opt values that shape the network and its decision."""

    vocab_size: int
    embedding_size: int
    n_layers: int
    n_heads: int
    ffn_size: int
    n_positions: int
    classes: tuple[str, ...]
    variant: str = "xlm"
    activation: str = "gelu"
    embeddings_scale: bool = True
    n_segments: int = 0
    output_scaling: float = 1.0
    reduction_type: str = "first"
    threshold: float = 0.5
    text_truncate: int | None = 360

    @classmethod
    def from_parlai_opt(cls, opt: Opt, state: dict[str, torch.Tensor], classes: tuple[str, ...]) -> "ClassifierConfig":
        """The config a classifier opt describes, its sizes checked against the weights (see `generator_config`)."""
        variant = opt.text("variant", "aiayn")
        if variant not in ("xlm", "prelayernorm", "aiayn"):
            raise opt.error("variant", f"variant '{variant}' is not supported")
        reduction = opt.text("reduction_type", "") or "first"
        if reduction not in REDUCTIONS:
            raise opt.error("reduction_type", f"reduction_type '{reduction}' is not supported ({', '.join(REDUCTIONS)})")
        activation = opt.text("activation", "relu")
        if activation not in ("relu", "gelu"):
            raise opt.error("activation", f"activation '{activation}' is not supported (relu or gelu)")
        threshold = opt.number("threshold", 0.5)
        if not 0.0 <= threshold <= 1.0:
            raise opt.error("threshold", f"must be a probability between 0 and 1, not {threshold}")
        embeddings = embedding_matrix(state, "transformer.embeddings.weight")
        vocab_size, width = (int(n) for n in embeddings.shape)
        actual_layers = layer_count(state, "transformer.layers", "encoder layers")
        layers_key = "n_encoder_layers" if opt.integer("n_encoder_layers", -1, minimum=-1) > 0 else "n_layers"
        truncate = opt.integer("text_truncate", None)
        if truncate is None:
            truncate = opt.integer("truncate", None)
        return cls(
            vocab_size=vocab_size,
            embedding_size=opt.size("embedding_size", width, "embedding columns (transformer.embeddings.weight)", width),
            n_layers=opt.size(layers_key, actual_layers, "encoder layers", actual_layers),
            n_heads=heads(opt, width),
            ffn_size=opt.size("ffn_size", dim(state, "transformer.layers.0.ffn.lin1.weight", 0), "ffn units", 300),
            n_positions=opt.size("n_positions", dim(state, "transformer.position_embeddings.weight", 0), "positions", 1024),
            classes=classes,
            variant=variant,
            activation=activation,
            embeddings_scale=opt.flag("embeddings_scale", True),
            n_segments=opt.integer("n_segments", 0, minimum=0),
            output_scaling=opt.number("output_scaling", 1.0),
            reduction_type=reduction,
            threshold=threshold,
            text_truncate=None if truncate is None or truncate < 0 else truncate,
        )


class _Attention(nn.Module):
    def __init__(self, dim: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.q_lin = nn.Linear(dim, dim)
        self.k_lin = nn.Linear(dim, dim)
        self.v_lin = nn.Linear(dim, dim)
        self.out_lin = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, length, dim = x.shape
        head = dim // self.n_heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, length, self.n_heads, head).transpose(1, 2)

        q, k, v = split(self.q_lin(x)), split(self.k_lin(x)), split(self.v_lin(x))
        scores = (q / math.sqrt(head)) @ k.transpose(-1, -2)
        scores = scores.masked_fill(~mask[:, None, None, :], torch.finfo(scores.dtype).min)
        attended = scores.softmax(dim=-1) @ v
        return self.out_lin(attended.transpose(1, 2).reshape(batch, length, dim))


class _FFN(nn.Module):
    def __init__(self, dim: int, hidden: int, activation: str) -> None:
        super().__init__()
        self.lin1 = nn.Linear(dim, hidden)
        self.lin2 = nn.Linear(hidden, dim)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = self.lin1(x)
        hidden = F.gelu(hidden) if self.activation == "gelu" else F.relu(hidden)
        return self.lin2(hidden)


class _EncoderLayer(nn.Module):
    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        dim = config.embedding_size
        self.prenorm = config.variant == "prelayernorm"
        self.attention = _Attention(dim, config.n_heads)
        self.norm1 = nn.LayerNorm(dim, eps=1e-5)
        self.ffn = _FFN(dim, config.ffn_size, config.activation)
        self.norm2 = nn.LayerNorm(dim, eps=1e-5)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        attended = self.attention(self.norm1(x) if self.prenorm else x, mask)
        x = x + attended
        if not self.prenorm:
            x = self.norm1(x)
        x = x + self.ffn(self.norm2(x) if self.prenorm else x)
        if not self.prenorm:
            x = self.norm2(x)
        return x * mask.unsqueeze(-1).to(x.dtype)


class _Encoder(nn.Module):
    """ParlAI's TransformerEncoder (parameter names kept) with its reductions."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        dim = config.embedding_size
        self.embeddings = nn.Embedding(config.vocab_size, dim, padding_idx=0)
        self.position_embeddings = nn.Embedding(config.n_positions, dim)
        if config.n_segments >= 1:
            self.segment_embeddings = nn.Embedding(config.n_segments, dim)
        if config.variant in ("xlm", "prelayernorm"):
            self.norm_embeddings = nn.LayerNorm(dim, eps=1e-5)
        self.layers = nn.ModuleList(_EncoderLayer(config) for _ in range(config.n_layers))

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        config = self.config
        mask = input_ids != 0
        positions = (mask.long().cumsum(dim=1) - 1).clamp(min=0)
        x = self.embeddings(input_ids)
        if config.embeddings_scale:
            x = x * math.sqrt(config.embedding_size)
        x = x + self.position_embeddings(positions)
        if config.n_segments >= 1:
            x = x + self.segment_embeddings(torch.zeros_like(input_ids))
        if config.variant == "xlm":
            x = self.norm_embeddings(x)
        x = x * mask.unsqueeze(-1).to(x.dtype)
        for layer in self.layers:
            x = layer(x, mask)
        if config.variant == "prelayernorm":
            x = self.norm_embeddings(x)
        x = x * config.output_scaling
        if config.reduction_type == "first":
            return x[:, 0, :]
        if config.reduction_type == "max":
            return x.max(dim=1).values  # as ParlAI: padding positions are zeros and take part
        divisor = mask.to(x.dtype).sum(dim=1, keepdim=True).clamp(min=1)
        return (x * mask.unsqueeze(-1).to(x.dtype)).sum(dim=1) / divisor


class TransformerClassifier(nn.Module):
    """ParlAI's TransformerLinearWrapper: encoder, pooled, then `additional_linear_layer` -> class scores."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        self.transformer = _Encoder(config)
        self.additional_linear_layer = nn.Linear(config.embedding_size, len(config.classes))

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.additional_linear_layer(self.transformer(input_ids))


def decide(probs: list[float], classes: tuple[str, ...], threshold: float) -> str:
    """ParlAI's rule: argmax at 0.5; otherwise classes[0] iff P(classes[0]) > threshold, else classes[1]."""
    if threshold == 0.5 or len(classes) != 2:
        return classes[max(range(len(probs)), key=probs.__getitem__)]
    return classes[0] if probs[0] > threshold else classes[1]


@dataclass(frozen=True)
class ClassifierPrediction:
    """One verdict: the chosen class and every class probability (kept for the logs)."""

    label: str
    probs: dict[str, float] = field(default_factory=dict)

    def probability(self, label: str) -> float:
        return self.probs.get(label, 0.0)


class ParlAIClassifier:
    """A loaded imported classifier: text in, `ClassifierPrediction` out."""

    def __init__(self, name: str, model: TransformerClassifier, encoder: ContextEncoder) -> None:
        self.name = name
        self.model = model.eval()
        self.encoder = encoder

    @property
    def config(self) -> ClassifierConfig:
        return self.model.config

    @property
    def classes(self) -> tuple[str, ...]:
        return self.model.config.classes

    @classmethod
    def load(cls, path: str | Path, *, name: str | None = None, device: str = "cpu", dtype: str = "float32") -> "ParlAIClassifier":
        os.environ["HF_HUB_OFFLINE"] = "1"
        from safetensors.torch import load_file
        from transformers import AutoTokenizer

        from humaneval.models.blender_generator import resolve_device, resolve_dtype

        path = Path(path).expanduser()
        config_path = path / CONFIG_FILE
        if not config_path.is_file():
            raise InputError(f"not a classifier directory (no {CONFIG_FILE}); import it with `import-parlai`", path=path)
        raw = read_json_document(config_path)
        raw.pop("format", None)
        raw["classes"] = tuple(raw["classes"])
        config = ClassifierConfig(**raw)
        model = TransformerClassifier(config)
        model.load_state_dict(load_file(str(path / "model.safetensors")), strict=True)
        model.to(device=resolve_device(device), dtype=resolve_dtype(dtype))
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        opt = read_parlai_options(path)
        options = InputOptions.from_parlai_opt(opt)
        return cls(name or path.name, model, ContextEncoder(tokenizer, options, eos_id=2))

    def encode(self, text: str) -> list[int]:
        """ParlAI's classifier input: start + tokens + end, then keep the last `text_truncate` tokens.

        Only the end of `text` that can reach those tokens is tokenized (`ContextEncoder.tokenize_end`), so
        a huge message costs no more than a long one. Without `text_truncate` the bound is `n_positions`:
        the encoder has no position embedding beyond it, so a longer input could not be scored at all.
        """
        limit = self.config.text_truncate if self.config.text_truncate is not None else self.config.n_positions
        tokens, cut = self.encoder.tokenize_end(text, limit)
        ids = [*tokens, 2] if cut else [1, *tokens, 2]
        return ids[-limit:] if limit else ids

    def scores(self, texts: list[str]) -> torch.Tensor:
        """Raw class scores (logits), one row per text, in one batched forward pass."""
        rows = [self.encode(text) for text in texts]
        width = max(len(r) for r in rows)
        device = next(self.model.parameters()).device
        ids = torch.zeros(len(rows), width, dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row)
        with torch.inference_mode():
            return self.model(ids.to(device)).float().cpu()

    def predict(self, texts: list[str]) -> list[ClassifierPrediction]:
        if not texts:
            return []
        probs = self.scores(texts).softmax(dim=-1).tolist()
        classes = self.classes
        return [
            ClassifierPrediction(decide(row, classes, self.config.threshold), dict(zip(classes, row, strict=True)))
            for row in probs
        ]


def bad_classifier_input(turns: list[str] | tuple[str, ...], n_turns: int = 4) -> str:
    """What the BAD multi-turn classifier reads: the last `n_turns` utterances joined by newlines."""
    return "\n".join(list(turns)[-n_turns:])


# ------------------------------------------------------------------------------------------------ import
def write_classifier(zoo: ZooFolder, out_dir: Path) -> ImportResult:
    """Convert a ParlAI classifier checkpoint into our runtime directory (called by `import_parlai`)."""
    from safetensors.torch import save_file

    state = zoo.state_dict
    opt = zoo.options
    config = ClassifierConfig.from_parlai_opt(opt, state, _classes(zoo))
    rows = dim(state, "additional_linear_layer.weight", 0)
    if rows is not None and rows != len(config.classes):
        raise opt.error("classes", f"the output layer has {rows} classes but opt lists {len(config.classes)}")
    # Names and shapes only: one layer on the meta device, replicated (see `expand_layers`).
    with torch.device("meta"):
        one_layer = TransformerClassifier(replace(config, n_layers=1))
    expected = expand_layers({name: tuple(t.shape) for name, t in one_layer.state_dict().items()},
                             {"transformer.layers": config.n_layers})
    kept = {k: v for k, v in state.items() if k in expected}
    check_parameters(kept, expected)
    ignored = sorted(set(state) - set(expected))
    if ignored:
        log.info("ignoring %d parameters not used for classification: %s", len(ignored), ", ".join(ignored[:5]))
    kept = owned_tensors(kept)
    payload = {"format": FORMAT, **asdict(config)}
    (out_dir / CONFIG_FILE).write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    save_file(kept, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    write_tokenizer(zoo, out_dir, vocab_size=config.vocab_size)
    write_parlai_options(out_dir, zoo.opt, source=f"imported from ParlAI zoo folder {zoo.root.name}")
    n_params = sum(t.numel() for t in kept.values())
    return ImportResult(out_dir, "classifier", "TransformerClassifier", config.vocab_size, n_params)


def _classes(zoo: ZooFolder) -> tuple[str, ...]:
    """The class names: the opt's `classes`, or ParlAI's --classes-from-file (one per line, beside the checkpoint)."""
    opt = zoo.options
    classes = opt.values.get("classes")
    where, field_name = opt.path, "classes"
    if not classes and opt.values.get("classes_from_file"):
        classes_file = zoo.root / Path(opt.text("classes_from_file", "")).name
        if not classes_file.is_file():
            raise InputError("opt names classes_from_file but it is not in the zoo folder", path=classes_file)
        try:
            classes = [c.strip() for c in classes_file.read_text(encoding="utf-8").splitlines() if c.strip()]
        except UnicodeDecodeError:
            raise InputError("is not UTF-8 text", path=classes_file) from None
        where, field_name = classes_file, None
    if not isinstance(classes, list) or len(classes) < 2 or not all(isinstance(c, str) for c in classes):
        raise InputError("classifier opt must list at least two 'classes' (strings)", path=where, field=field_name)
    if len(set(classes)) != len(classes):
        raise InputError("the classes must be distinct (each names one output of the model)", path=where, field=field_name)
    return tuple(classes)
