"""A ParlAI dictionary (`model.dict`, with its BPE files) as Hugging Face tokenizer files giving ParlAI's ids.

Shared by both converters: a generator and a classifier read their input the same way.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from humaneval.input_errors import InputError
from humaneval.jsonl import read_json_document
from humaneval.models.parlai_zoo import PARLAI_SPECIALS, ZooFolder

BYTELEVEL_SPECIALS = {"__null__": "<pad>", "__start__": "<s>", "__end__": "</s>", "__unk__": "<unk>"}


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
