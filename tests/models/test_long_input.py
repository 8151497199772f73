"""Huge user text is cut before tokenizing, and the kept ids are still those of tokenize-everything-then-cut.

Every test runs a real tokenizer of each dictionary kind we load (the demo bot's byte-level BPE, ParlAI's
`bpe` fixture dictionary, the fixture generators' word-level `split`) behind a wrapper that records how
long each text it was given is. The expected ids are computed the old way, on the whole text; the
recorded lengths show the tokenizer never saw more than the bound (the old code gave it everything).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from generator_fixtures import FIXTURES, imported_generator

from humaneval.models.model_input import (
    CEILING_CHARS_PER_TOKEN,
    WINDOW_CHARS_PER_TOKEN,
    ContextEncoder,
    InputOptions,
    read_parlai_options,
)
from humaneval.models.registry import DEMO_BOT_PATH
from humaneval.models.reply_model import DialogueContext

LIMIT = 16  # small, so "far over the bound" stays cheap to tokenize the old way
WINDOW = WINDOW_CHARS_PER_TOKEN * LIMIT
CEILING = CEILING_CHARS_PER_TOKEN * LIMIT


class RecordingTokenizer:
    """A real tokenizer that records the length of every text it is asked to tokenize."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.lengths: list[int] = []

    def __call__(self, text: str, add_special_tokens: bool = True) -> Any:
        self.lengths.append(len(text))
        return self.inner(text, add_special_tokens=add_special_tokens)

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return self.inner.decode(ids, skip_special_tokens=skip_special_tokens)


def _bpe_dictionary(root: Path) -> Path:
    """ParlAI's `bpe` fixture dictionary (the 90M kind) converted to HF files by the importer."""
    from humaneval.models.parlai_tokenizer import write_tokenizer
    from humaneval.models.parlai_zoo import ZooFolder

    zoo_root = FIXTURES / "dict_bpe"
    opt = json.loads((zoo_root / "d.dict.opt").read_text())
    write_tokenizer(ZooFolder(root=zoo_root, model_file=zoo_root / "d", opt=opt, dict_file=zoo_root / "d.dict"), root)
    return root


# kind -> (tokenizer directory, ParlAI options as the model records them)
KINDS: dict[str, Callable[[Path], tuple[Path, dict[str, Any]]]] = {
    "bytelevelbpe": lambda _: (DEMO_BOT_PATH, read_parlai_options(DEMO_BOT_PATH)),
    "bpe": lambda tmp: (_bpe_dictionary(tmp), {"dict_tokenizer": "bpe", "dict_lower": True}),
    "split": lambda _: (imported_generator("xlm"), read_parlai_options(imported_generator("xlm"))),
}


# How much longer than the user's text the tokenizer's input may be: the `bpe` dictionary's newline becomes
# " __newln__ " and its punctuation is split off with spaces (ParlAI's RETOK) before tokenizing.
EXPANSION = {"bytelevelbpe": 1, "bpe": len(" __newln__ "), "split": 1}

Kind = tuple[str, Any, dict[str, Any]]


