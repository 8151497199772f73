"""BlenderGenerator: real batching, the recipe reaching `generate`, dtype/device switches."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from generator_fixtures import FAST_RECIPE, imported_generator

from humaneval.input_errors import InputError
from humaneval.models.blender_generator import BlenderGenerator
from humaneval.models.decoding_recipe import BLENDER_RECIPE, DecodingRecipe
from humaneval.models.model_input import read_parlai_options
from humaneval.models.reply_model import DialogueContext, ReplyModel

CONTEXTS = [
    DialogueContext(turns=("w1 w2 w3",)),
    DialogueContext(turns=("w10 w11", "w12 w13 w14 w15 w16 w17")),
    DialogueContext(turns=("w20",), persona=("w30 w31",)),
    DialogueContext(turns=("w40 w41 w42 w43",)),
    DialogueContext(turns=("w50", "w51", "w52")),
]


@pytest.fixture(scope="module")
def tiny() -> BlenderGenerator:
    return BlenderGenerator.load(imported_generator("xlm"), name="tiny", recipe=FAST_RECIPE, max_batch_size=2)


def test_implements_reply_model(tiny: BlenderGenerator) -> None:
    assert isinstance(tiny, ReplyModel)
    assert tiny.name == "tiny" and tiny.max_batch_size == 2


def test_generate_batch_pads_and_calls_generate_once_per_chunk(tiny: BlenderGenerator, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []
    original = tiny.model.generate

    def spy(**kwargs: object) -> torch.Tensor:
        ids = kwargs["input_ids"]
        mask = kwargs["attention_mask"]
        assert isinstance(ids, torch.Tensor) and isinstance(mask, torch.Tensor)
        calls.append(tuple(ids.shape))
        assert bool((ids[mask == 0] == 0).all()), "padding must use the pad id 0"
        return original(**kwargs)

    monkeypatch.setattr(tiny.model, "generate", spy)
    batched = tiny.generate_batch(CONTEXTS)
    assert [rows for rows, _ in calls] == [2, 2, 1]  # 5 contexts, max batch 2: three generate calls
    assert len(batched) == 5 and all(isinstance(r, str) and r for r in batched)
    # padding does not change the answers: each context alone gives the same reply
    calls.clear()
    singles = [tiny.generate_batch([c])[0] for c in CONTEXTS]
    assert singles == batched
    assert tiny.generate_batch([]) == []


def test_replies_are_context_dependent_words_of_the_vocabulary(tiny: BlenderGenerator) -> None:
    replies = tiny.generate_batch(CONTEXTS)
    assert len(set(replies)) > 1
    for reply in replies:
        words = reply.split()
        assert 2 <= len(words) <= 6  # FAST_RECIPE: min 2, max 6 tokens
        assert all(w.startswith("w") or w in {".", ",", "?", "!", ";", ":", "__unk__"} for w in words), reply


def test_recipe_recorded_at_import_is_blenders() -> None:
    recipe = DecodingRecipe.from_parlai_opt(read_parlai_options(imported_generator("prelayernorm")))
    assert recipe == BLENDER_RECIPE
    kwargs = recipe.generate_kwargs(max_positions=128)
    assert kwargs["num_beams"] == 10 and kwargs["min_new_tokens"] == 20 and kwargs["max_new_tokens"] == 128
    assert kwargs["no_repeat_ngram_size"] == 3 and kwargs["encoder_no_repeat_ngram_size"] == 3
    assert kwargs["suppress_tokens"] == [1] and kwargs["length_penalty"] == 0.65 and kwargs["do_sample"] is False


def test_recipe_max_length_follows_label_truncate() -> None:
    assert DecodingRecipe.from_parlai_opt({"label_truncate": 40}).max_length == 40
    assert DecodingRecipe.from_parlai_opt({}).max_length == 256


def test_recipe_overrides_and_typos() -> None:
    recipe = BLENDER_RECIPE.with_overrides({"beam_size": 3, "min_length": 0})
    assert recipe.beam_size == 3 and recipe.min_length == 0 and recipe.block_ngram == 3
    with pytest.raises(InputError, match="beam_szie"):
        BLENDER_RECIPE.with_overrides({"beam_szie": 3})
    with pytest.raises(InputError, match="inference"):
        DecodingRecipe(inference="sampling")
    assert DecodingRecipe(max_length=300).generate_kwargs(max_positions=128)["max_new_tokens"] == 128


def test_beam_recipe_respects_min_length_blocking_and_never_emits_start() -> None:
    gen = BlenderGenerator.load(
        imported_generator("prelayernorm"),
        recipe={"beam_size": 4, "min_length": 7, "max_length": 9, "block_ngram": 1, "context_block_ngram": 1},
        max_batch_size=4,
    )
    ids, mask = gen.encode_batch(CONTEXTS[:3])
    with torch.inference_mode():
        out = gen.model.generate(input_ids=ids, attention_mask=mask, **gen.recipe.generate_kwargs(128))
    for row, ctx_row in zip(out.tolist(), ids.tolist(), strict=True):
        body = [t for t in row[1:] if t not in (0, 2)]
        assert row[0] == 1 and 1 not in row[1:]
        assert len(body) >= 7
        assert len(body) == len(set(body)), "1-gram blocking: no token twice"
        assert not set(body) & (set(ctx_row) - {0, 2}), "context blocking: no token of the context"


def test_bfloat16_loads_and_generates() -> None:
    gen = BlenderGenerator.load(imported_generator("xlm"), recipe=FAST_RECIPE, dtype="bf16")
    assert next(gen.model.parameters()).dtype == torch.bfloat16
    assert gen.generate_batch(CONTEXTS[:2])[0]


def test_bad_settings_are_input_errors(tmp_path: object) -> None:
    with pytest.raises(InputError, match="dtype"):
        BlenderGenerator.load(imported_generator("xlm"), dtype="int8")
    with pytest.raises(InputError, match="config.json"):
        BlenderGenerator.load("/nonexistent/model")
    with pytest.raises(InputError, match="max_batch_size"):
        BlenderGenerator.load(imported_generator("xlm"), max_batch_size=0)


def test_cuda_without_gpu_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(InputError, match="no GPU") as err:
        BlenderGenerator.load(imported_generator("xlm"), device="cuda")
    assert err.value.field == "device"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
def test_cuda_device_generates_on_gpu() -> None:
    gen = BlenderGenerator.load(imported_generator("xlm"), recipe=FAST_RECIPE, device="cuda", dtype="bf16")
    assert gen.device.type == "cuda"
    cpu = BlenderGenerator.load(imported_generator("xlm"), recipe=FAST_RECIPE, device="cpu")
    assert len(gen.generate_batch(CONTEXTS)) == len(cpu.generate_batch(CONTEXTS)) == len(CONTEXTS)


HUGE_CONTEXT = DialogueContext(turns=(" ".join(f"w{i % 900}" for i in range(500_000)), "w1 w2"), persona=("w5 " * 10**5,))


def test_huge_context_is_cut_before_tokenizing(tiny: BlenderGenerator, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 3 MB context gives the ids of tokenize-everything-then-cut, from a bounded end of the text."""
    from test_long_input import RecordingTokenizer, full_then_cut

    from humaneval.models.model_input import CEILING_CHARS_PER_TOKEN

    limit = tiny.options.text_truncate
    assert limit == 128
    expected = full_then_cut(tiny.encoder, HUGE_CONTEXT, limit)
    recorder = RecordingTokenizer(tiny.tokenizer)
    monkeypatch.setattr(tiny.encoder, "tokenizer", recorder)
    ids, mask = tiny.encode_batch([HUGE_CONTEXT])
    assert ids[0].tolist() == expected and bool(mask.all())
    assert max(recorder.lengths) <= CEILING_CHARS_PER_TOKEN * limit < len(HUGE_CONTEXT.turns[0]) // 100


def test_untruncated_model_reads_at_most_its_positions(tiny: BlenderGenerator) -> None:
    """Without text_truncate the context is cut to max_position_embeddings (the old code fed it all and crashed)."""
    options = dataclasses.replace(tiny.options, text_truncate=None)
    untruncated = BlenderGenerator("untruncated", tiny.model, tiny.tokenizer, options, tiny.recipe)
    ids, _ = untruncated.encode_batch([HUGE_CONTEXT])
    assert ids.shape == (1, tiny.model.config.max_position_embeddings)
    assert untruncated.generate_batch([HUGE_CONTEXT])[0]
