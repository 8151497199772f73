"""Blender generators (90M `BlenderbotSmall`, 400M-9.4B `Blenderbot`, the demo bot) behind `ReplyModel`.

One code path for every size: `AutoModelForSeq2SeqLM` picks the class from the runtime directory's
config, `ContextEncoder` rebuilds ParlAI's input from the recorded options, and `DecodingRecipe` turns the
recipe into `generate` arguments. `generate_batch` pads a batch and makes one `generate` call per chunk of
at most `max_batch_size` contexts: batching is what makes a CPU serve several crowdworkers at once
(MODELS.md: a batch of 8 costs ~3.6x one reply).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

# Nothing may download at run time: make every hub lookup fail fast instead of retrying for ~25 s.
os.environ["HF_HUB_OFFLINE"] = "1"

import torch  # noqa: E402

from humaneval.input_errors import InputError  # noqa: E402
from humaneval.models.decoding_recipe import DecodingRecipe  # noqa: E402
from humaneval.models.model_input import ContextEncoder, InputOptions, read_parlai_options  # noqa: E402
from humaneval.models.reply_model import DialogueContext  # noqa: E402

log = logging.getLogger(__name__)

DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
    "float16": torch.float16,
    "fp16": torch.float16,
}


def resolve_dtype(name: str) -> torch.dtype:
    try:
        return DTYPES[str(name).lower()]
    except KeyError:
        raise InputError(f"dtype must be one of {', '.join(DTYPES)}, got '{name}'", field="dtype") from None


def resolve_device(name: str) -> torch.device:
    """A torch device; asking for CUDA on a machine without it is a configuration error, said plainly."""
    try:
        device = torch.device(str(name))
    except RuntimeError:
        raise InputError(f"device must be 'cpu', 'cuda' or 'cuda:N', got '{name}'", field="device") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError("device is 'cuda' but torch sees no GPU on this machine (use device: cpu)", field="device")
    if device.type not in ("cpu", "cuda"):
        raise InputError(f"device must be 'cpu' or 'cuda', got '{name}'", field="device")
    return device


class BlenderGenerator:
    """A loaded seq2seq Blender model that answers batches of dialogue contexts (implements `ReplyModel`)."""

    def __init__(
        self,
        name: str,
        model: Any,
        tokenizer: Any,
        options: InputOptions,
        recipe: DecodingRecipe,
        *,
        max_batch_size: int = 8,
        control: str | None = None,
    ) -> None:
        if max_batch_size < 1:
            raise InputError("max_batch_size must be >= 1", field="max_batch_size")
        self.name = name
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.options = options
        self.recipe = recipe
        self.max_batch_size = int(max_batch_size)
        self.control = control  # the registry entry's control string, appended to every context
        # Without text_truncate the context is cut to what the model has positions for (it cannot read more).
        positions = getattr(model.config, "max_position_embeddings", None)
        self.encoder = ContextEncoder(tokenizer, options, eos_id=2, max_input_tokens=positions, control=control)
        self._lock = threading.Lock()  # one generate at a time per model; callers may be server threads

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        name: str | None = None,
        recipe: dict[str, Any] | None = None,
        dtype: str = "float32",
        device: str = "cpu",
        max_batch_size: int = 8,
        control: str | None = None,
    ) -> "BlenderGenerator":
        """Load a runtime directory offline; `recipe` overrides the one recorded at import, `control` is
        appended to every context (`ContextEncoder`)."""
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        path = Path(path).expanduser()
        if not (path / "config.json").is_file():
            raise InputError("not a model directory (no config.json); import it first with `import-parlai`", path=path)
        torch_dtype = resolve_dtype(dtype)
        torch_device = resolve_device(device)
        opt = read_parlai_options(path)
        options = InputOptions.from_parlai_opt(opt)
        base = DecodingRecipe.from_parlai_opt(opt)
        full_recipe = base.with_overrides(recipe)
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        model = AutoModelForSeq2SeqLM.from_pretrained(str(path), local_files_only=True, dtype=torch_dtype)
        model.to(torch_device)
        log.info("loaded %s from %s (%s, %s, %s)", name or path.name, path, type(model).__name__, dtype, device)
        return cls(name or path.name, model, tokenizer, options, full_recipe, max_batch_size=max_batch_size,
                   control=control)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def encode_batch(self, contexts: list[DialogueContext]) -> tuple[torch.Tensor, torch.Tensor]:
        """Right-padded encoder ids and mask (ParlAI pads on the right; positions start at 0 either way)."""
        rows = [self.encoder.encode(context) for context in contexts]
        rows = [row if row else [2] for row in rows]  # an empty context still needs one token
        width = max(len(row) for row in rows)
        ids = torch.zeros(len(rows), width, dtype=torch.long)
        mask = torch.zeros(len(rows), width, dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
            mask[i, : len(row)] = 1
        return ids.to(self.device), mask.to(self.device)

    def generate_batch(self, contexts: list[DialogueContext]) -> list[str]:
        """One reply per context; one `generate` call per chunk of at most `max_batch_size`."""
        replies: list[str] = []
        for start in range(0, len(contexts), self.max_batch_size):
            replies.extend(self._generate_chunk(contexts[start : start + self.max_batch_size]))
        return replies

    def _generate_chunk(self, contexts: list[DialogueContext]) -> list[str]:
        if not contexts:
            return []
        input_ids, attention_mask = self.encode_batch(contexts)
        kwargs = self.recipe.generate_kwargs(getattr(self.model.config, "max_position_embeddings", None))
        with self._lock, torch.inference_mode():
            output = self.model.generate(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        return [self.encoder.decode(row.tolist()) for row in output]

    def __repr__(self) -> str:
        return f"BlenderGenerator(name={self.name!r}, max_batch_size={self.max_batch_size}, recipe={self.recipe})"