@pytest.fixture(scope="module", params=sorted(KINDS))
def kind(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Kind:
    from transformers import AutoTokenizer

    path, opt = KINDS[request.param](tmp_path_factory.mktemp(request.param))
    return request.param, AutoTokenizer.from_pretrained(str(path), local_files_only=True), opt


def _encoders(kind: Kind, max_input_tokens: int | None = None,
              **overrides: Any) -> tuple[ContextEncoder, ContextEncoder, RecordingTokenizer]:
    """(encoder under test with a recording tokenizer, reference encoder on the same tokenizer, recorder)."""
    _, tokenizer, opt = kind
    options = InputOptions(**{**InputOptions.from_parlai_opt(opt).to_dict(), "text_truncate": LIMIT,
                              "label_truncate": LIMIT, **overrides})
    recorder = RecordingTokenizer(tokenizer)
    encoder = ContextEncoder(recorder, options, max_input_tokens=max_input_tokens)
    recorder.lengths.clear()  # the delimiter, tokenized once at construction
    return encoder, ContextEncoder(tokenizer, options), recorder


def full_then_cut(reference: ContextEncoder, context: DialogueContext, limit: int | None = LIMIT) -> list[int]:
    """The old way: every utterance tokenized whole, joined as ParlAI did, then the newest `limit` tokens kept."""
    turns = list(context.turns)
    if context.persona:
        turns = ["\n".join([*context.persona, *turns[:1]]), *turns[1:]]
    ids: list[int] = []
    for index, utterance in enumerate(turns):
        if index:
            ids.extend(reference.tokenize(reference.options.delimiter))
        ids.extend(reference.tokenize(utterance))
    if reference.options.global_end_token:
        ids.append(reference.eos_id)
    return ids[-limit:] if limit is not None and len(ids) > limit else ids


# Words with multi-byte characters (accents, CJK, emoji, Greek capitals whose lowercase has a final sigma),
# punctuation, contractions, digits, the byte-level dictionary's <mask> (which swallows the space before
# it), a no-break space, a tab, a newline and a double space.
WORDS = ["héllo", "wörld", "日本語", "🙂👍", "the", "cat's", "don't", "x1", "42", "?!", "well-known", "<mask>",
         "naïve", "ΣΟΦΟΣ", "w5", "w17", "w3.", "w9,", "tab\there", "line\nbreak", " ", "\u00a0nbsp"]


def words_text(size: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(size // 4))[:size]


def newline_text(size: int, seed: int = 1) -> str:
    """No space character, but words on lines of their own (and tabs, no-break spaces)."""
    rng = random.Random(seed)
    return "\n".join(rng.choice(WORDS).replace(" ", "") or "x" for _ in range(size // 4))[:size]


def no_whitespace_text(size: int) -> str:
    """Multi-byte text with no whitespace at all (Japanese prose style): no safe place to cut exists."""
    return ("日本語のテキスト、句読点。w5ab🙂é" * (size // 20 + 1))[:size]


# "just over": a little past the first window; "far over": 20 times the ceiling.
TEXTS: dict[str, Callable[[], str]] = {
    "words_just_over": lambda: words_text(WINDOW + 7),
    "words_far_over": lambda: words_text(20 * CEILING),
    "newlines_just_over": lambda: newline_text(WINDOW + 7),
    "newlines_far_over": lambda: newline_text(20 * CEILING),
    "no_whitespace_just_over": lambda: no_whitespace_text(WINDOW + 7),
    "no_whitespace_far_over": lambda: no_whitespace_text(20 * CEILING),
}


def _known_divergence(kind: Kind, text_name: str) -> bool:
    """The one documented difference: a word-level dictionary reads a space-free run longer than the ceiling
    as one token, so the window inside it cannot tell what comes before the run (older turns, a label's end).
    There the ids still hold at most the kept number of tokens; everywhere else they must be the old ones."""
    return kind[0] == "split" and text_name == "no_whitespace_far_over"


@pytest.mark.parametrize("text_name", sorted(TEXTS))
def test_context_ids_equal_full_tokenize_then_cut(kind: Kind, text_name: str) -> None:
    """The kept context ids are the old ones, and the tokenizer saw at most the ceiling (the old code: all).

    Text with whitespace is cut where the cut provably changes nothing. Text without any whitespace is
    tokenized whole up to the ceiling; beyond it, it is cut mid-word: for subword dictionaries ordinary
    text like this one still gives the same ids, as the cut's effect on BPE stays at the cut.
    """
    encoder, reference, recorder = _encoders(kind)
    text = TEXTS[text_name]()
    contexts = [
        DialogueContext(turns=(text,)),
        DialogueContext(turns=("an older turn", text[: len(text) // 2], "the newest turn")),
        DialogueContext(turns=("hi",), persona=(text, "your persona: i like tea.")),
        DialogueContext(turns=(), persona=("your persona: i like tea.", text)),
    ]
    for context in contexts:
        recorder.lengths.clear()
        ids = encoder.encode(context)
        assert max(recorder.lengths) <= CEILING * EXPANSION[kind[0]], (kind[0], text_name, max(recorder.lengths))
        if _known_divergence(kind, text_name):
            assert 0 < len(ids) <= LIMIT
            continue
        assert ids == full_then_cut(reference, context), (kind[0], text_name)


@pytest.mark.parametrize("text_name", sorted(TEXTS))
def test_label_ids_equal_full_tokenize_then_cut(kind: Kind, text_name: str) -> None:
    """ParlAI keeps the start of a label; the bound keeps (and only tokenizes) the start too."""
    encoder, reference, recorder = _encoders(kind)
    text = TEXTS[text_name]()[::-1]  # reversed: the start now holds what the context tests kept
    ids = encoder.encode_label(text)
    assert max(recorder.lengths) <= CEILING * EXPANSION[kind[0]]
    if _known_divergence(kind, text_name):
        assert 0 < len(ids) <= LIMIT
        return
    assert ids == [*reference.tokenize(text), reference.eos_id][:LIMIT], (kind[0], text_name)


def test_first_window_suffices_for_ordinary_text(kind: Kind) -> None:
    """Ordinary text costs one tokenizer call on at most WINDOW characters, however long the message."""
    encoder, reference, recorder = _encoders(kind)
    context = DialogueContext(turns=(words_text(100 * CEILING), "hi"))
    assert encoder.encode(context) == full_then_cut(reference, context)
    assert len(recorder.lengths) == 2  # the newest turn whole, then one window of the old one
    assert max(recorder.lengths) <= WINDOW * EXPANSION[kind[0]]


def test_older_turns_beyond_the_kept_tokens_are_never_tokenized(kind: Kind) -> None:
    encoder, reference, recorder = _encoders(kind)
    huge_old = words_text(100 * CEILING, seed=5)
    context = DialogueContext(turns=(huge_old, words_text(50 * WINDOW, seed=6)), persona=(huge_old,))
    assert encoder.encode(context) == full_then_cut(reference, context)
    assert len(recorder.lengths) == 1  # the newest turn alone filled the kept tokens


def test_model_position_limit_bounds_an_untruncated_context(kind: Kind) -> None:
    """Without text_truncate the model's position count bounds the context (it cannot read more); without
    either, everything is kept, as ParlAI did."""
    encoder, reference, recorder = _encoders(kind, text_truncate=None, max_input_tokens=LIMIT)
    context = DialogueContext(turns=(words_text(20 * CEILING),))
    assert encoder.encode(context) == full_then_cut(reference, context, LIMIT)
    assert max(recorder.lengths) <= CEILING * EXPANSION[kind[0]]

    unbounded, reference, _ = _encoders(kind, text_truncate=None)
    short = DialogueContext(turns=(words_text(20 * LIMIT), "hi"))
    assert unbounded.encode(short) == full_then_cut(reference, short, None)
    assert len(unbounded.encode(short)) > LIMIT


def test_demo_bot_options_on_a_megabyte_context() -> None:
    """The demo bot's own bound (text_truncate 128, so at most 16K characters seen) on a 1 MB context."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(DEMO_BOT_PATH), local_files_only=True)
    options = InputOptions.from_parlai_opt(read_parlai_options(DEMO_BOT_PATH))
    assert options.text_truncate == 128 and options.global_end_token
    recorder = RecordingTokenizer(tokenizer)
    encoder, reference = ContextEncoder(recorder, options), ContextEncoder(tokenizer, options)
    for text in (words_text(1_000_000, seed=9), newline_text(1_000_000), no_whitespace_text(1_000_000)):
        recorder.lengths.clear()
        context = DialogueContext(turns=(text,))
        assert encoder.encode(context) == full_then_cut(reference, context, 128)
        assert max(recorder.lengths) <= CEILING_CHARS_PER_TOKEN * 128
