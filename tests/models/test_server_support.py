"""Models for the serving tests (no tests here): a tiny real torch Blender and deterministic doubles.

The server, batcher and clients only see the `ReplyModel` protocol. `TinyBlender` exercises them with a real
`BlenderbotSmallForConditionalGeneration` (random weights, built from a config — never a bot) doing real beam
search on padded batches; the doubles make protocol behaviour (unsafe replies, blocking) deterministic.
Importable by server subprocesses as `test_server_support:tiny_blender` with this folder on PYTHONPATH.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable

import torch
from transformers import BlenderbotSmallConfig, BlenderbotSmallForConditionalGeneration

from humaneval.models.reply_model import DialogueContext

WORDS = ("the a i you we it is are was be to of and in on for with that this what how why who "
         "nice good day time people like love think know want see go eat read music book game "
         "dog cat tea coffee rain sun walk talk work home friend family city park movie song").split()
VOCAB = ["__null__", "__start__", "__end__", "__unk__", *WORDS]


class TinyBlender:
    """A ~60k-parameter BlenderbotSmall; words are hashed into its vocabulary, ids decoded to WORDS."""

    def __init__(self, name: str = "tiny", *, device: str = "cpu", max_batch_size: int = 16, seed: int = 0,
                 num_beams: int = 2, max_new_tokens: int = 8) -> None:
        self.name = name
        self.max_batch_size = max_batch_size
        self.device = device
        self.num_beams = num_beams
        self.max_new_tokens = max_new_tokens
        # A model this small gains nothing from intra-op threads and loses a lot to contention on a busy
        # 2-core machine (measured 45 ms vs 260 ms per reply).
        torch.set_num_threads(1)
        torch.manual_seed(seed)
        config = BlenderbotSmallConfig(
            vocab_size=len(VOCAB), d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
            decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=128,
            pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=1, scale_embedding=True,
            init_std=0.5,  # large random weights, so that replies depend on the input
        )
        self.model = BlenderbotSmallForConditionalGeneration(config).eval().to(device)
        self.calls: list[int] = []  # batch sizes, in order

    def encode(self, context: DialogueContext) -> list[int]:
        words = " ".join([*context.persona, *context.turns]).lower().split()
        return [4 + zlib.crc32(w.encode()) % len(WORDS) for w in words][-100:] + [2]

    def generate_batch(self, contexts: list[DialogueContext]) -> list[str]:
        self.calls.append(len(contexts))
        encoded = [self.encode(c) for c in contexts]
        width = max(len(e) for e in encoded)
        ids = torch.tensor([e + [0] * (width - len(e)) for e in encoded], device=self.device)
        mask = (ids != 0).long()
        with torch.inference_mode():
            out = self.model.generate(input_ids=ids, attention_mask=mask, num_beams=self.num_beams,
                                      min_new_tokens=3, max_new_tokens=self.max_new_tokens,
                                      no_repeat_ngram_size=3, do_sample=False)
        return [" ".join(VOCAB[t] for t in row.tolist() if t > 3) or "hmm" for row in out]


class ScriptedModel:
    """Replies with `reply_for(context)`; records every batch it was given."""

    def __init__(self, name: str = "scripted", *, reply_for: Callable[[DialogueContext], str] | None = None,
                 max_batch_size: int = 8) -> None:
        self.name = name
        self.max_batch_size = max_batch_size
        self.reply_for = reply_for or (lambda c: f"you said: {c.turns[-1]}")
        self.batches: list[list[DialogueContext]] = []

    def generate_batch(self, contexts: list[DialogueContext]) -> list[str]:
        self.batches.append(list(contexts))
        return [self.reply_for(c) for c in contexts]


class GatedModel:
    """Wraps a model; every batch waits for `gate` to open, so a test can hold the worker busy."""

    def __init__(self, inner: object, gate: threading.Event | None = None) -> None:
        self.inner = inner
        self.name = inner.name  # type: ignore[attr-defined]
        self.max_batch_size = inner.max_batch_size  # type: ignore[attr-defined]
        self.gate = gate or threading.Event()
        self.entered = threading.Event()

    def generate_batch(self, contexts: list[DialogueContext]) -> list[str]:
        self.entered.set()
        self.gate.wait(60)
        return self.inner.generate_batch(contexts)  # type: ignore[attr-defined]


def tiny_blender(name: str, device: str = "cpu", **options: object) -> TinyBlender:
    """Factory for server configs: `factory: test_server_support:tiny_blender`."""
    return TinyBlender(name, device=device, **options)  # type: ignore[arg-type]


def echo_model(name: str, device: str = "cpu", **options: object) -> ScriptedModel:
    """Factory for server configs: echoes the message; replies with a curse when it contains 'provoke'."""

    def reply_for(context: DialogueContext) -> str:
        last = context.turns[-1]
        return "well shit, fine" if "provoke" in last else f"you said: {last}"

    return ScriptedModel(name, reply_for=reply_for)


def device_probe(name: str, device: str = "cpu", **options: object) -> ScriptedModel:
    """Factory that only records the device it was given (no torch), to check that configs pass it through."""
    model = ScriptedModel(name)
    model.device = device  # type: ignore[attr-defined]
    return model
