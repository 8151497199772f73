"""Streaming JSONL in and atomic JSONL out, with every fault in a file reported as an `InputError`.

Reading streams (world logs reach millions of lines) one line at a time. The strict path is the `jsonlines`
package, which decodes each line on its own, so invalid UTF-8 is reported with its line number, skips blank
lines and a byte order mark, and takes our own `loads`: `humaneval.strict_json`, which refuses what JSON
parsers let through but strict JSON forbids and the analysis must never see (NaN, infinities, nesting deeper
than any of our formats uses, lone surrogates, a key given twice). Integers may have at most
`FLOAT_RANGE_DIGITS` digits: whatever we read may meet `float()`, and longer integers are past a float's range.
That path, whose checks run in Python, is slower than a plain `json.loads` loop, so when `orjson` is
installed (the analysis extra) a line goes to it first (the reader then takes about half the loop's time on
ACUTE exports), and takes the strict path only when orjson refuses it or might read it differently
(`_fast_value` says which lines): errors come from the strict path alone, with the same message, file and line. Lines longer than any of our records (`MAX_LINE_BYTES`) are
refused before the line is held whole. A missing file, a folder or an unreadable file is an `InputError`
too, never a traceback.

Writing goes through `humaneval.outputs`: a temporary file in the target folder, renamed into place
only when the whole output is written, so a crash or a bad input line never leaves a partial file.
Writers refuse NaN and infinities (`allow_nan=False`): strict JSON parsers reject them.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import stat
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import IO, Any, TextIO

import jsonlines

from humaneval.input_errors import InputError
from humaneval.outputs import staged_outputs
from humaneval.strict_json import FLOAT_RANGE_DIGITS, MAX_DEPTH, NotStrictJSON, strict_loads

try:
    import orjson
except ImportError:  # not in the base install: every line takes the strict path, which gives the same values
    orjson = None

# Longer than any record we read (a pairing with two whole conversations is tens of KB). A line is held
# in memory three or four times while it is decoded and parsed (up to 4 bytes per character once decoded),
# so this bound, checked before a line is held whole, keeps a hostile 50 MB line from costing gigabytes.
MAX_LINE_BYTES = 4 * 1024 * 1024

_loads = partial(strict_loads, max_int_digits=FLOAT_RANGE_DIGITS)


MAX_DOCUMENT_CHECK_BYTES = 16 * 1024 * 1024
"""A file whose first line is not JSON is read whole (up to this size) to see whether it is one JSON document.
Small on purpose: parsed JSON takes many times its size in memory, and this only improves an error message
(ParlAI's unit data and results files are kilobytes to a few megabytes); larger files get the plain one."""


def _problem(err: jsonlines.InvalidLineError, lineno: int, first_line: int, path: Path) -> str:
    """The reason for bad line `lineno` in our words (jsonlines' own message repeats the whole line)."""
    cause = err.__cause__
    if isinstance(cause, UnicodeDecodeError):
        return f"not UTF-8 text ({cause.reason} at byte {cause.start})"
    if isinstance(cause, json.JSONDecodeError):  # one line: the character offset is the column
        if lineno == first_line:
            document = _json_document_kind(path)
            if document is not None:
                return (f"this is one JSON document ({document}), not JSONL (one JSON value per line); convert it "
                        f"with: python -c 'import json,sys; [print(json.dumps(v)) for v in json.load(sys.stdin)]' "
                        f"< {path.name} > {path.stem}.jsonl" if document.startswith("a list") else
                        f"this is one JSON document ({document}), not JSONL (one JSON value per line); write it on "
                        f"one line: python -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))' "
                        f"< {path.name} > {path.stem}.jsonl")
        hint = "; a JSONL file holds one complete JSON value per line" if lineno == first_line else ""
        return f"invalid JSON ({cause.msg}, column {cause.pos + 1}{hint})"
    if isinstance(cause, NotStrictJSON):
        return f"invalid JSON ({cause})"
    return f"invalid JSON ({cause or err})"


def _json_document_kind(path: Path) -> str | None:
    """"a list of N values" or "an object" when the whole file is one (pretty-printed) JSON document, else
    None. ParlAI writes its unit data (`agent_data.json`, `*_live.json`) and results this way."""
    try:
        if path.stat().st_size > MAX_DOCUMENT_CHECK_BYTES:
            return None
        value = _loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, NotStrictJSON, RecursionError):
        return None
    if isinstance(value, list):
        return f"a list of {len(value)} value(s)"
    return "an object" if isinstance(value, dict) else None


