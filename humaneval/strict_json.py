"""Strict JSON: the one parser for JSON we read from outside, files and model-server request bodies alike.

Python's `json` accepts more than JSON, and each extra has broken something after parsing: `NaN`,
`Infinity` and `-Infinity` (a NaN slips past every `<=` check: a NaN `timeout_s` timed a request out),
numbers that overflow to infinity (`1e999` reads as inf), an escape such as `"\\ud800"` that decodes to
half a UTF-16 pair (no writer, log or tokenizer can encode it as UTF-8), a key given twice in one object
(Python keeps the last value, other tools the first), and nesting so deep that the
parser, which recurses once per level, raises `RecursionError` (about a thousand `[` are enough). `strict_loads`
refuses all of them with `NotStrictJSON` (a `ValueError` saying what is wrong); syntax errors stay
`json.JSONDecodeError`, so callers can still report their line and column.

The one rule the callers choose is how long an integer may be (`max_int_digits`). The file readers
(`humaneval.jsonl`) feed the analysis, where any number may meet `float()`, so they allow
`FLOAT_RANGE_DIGITS`, about where a float's range ends (1.8e308). The model server checks the range of
each field it reads and caps a huge `timeout_s` at its own limit rather than refusing it, so it allows
`PYTHON_INT_DIGITS`, the longest integer Python converts by default.
"""

from __future__ import annotations

import json
import math
import re
import sys
from functools import partial
from itertools import accumulate
from typing import Any

# Deeper than any record, world log, config or request body we read (they nest two to six levels).
MAX_DEPTH = 64
# Longer integers are past a float's range (about 1.8e308, 309 digits) and break `float()` and `isfinite`.
FLOAT_RANGE_DIGITS = 308
# Python's default limit on integer-string conversion (4300): beyond it `int()` itself refuses.
PYTHON_INT_DIGITS = sys.int_info.default_max_str_digits


class NotStrictJSON(ValueError):
    """Valid for Python's `json`, but not a value strict JSON has; raised from inside `json.loads` too."""


def strict_loads(text: str, *, max_int_digits: int) -> Any:
    """`json.loads` refusing NaN, infinities, integers of more than `max_int_digits` digits, nesting deeper
    than `MAX_DEPTH` and unpaired surrogate escapes (as `NotStrictJSON`)."""
    # Depth is checked before parsing, which would recurse once per level. Brackets bound the depth from
    # above, so the exact scan runs only when there are enough of them to go too deep.
    if text.count("[") + text.count("{") > MAX_DEPTH and _nests_deeper_than(text, MAX_DEPTH):
        raise NotStrictJSON(f"nested deeper than {MAX_DEPTH} levels")
    value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float,
                       parse_int=partial(_bounded_int, max_digits=max_int_digits), object_pairs_hook=_unique_keys)
    # A lone surrogate can only come from a \ud800-\udfff escape (decoded UTF-8 holds none), and such escapes
    # are rare: only look when one could be there.
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        raise NotStrictJSON("an unpaired surrogate escape (\\ud800-\\udfff) is half a character; strings must "
                            "be valid Unicode")
    return value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_BRACKET_STEP = [{ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}.get(byte, 0) for byte in range(256)]


def _nests_deeper_than(text: str, limit: int) -> bool:
    """Whether `[`/`{` nest more than `limit` levels deep in the JSON `text` (brackets in strings excluded).

    Every step runs at C speed but the last, which visits brackets only: a world-log line of 10 KB costs
    less than parsing it. Escaped backslashes go first, then escaped quotes, so the quotes left delimit the
    strings; what lies between every other pair is outside them. On invalid JSON this count agrees with the
    parser up to the first error, where the parser stops, so the parser never nests deeper than counted.
    """
    unescaped = text.replace("\\\\", "").replace('\\"', "")
    outside_strings = "".join(unescaped.split('"')[::2])
    brackets = outside_strings.encode("ascii", "ignore").translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0) > limit


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose key appears twice is refused: Python keeps the last value, other tools the first, so
    `{"winner": "A", "winner": "B"}` would mean B here and A elsewhere (about 1.5 µs more per record)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise NotStrictJSON(f"the key {key[:40]!r} appears twice in one object; keys must be unique")
            seen.add(key)
    return obj


def _refuse_constant(name: str) -> Any:
    raise NotStrictJSON(f"{name} is not a JSON number: numbers must be finite")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if math.isinf(value):
        raise NotStrictJSON(f"the number {literal[:40]} is too large to be finite")
    return value


def _bounded_int(literal: str, *, max_digits: int) -> int:
    digits = len(literal.lstrip("-"))
    if digits > max_digits:
        raise NotStrictJSON(f"the integer {literal[:20]}... has {digits} digits; at most {max_digits} are allowed")
    return int(literal)


def _has_lone_surrogate(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")  # visits every key and string, at C speed
    except UnicodeEncodeError:
        return True
    return False
