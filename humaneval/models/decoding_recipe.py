"""The decoding recipe: how replies are searched for, as ParlAI named it, mapped onto HF `generate`.

Blender's published quality depends on its recipe (Roller et al. 2020: beam 10, minimum length 20, 3-gram
blocking within the reply and against the context), not just its weights, so the recipe is part of a model's
identity and is recorded at import. It stays overridable per model in the registry because small or
differently-trained models (the demo bot) need other settings.

Known, documented differences from ParlAI (replies are close, not token-identical):
- length penalty: ParlAI divides by ((1 + L) / 6) ** p, HF by L ** p;
- context blocking uses the truncated context (as the encoder sees it);
- `suppress_start` masks token 1 as ParlAI does.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from humaneval.input_errors import InputError

INFERENCE_KINDS = ("beam", "greedy", "topk", "nucleus")


@dataclass(frozen=True)
class DecodingRecipe:
    """One decoding setting; the defaults are the Blender recipe."""

    inference: str = "beam"  # beam | greedy | topk | nucleus (ParlAI's --inference)
    beam_size: int = 10
    min_length: int = 20  # reply tokens before the end token is allowed (ParlAI --beam-min-length)
    max_length: int = 128  # reply tokens at most
    block_ngram: int = 3  # no n-gram repeated within the reply (0 = off)
    context_block_ngram: int = 3  # no n-gram copied from the context (0 = off)
    length_penalty: float = 0.65
    topk: int = 10
    topp: float = 0.9
    temperature: float = 1.0
    suppress_start: bool = True  # never generate __start__ (ParlAI masks it)

    def __post_init__(self) -> None:
        if self.inference not in INFERENCE_KINDS:
            raise InputError(f"inference must be one of {', '.join(INFERENCE_KINDS)}, got '{self.inference}'", field="inference")
        for name in ("beam_size", "max_length"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"{name} must be >= 1", field=name)
        for name in ("min_length", "block_ngram", "context_block_ngram", "topk"):
            if int(getattr(self, name)) < 0:
                raise InputError(f"{name} must be >= 0", field=name)

    @classmethod
    def from_parlai_opt(cls, opt: dict[str, Any]) -> "DecodingRecipe":
        """The recipe a ParlAI opt describes; keys it lacks keep the Blender defaults."""
        base = cls()

        def pick(key: str, default: Any) -> Any:
            value = opt.get(key)
            return default if value is None else value

        return cls(
            inference=str(pick("inference", base.inference)),
            beam_size=int(pick("beam_size", base.beam_size)),
            min_length=int(pick("beam_min_length", base.min_length)),
            # ParlAI caps generation at label_truncate (its `maxlen`), 256 when unset
            max_length=int(pick("label_truncate", 256)) if int(pick("label_truncate", 256)) > 0 else 256,
            block_ngram=max(0, int(pick("beam_block_ngram", base.block_ngram))),
            context_block_ngram=max(0, int(pick("beam_context_block_ngram", base.context_block_ngram))),
            length_penalty=float(pick("beam_length_penalty", base.length_penalty)),
            topk=int(pick("topk", base.topk)),
            topp=float(pick("topp", base.topp)),
            temperature=float(pick("temperature", base.temperature)),
        )

    def with_overrides(self, overrides: dict[str, Any] | None) -> "DecodingRecipe":
        """A copy with registry overrides applied; unknown keys are bad input (typos must not pass silently)."""
        if not overrides:
            return self
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise InputError(f"unknown recipe keys: {', '.join(unknown)} (known: {', '.join(sorted(known))})", field="recipe")
        return dataclasses.replace(self, **overrides)

    def generate_kwargs(self, max_positions: int | None = None) -> dict[str, Any]:
        """Keyword arguments for HF `generate` (ids: pad 0, start 1, end 2 as in every ParlAI dictionary)."""
        max_new = self.max_length if max_positions is None else min(self.max_length, max_positions)
        kwargs: dict[str, Any] = {
            "max_new_tokens": max_new,
            "min_new_tokens": min(self.min_length, max_new),
            "no_repeat_ngram_size": self.block_ngram,
            "encoder_no_repeat_ngram_size": self.context_block_ngram,
            "decoder_start_token_id": 1,
            "bos_token_id": 1,
            "eos_token_id": 2,
            "pad_token_id": 0,
            "forced_eos_token_id": None,
            "suppress_tokens": [1] if self.suppress_start else None,
        }
        if self.inference == "beam":
            kwargs.update(num_beams=self.beam_size, do_sample=False, length_penalty=self.length_penalty, early_stopping=True)
        elif self.inference == "greedy":
            kwargs.update(num_beams=1, do_sample=False)
        elif self.inference == "topk":
            kwargs.update(num_beams=1, do_sample=True, top_k=self.topk, temperature=self.temperature)
        else:
            kwargs.update(num_beams=1, do_sample=True, top_p=self.topp, top_k=0, temperature=self.temperature)
        return kwargs


BLENDER_RECIPE = DecodingRecipe()