@contextlib.contextmanager
def open_input(path: str | Path, mode: str = "rb", newline: str | None = None) -> Iterator[IO[Any]]:
    """Open a file we read (text modes as UTF-8), turning every OS refusal into an `InputError` naming it.

    Only regular files: opening a FIFO blocks until someone writes to it, and a device such as /dev/zero
    never ends, so a command given one would hang instead of saying what is wrong.
    """
    path = Path(path)
    try:
        kind = path.stat().st_mode
        if stat.S_ISDIR(kind):
            raise IsADirectoryError
        if not stat.S_ISREG(kind):
            raise InputError("is not a regular file (a pipe, socket or device); give a file", path=path)
        handle = path.open(mode) if "b" in mode else path.open(mode, encoding="utf-8", newline=newline)
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", path=path) from None
    except OSError as err:
        raise InputError(f"cannot read this file ({err.strerror})", path=path) from None
    with handle:
        yield handle


class _LineTooLong(Exception):
    pass


class _NumberedLines:
    """The file's lines, at most `MAX_LINE_BYTES` each, remembering the number of the last one handed out
    (jsonlines reports line numbers only on errors)."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self.lineno = 0

    def __iter__(self) -> Iterator[bytes]:
        while raw := self._handle.readline(MAX_LINE_BYTES + 1):
            self.lineno += 1
            if len(raw) > MAX_LINE_BYTES:
                raise _LineTooLong
            yield raw


_UNSURE = object()
"""`_fast_value`'s answer for a line the strict path must read."""

# Integers past 64 bits, which orjson turns into floats, have 19 digits or more: every digit is mapped to "0"
# and a run of 19 is looked for (in strings too: a false alarm costs one strict parse). Two C-speed passes;
# a regular expression for the same run took longer than parsing the line.
_DIGITS_AS_ZERO = bytes(ord("0") if byte in b"0123456789" else byte for byte in range(256))
_LONG_DIGIT_RUN = b"0" * 19
# An escaped colon (\u003a) would hide a key given twice from the colon count in `_fast_value`.
_COLON_ESCAPE = b"\\u003"


def _fast_value(raw: bytes) -> Any:
    """The line's value read by orjson when it is surely what the strict path returns, else `_UNSURE`.

    Beyond the raw scan, orjson differs from `strict_loads` in two ways: it nests up to 1024 levels (the
    bracket count bounds the depth from above, as in `strict_loads`) and keeps the last value of a key given
    twice. A key given twice loses a key and its colon from the value, so the value written back out holds
    fewer colons than the line (a colon in a string is one in both; only a \\u003a escape adds one, and the
    scan sends those lines on). Blank lines, byte order marks and every refusal go to the strict path too.
    """
    if (raw.count(b"[") + raw.count(b"{") > MAX_DEPTH or _COLON_ESCAPE in raw
            or _LONG_DIGIT_RUN in raw.translate(_DIGITS_AS_ZERO)):
        return _UNSURE
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _UNSURE
    return value if orjson.dumps(value).count(b":") == raw.count(b":") else _UNSURE


def _strict_value(raw: bytes) -> Any:
    """The line read as `jsonlines` reads every line of a file (UTF-8, one leading byte order mark or record
    separator skipped, strict JSON); a blank line raises `EOFError`, a bad one `jsonlines.InvalidLineError`."""
    return jsonlines.Reader((raw,), loads=_loads).read(allow_none=True, skip_empty=True)


