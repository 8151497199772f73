"""Turn a dialogue into the token ids a Blender model was trained on, the way ParlAI built them.

A Blender checkpoint only behaves like itself when it sees its input in its training layout: each
utterance tokenized on its own, utterances joined by the model's delimiter (tokenized separately), persona
lines glued to the first utterance with newlines, an optional global end token, and the *oldest* tokens
dropped when the context is longer than `text_truncate`. ParlAI read those choices from the model's opt;
the importer copies them into `parlai_options.json` in the runtime directory, and this module reads them
back, so a converted model and the bundled demo bot are fed through the same code.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from humaneval.jsonl import read_json_document
from humaneval.models.reply_model import DialogueContext

log = logging.getLogger(__name__)

OPTIONS_FILE = "parlai_options.json"

# ParlAI's word splitter for `bpe` dictionaries (parlai.core.dict.RETOK); HF's BlenderbotSmall tokenizer
# only splits off `.,!?()'`, so we pre-split with this to match ParlAI on every punctuation mark.
PARLAI_RETOK = re.compile(r"\w+|[^\w\s]|\n", re.UNICODE)

# The ParlAI opt keys that decide input layout and decoding; the importer keeps exactly these.
PARLAI_OPTION_KEYS = (
    "dict_tokenizer",
    "dict_lower",
    "delimiter",
    "text_truncate",
    "label_truncate",
    "truncate",
    "history_add_global_end_token",
    "inference",
    "beam_size",
    "beam_min_length",
    "beam_block_ngram",
    "beam_context_block_ngram",
    "beam_length_penalty",
    "topk",
    "topp",
    "temperature",
)


class TextTokenizer(Protocol):
    """The slice of a Hugging Face tokenizer we rely on (so tests can pass a fake)."""

    def __call__(self, text: str, add_special_tokens: bool = ...) -> Any: ...

    def decode(self, ids: list[int], skip_special_tokens: bool = ...) -> str: ...


@dataclass(frozen=True)
class InputOptions:
    """How ParlAI built this model's input (defaults are ParlAI's own defaults)."""

    dict_tokenizer: str = "bytelevelbpe"
    dict_lower: bool = False
    delimiter: str = "\n"
    text_truncate: int | None = 128
    label_truncate: int | None = 128
    global_end_token: bool = False

    @classmethod
    def from_parlai_opt(cls, opt: dict[str, Any]) -> "InputOptions":
        """Read ParlAI's keys, honouring its rule that `truncate` fills in unset text/label truncation."""

        def truncation(key: str) -> int | None:
            value = opt.get(key)
            if value is None:
                value = opt.get("truncate")
            if value is None or int(value) < 0:
                return None
            return int(value)

        return cls(
            dict_tokenizer=str(opt.get("dict_tokenizer") or "re"),
            dict_lower=bool(opt.get("dict_lower", False)),
            delimiter=str(opt.get("delimiter", "\n")),
            text_truncate=truncation("text_truncate"),
            label_truncate=truncation("label_truncate"),
            global_end_token=opt.get("history_add_global_end_token") in ("end", "__end__"),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_parlai_options(model_dir: str | Path) -> dict[str, Any]:
    """The ParlAI options recorded at import; {} for a plain HF directory (then ParlAI defaults apply)."""
    path = Path(model_dir) / OPTIONS_FILE
    if not path.exists():
        log.warning("%s has no %s: using ParlAI's default input layout", model_dir, OPTIONS_FILE)
        return {}
    data = read_json_document(path)
    return dict(data.get("parlai_opt", {}))


def write_parlai_options(model_dir: str | Path, opt: dict[str, Any], source: str) -> Path:
    """Record the layout/decoding keys of a ParlAI opt beside the weights; `source` says where they came from."""
    kept = {key: opt[key] for key in PARLAI_OPTION_KEYS if key in opt}
    path = Path(model_dir) / OPTIONS_FILE
    payload = {"source": source, "parlai_opt": kept}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


class ContextEncoder:
    """Builds encoder ids from a `DialogueContext` and turns generated ids back into text."""

    def __init__(self, tokenizer: Any, options: InputOptions, eos_id: int = 2) -> None:
        self.tokenizer = tokenizer
        self.options = options
        self.eos_id = eos_id
        self._delimiter_ids = self.tokenize(options.delimiter) if options.delimiter else []

    def _prepare(self, text: str) -> str:
        if self.options.dict_lower:
            text = text.lower()
        if self.options.dict_tokenizer == "bpe":
            # ParlAI: newline -> __newln__, then its RETOK word split, before subword-nmt.
            text = text.replace("\n", " __newln__ ")
            text = " ".join(PARLAI_RETOK.findall(text))
        return text

    def tokenize(self, text: str) -> list[int]:
        """One utterance to ids, no special tokens (ParlAI's `txt2vec`)."""
        if not text:
            return []
        return list(self.tokenizer(self._prepare(text), add_special_tokens=False)["input_ids"])

    def utterances(self, context: DialogueContext) -> list[str]:
        """The history as ParlAI held it: persona lines are part of the first utterance."""
        turns = list(context.turns)
        if context.persona:
            first = turns[0] if turns else ""
            joined = "\n".join([*context.persona, first]) if turns else "\n".join(context.persona)
            turns = [joined, *turns[1:]]
        return turns

    def encode(self, context: DialogueContext) -> list[int]:
        """ParlAI's history vector: utterances joined by the delimiter, end token, keep the newest tokens."""
        ids: list[int] = []
        for index, utterance in enumerate(self.utterances(context)):
            if index:
                ids.extend(self._delimiter_ids)
            ids.extend(self.tokenize(utterance))
        if self.options.global_end_token:
            ids.append(self.eos_id)
        limit = self.options.text_truncate
        if limit is not None and len(ids) > limit:
            ids = ids[-limit:]
        return ids

    def encode_label(self, text: str) -> list[int]:
        """A training target: the reply's ids plus the end token, cut to `label_truncate` (ParlAI keeps the start)."""
        ids = [*self.tokenize(text), self.eos_id]
        limit = self.options.label_truncate
        return ids[:limit] if limit is not None else ids

    def decode(self, ids: list[int]) -> str:
        text = self.tokenizer.decode(list(ids), skip_special_tokens=True)
        if self.options.dict_tokenizer == "bpe":
            text = text.replace(" __newln__ ", "\n").replace("__newln__", "\n")
        return text.strip()
