"""Turn a dialogue into the token ids a Blender model was trained on, the way ParlAI built them.

A Blender checkpoint only behaves like itself when it sees its input in its training layout: each
utterance tokenized on its own, utterances joined by the model's delimiter (tokenized separately), persona
lines glued to the first utterance with newlines, an optional control string (ParlAI's "temp history",
e.g. the bias bucket " f0m0") tokenized on its own after the newest utterance, an optional global end
token, and the *oldest* tokens dropped when the context is longer than `text_truncate`. ParlAI read those choices from the model's opt;
the importer copies them into `parlai_options.json` in the runtime directory, and this module reads them
back, so a converted model and the bundled demo bot are fed through the same code.

Only a bounded end of the text is ever tokenized (see `ContextEncoder.tokenize_end`): a model keeps at most
`text_truncate` tokens, and tokenizing a whole 50 MB message to keep 128 of its tokens cost gigabytes.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from humaneval.input_errors import InputError
from humaneval.jsonl import read_json_document
from humaneval.models.reply_model import DialogueContext

log = logging.getLogger(__name__)

OPTIONS_FILE = "parlai_options.json"

# ParlAI's word splitter for `bpe` dictionaries (parlai.core.dict.RETOK); HF's BlenderbotSmall tokenizer
# only splits off `.,!?()'`, so we pre-split with this to match ParlAI on every punctuation mark.
PARLAI_RETOK = re.compile(r"\w+|[^\w\s]|\n", re.UNICODE)

# Text is cut before tokenizing (ContextEncoder.tokenize_end/_start). To keep N tokens the tokenizer first
# sees WINDOW_CHARS_PER_TOKEN * N characters (English BPE averages ~4 characters a token, word-level
# dictionaries ~5, so the first window nearly always suffices); when that window yields fewer than N tokens
# it doubles, but never past CEILING_CHARS_PER_TOKEN * N characters (16K for the usual 128 tokens,
# 46K for a classifier's 360): that is the most any one text costs, whatever its length.
WINDOW_CHARS_PER_TOKEN = 8
CEILING_CHARS_PER_TOKEN = 128

# A safe place to cut: a plain space after a non-space character (see ContextEncoder._bounded_ids).
_CUT = re.compile(r"\S ")

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
    """Builds encoder ids from a `DialogueContext` and turns generated ids back into text.

    `max_input_tokens` bounds the context when the options set no `text_truncate`: a model cannot read
    more tokens than it has positions (its position embeddings end there), so a caller that knows the
    model passes that number. Without either, the whole context is tokenized, as ParlAI did.

    `control` (a registry entry's control string) is appended to every non-empty context the way ParlAI's
    `History.temp_history` was: tokenized on its own, after the newest utterance and before the global end
    token. Truncation drops the oldest tokens, so the control is always kept; one too long to leave room
    for any dialogue is refused here, when the model is loaded.
    """

    def __init__(self, tokenizer: Any, options: InputOptions, eos_id: int = 2, max_input_tokens: int | None = None,
                 control: str | None = None) -> None:
        self.tokenizer = tokenizer
        self.options = options
        self.eos_id = eos_id
        self.max_input_tokens = max_input_tokens
        self._delimiter_ids = self.tokenize(options.delimiter) if options.delimiter else []
        self._control_ids = self.tokenize(control) if control else []
        limit = self.context_limit
        fixed = len(self._control_ids) + int(options.global_end_token)
        if self._control_ids and limit and fixed >= limit:
            raise InputError(f"the control string is {len(self._control_ids)} tokens, which leaves no room for the "
                             f"dialogue in this model's {limit}-token context", field="control")

    @property
    def context_limit(self) -> int | None:
        """How many context tokens are kept: `text_truncate`, else the model's position limit, else all."""
        return self.options.text_truncate if self.options.text_truncate is not None else self.max_input_tokens

    def _prepare(self, text: str) -> str:
        if self.options.dict_lower:
            text = text.lower()
        if self.options.dict_tokenizer == "bpe":
            # ParlAI: newline -> __newln__, then its RETOK word split, before subword-nmt.
            text = text.replace("\n", " __newln__ ")
            text = " ".join(PARLAI_RETOK.findall(text))
        return text

    def tokenize(self, text: str) -> list[int]:
        """One utterance to ids, no special tokens (ParlAI's `txt2vec`). Unbounded: user text goes through
        `tokenize_end`/`tokenize_start`."""
        if not text:
            return []
        return list(self.tokenizer(self._prepare(text), add_special_tokens=False)["input_ids"])

    def tokenize_end(self, text: str, count: int | None) -> tuple[list[int], bool]:
        """The last `count` ids of `tokenize(text)` (all when fewer), and whether the text was cut to get them.

        Only a bounded end of `text` is tokenized (`_bounded_ids` says why the ids are the same). `count`
        None or 0 means no limit, as in ParlAI, whose `vec[-0:]` keeps everything.
        """
        return self._bounded_ids(text, count, keep_end=True)

    def tokenize_start(self, text: str, count: int | None) -> tuple[list[int], bool]:
        """The first `count` ids of `tokenize(text)`, tokenizing only a bounded start of it (labels)."""
        return self._bounded_ids(text, count, keep_end=False)

    def _bounded_ids(self, text: str, count: int | None, *, keep_end: bool) -> tuple[list[int], bool]:
        """Tokenize a window of `text` instead of all of it, cut where the cut cannot change the kept ids.

        The window is cut at a plain space that follows a non-space character. Every tokenizer we load
        splits text into words before its subword step, and no word crosses such a point: ParlAI's
        `split` and `bpe` dictionaries split at whitespace, and the byte-level BPE regex (GPT-2's) has no
        alternative that matches a non-space followed by a space, and never looks back. Words after (before)
        the cut are therefore the same words whether the tokenizer saw the whole text or only the window, and the
        window starts with a space, so a tokenizer's `add_prefix_space` adds nothing. Hence the window's
        ids are exactly the last (first) ids of the whole text's; once they are at least `count`, the
        kept ids are identical to tokenizing everything and then cutting.

        A window that holds no such space, or too few tokens, doubles up to the ceiling. Only text with
        no space at all in its last (first) `CEILING_CHARS_PER_TOKEN * count` characters reaches it; it is
        then cut mid-word. The tokenizers still agree from the first whitespace after that cut, so just
        the words at the cut can differ; inside one huge space-free word (e.g. thousands of one repeated
        letter) BPE merges can shift right to its end, and a word-level (`split`) dictionary, which reads
        the whole run as one token, cannot tell from the window what precedes the run (older turns are
        then not reached, a label loses its end token). That input is degenerate and is logged.
        """
        if not count:
            return self.tokenize(text), False
        window = WINDOW_CHARS_PER_TOKEN * count
        ceiling = CEILING_CHARS_PER_TOKEN * count
        while len(text) > window:
            piece = text[-window:] if keep_end else text[:window]
            cut = _first_cut(piece) if keep_end else _last_cut(piece)
            if cut is not None:
                ids = self.tokenize(piece[cut:] if keep_end else piece[:cut])
                if len(ids) >= count:
                    log.debug("tokenized %d of %d characters to keep %d tokens", len(piece), len(text), count)
                    return (ids[-count:] if keep_end else ids[:count]), True
            if window >= ceiling:
                log.warning(
                    "no space in the %s %d characters of a longer text: cut inside a word, so the tokens at the "
                    "cut may differ from tokenizing the whole text", "last" if keep_end else "first", window)
                ids = self.tokenize(piece)
                return (ids[-count:] if keep_end else ids[:count]), True
            window = min(2 * window, ceiling)
        ids = self.tokenize(text)
        return (ids[-count:] if keep_end else ids[:count]), False

    def _utterance_parts(self, context: DialogueContext) -> list[tuple[str, ...]]:
        """The history as ParlAI held it, each utterance as the lines it joins with newlines: persona lines
        are part of the first utterance. Kept as parts so a huge line is never copied into a joined string."""
        turns: list[tuple[str, ...]] = [(turn,) for turn in context.turns]
        if context.persona:
            first = turns[0] if turns else ()
            turns = [(*context.persona, *first), *turns[1:]]
        return turns

    def encode(self, context: DialogueContext) -> list[int]:
        """ParlAI's history vector: utterances joined by the delimiter, control, end token, keep the newest tokens.

        Built from the newest utterance backwards, each one tokenized only as far as the kept tokens
        reach (`tokenize_end`); older utterances that cannot reach the kept tokens are not tokenized.
        """
        limit = self.context_limit
        room = limit or None  # ParlAI keeps everything for 0 too (vec[-0:])
        newest_first: list[list[int]] = []

        def keep(ids: list[int]) -> None:
            nonlocal room
            if room is not None:
                ids = ids[len(ids) - room :] if len(ids) > room else ids
                room -= len(ids)
            newest_first.append(ids)

        if self.options.global_end_token:
            keep([self.eos_id])
        utterances = self._utterance_parts(context)
        if utterances and self._control_ids:  # ParlAI adds it to a non-empty history only
            keep(self._control_ids)
        for index in range(len(utterances) - 1, -1, -1):
            if room == 0:
                break
            if room is None:
                text = "\n".join(utterances[index])
            else:
                # more than the tokenizer may see, so the bound still knows the utterance is longer
                text = _joined_end(utterances[index], "\n", CEILING_CHARS_PER_TOKEN * room + 1)
            ids, cut = self.tokenize_end(text, room)
            keep(ids)
            if cut:
                break
            if index:
                keep(self._delimiter_ids)
        return [token for ids in reversed(newest_first) for token in ids]

    def encode_label(self, text: str) -> list[int]:
        """A training target: the reply's ids plus the end token, cut to `label_truncate` (ParlAI keeps the start)."""
        limit = self.options.label_truncate
        ids, cut = self.tokenize_start(text, limit)
        if not cut:
            ids = [*ids, self.eos_id]
        return ids[:limit] if limit else ids

    def decode(self, ids: list[int]) -> str:
        text = self.tokenizer.decode(list(ids), skip_special_tokens=True)
        if self.options.dict_tokenizer == "bpe":
            text = text.replace(" __newln__ ", "\n").replace("__newln__", "\n")
        return text.strip()


def _first_cut(text: str) -> int | None:
    """The first index holding a space that follows a non-space character (a safe start; see `_bounded_ids`)."""
    match = _CUT.search(text)
    return match.start() + 1 if match else None


def _last_cut(text: str) -> int | None:
    """The last index holding a space that follows a non-space character (a safe end; see `_bounded_ids`)."""
    index = None
    for match in _CUT.finditer(text):
        index = match.start() + 1
    return index


def _joined_end(parts: tuple[str, ...], sep: str, size: int) -> str:
    """The last `size` characters of `sep.join(parts)`, without copying what lies before them."""
    pieces: list[str] = []
    room = size
    for index in range(len(parts) - 1, -1, -1):
        part = parts[index] if len(parts[index]) <= room else parts[index][-room:]
        pieces.append(part)
        room -= len(part)
        if room == 0 or index == 0:
            break
        pieces.append(sep if len(sep) <= room else sep[-room:])
        room -= len(pieces[-1])
        if room == 0:
            break
    return "".join(reversed(pieces))