def _line_value(raw: bytes) -> Any:
    value = _UNSURE if orjson is None else _fast_value(raw)
    return _strict_value(raw) if value is _UNSURE else value


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, Any]]:
    """Yield (line number, parsed value) for every non-blank line; any bad line raises `InputError`."""
    path = Path(path)
    with open_input(path) as handle:
        lines = _NumberedLines(handle)
        first_line = 0
        try:
            for raw in lines:
                try:
                    value = _line_value(raw)
                except EOFError:  # a blank line
                    continue
                first_line = first_line or lines.lineno
                yield lines.lineno, value
        except jsonlines.InvalidLineError as err:
            raise InputError(_problem(err, lines.lineno, first_line or lines.lineno, path),
                             path=path, line=lines.lineno) from None
        except _LineTooLong:
            raise InputError(f"line longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB; no record of ours is that long",
                             path=path, line=lines.lineno) from None
        except OSError as err:
            raise InputError(f"cannot read this file ({err.strerror})", path=path, line=lines.lineno + 1) from None


class NotPlainJSONL(Exception):
    """`iter_jsonl_object_blocks` cannot vouch for a block: read the file with `iter_jsonl` (or
    `iter_jsonl_objects`), which says what is wrong with it, if anything, naming the line."""


#: bytes `iter_jsonl_object_blocks` reads at a time (its blocks end at the last whole line in them); orjson
#: holds a whole document as a tree of its own while it builds the Python values, ~5 times the text's size
#: (1 MB blocks left ~30 MB more of the C heap resident while a million judgements were read, for no faster reading)
BLOCK_BYTES = 256 * 1024
_NEWLINE, _OPEN_BRACE, _OPEN_BRACKET, _COLON, _ZERO = (ord(c) for c in "\n{[:0")


def iter_jsonl_object_blocks(path: str | Path, start: int = 0, end: int | None = None) -> Iterator[list[dict[str, Any]]]:
    """The file's JSON objects, one list per block of lines, for a reader that checks whole columns at once;
    only those of bytes `start` to `end` when given, offsets where lines begin (`line_start_after`).

    Only for plain JSONL of objects: every line one object (or empty), no byte order mark. A block is
    parsed as one JSON array by orjson (a call per line was most of the reading time of a large export), and
    only when `_fast_value` would have vouched for each of its lines, checked on the whole block at once: no
    line with more brackets than `MAX_DEPTH`, no escaped colon, no run of 19 digits, no key given twice (the
    colons of the block written back out), no line over `MAX_LINE_BYTES`. Anything else, including a missing
    file, raises `NotPlainJSONL` before the block is yielded; blocks yielded before it are valid.
    """
    if orjson is None:
        raise NotPlainJSONL
    try:
        with open_input(path) as handle:
            handle.seek(start)
            left = math.inf if end is None else end - start
            rest = b""
            while chunk := handle.read(int(min(BLOCK_BYTES, left))):
                left -= len(chunk)
                data = rest + chunk
                cut = data.rfind(b"\n") + 1
                if cut == 0 and len(data) > MAX_LINE_BYTES:
                    raise NotPlainJSONL
                if cut and (values := _object_block(data[:cut])):
                    yield values
                rest = data[cut:]
            if rest and (values := _object_block(rest + b"\n")):
                yield values
    except (InputError, OSError):
        raise NotPlainJSONL from None


def line_start_after(path: str | Path, offset: int) -> int:
    """The offset of the first line that begins at or after `offset` in the file (its size when none does):
    where a part of the file read on its own (`iter_jsonl_object_blocks`' `start` and `end`) may begin or end."""
    if offset <= 0:
        return 0
    with open_input(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if offset >= size:
            return size
        handle.seek(offset - 1)
        while chunk := handle.read(BLOCK_BYTES):
            found = chunk.find(b"\n")
            if found >= 0:
                return offset + found
            offset += len(chunk)
        return offset - 1


def _object_block(block: bytes) -> list[dict[str, Any]]:
    """The objects of a block of whole lines, each ending in a newline (see `iter_jsonl_object_blocks`); the
    guards are array operations on the block's bytes (bytes methods took as long as the parse)."""
    import numpy as np  # here, not at the top: every command imports this module, few read blocks

    if _COLON_ESCAPE in block:
        raise NotPlainJSONL
    byte = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(byte == _NEWLINE)
    starts = np.concatenate(([0], ends[:-1] + 1))
    if (starts == ends).any():  # empty lines, skipped as `iter_jsonl` skips them
        return _object_block(b"\n".join(line for line in block.split(b"\n") if line) + b"\n") if block.strip() else []
    brackets = np.add.reduceat((byte == _OPEN_BRACE) | (byte == _OPEN_BRACKET), starts, dtype=np.int32)
    if ((byte[starts] != _OPEN_BRACE).any() or (ends - starts + 1 > MAX_LINE_BYTES).any() or (brackets > MAX_DEPTH).any()
            or _has_digit_run(byte - _ZERO < 10, len(_LONG_DIGIT_RUN))):
        raise NotPlainJSONL
    try:
        values = orjson.loads(b"[" + block[:-1].replace(b"\n", b",") + b"]")
    except orjson.JSONDecodeError:
        raise NotPlainJSONL from None
    if len(values) != ends.size:
        raise NotPlainJSONL  # a line holding two values
    colons = np.count_nonzero(byte == _COLON)
    # a key given twice: fewer colons in the values written back out than in the block. Flat objects without
    # a colon in their text, the usual record, show it without writing: a colon is a key's, and none is lost
    if sum(map(len, values)) != colons and np.count_nonzero(np.frombuffer(orjson.dumps(values), dtype=np.uint8) == _COLON) != colons:
        raise NotPlainJSONL
    return values


def _has_digit_run(digit: Any, length: int) -> bool:
    """Whether the mask `digit` (a numpy bool array) has `length` trues in a row: runs of 2, 4, 8, ... from
    shifted ands of the runs before, then the rest of `length`."""
    run = 1
    while run * 2 <= length:
        digit = digit[:-run] & digit[run:]
        run *= 2
    rest = length - run
    return bool((digit[:-rest] & digit[rest:]).any() if rest else digit.any())


def read_json_document(path: str | Path, *, max_bytes: int | None = None) -> Any:
    """A whole-file JSON document (ParlAI .opt files, onboarding.json, sidecars), with located errors; a file
    over `max_bytes` (when given) is refused before it is held whole."""
    path = Path(path)
    with open_input(path) as handle:
        try:
            too_big = max_bytes is not None and os.fstat(handle.fileno()).st_size > max_bytes
            data = b"" if too_big else handle.read() if max_bytes is None else handle.read(max_bytes + 1)
            if max_bytes is not None and (too_big or len(data) > max_bytes):  # a file growing as it is read too
                cap = f"{max_bytes // 1048576} MiB" if max_bytes % 1048576 == 0 else f"{max_bytes:,} bytes"
                raise InputError(f"larger than {cap}, more than any document of this kind holds; refused before it "
                                 "is read", path=path)
        except OSError as err:
            raise InputError(f"cannot read this file ({err.strerror})", path=path) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"not UTF-8 text ({err.reason} at byte {err.start})", path=path) from None
    try:
        return _loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"invalid JSON ({err.msg}, column {err.colno})", path=path, line=err.lineno) from None
    except NotStrictJSON as err:
        raise InputError(f"invalid JSON ({err})", path=path) from None


@contextlib.contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Python's cycle collector off for a block that reads a large file into columns, on again after it.

    Parsed records hold no reference cycles, but each is a container the collector counts: reading a
    million ACUTE judgements set it off thousands of times, ~12% of the reader's CPU (20.8 -> 18.3 s).
    Reference counting still frees every record as soon as it is dropped.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def iter_jsonl_objects(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Like `iter_jsonl`, but every line must hold a JSON object."""
    for lineno, value in iter_jsonl(path):
        if not isinstance(value, dict):
            raise InputError(f"expected a JSON object, got {type(value).__name__}", path=path, line=lineno)
        yield lineno, value


@contextlib.contextmanager
def atomic_text_writer(path: str | Path) -> Iterator[TextIO]:
    """Open a temp file beside `path`; rename it onto `path` only if the block finishes."""
    with staged_outputs([path]) as staged, staged[path].open("w", encoding="utf-8") as handle:
        yield handle


def write_jsonl(path: str | Path, records: Iterable[Any]) -> int:
    """Write records atomically, one compact JSON value per line; return how many were written."""
    with atomic_text_writer(path) as handle:
        return write_jsonl_to(handle, records)


def write_jsonl_to(handle: TextIO, records: Iterable[Any]) -> int:
    """Write records to an open file, one strict JSON value per line; return how many were written."""
    count = 0
    for record in records:
        handle.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")
        count += 1
    return count
